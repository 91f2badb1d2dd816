"""The transform stage: from a resource to its facts and per-resource logs.

    config.py       the pipeline/*.csv files, their scoping, effective configuration
    normalise.py    reading the converted CSV: normalise cells, skip, parse
    mapping.py      concat, filter, map       patch.py     patch
    harmonise.py    datatypes and checks      default.py   defaults, migrate (+ field prune)
    organisation.py organisation names        entity.py    organisation, reference, lookup, prune, priority
    lookup.py       lookup.csv, old-entity.csv, entity-organisation ranges, new entity numbers
    facts.py        pivot, combine, fact hash, reference-entity, fact prune, output
    issues.py       the issue log             logs.py      the other per-resource logs, code version
    run.py          one resource end to end   assign.py    assign-entities
    stamps.py       per-resource configuration stamps
"""
