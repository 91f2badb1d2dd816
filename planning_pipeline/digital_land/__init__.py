"""The digital-land pipeline: digital-land.sqlite3, performance.sqlite3 and the reference-table load."""
import contextlib
import re
import sqlite3

from ..files import temporary_path
from ..sql import identifier as quote


def snake(name):
    """A specification or file name as a table or column name: kebab-case to snake_case."""
    name = re.sub(r"[^0-9a-zA-Z_]", "_", name.strip())
    if name == "default":
        return "_default"
    return name


@contextlib.contextmanager
def building(output):
    """A sqlite3 connection to a temporary file beside output, renamed onto output on success."""
    with temporary_path(output) as tmp:
        conn = sqlite3.connect(tmp)
        try:
            yield conn
            conn.commit()
        finally:
            conn.close()


def create_table(conn, table, columns, rows, primary_key=None, types=None, indexes=()):
    """Create table with TEXT columns (or the given types) and insert rows (dicts keyed by column)."""
    types = types or {}
    defs = []
    for column in columns:
        kind = types.get(column, "TEXT")
        defs.append(f"{quote(column)} {kind}" + (" PRIMARY KEY" if column == primary_key else ""))
    conn.execute(f"CREATE TABLE {quote(table)} ({', '.join(defs)})")
    placeholders = ", ".join("?" for _ in columns)
    conn.executemany(
        f"INSERT INTO {quote(table)} VALUES ({placeholders})",
        ([row.get(c) for c in columns] for row in rows),
    )
    for column in indexes:
        if column in columns:
            conn.execute(f"CREATE INDEX {quote(f'{table}_on_{column}_index')} ON {quote(table)} ({quote(column)})")
