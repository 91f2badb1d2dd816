"""planning_pipeline: the library behind the bin/ scripts of the Make-driven collection pipelines."""
