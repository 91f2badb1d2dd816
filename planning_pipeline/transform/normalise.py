"""Reading a converted CSV: normalise each cell, skip lines, parse the header and number the entries.

Cells are stripped of " \\n\\r\\t\\f", lose carriage returns, get CRLF line breaks, and are blanked
when they only say null (NULL, <null>, N/A, #N/A, ?, ---, ...). All-empty lines are dropped, as are
lines that a skip.csv pattern matches (as a regular expression at the start of the cells joined by
commas; this can drop the header). The first line left is the header; the rest are entries,
numbered from 1. line-number counts CSV records from 1 (the first record, normally the header).
"""
import csv
import re

from .. import csvio  # noqa: F401  (lifts the csv field size limit: geometries run to megabytes)


NULL = re.compile(r"(?:<*[Nn][Uu][Ll][Ll]>*|#*[Nn]/?[Aa]|\?*|-+)\Z")
_NULL_START = frozenset("<nN#?-")
_SPACE = " \n\r\t\f"


class Unreadable(Exception):
    """The converted CSV cannot be parsed: the resource is logged as failed."""


class Entry:
    """One row of the resource as it moves through the phases."""

    __slots__ = ("line", "number", "row", "organisation", "priority")

    def __init__(self, line, number, row):
        self.line, self.number, self.row = line, number, row
        self.organisation = ""
        self.priority = 1

    def copy(self):
        other = Entry(self.line, self.number, dict(self.row))
        other.organisation, other.priority = self.organisation, self.priority
        return other


def normalise_cell(cell):
    if not cell:
        return cell
    cell = cell.strip(_SPACE)
    if not cell:
        return cell
    if "\r" in cell or "\n" in cell:
        cell = cell.replace("\r", "").replace("\n", "\r\n")
    if cell[0] in _NULL_START and NULL.match(cell):
        return ""
    return cell


def compile_skips(patterns):
    compiled = []
    for pattern, row in patterns:
        try:
            compiled.append(re.compile(pattern))
        except re.error as e:
            raise row.error(f"skip pattern {pattern!r} is not a valid regular expression: {e}")
    return compiled


class Reader:
    """Entries from an open converted CSV; counts its records (line-count) as it goes."""

    def __init__(self, f, skips=()):
        """skips: compiled skip patterns (compile_skips)."""
        self.f = f
        self.skips = list(skips)
        self.header = None
        self.line_count = 0

    def lines(self):
        """(line-number, normalised cells) of the lines that survive."""
        skips = self.skips
        number = 0
        for cells in csv.reader(self.f):
            number += 1
            self.line_count = number
            cells = [normalise_cell(c) for c in cells]
            if not any(cells):
                continue
            if skips:
                joined = ",".join(cells)
                if any(p.match(joined) for p in skips):
                    continue
            yield number, cells

    def entries(self, mapping=None):
        """Entries whose rows are keyed by column; or, with mapping(header) -> [(cell index, field)],
        keyed by field."""
        number = 0
        header = None
        try:
            for line, cells in self.lines():
                if header is None:
                    header = self.header = cells
                    width = len(header)
                    fields = mapping(header) if mapping is not None else None
                    continue
                number += 1
                if len(cells) < width:
                    cells = cells + [""] * (width - len(cells))
                if fields is None:
                    row = dict(zip(header, cells))
                else:
                    row = {field: cells[i] for i, field in fields}
                yield Entry(line, number, row)
        except csv.Error as e:
            raise Unreadable(f"the converted CSV is unreadable at record {self.line_count + 1}: {e}")
