"""Tabular JSON, streamed: a list of records, or a {"columns": [...], "data": [[...], ...]} table.

The file is read in chunks and decoded one value (one record) at a time, so memory stays flat
however long the list is. GeoJSON and ArcGIS JSON are not handled here: they go to GDAL.
"""
import csv
import json
import math
import re
import sys
import tempfile

from .errors import ConversionError

CHUNK = 1 << 16
MAX_VALUE_CHARS = 1 << 28  # one record (or one non-data value) larger than this is refused

GEO_KEYS = {"type", "features", "geometry", "geometries", "geometryType", "objects", "spatialReference",
            "fields", "fieldAliases", "crs", "bbox", "arcs"}
COLUMN_KEYS = ("columns",)
DATA_KEYS = ("data", "rows")

_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\]:]')
_WHITESPACE = " \t\r\n"


def top_level_keys(head):
    """The keys of the top-level object seen in the text `head` (which may stop mid-file)."""
    keys = []
    depth = 0
    previous = None
    for match in _TOKEN.finditer(head):
        token = match.group()
        if token in "{[":
            depth += 1
        elif token in "}]":
            depth -= 1
        elif token == ":":
            if depth == 1 and previous and previous.startswith('"'):
                try:
                    keys.append(json.loads(previous))
                except ValueError:
                    pass
        previous = token
    return keys


def is_table_object(head):
    """True when the JSON object starting `head` looks like a columns/data table rather than GeoJSON/ArcGIS."""
    keys = set(top_level_keys(head))
    return not (keys & GEO_KEYS) and bool(keys & set(COLUMN_KEYS + DATA_KEYS))


def cell(value):
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, (int, float)):
        return repr(value)
    return json.dumps(value, ensure_ascii=False)


def _finite_or_text(text):
    """A JSON number as a float, unless it overflows one (1e999 would become inf): then its text."""
    value = float(text)
    return value if math.isfinite(value) else text


class _Reader:
    """Pulls whole JSON values, one at a time, out of a text stream."""

    def __init__(self, stream):
        self.stream = stream
        self.buffer = ""
        self.pos = 0
        self.consumed = 0  # characters dropped from the front of the buffer
        self.eof = False
        self.decoder = json.JSONDecoder(parse_float=_finite_or_text, parse_constant=str)

    def _fill(self):
        want = max(CHUNK, len(self.buffer) - self.pos)  # double what is pending, so big values cost O(n)
        data = self.stream.read(want)
        self.consumed += self.pos
        self.buffer = self.buffer[self.pos:] + (data or "")
        self.pos = 0
        if not data:
            self.eof = True

    def where(self):
        return f"at character {self.consumed + self.pos}"

    def peek(self):
        """The next non-blank character ('' at the end), not consumed."""
        while True:
            while self.pos < len(self.buffer) and self.buffer[self.pos] in _WHITESPACE:
                self.pos += 1
            if self.pos < len(self.buffer):
                return self.buffer[self.pos]
            if self.eof:
                return ""
            self._fill()

    def expect(self, chars):
        found = self.peek()
        if not found or found not in chars:
            raise ConversionError(f"invalid JSON: expected {' or '.join(repr(c) for c in chars)} {self.where()}")
        self.pos += 1
        return found

    def value(self):
        self.peek()
        while True:
            try:
                value, end = self.decoder.raw_decode(self.buffer, self.pos)
            except json.JSONDecodeError as error:
                if self.eof:
                    raise ConversionError(f"invalid JSON: {error.msg} {self.where()}") from None
            except RecursionError:  # the decoder recurses once per level of nesting
                raise ConversionError(f"JSON nested too deeply (arrays or objects within each other over "
                                      f"{sys.getrecursionlimit()} levels) {self.where()}") from None
            else:
                if end < len(self.buffer) or self.eof:  # a number at the very end may go on in the next chunk
                    self.pos = end
                    return value
            if len(self.buffer) - self.pos > MAX_VALUE_CHARS:
                raise ConversionError(f"JSON value too large (over {MAX_VALUE_CHARS} characters) {self.where()}")
            self._fill()

    def array(self):
        """Yield the elements of the array that starts here."""
        self.expect("[")
        if self.peek() == "]":
            self.pos += 1
            return
        while True:
            yield self.value()
            if self.expect(",]") == "]":
                return

    def object_keys(self):
        """Yield the keys of the object that starts here; the caller must consume each value."""
        self.expect("{")
        if self.peek() == "}":
            self.pos += 1
            return
        while True:
            key = self.value()
            if not isinstance(key, str):
                raise ConversionError(f"invalid JSON: object key is not a string {self.where()}")
            self.expect(":")
            yield key
            if self.expect(",}") == "}":
                return

    def end(self):
        if self.peek():
            raise ConversionError(f"invalid JSON: extra data after the top-level value {self.where()}")


def list_rows(open_text):
    """A top-level list of objects (columns: the union of their keys, in order of first appearance),
    or of lists (the first list is the header). Reads the file twice rather than hold it in memory."""
    keys = {}
    kind = None
    with open_text() as stream:
        reader = _Reader(stream)
        for number, item in enumerate(reader.array(), 1):
            if kind is None:
                kind = type(item)
                if kind not in (dict, list):
                    raise ConversionError("JSON list of neither objects nor lists: cannot make rows of it")
                if kind is list:
                    break
            if not isinstance(item, kind):
                raise ConversionError(f"JSON list element {number} is not an object like the first")
            keys.update(dict.fromkeys(item))
        else:
            reader.end()
    if kind is None:
        raise ConversionError("no data: the JSON list is empty")

    with open_text() as stream:
        reader = _Reader(stream)
        if kind is list:
            for item in reader.array():
                if not isinstance(item, list):
                    raise ConversionError("JSON list mixes lists with other values")
                yield [cell(v) for v in item]
        else:
            columns = list(keys)
            yield columns
            for item in reader.array():
                yield [cell(item.get(k)) for k in columns]
        reader.end()


def _column_names(value):
    if not isinstance(value, list):
        raise ConversionError('JSON "columns" is not a list')
    names = []
    for column in value:
        if isinstance(column, dict):  # e.g. [{"name": "reference", "type": "text"}]
            column = column.get("name", column.get("id", ""))
        names.append(cell(column))
    return names


def _record(item, columns):
    if isinstance(item, list):
        return [cell(v) for v in item]
    if isinstance(item, dict):
        return [cell(item.get(c)) for c in columns]
    raise ConversionError("JSON data row is neither a list nor an object")


def table_rows(open_text):
    """An object holding "columns" and "data" (or "rows"), in either order; other keys are ignored.
    When the data come first they are spooled to a temporary file until the columns are known."""
    with open_text() as stream:
        columns, spool, streamed = yield from _table(_Reader(stream))
    if columns is None:
        raise ConversionError('JSON object has no "columns" list (expected {"columns": [...], "data": [...]})')
    if spool is None and not streamed:
        raise ConversionError('JSON object has no "data" list (expected {"columns": [...], "data": [...]})')
    if spool is not None:
        with spool:
            yield columns
            spool.seek(0)
            yield from csv.reader(spool)


def _table(reader):
    columns = None
    spool = None
    streamed = False
    try:
        for key in reader.object_keys():
            if key in COLUMN_KEYS and columns is None:
                columns = _column_names(reader.value())
            elif key in DATA_KEYS and not streamed and spool is None and reader.peek() == "[":
                if columns is not None:
                    streamed = True
                    yield columns
                    for item in reader.array():
                        yield _record(item, columns)
                else:
                    spool = tempfile.TemporaryFile("w+", encoding="utf-8", newline="")
                    writer = csv.writer(spool)
                    for item in reader.array():
                        if isinstance(item, dict):  # records keyed by column: need the columns first
                            raise ConversionError('JSON "data" holds objects before "columns" is known')
                        writer.writerow(_record(item, ()))
            else:
                reader.value()
        reader.end()
    except BaseException:
        if spool is not None:
            spool.close()
        raise
    return columns, spool, streamed
