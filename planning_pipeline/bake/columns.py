"""The flattened view of an entity row: kebab-case columns, the json column exploded into its own columns."""
import json
import sqlite3

from ..sql import identifier, literal

GEOMETRY_DATATYPES = {"multipolygon", "point"}


def entity_columns(conn):
    return [r[1] for r in conn.execute('PRAGMA table_info("entity")')]


def json_keys(conn):
    """Every key of the json objects in the entity json column, sorted (other values have no keys)."""
    sql = ("SELECT DISTINCT j.key FROM entity, json_each(entity.json) AS j WHERE typeof(entity.json) = 'text' "
           "AND json_valid(entity.json) AND json_type(entity.json) = 'object'")
    return sorted(r[0] for r in conn.execute(sql))


def flattened_header(columns, specification, dataset, keys=()):
    """Entity columns renamed '_' -> '-' without json, then the sorted remaining current schema fields, then any
    other keys found in the json column (sorted), so that no value is lost."""
    header = [c.replace("_", "-") for c in columns if c != "json"]
    present = set(header)
    schema = sorted(f for f in specification.current_fields(dataset) if f not in present)
    header += schema
    present.update(schema)
    header += sorted(k for k in keys if k not in present)
    return header


def text(value):
    return "" if value is None else str(value)


class Flattener:
    """Turns an entity row (tuple in table column order) into a list of strings in flattened-header order."""

    def __init__(self, columns, header):
        self.header = header
        at = {c.replace("_", "-"): i for i, c in enumerate(columns)}
        self.sources = [at.get(h) for h in header]
        self.json_at = columns.index("json") if "json" in columns else None
        self.position = {h: i for i, h in enumerate(header)}
        self.geojson = self.position.get("geojson")

    def row(self, entity):
        out = [text(entity[i]) if i is not None else "" for i in self.sources]
        if self.json_at is not None and entity[self.json_at] and isinstance(entity[self.json_at], str):
            try:
                extra = _DECODER.decode(entity[self.json_at])
            except ValueError:
                extra = {}
            if isinstance(extra, dict):
                for key, value in extra.items():
                    i = self.position.get(key)
                    if i is not None and not out[i]:
                        out[i] = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        if self.geojson is not None:
            out[self.geojson] = ""  # as upstream: the column stays, its value is not published in flattened files
        return out


class FlatSQL:
    """The flattened values computed by sqlite, in C, as Flattener.row computes them in Python: the JSON objects
    of the JSON and GeoJSON files are written by sqlite's json_object.

    sqlite agrees with Python for the usual rows: text and integer columns, and a json column holding an object
    of text values. `python` is an SQL condition naming every other row (a real or blob column value, json that
    is invalid to sqlite, not an object, or may have a value that is not a string): Flattener.row flattens
    those few, read again by rowid. `usable` is False when a json key cannot be written as a JSON path (a quote
    or a backslash in it) or the table has no rowid: then every row goes through Python.
    """

    def __init__(self, columns, header, invalid_json=False, has_rowid=True):
        self.header = header
        at = {c.replace("_", "-"): c for c in columns}
        self.json = '"json"' if "json" in columns else None
        self.usable = has_rowid and not (self.json and any('"' in h or "\\" in h for h in header))
        self.invalid_json = invalid_json  # json_extract fails on invalid json: then each use checks first
        self.expressions = [self._value(h, at.get(h)) for h in header] if self.usable else None
        odd = [f"typeof({identifier(c)}) IN ('real', 'blob')" for c in columns if c.replace("_", "-") in header]
        if self.json:
            j = self.json
            odd.append(f"typeof({j}) = 'blob'")
            # every value is a string when each '":' (the end of a key) is followed by a quote, and no colon
            # follows white space; an escaped quote before a colon inside a string may look otherwise, which
            # only sends that row through Python
            key_ends, string_values = _occurrences(j, '":'), _occurrences(j, '":"')
            not_strings = " OR ".join([f"{key_ends} != {string_values}"] +
                                      [f"instr({j}, char({ord(c)}, 58))" for c in " \t\r\n"])
            odd.append(f"CASE WHEN typeof({j}) != 'text' OR {j} = '' THEN 0 "  # CASE: tested in this order
                       f"WHEN NOT json_valid({j}) THEN 1 WHEN json_type({j}) != 'object' THEN 1 "
                       f"WHEN {not_strings} THEN 1 ELSE 0 END")
        self.python = " OR ".join(odd) if odd else "0"

    @classmethod
    def for_table(cls, conn, columns, header):
        invalid = "json" in columns and conn.execute("SELECT 1 FROM entity WHERE typeof(json) = 'text' AND json != '' "
                                                     "AND NOT json_valid(json) LIMIT 1").fetchone()
        try:
            conn.execute("SELECT rowid FROM entity LIMIT 0")
            has_rowid = True
        except sqlite3.OperationalError:  # a WITHOUT ROWID table
            has_rowid = False
        return cls(columns, header, bool(invalid), has_rowid)

    def _value(self, field, column):
        if field == "geojson":
            return "''"  # as upstream: the column stays, its value is not published in flattened files
        own = f"coalesce(CAST({identifier(column)} AS TEXT), '')" if column else "''"
        if not self.json:
            return own
        j = self.json
        usable = f"typeof({j}) = 'text'" + (f" AND json_valid({j})" if self.invalid_json else "")
        path = literal('$."' + field + '"')
        from_json = f"coalesce(CASE WHEN {usable} THEN json_extract({j}, {path}) END, '')"
        if not column:
            return from_json
        return f"CASE WHEN {own} = '' THEN {from_json} ELSE {own} END"

    def expression(self, field):
        return self.expressions[self.header.index(field)]

    def json_object(self, fields):
        """An SQL json_object of the flattened values of fields (a subset of the header, in its order)."""
        return "json_object(" + ", ".join(f"{literal(f)}, {self.expression(f)}" for f in fields) + ")"


def _occurrences(column, text):
    """SQL counting the occurrences of text in column."""
    return f"(length({column}) - length(replace({column}, {literal(text)}, ''))) / {len(text)}"


def _first_wins(pairs):
    """A JSON object as a dict in which a repeated key keeps its first value, as sqlite's json_extract reads it."""
    result = dict(pairs)
    if len(result) != len(pairs):
        result = {}
        for key, value in pairs:
            result.setdefault(key, value)
    return result


_DECODER = json.JSONDecoder(object_pairs_hook=_first_wins)
