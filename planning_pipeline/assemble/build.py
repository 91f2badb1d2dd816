"""Assemble one dataset's sqlite3 file from its transformed facts and per-resource logs.

The transformed files are staged in scratch files (stage.py), then three jobs run at once: a sqlite3 process
builds `fact_resource`, the biggest table, with its indexes straight into the output's temporary file; another
builds `fact` into a scratch file; this process ranks the winners and builds `entity` and the log tables in a
scratch file of its own. Those are then copied into the output (into an empty table of the same shape sqlite
copies records and index entries as they are, without re-sorting). The output is renamed into place only when
complete, so a failure leaves any previous output untouched. Memory is bounded by the page caches.

That is the full build. When the output's manifest (manifest.py) shows that only some resources changed, a
copy of the output is updated for them instead (incremental.py), with the same SQL and the same tables.
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
             log=None, plan_issue_path=None, incremental=True):
    """Build output (var/assembled/<dataset>.sqlite3); returns {"facts": n, "entities": n, "build": how}.

    With incremental and a manifest that describes output (manifest.py), only the changed resources are
    updated in a copy of output (incremental.py); otherwise, or when the update cannot vouch for its result,
    every file is assembled."""
    from . import incremental as updating
    from . import manifest

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
    paths = logs.csv_files(transformed_dir)
    digest = manifest.global_hash(dataset, specification.path, organisation_path, resource_path)
    previous = manifest.read(output) if incremental and os.path.exists(output) else None
    if previous is not None and previous.get("global") != digest:
        previous = None
    files = manifest.file_entries(paths, previous["files"] if previous else None)
    clock("inputs hashed")

    reuse = logs.Reuse()

    def log_tables(conn, old_tables=None):
        if old_tables and previous:
            reuse.previous = previous.get("logs") or {}
            reuse.old_tables = old_tables
            csv_stat = previous.get("issue_csv")
            reuse.old_csv = issue_csv if csv_stat and os.path.exists(issue_csv) and manifest.stat_of(issue_csv) == csv_stat \
                else None
        _load_logs(conn, schema, dataset, specification, issue_dir, issue_csv, column_field_dir,
                   dataset_resource_dir, old_entity_path, plan_issue_path, reuse)

    with temporary_path(output) as tmp, _scratch_files(tmp, PARTS + 2) as scratch:
        counts = None
        if previous is not None:
            gone, new = updating.changes(previous["files"], files, previous["ends"], ends)
            try:
                counts = updating.update(tmp, output, transformed_dir, gone, new, schema, columns, ends,
                                         organisations, scratch, log_tables, clock)
                counts["build"] = f"incremental: {len(gone)} resource(s) out, {len(new)} file(s) in"
                clock(f"{counts['build']}, {counts['touched']} entities touched, {counts['neighbours']} "
                      f"neighbouring resource(s), {counts['staged']} rows staged")
            except (updating.Fallback, sqlite3.DatabaseError) as reason:  # a damaged candidate too
                clock(f"full build: {reason}")
                for name in [tmp] + scratch:
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(name)
        if counts is None:
            reuse.__init__()
            counts = _full(tmp, scratch, schema, columns, ends, organisations, paths, clock, log_tables)
            counts["build"] = "full"
    manifest.write(output, digest, files, ends, reuse.entries, manifest.stat_of(issue_csv) if issue_csv else None)
    return counts


def _full(tmp, scratch, schema, columns, ends, organisations, paths, clock, log_tables):
    """Assemble every transformed file into tmp."""
    parts, fact_file, tables_file = scratch[:PARTS], scratch[PARTS], scratch[PARTS + 1]
    by_hand, complained = stage.import_files(paths, parts, CACHE_KIB)
    clock("imported")
    conn = _connect(tables_file, parts)
    try:
        conn.execute("BEGIN")
        stage.check_complained(conn, complained, len(parts))
        stage.add_by_hand(conn, by_hand)
        stage.write_lookups(conn, ends, organisations)
        conn.execute("COMMIT")
        counts = {"facts": conn.execute("SELECT count(*) FROM temp.fact_rows").fetchone()[0]}
        # fact_resource, the biggest table, is built straight into the output file: it is not copied
        jobs = [(_start_table_job(schema["fact"], fact_file, parts, queries.fact_sql), "fact"),
                (_start_table_job(schema["fact-resource"], tmp, parts, queries.fact_resource_sql), "fact-resource")]
        try:
            conn.execute("BEGIN")
            counts["entities"] = _entity_and_logs(conn, schema, columns, clock, log_tables)
            conn.execute("COMMIT")
            for (proc, path), name in jobs:
                stage.finish(proc, path, f"building the {name} table")
            clock("fact, fact_resource")
        finally:
            for (proc, _), _ in jobs:
                if proc.poll() is None:
                    proc.kill()
    finally:
        conn.close()
    _gather(tmp, schema, {"fact": fact_file, **{name: tables_file for name in LOCAL_TABLES}})
    clock("gathered, analysed")
    return counts


LOCAL_TABLES = ("entity", "issue", "column-field", "dataset-resource", "old-entity")


def _entity_and_logs(conn, schema, columns, clock, log_tables):
    """The tables this process builds while the sqlite3 jobs build fact and fact_resource; returns the number
    of entities."""
    for name in LOCAL_TABLES:
        conn.execute(schema[name].create_sql())
    for sql in queries.WINNER_SQL:
        conn.execute(sql)
    clock("winners")
    conn.execute(queries.entity_sql(columns))
    entities.fill_points(conn, schema["entity"].columns)
    clock("entity")
    log_tables(conn)
    for name in LOCAL_TABLES:
        for sql in schema[name].index_sql():
            conn.execute(sql)
    conn.execute("DROP TABLE temp.winner")
    clock("logs")
    return conn.execute("SELECT count(*) FROM entity").fetchone()[0]


def _load_logs(conn, schema, dataset, specification, issue_dir, issue_csv, column_field_dir, dataset_resource_dir,
               old_entity_path, plan_issue_path, reuse=None):
    """Load the issue, column_field, dataset_resource and old_entity tables (created, not yet indexed) and
    write the issue CSV; an incremental build copies the rows of unchanged log files (logs.Reuse)."""
    logs.load_issues(conn, schema["issue"], issue_dir, issue_csv, [plan_issue_path], reuse=reuse)
    logs.load_resource_logs(conn, schema["column-field"], column_field_dir, dataset, reuse=reuse)
    logs.load_resource_logs(conn, schema["dataset-resource"], dataset_resource_dir, dataset, reuse=reuse)
    logs.load_old_entities(conn, schema["old-entity"], old_entity_path, specification.entity_range(dataset))


def _gather(path, schema, sources):
    """Copy each table of sources ({table: file}) into path, where fact_resource already is, then make it an
    ordinary database: rollback journal, statistics for the query planner."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode = OFF")
        conn.execute("PRAGMA synchronous = OFF")
        conn.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
        files = sorted(set(sources.values()))
        for i, file in enumerate(files):
            conn.execute(f"ATTACH DATABASE ? AS built{i}", (file,))
        conn.execute("BEGIN")
        for name, table in schema.items():
            if name not in sources:
                continue
            conn.execute(table.create_sql())
            for sql in table.index_sql():  # before the copy, so that the copy brings the indexes too
                conn.execute(sql)
            # into an empty table of the same shape sqlite copies records and index entries as they are
            source = f'built{files.index(sources[name])}."{table.sql_name}"'
            conn.execute(f'INSERT INTO main."{table.sql_name}" SELECT * FROM {source}')
        conn.execute("COMMIT")
        for i in range(len(files)):
            conn.execute(f"DETACH DATABASE built{i}")
        conn.execute("PRAGMA journal_mode = DELETE")
        conn.execute("PRAGMA analysis_limit = 1000")
        conn.execute("ANALYZE")
    finally:
        conn.close()


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
    conn.execute("PRAGMA main.locking_mode = EXCLUSIVE")  # main only: the sqlite3 jobs read the parts
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
