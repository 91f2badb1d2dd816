"""Reading an assembled dataset sqlite file, read-only, for the loaders (PostGIS, tiles)."""
import os
import sqlite3
import urllib.parse

from ..errors import UserError


def columns(sqlite, table):
    return [row[1] for row in sqlite.execute(f'PRAGMA table_info("{table}")')]


def select_list(sqlite, table, wanted):
    """SELECT the wanted columns that exist in table (missing ones as NULL)."""
    present = set(columns(sqlite, table))
    return ", ".join(f'"{c}"' if c in present else f'NULL AS "{c}"' for c in wanted)


def open_dataset(path):
    """(read-only connection, names of its tables and views); a clear error unless it has an entity table."""
    if not os.path.isfile(path):
        raise UserError("dataset sqlite file not found", path)
    try:
        sqlite = sqlite3.connect(f"file:{urllib.parse.quote(os.path.abspath(path))}?mode=ro", uri=True)
        tables = {row[0] for row in sqlite.execute("SELECT name FROM sqlite_master WHERE type IN ('table','view')")}
    except sqlite3.DatabaseError as error:
        raise UserError(f"not a readable sqlite database: {error}", path) from None
    if "entity" not in tables:
        raise UserError("no entity table", path)
    if "entity" not in columns(sqlite, "entity"):
        raise UserError("entity table has no entity column", path)
    return sqlite, tables
