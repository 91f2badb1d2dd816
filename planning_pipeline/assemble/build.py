"""Assemble one dataset's sqlite3 file from its transformed facts and per-resource logs.

The file is built under a temporary name beside the output (with a scratch file for the staged facts) and
renamed into place only when complete, so a failure leaves any previous output untouched.
"""
import contextlib
import gc
import os
import sqlite3

from ..errors import UserError
from ..files import temporary_path
from . import entity as entities
from . import facts, logs
from .schema import tables

CACHE_KIB = 131072  # per database file: bounded memory whatever the input size
BATCH = 5000


def _connect(path, scratch):
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA page_size = 65536")
    conn.execute("ATTACH DATABASE ? AS stage", (scratch,))
    for schema in ("main", "stage"):
        conn.execute(f"PRAGMA {schema}.page_size = 65536")
        conn.execute(f"PRAGMA {schema}.journal_mode = OFF")
        conn.execute(f"PRAGMA {schema}.synchronous = OFF")
        conn.execute(f"PRAGMA {schema}.cache_size = -{CACHE_KIB}")
    conn.execute("PRAGMA locking_mode = EXCLUSIVE")
    conn.execute("PRAGMA temp_store = FILE")
    conn.execute("PRAGMA threads = 2")
    return conn


def assemble(dataset, specification, output, transformed_dir, organisation_path=None, resource_path=None,
             old_entity_path=None, issue_dir=None, column_field_dir=None, dataset_resource_dir=None, issue_csv=None,
             log=None):
    """Build output (dataset/<dataset>.sqlite3); returns {"facts": n, "entities": n}."""
    if dataset not in specification.dataset:
        raise UserError(f"unknown dataset {dataset!r}", os.path.join(specification.path, "dataset.csv"))
    if not os.path.isdir(transformed_dir):
        raise UserError("transformed directory not found", transformed_dir)
    schema = tables(specification)
    ends = facts.resource_end_dates(resource_path)
    organisations = entities.organisation_entities(organisation_path)
    builder = entities.EntityBuilder(schema["entity"], dataset, specification.dataset_typology(dataset),
                                     specification.dataset_prefix(dataset), organisations)

    counts = {}
    if log:
        import time

        START[0] = time.perf_counter()
    # millions of short-lived row lists: the cyclic collector would rescan them all again and again
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        with temporary_path(output) as tmp, _scratch_beside(tmp) as scratch:
            conn = _connect(tmp, scratch)
            try:
                conn.execute("BEGIN")
                for table in schema.values():
                    conn.execute(table.create_sql())
                facts.create_stage(conn)
                counts["facts"] = facts.load_stage(conn, transformed_dir, ends)
                _log(log, "staged")
                facts.copy_fact_resources(conn)
                _log(log, "fact_resource")
                counts["entities"] = _entities_and_facts(conn, schema, builder)
                _log(log, "fact, entity")
                logs.load_issues(conn, schema["issue"], issue_dir, issue_csv)
                logs.load_resource_logs(conn, schema["column-field"], column_field_dir, dataset)
                logs.load_resource_logs(conn, schema["dataset-resource"], dataset_resource_dir, dataset)
                logs.load_old_entities(conn, schema["old-entity"], old_entity_path, specification.entity_range(dataset))
                _log(log, "logs")
                for table in schema.values():
                    for sql in table.index_sql():
                        conn.execute(sql)
                _log(log, "indexes")
                conn.execute("COMMIT")
                conn.execute("DETACH DATABASE stage")
                conn.execute("PRAGMA locking_mode = NORMAL")
                conn.execute("PRAGMA main.journal_mode = DELETE")  # an ordinary rollback-journal file for readers
                conn.execute("PRAGMA analysis_limit = 1000")
                conn.execute("ANALYZE")
                _log(log, "analyze")
            finally:
                conn.close()
    finally:
        if gc_was_enabled:
            gc.enable()
    return counts


START = [0.0]


@contextlib.contextmanager
def _scratch_beside(path):
    """The name of a scratch database beside path (staged facts), removed afterwards."""
    scratch = path[: -len(".tmp")] + ".scratch"
    try:
        yield scratch
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(scratch)


def _log(log, stage):
    if log:
        import resource
        import time

        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
        log(f"{time.perf_counter() - START[0]:7.2f} s {stage} (peak RSS {rss} MB)")


def _entities_and_facts(conn, schema, builder):
    entity_table, fact_table = schema["entity"], schema["fact"]
    fact_sql = f'INSERT OR IGNORE INTO fact VALUES ({",".join("?" * len(fact_table.columns))})'
    entity_sql = f'INSERT INTO entity VALUES ({",".join("?" * len(entity_table.columns))})'
    # fact table column -> position in an ordered() row
    source = {"entity": 0, "field": 1, "priority": 2, "entry_date": 3, "fact": 7, "value": 8, "end_date": 9,
              "start_date": 10, "reference_entity": 11}
    pick = [source[c] for c in fact_table.columns]
    fact_rows, entity_rows = [], []
    count = 0

    def on_fact(row):
        fact_rows.append([row[i] for i in pick])

    # the ordered scan reads the stage; the inserts write main: one connection, one transaction
    for number, winners in facts.winners_and_facts(facts.ordered(conn), on_fact):
        if not isinstance(number, int):
            continue  # an entity that isn't a number can't be a row of the entity table
        entity_rows.append(builder.row(number, winners))
        if len(entity_rows) >= BATCH:
            entities.fill_points(entity_rows, entity_table.columns)
            conn.executemany(entity_sql, entity_rows)
            count += len(entity_rows)
            entity_rows.clear()
        if len(fact_rows) >= BATCH * 8:
            conn.executemany(fact_sql, fact_rows)
            fact_rows.clear()
    entities.fill_points(entity_rows, entity_table.columns)
    conn.executemany(entity_sql, entity_rows)
    count += len(entity_rows)
    conn.executemany(fact_sql, fact_rows)
    return count
