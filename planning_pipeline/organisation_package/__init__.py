"""The organisation data package: organisation.csv built from the organisation collection's datasets.

Three parts:

- split:   a one-off tool turning an organisation.csv snapshot into the bundled `organisation`
           collection (example source files, collection/organisation/*.csv, pipeline/organisation/*.csv);
- package: organisation.csv from the assembled organisation datasets (sqlite3 or flattened CSV);
- check:   organisation-check.csv, the report of problems in organisation.csv.
"""

COLLECTION = "organisation"
ORGANISATION_TYPOLOGY = "organisation"

# Prefixes in older organisation.csv snapshots that are not dataset names.
PREFIX_DATASET = {
    "local-authority-eng": "local-authority",
    "transport-authority": "passenger-transport-executive",
}


def organisation_datasets(specification):
    """The datasets of the organisation collection with the organisation typology, sorted."""
    return [
        d
        for d in specification.collection_datasets(COLLECTION)
        if specification.dataset_typology(d) == ORGANISATION_TYPOLOGY and not specification.dataset[d].get("end-date")
    ]
