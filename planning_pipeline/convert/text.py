"""Delimited text (CSV, and tab/semicolon/pipe files) re-encoded to UTF-8, one line at a time.

Universal newlines, NUL bytes dropped, quoted multi-line cells kept, blank lines skipped.
"""
import csv
import io
import sys

from .errors import ConversionError

csv.field_size_limit(sys.maxsize)  # geometry cells in real files run to megabytes

OTHER_DELIMITERS = ("\t", ";", "|")


def open_text(raw, encoding):
    """A text stream over the binary stream `raw` (positioned at its start), BOM skipped, universal newlines."""
    if encoding.bom_length:
        raw.read(encoding.bom_length)
    return io.TextIOWrapper(raw, encoding=encoding.codec, errors=encoding.errors, newline=None)


def _without_nul(lines):
    for line in lines:
        yield line.replace("\x00", "") if "\x00" in line else line


def delimiter(first_line):
    """Comma, unless the first line has none and plainly uses a tab, semicolon or pipe instead."""
    if "," in first_line:
        return ","
    counts = [(first_line.count(d), d) for d in OTHER_DELIMITERS]
    count, found = max(counts)
    return found if count else ","


def rows(raw, encoding):
    """Yield the records of the delimited text in binary stream `raw` as lists of str; header first."""
    lines = _without_nul(open_text(raw, encoding))
    for first in lines:
        if first.strip():
            break
    else:
        raise ConversionError("no data: the file holds only blank lines")

    def all_lines():
        yield first
        yield from lines

    try:
        for row in csv.reader(all_lines(), delimiter=delimiter(first)):
            if row:
                yield row
    except csv.Error as error:
        raise ConversionError(f"unreadable CSV: {error}") from None
