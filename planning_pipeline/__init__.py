"""planning_pipeline: the library behind the bin/ scripts of the Make-driven collection pipelines."""
import os

# numpy (under shapely, pyarrow, the geometry datatypes) starts an OpenBLAS thread per core that spins for
# about 0.1 s of CPU before sleeping: taken from the other core by every process. Nothing here does linear
# algebra. (Set before numpy is first imported, which is always after this package.)
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
