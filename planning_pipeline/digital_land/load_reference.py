"""Swap the platform's reference tables in PostgreSQL for new ones built from digital-land.sqlite3.

For each table: CREATE TABLE <table>_new (LIKE <table> INCLUDING ALL) when the platform already has the
table (else with the column types below), COPY the rows in, and finally, for all tables at once,
DROP the old table and RENAME the new one, all in a single transaction: readers see either the old
reference tables or the new ones, and a failure anywhere leaves the old ones untouched.

Empty strings are loaded as NULL (except in the key column). The dataset table's `themes` (a
`;`-separated list) becomes a text[] literal; `attribution`/`licence` become attribution_id/licence_id.
"""
import sqlite3

from ..errors import UserError
from ..sql import identifier

# table -> (key column, [(postgres column, sqlite expression, postgres type)])
TABLES = {
    "dataset": ("dataset", [
        ("dataset", "dataset", "TEXT"), ("name", "name", "TEXT"), ("entry_date", "entry_date", "DATE"),
        ("start_date", "start_date", "TEXT"), ("end_date", "end_date", "DATE"), ("collection", "collection", "TEXT"),
        ("description", "description", "TEXT"), ("key_field", "key_field", "TEXT"), ("paint_options", "paint_options", "TEXT"),
        ("plural", "plural", "TEXT"), ("prefix", "prefix", "TEXT"), ("text", "text", "TEXT"), ("typology", "typology", "TEXT"),
        ("wikidata", "wikidata", "TEXT"), ("wikipedia", "wikipedia", "TEXT"), ("themes", "themes", "TEXT[]"),
        ("attribution_id", "attribution", "TEXT"), ("licence_id", "licence", "TEXT"), ("consideration", "consideration", "TEXT"),
        ("github_discussion", "github_discussion", "TEXT"), ("entity_minimum", "entity_minimum", "BIGINT"),
        ("entity_maximum", "entity_maximum", "BIGINT"), ("phase", "phase", "TEXT"), ("realm", "realm", "TEXT"),
        ("replacement_dataset", "replacement_dataset", "TEXT"),
    ]),
    "typology": ("typology", [
        ("typology", "typology", "TEXT"), ("name", "name", "TEXT"), ("description", "description", "TEXT"),
        ("entry_date", "entry_date", "TEXT"), ("start_date", "start_date", "TEXT"), ("end_date", "end_date", "TEXT"),
        ("plural", "plural", "TEXT"), ("text", "text", "TEXT"), ("wikidata", "wikidata", "TEXT"), ("wikipedia", "wikipedia", "TEXT"),
    ]),
    "organisation": ("organisation", [
        ("organisation", "organisation", "TEXT"), ("name", "name", "TEXT"), ("combined_authority", "combined_authority", "TEXT"),
        ("entry_date", "entry_date", "DATE"), ("start_date", "start_date", "DATE"), ("end_date", "end_date", "DATE"),
        ("entity", "entity", "BIGINT"), ("local_authority_type", "local_authority_type", "TEXT"),
        ("official_name", "official_name", "TEXT"), ("region", "region", "TEXT"),
        ("statistical_geography", "statistical_geography", "TEXT"), ("website", "website", "TEXT"),
    ]),
    "attribution": ("key", [
        ("key", "attribution", "TEXT"), ("text", "text", "TEXT"), ("entry_date", "entry_date", "DATE"),
        ("start_date", "start_date", "DATE"), ("end_date", "end_date", "DATE"),
    ]),
    "licence": ("key", [
        ("key", "licence", "TEXT"), ("text", "text", "TEXT"), ("entry_date", "entry_date", "DATE"),
        ("start_date", "start_date", "DATE"), ("end_date", "end_date", "DATE"),
    ]),
}
DEFAULT_TABLES = list(TABLES)


def _date(value):
    return value[:10] if value else value


def sqlite_rows(path, table):
    """The rows for one reference table, as (columns, list of tuples), from digital-land.sqlite3."""
    key, spec = TABLES[table]
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        available = {r[1] for r in conn.execute(f"PRAGMA table_info({identifier(table)})")}
        if not available:
            raise UserError(f"no {table} table", path)
        columns = [(pg, src, kind) for pg, src, kind in spec if src in available]
        select = ", ".join(identifier(src) for _, src, _ in columns)
        records = conn.execute(f"SELECT {select} FROM {identifier(table)} ORDER BY 1").fetchall()
    finally:
        conn.close()
    rows = []
    for record in records:
        row = []
        for (pg, _, kind), value in zip(columns, record):
            value = None if value is None else str(value)
            if value == "" and pg != key:
                value = None
            if value is not None and kind == "TEXT[]":
                items = [v.strip() for v in value.replace(",", ";").split(";") if v.strip()]
                value = "{" + ",".join('"' + v.replace('"', '\\"') + '"' for v in items) + "}"
            elif value is not None and kind == "DATE":
                value = _date(value)
            row.append(value)
        rows.append(tuple(row))
    return [c for c in columns], rows


def load_reference(database_url, sqlite_path, tables=None, log=print):
    """Swap in the reference tables; returns {table: rows}."""
    import psycopg

    tables = tables or DEFAULT_TABLES
    unknown = [t for t in tables if t not in TABLES]
    if unknown:
        raise UserError(f"unknown reference table(s): {', '.join(unknown)} (known: {', '.join(TABLES)})")
    prepared = {t: sqlite_rows(sqlite_path, t) for t in tables}
    counts = {}
    try:
        conn = psycopg.connect(database_url)
    except psycopg.Error as error:
        raise UserError(f"cannot connect to the database: {str(error).strip().splitlines()[0]}")
    with conn:
        with conn.cursor() as cur:
            for table, (columns, rows) in prepared.items():
                key = TABLES[table][0]
                new = f"{table}_new"
                cur.execute(f"DROP TABLE IF EXISTS {identifier(new)}")
                cur.execute("SELECT to_regclass(%s)", (table,))
                exists = cur.fetchone()[0] is not None
                if exists:
                    cur.execute(f"CREATE TABLE {identifier(new)} (LIKE {identifier(table)} INCLUDING ALL)")
                    cur.execute(
                        "SELECT column_name FROM information_schema.columns WHERE table_name = %s AND table_schema = current_schema()",
                        (new,),
                    )
                    target = {r[0] for r in cur.fetchall()}
                    keep = [i for i, c in enumerate(columns) if c[0] in target]
                else:
                    defs = ", ".join(
                        f"{identifier(pg)} {kind}" + (" PRIMARY KEY" if pg == key else "") for pg, _, kind in columns
                    )
                    cur.execute(f"CREATE TABLE {identifier(new)} ({defs})")
                    keep = list(range(len(columns)))
                names = ", ".join(identifier(columns[i][0]) for i in keep)
                with cur.copy(f"COPY {identifier(new)} ({names}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row([row[i] for i in keep])
                counts[table] = len(rows)
            for table in prepared:
                cur.execute(f"DROP TABLE IF EXISTS {identifier(table)}")
                cur.execute(f"ALTER TABLE {identifier(table + '_new')} RENAME TO {identifier(table)}")
    conn.close()
    for table, count in counts.items():
        log(f"{table}: {count} rows")
    return counts
