"""Update a previous candidate for the resources that changed, giving the tables a full build gives.

The previous candidate is copied to a temporary name (never written in place: dataset/ may hold a hard link
to it). In the copy:

- the touched entities are those with a fact row in a removed or changed resource (read from the old
  fact_resource and fact) or in a new or changed file (staged from the file);
- every other resource with a row of a touched entity (a neighbour) has its file staged again, keeping only
  the rows of touched entities, so every row of every touched entity is staged, with the columns
  fact_resource lacks (reference-entity);
- fact_resource loses the rows of removed and changed resources and gains those of new and changed files;
  the facts and entities of touched entities are deleted and made again from the staged rows with the full
  build's SQL (queries.fact_sql, WINNER_SQL, entity_sql), so they rank exactly as a full build ranks them;
- the log tables (issue, column_field, dataset_resource, old_entity) and the issue CSV are made again in a
  full build's file order: an unchanged log file's rows are copied from the old table and its bytes from the
  old issue CSV (logs.Reuse), a changed one is loaded, so their rows, rowids and bytes are the full build's.

A fact's rows all belong to one entity because its hash is sha256(entity:field:value); the staged rows are
checked for that, and each file's rows for carrying its own resource. Anything the update cannot vouch for
raises Fallback, and the caller builds in full. Only fact_resource's rowid order differs from a full build
(new rows come last); its rows are the same.
"""
import copy
import hashlib
import os
import shutil
import sqlite3

from . import entity as entities
from . import facts, logs, queries, stage
from .build import CACHE_KIB, LOCAL_TABLES, PART_CACHE_KIB


class Fallback(Exception):
    """The incremental update cannot give a full build's tables: build in full."""


def changes(previous_files, files, previous_ends, ends):
    """(gone, new): the resources whose old rows go (removed, changed, end-date changed) and the file names
    whose rows come in (added, changed, end-date changed)."""
    gone, new = set(), set()
    for name, entry in files.items():
        old = previous_files.get(name)
        resource = name[: -len(".csv")]
        if old is None:
            new.add(name)
        elif old[2] != entry[2] or previous_ends.get(resource) != ends.get(resource):
            gone.add(resource)
            new.add(name)
    gone |= {name[: -len(".csv")] for name in previous_files if name not in files}
    return gone, new


def update(tmp, previous, transformed_dir, gone, new, schema, columns, ends, organisations, scratch, log_tables,
           clock=lambda step: None):
    """Copy previous to tmp and update it; log_tables(conn) loads the log tables. Returns the counts."""
    shutil.copyfile(previous, tmp)
    clock("copied")
    new_paths = [os.path.join(transformed_dir, n) for n in sorted(new)]
    by_hand, complained = stage.import_files(new_paths, [scratch[0]], CACHE_KIB)
    conn = sqlite3.connect(tmp, isolation_level=None)
    try:
        _configure(conn)
        conn.execute(f"ATTACH DATABASE {_literal(scratch[0])} AS s0")
        conn.execute(f"PRAGMA s0.journal_mode = OFF")
        conn.execute(f"PRAGMA s0.synchronous = OFF")
        conn.execute("BEGIN")
        _fix_staged(conn, "s0", by_hand, complained)
        _check_resources(conn, "s0", {n[: -len(".csv")] for n in new})
        conn.execute("CREATE TEMP TABLE gone (resource TEXT PRIMARY KEY)")
        conn.executemany("INSERT INTO temp.gone VALUES (?)", [(r,) for r in sorted(gone)])
        conn.execute("CREATE TEMP TABLE touched (entity PRIMARY KEY)")
        # CROSS JOIN: sqlite joins in the order written, from the few changed resources outwards
        # the old facts in hash order first: fact's key and its rows (inserted in hash order) are then read in order
        conn.execute("CREATE TEMP TABLE gone_fact (fact TEXT PRIMARY KEY) WITHOUT ROWID")
        conn.execute("""INSERT OR IGNORE INTO temp.gone_fact SELECT fr.fact FROM temp.gone g
            CROSS JOIN fact_resource fr ON fr.resource = g.resource""")
        conn.execute("""INSERT OR IGNORE INTO temp.touched SELECT f.entity FROM temp.gone_fact g
            CROSS JOIN fact f ON f.fact = g.fact""")
        conn.execute("INSERT OR IGNORE INTO temp.touched SELECT DISTINCT entity FROM s0.fact_row")
        neighbours = {r for (r,) in conn.execute("""SELECT fr.resource FROM temp.touched t
            CROSS JOIN fact f ON f.entity = t.entity CROSS JOIN fact_resource fr ON fr.fact = f.fact""")}
        neighbours = sorted(neighbours - gone)
        conn.execute("COMMIT")
        clock("new files staged")
        neighbour_paths = [os.path.join(transformed_dir, f"{r}.csv") for r in neighbours]
        missing = [p for p in neighbour_paths if not os.path.exists(p)]
        if missing:
            raise Fallback(f"{missing[0]}: rows in the candidate but no file")
        by_hand, complained = stage.import_files(neighbour_paths, [scratch[1]], CACHE_KIB)
        conn.execute(f"ATTACH DATABASE {_literal(scratch[1])} AS s1")
        for schema_name in ("s0", "s1"):
            conn.execute(f"PRAGMA {schema_name}.journal_mode = OFF")
            conn.execute(f"PRAGMA {schema_name}.synchronous = OFF")
            conn.execute(f"PRAGMA {schema_name}.cache_size = -{PART_CACHE_KIB}")
        conn.execute("BEGIN")
        _fix_staged(conn, "s1", by_hand, complained)
        _check_resources(conn, "s1", set(neighbours))
        conn.execute("DELETE FROM s1.fact_row WHERE entity NOT IN (SELECT entity FROM temp.touched)")
        _check_hashes(conn)
        clock("neighbours staged")
        stage.write_lookups(conn, ends, organisations)
        conn.execute(queries.view_sql(2))
        fact_resource = schema["fact-resource"]
        conn.execute(f'DELETE FROM "{fact_resource.sql_name}" WHERE resource IN (SELECT resource FROM temp.gone)')
        insert = queries.fact_resource_sql(fact_resource)
        conn.execute(insert[: -len(";")] + " WHERE part = 0")
        _replace_facts(conn, schema["fact"])
        for sql in queries.WINNER_SQL:
            conn.execute(sql)
        conn.execute("DELETE FROM entity WHERE entity IN (SELECT entity FROM temp.touched)")
        conn.execute(queries.entity_sql(columns))
        entities.fill_points(conn, schema["entity"].columns, only="temp.touched")
        conn.execute("DROP TABLE temp.winner")
        clock("fact, fact_resource, entity")
        old_tables = {}
        for name in LOCAL_TABLES[1:]:
            table = schema[name].sql_name
            for (index,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
                                         "AND sql IS NOT NULL", (table,)).fetchall():
                conn.execute(f'DROP INDEX "{index}"')
            if name == "old-entity":  # one small file: loaded again
                conn.execute(f'DROP TABLE "{table}"')
            else:
                old_tables[name] = f"_old_{table}"
                conn.execute(f'ALTER TABLE "{table}" RENAME TO "_old_{table}"')
            conn.execute(schema[name].create_sql())
        log_tables(conn, old_tables)
        for old in old_tables.values():
            conn.execute(f'DROP TABLE "{old}"')
        for name in LOCAL_TABLES[1:]:
            for sql in schema[name].index_sql():
                conn.execute(sql)
        conn.execute("COMMIT")
        clock("logs")
        counts = {"facts": conn.execute("SELECT count(*) FROM fact_resource").fetchone()[0],
                  "entities": conn.execute("SELECT count(*) FROM entity").fetchone()[0],
                  "staged": conn.execute("SELECT count(*) FROM temp.fact_rows").fetchone()[0],
                  "touched": conn.execute("SELECT count(*) FROM temp.touched").fetchone()[0],
                  "neighbours": len(neighbours)}
        conn.execute("DETACH DATABASE s1")
        conn.execute("DETACH DATABASE s0")
        conn.execute("PRAGMA journal_mode = DELETE")
        conn.execute("PRAGMA analysis_limit = 1000")
        conn.execute("ANALYZE")
        clock("analysed")
    finally:
        conn.close()
    return counts


def _replace_facts(conn, table):
    """The touched entities' facts made again (queries.fact_sql into temp.new_fact); only those that differ
    from the old ones are deleted and inserted, since most of an entity's facts stay as they were."""
    columns = ", ".join(f'"{c}" {table.types[c]}' + (" PRIMARY KEY" if c == "fact" else "") for c in table.columns)
    conn.execute(f"CREATE TEMP TABLE new_fact ({columns})")
    scratch = copy.copy(table)
    scratch.sql_name = "new_fact"  # an unqualified name finds the temp table first
    conn.execute(queries.fact_sql(scratch))
    same = " AND ".join(f'n."{c}" IS f."{c}"' for c in table.columns)
    conn.execute(f"""DELETE FROM "{table.sql_name}" AS f WHERE entity IN (SELECT entity FROM temp.touched)
        AND NOT EXISTS (SELECT 1 FROM temp.new_fact n WHERE n.fact = f.fact AND {same})""")
    names = ", ".join(f'"{c}"' for c in table.columns)
    conn.execute(f"""INSERT INTO "{table.sql_name}" ({names}) SELECT {names} FROM temp.new_fact n
        WHERE NOT EXISTS (SELECT 1 FROM "{table.sql_name}" f WHERE f.fact = n.fact) ORDER BY n.rowid""")
    conn.execute("DROP TABLE temp.new_fact")


def _configure(conn):
    conn.execute("PRAGMA journal_mode = OFF")  # a temporary copy: a failure removes it
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
    conn.execute(f"PRAGMA temp.cache_size = -{CACHE_KIB}")
    conn.execute("PRAGMA locking_mode = EXCLUSIVE")
    conn.execute("PRAGMA temp_store = FILE")


def _literal(text):
    return "'" + text.replace("'", "''") + "'"


def _fix_staged(conn, schema_name, by_hand, complained):
    """As the full build does: files the tool complained about are read again (a bad row is its one-line
    error) and their blank lines dropped; files with another header are read by hand."""
    for path in complained:
        for _ in facts.rows(path):
            pass
    if complained:
        conn.execute(f"DELETE FROM {schema_name}.fact_row WHERE value IS NULL")
    sql = f"INSERT INTO {schema_name}.fact_row VALUES ({','.join('?' * len(stage.RAW_COLUMNS))})"
    for path in by_hand:
        conn.executemany(sql, facts.rows(path))


def _check_resources(conn, schema_name, resources):
    for (resource,) in conn.execute(f"SELECT DISTINCT resource FROM {schema_name}.fact_row"):
        if resource not in resources:
            raise Fallback(f"a staged row of resource {resource!r} is not in its own file")


def _check_hashes(conn):
    """Every staged row's fact is sha256(entity:field:value): a fact's rows are then all of one entity."""
    sha256 = hashlib.sha256
    for schema_name in ("s0", "s1"):
        for entity, field, value, fact in conn.execute(
                f"SELECT entity, field, value, fact FROM {schema_name}.fact_row"):
            if sha256(f"{entity}:{field}:{value}".encode("utf-8")).hexdigest() != fact:
                raise Fallback(f"fact {fact} is not the hash of its entity, field and value")
