"""Assemble one dataset's sqlite3 file from its transformed facts and per-resource logs.

The transformed files are staged in scratch files (stage.py), then three jobs run at once, one per core and a
spare: a sqlite3 process builds the `fact` table, another `fact_resource`, each in its own scratch file with its
indexes, while this process ranks the winners and builds `entity` and the log tables. The two tables are then
copied in whole (sqlite copies a table into an empty one of the same shape record by record, with its indexes,
without re-sorting). Everything is built under a temporary name beside the output and renamed into place only
when complete, so a failure leaves any previous output untouched. Memory is bounded by the page caches.
"""
import contextlib
import os
import sqlite3

from ..errors import UserError
from ..files import temporary_path
from . import entity as entities
from . import facts, logs, queries, stage
from .schema import tables

CACHE_KIB = 131072  # per process, for the file it builds: bounded memory whatever the input size
PART_CACHE_KIB = 8192  # the staged parts are read in one pass
PARTS = 2  # scratch parts imported at once: one per core


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
    columns = entities.EntityColumns(schema["entity"], dataset, specification.dataset_typology(dataset),
                                     specification.dataset_prefix(dataset))
    clock = _Clock(log)
    with temporary_path(output) as tmp, _scratch_files(tmp, PARTS + 2) as scratch:
        parts, built = scratch[:PARTS], dict(zip(("fact", "fact-resource"), scratch[PARTS:]))
        by_hand, complained = stage.import_files(logs.csv_files(transformed_dir), parts, CACHE_KIB)
        clock("imported")
        conn = _connect(tmp, parts)
        try:
            conn.execute("BEGIN")
            stage.check_complained(conn, complained)
            stage.add_by_hand(conn, by_hand)
            stage.write_lookups(conn, ends, organisations)
            conn.execute("COMMIT")
            counts = {"facts": conn.execute("SELECT count(*) FROM temp.fact_rows").fetchone()[0]}
            jobs = [_start_table_job(schema[name], path, parts, sql)
                    for name, path, sql in (("fact", built["fact"], queries.fact_sql),
                                            ("fact-resource", built["fact-resource"], queries.fact_resource_sql))]
            try:
                conn.execute("BEGIN")
                for table in schema.values():
                    conn.execute(table.create_sql())
                for sql in queries.WINNER_SQL:
                    conn.execute(sql)
                clock("winners")
                conn.execute(queries.entity_sql(columns))
                entities.fill_points(conn, schema["entity"].columns)
                counts["entities"] = conn.execute("SELECT count(*) FROM entity").fetchone()[0]
                clock("entity")
                logs.load_issues(conn, schema["issue"], issue_dir, issue_csv)
                logs.load_resource_logs(conn, schema["column-field"], column_field_dir, dataset)
                logs.load_resource_logs(conn, schema["dataset-resource"], dataset_resource_dir, dataset)
                logs.load_old_entities(conn, schema["old-entity"], old_entity_path, specification.entity_range(dataset))
                for name in ("entity", "issue", "column-field", "dataset-resource", "old-entity"):
                    for sql in schema[name].index_sql():
                        conn.execute(sql)
                conn.execute("DROP TABLE temp.winner")
                clock("logs")
                for (proc, path), name in zip(jobs, ("fact", "fact-resource")):
                    stage.finish(proc, path, f"building the {name} table")
                clock("fact, fact_resource")
            finally:
                for proc, _ in jobs:
                    if proc.poll() is None:
                        proc.kill()
            conn.execute("COMMIT")  # ATTACH cannot run inside a transaction
            _copy_tables(conn, schema, built)
            clock("copied")
            for i in range(PARTS):
                conn.execute(f"DETACH DATABASE s{i}")
            conn.execute("PRAGMA main.locking_mode = NORMAL")
            conn.execute("PRAGMA main.journal_mode = DELETE")  # an ordinary rollback-journal file for readers
            conn.execute("PRAGMA analysis_limit = 1000")
            conn.execute("ANALYZE")
            clock("analyze")
        finally:
            conn.close()
    return counts


def _connect(path, parts):
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA page_size = 65536")
    for sql in queries.attach_sql(parts):
        conn.execute(sql)
    for schema in ["main"] + [f"s{i}" for i in range(len(parts))]:
        conn.execute(f"PRAGMA {schema}.journal_mode = OFF")
        conn.execute(f"PRAGMA {schema}.synchronous = OFF")
        conn.execute(f"PRAGMA {schema}.cache_size = -{CACHE_KIB if schema == 'main' else PART_CACHE_KIB}")
    conn.execute(f"PRAGMA temp.cache_size = -{CACHE_KIB}")
    conn.execute("PRAGMA main.locking_mode = EXCLUSIVE")  # main only: the table jobs read the parts
    conn.execute("PRAGMA temp_store = FILE")
    conn.execute(queries.view_sql(len(parts)))
    return conn


def _start_table_job(table, path, parts, insert_sql):
    """A sqlite3 process building one table, with its indexes, into its own file from the staged rows."""
    script = stage.pragmas(CACHE_KIB) + queries.attach_sql(parts)
    script += [f"PRAGMA s{i}.cache_size = -{PART_CACHE_KIB};" for i in range(len(parts))]
    script += [queries.view_sql(len(parts)), "BEGIN;", table.create_sql() + ";", insert_sql(table)]
    script += [sql + ";" for sql in table.index_sql()] + ["COMMIT;"]
    return stage.sqlite3_tool(path, script), path


def _copy_tables(conn, schema, built):
    """Copy the tables the jobs built into the (empty, same-shaped) tables of main."""
    for i, name in enumerate(built):
        conn.execute(f"ATTACH DATABASE ? AS built{i}", (built[name],))
        conn.execute("BEGIN")
        for sql in schema[name].index_sql():
            conn.execute(sql)
        table = schema[name].sql_name
        conn.execute(f'INSERT INTO main."{table}" SELECT * FROM built{i}."{table}"')
        conn.execute("COMMIT")
        conn.execute(f"DETACH DATABASE built{i}")


@contextlib.contextmanager
def _scratch_files(path, count):
    """The names of scratch databases beside path, removed afterwards."""
    base = path[: -len(".tmp")]
    names = [f"{base}.scratch{i}" for i in range(count)]
    try:
        yield names
    finally:
        for name in names:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(name)


class _Clock:
    """Logs each step's time and peak memory (--verbose)."""

    def __init__(self, log):
        import time

        self.log, self.time, self.start = log, time.perf_counter, time.perf_counter()

    def __call__(self, step):
        if self.log:
            import resource

            rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
            children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024
            self.log(f"{self.time() - self.start:7.2f} s {step} (peak RSS {rss} MB, sqlite3 jobs {children} MB)")
