"""A plain SQLite database with no spatial tables: the rows of its first table."""
import sqlite3
import urllib.parse

from .errors import ConversionError


def _text(value):
    if value is None:
        return ""
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, float):
        return repr(value)
    return str(value)


def first_table_rows(path):
    uri = "file:" + urllib.parse.quote(path) + "?mode=ro&immutable=1"
    try:
        connection = sqlite3.connect(uri, uri=True)
    except sqlite3.Error as error:
        raise ConversionError(f"unreadable SQLite database: {error}") from None
    try:
        try:
            table = connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY rowid"
            ).fetchone()
            if table is None:
                raise ConversionError("SQLite database has no tables")
            cursor = connection.execute('SELECT * FROM "{}"'.format(table[0].replace('"', '""')))
            yield [d[0] for d in cursor.description]
            for row in cursor:
                yield [_text(v) for v in row]
        except sqlite3.Error as error:
            raise ConversionError(f"unreadable SQLite database: {error}") from None
    finally:
        connection.close()
