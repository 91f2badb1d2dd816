"""Turn an organisation.csv snapshot into the bundled `organisation` collection.

For each organisation dataset found in the snapshot (by the prefix of the organisation CURIE):

- example/organisation/<dataset>.csv: the source file, one row per organisation, with `prefix` and
  `reference` columns (the CURIE split) and the snapshot's columns that map to a field of the
  dataset's schema (its `entity` is not copied: entity numbers come from lookup.csv);
- collection/organisation/endpoint.csv, source.csv, old-resource.csv: one `file:` endpoint per dataset,
  published by the publisher organisation;
- pipeline/organisation/*.csv: lookup.csv (each organisation keeps its snapshot entity number),
  column.csv (snapshot column names that differ from field names), the other files header-only.
"""
import collections
import hashlib
import os

from ..collection import endpoint_hash
from ..csvio import read_csv, write_csv
from ..errors import UserError
from . import COLLECTION, PREFIX_DATASET

DEFAULT_PUBLISHER = "government-organisation:D1342"
DEFAULT_ENTRY_DATE = "2024-01-01T00:00:00Z"

# snapshot column -> specification field, where they differ
COLUMN_FIELD = {"esd-inventories": "esd-inventory"}

ENDPOINT_FIELDS = ["endpoint", "endpoint-url", "parameters", "plugin", "entry-date", "start-date", "end-date"]
SOURCE_FIELDS = [
    "source", "attribution", "collection", "documentation-url", "endpoint", "licence", "organisation",
    "pipelines", "entry-date", "start-date", "end-date",
]
OLD_RESOURCE_FIELDS = ["old-resource", "status", "resource"]
LOOKUP_FIELDS = ["prefix", "resource", "entry-number", "organisation", "reference", "entity"]
COLUMN_FIELDS = ["dataset", "endpoint", "resource", "column", "field"]

# pipeline configuration files that the organisation collection needs only as headers
EMPTY_PIPELINE_FILES = {
    "combine.csv": ["dataset", "endpoint", "field", "separator", "entry-date", "start-date", "end-date"],
    "concat.csv": ["dataset", "resource", "field", "fields", "separator", "entry-date", "start-date", "end-date"],
    "convert.csv": ["pipeline", "resource", "script"],
    "default.csv": ["dataset", "resource", "field", "default-field", "entry-date", "start-date", "end-date"],
    "default-value.csv": ["dataset", "end-date", "endpoint", "entry-date", "entry-number", "field", "resource", "start-date", "value"],
    "entity-organisation.csv": ["dataset", "entity-minimum", "entity-maximum", "organisation"],
    "expect.csv": [
        "datasets", "organisations", "operation", "parameters", "name", "description", "notes", "severity",
        "responsibility", "end-date", "entry-date", "start-date", "schedule",
    ],
    "filter.csv": ["dataset", "end-date", "endpoint", "entry-date", "entry-number", "field", "pattern", "resource", "start-date"],
    "old-entity.csv": ["old-entity", "status", "entity"],
    "patch.csv": ["dataset", "resource", "field", "pattern", "value"],
    "skip.csv": ["pipeline", "resource", "pattern"],
    "transform.csv": ["dataset", "field", "replacement-field", "entry-number", "resource", "start-date", "end-date", "entry-date", "endpoint"],
}


def endpoint_url(example_dir, dataset):
    return f"file:{example_dir.rstrip('/')}/{dataset}.csv"


def source_hash(collection, organisation, endpoint):
    return hashlib.md5(f"{collection}|{organisation}|{endpoint}".encode("utf-8")).hexdigest()


def dataset_for_prefix(prefix, specification, aliases=None):
    aliases = {**PREFIX_DATASET, **(aliases or {})}
    dataset = aliases.get(prefix, prefix)
    if dataset not in specification.dataset:
        return None
    return dataset


def split_snapshot(snapshot, specification, example_dir, collection_dir, pipeline_dir,
                   publisher=DEFAULT_PUBLISHER, entry_date=DEFAULT_ENTRY_DATE, aliases=None, url_dir=None):
    """Write the bundled organisation collection from snapshot; return {dataset: row count}."""
    url_dir = url_dir or example_dir
    rows = list(read_csv(snapshot, required=("organisation", "entity")))
    if not rows:
        raise UserError("no organisations in the snapshot", snapshot)
    by_dataset = collections.defaultdict(list)
    seen = set()
    for number, row in enumerate(rows, start=2):
        curie = row["organisation"]
        if ":" not in curie:
            raise UserError(f"organisation {curie!r} is not a prefix:reference CURIE", snapshot, number)
        if curie in seen:
            raise UserError(f"duplicate organisation {curie!r}", snapshot, number)
        seen.add(curie)
        prefix, reference = curie.split(":", 1)
        dataset = dataset_for_prefix(prefix, specification, aliases)
        if dataset is None:
            raise UserError(f"prefix {prefix!r} is not a dataset in the specification (add an alias)", snapshot, number)
        by_dataset[dataset].append((prefix, reference, row))

    columns = [c for c in next(iter(rows)).keys() if c not in ("organisation", "entity")]
    lookups = []
    column_rows = []
    endpoints = []
    sources = []
    counts = {}
    for dataset in sorted(by_dataset):
        fields = set(specification.schema_fields(dataset))
        keep = [c for c in columns if COLUMN_FIELD.get(c, c) in fields and COLUMN_FIELD.get(c, c) not in ("prefix", "reference", "organisation", "entity")]
        for c in keep:
            if c in COLUMN_FIELD:
                column_rows.append({"dataset": dataset, "column": c, "field": COLUMN_FIELD[c]})
        out = []
        for prefix, reference, row in by_dataset[dataset]:
            out.append({"prefix": prefix, "reference": reference, **{c: row.get(c, "") for c in keep}})
            lookups.append({"prefix": prefix, "organisation": publisher, "reference": reference, "entity": row["entity"]})
        write_csv(os.path.join(example_dir, f"{dataset}.csv"), ["reference", "prefix"] + keep, out)
        counts[dataset] = len(out)
        url = endpoint_url(url_dir, dataset)
        endpoint = endpoint_hash(url)
        endpoints.append({"endpoint": endpoint, "endpoint-url": url, "entry-date": entry_date})
        sources.append({
            "source": source_hash(COLLECTION, publisher, endpoint), "collection": COLLECTION, "endpoint": endpoint,
            "licence": "ogl3", "organisation": publisher, "pipelines": dataset, "entry-date": entry_date,
        })

    write_csv(os.path.join(collection_dir, "endpoint.csv"), ENDPOINT_FIELDS, sorted(endpoints, key=lambda r: r["endpoint"]))
    write_csv(os.path.join(collection_dir, "source.csv"), SOURCE_FIELDS, sorted(sources, key=lambda r: r["source"]))
    write_csv(os.path.join(collection_dir, "old-resource.csv"), OLD_RESOURCE_FIELDS, [])
    write_csv(os.path.join(pipeline_dir, "lookup.csv"), LOOKUP_FIELDS, sorted(lookups, key=lambda r: int(r["entity"])))
    write_csv(os.path.join(pipeline_dir, "column.csv"), COLUMN_FIELDS, column_rows)
    for name, header in EMPTY_PIPELINE_FILES.items():
        write_csv(os.path.join(pipeline_dir, name), header, [])
    return counts
