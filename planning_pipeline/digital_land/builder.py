"""digital-land.sqlite3: the specification, every collection's state and configuration, and summaries.

Tables:
- one per specification CSV (snake_case names and columns; the column named after the table is the
  primary key when its values are unique and non-empty);
- endpoint, source, resource, log, old_resource: every collection's CSVs, with a `collection` column
  (the collection folder's name) where the file has none;
- join tables for the `;`-separated fields: source_pipeline, resource_dataset, resource_endpoint,
  resource_organisation;
- the pipeline configuration (column, lookup, patch, ...) of every collection, with a `collection`
  column (`default` is named `_default`);
- organisation, from organisation.csv when it exists;
- issue_summary: issues counted per dataset, resource and issue type from dataset/<ds>.sqlite3, with the
  issue type's severity and responsibility from the specification;
- expectation: every var/expectation/<ds>.csv row; expectation_summary: counts per dataset,
  organisation, severity and outcome.
"""
import glob
import os
import sqlite3
import sys

from ..collection import ENDPOINT_FIELDS, LOG_FIELDS, RESOURCE_FIELDS, SOURCE_FIELDS
from ..csvio import header, read_csv
from ..errors import UserError
from . import building, create_table, quote, snake

# each collection file's own columns, so its table exists in full before any collection has run
COLLECTION_FILES = {
    "endpoint": ENDPOINT_FIELDS, "source": SOURCE_FIELDS, "resource": RESOURCE_FIELDS, "log": LOG_FIELDS,
    "old-resource": ["old-resource", "status", "resource", "notes"],
}
COLLECTION_INDEXES = {
    "endpoint": ["endpoint"], "source": ["endpoint", "source"], "resource": ["resource"],
    "log": ["endpoint", "resource"], "old_resource": ["old_resource"],
}
JOINS = [
    # (table, source table, key column, `;`-list column, joined column)
    ("source_pipeline", "source", "source", "pipelines", "pipeline"),
    ("resource_dataset", "resource", "resource", "datasets", "dataset"),
    ("resource_endpoint", "resource", "resource", "endpoints", "endpoint"),
    ("resource_organisation", "resource", "resource", "organisations", "organisation"),
]
# outputs in the dataset folder that are not datasets
NOT_DATASETS = {"digital-land", "performance"}


def _union_columns(paths):
    columns = []
    for path in paths:
        for name in header(path):
            column = snake(name)
            if column and column not in columns:
                columns.append(column)
    return columns


def _rows(path, extra):
    for row in read_csv(path):
        out = {snake(k): v for k, v in row.items()}
        for key, value in extra.items():
            if not out.get(key):
                out[key] = value
        yield out


def _chain(generators):
    for generator in generators:
        yield from generator


def load_specification(conn, specification_dir):
    tables = []
    for path in sorted(glob.glob(os.path.join(specification_dir, "*.csv"))):
        table = snake(os.path.basename(path)[:-4])
        columns = _union_columns([path])
        rows = list(_rows(path, {}))
        keys = [r.get(table) for r in rows]
        primary_key = table if table in columns and all(keys) and len(set(keys)) == len(keys) else None
        create_table(conn, table, columns, rows, primary_key=primary_key)
        tables.append(table)
    return tables


def collections(collection_dir):
    """The collection folders (those holding an endpoint.csv or source.csv), sorted."""
    if not os.path.isdir(collection_dir):
        raise UserError("collection folder not found", collection_dir)
    return [
        name for name in sorted(os.listdir(collection_dir))
        if os.path.exists(os.path.join(collection_dir, name, "endpoint.csv"))
        or os.path.exists(os.path.join(collection_dir, name, "source.csv"))
    ]


def load_collections(conn, collection_dir):
    names = collections(collection_dir)
    for stem, fields in COLLECTION_FILES.items():
        table = snake(stem)
        paths = [(c, os.path.join(collection_dir, c, f"{stem}.csv")) for c in names]
        paths = [(c, p) for c, p in paths if os.path.exists(p)]
        columns = [snake(f) for f in fields]
        columns += [c for c in _union_columns(p for _, p in paths) if c not in columns]
        if "collection" not in columns:
            columns.append("collection")
        rows = _chain(_rows(p, {"collection": c}) for c, p in paths)
        create_table(conn, table, columns, rows, indexes=COLLECTION_INDEXES.get(table, ()))
    for table, source_table, key, list_column, column in JOINS:
        conn.execute(f"CREATE TABLE {table} ({key} TEXT, {column} TEXT, UNIQUE ({key}, {column}))")
        try:
            records = conn.execute(f"SELECT {quote(key)}, {quote(list_column)} FROM {source_table}").fetchall()
        except sqlite3.OperationalError:
            records = []
        pairs = sorted({(k, v.strip()) for k, values in records for v in (values or "").split(";") if k and v.strip()})
        conn.executemany(f"INSERT INTO {table} VALUES (?, ?)", pairs)
        conn.execute(f"CREATE INDEX {table}_on_{column}_index ON {table} ({column})")
    return names


def load_pipelines(conn, pipeline_dir, taken):
    if not os.path.isdir(pipeline_dir):
        return []
    by_stem = {}
    for name in sorted(os.listdir(pipeline_dir)):
        for path in sorted(glob.glob(os.path.join(pipeline_dir, name, "*.csv"))):
            by_stem.setdefault(os.path.basename(path)[:-4], []).append((name, path))
    tables = []
    for stem in sorted(by_stem):
        table = snake(stem)
        if table in taken:
            table = f"pipeline_{table}"
        paths = by_stem[stem]
        columns = _union_columns(p for _, p in paths)
        if "collection" not in columns:
            columns.append("collection")
        rows = _chain(_rows(p, {"collection": c}) for c, p in paths)
        create_table(conn, table, columns, rows, indexes=["collection"])
        tables.append(table)
    return tables


def load_organisation(conn, organisation_path):
    if organisation_path and os.path.exists(organisation_path):
        columns = _union_columns([organisation_path])
        create_table(conn, "organisation", columns, _rows(organisation_path, {}), primary_key="organisation",
                     indexes=["entity"])
        return True
    create_table(conn, "organisation", ["organisation", "entity", "name", "dataset", "end_date"], [])
    return False


def dataset_files(dataset_dir):
    return [
        p for p in sorted(glob.glob(os.path.join(dataset_dir, "*.sqlite3")))
        if os.path.basename(p)[: -len(".sqlite3")] not in NOT_DATASETS
    ]


def load_issue_summary(conn, dataset_dir, warn):
    create_table(conn, "issue_summary", ["dataset", "resource", "issue_type", "severity", "responsibility", "count"], [],
                 types={"count": "INTEGER"})
    severity = {r[0]: (r[1], r[2]) for r in conn.execute("SELECT issue_type, severity, responsibility FROM issue_type")} \
        if _has_table(conn, "issue_type") else {}
    rows = []
    for path in dataset_files(dataset_dir):
        name = os.path.basename(path)[: -len(".sqlite3")]
        try:
            src = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            try:
                found = src.execute(
                    "SELECT coalesce(nullif(dataset, ''), ?), resource, issue_type, count(*) FROM issue "
                    "GROUP BY 1, 2, 3 ORDER BY 1, 2, 3", (name,)
                ).fetchall()
            finally:
                src.close()
        except sqlite3.Error as error:
            warn(f"digital-land-sqlite: warning: {path}: no issue table read ({error})")
            continue
        for dataset, resource, issue_type, count in found:
            sev, resp = severity.get(issue_type, ("", ""))
            rows.append((dataset, resource, issue_type, sev, resp, count))
    conn.executemany("INSERT INTO issue_summary VALUES (?, ?, ?, ?, ?, ?)", rows)
    conn.execute("CREATE INDEX issue_summary_on_resource_index ON issue_summary (resource)")
    return len(rows)


def load_expectations(conn, expectation_dir):
    paths = sorted(glob.glob(os.path.join(expectation_dir, "*.csv"))) if expectation_dir else []
    columns = _union_columns(paths) or [
        "dataset", "organisation", "name", "operation", "passed", "parameters", "message", "details",
        "description", "severity", "responsibility",
    ]
    create_table(conn, "expectation", columns, _chain(_rows(p, {}) for p in paths), indexes=["dataset", "organisation"])
    conn.execute(
        "CREATE TABLE expectation_summary AS SELECT dataset, organisation, severity, passed, count(*) AS count "
        "FROM expectation GROUP BY dataset, organisation, severity, passed ORDER BY dataset, organisation, severity, passed"
        if all(c in columns for c in ("dataset", "organisation", "severity", "passed"))
        else "CREATE TABLE expectation_summary (dataset TEXT, organisation TEXT, severity TEXT, passed TEXT, count INTEGER)"
    )
    return len(paths)


def _has_table(conn, table):
    return conn.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (table,)).fetchone() is not None


def build_digital_land(specification_dir, collection_dir, pipeline_dir, dataset_dir, output,
                       expectation_dir=None, organisation_path=None, warn=None):
    """Build digital-land.sqlite3 under a temporary name, then rename it onto output."""
    warn = warn or (lambda message: print(message, file=sys.stderr))
    if not os.path.isdir(specification_dir):
        raise UserError("specification folder not found", specification_dir)
    with building(output) as conn:
        spec_tables = load_specification(conn, specification_dir)
        names = load_collections(conn, collection_dir)
        taken = set(spec_tables) | {snake(s) for s in COLLECTION_FILES} | {j[0] for j in JOINS} | {
            "organisation", "issue_summary", "expectation", "expectation_summary"}
        pipeline_tables = load_pipelines(conn, pipeline_dir, taken)
        load_organisation(conn, organisation_path)
        issues = load_issue_summary(conn, dataset_dir, warn) if dataset_dir and os.path.isdir(dataset_dir) else \
            load_issue_summary(conn, "/nonexistent", warn)
        load_expectations(conn, expectation_dir)
    return {"specification": len(spec_tables), "collections": len(names), "pipeline": len(pipeline_tables),
            "issue_summary": issues}
