"""Delimited text (CSV, and tab/semicolon/pipe files) re-encoded to UTF-8, one line at a time.

Universal newlines, NUL bytes dropped, quoted multi-line cells kept, blank lines skipped.

A UTF-8 file that is already what rows() and the writer would make of it (the common case for big
files, and for files this pipeline wrote) is copied as it is instead: see write_verbatim.
"""
import csv
import io
import re
import sys

from ..files import atomic_write
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


# CSV records as csv.writer writes them (comma, minimal quoting, CRLF): a field is quoted exactly when
# it holds a comma, a (doubled) quote or a line break, which can only be a bare LF (universal newlines
# turn a CR or CRLF into one). Unambiguous, so a match never backtracks far. The records are repeated
# possessively (Python 3.11), else sre keeps state for every field of a block (tens of MB); a NUL
# (refused anyway) in the quoted cells' set makes it three characters, which sre tests by bitmap.
_FIELD = rb'(?:"[^",\r\n]*(?:,|""|\n)[^"\r\x00]*(?:""[^"\r\x00]*)*"|[^",\r\n]*)'
_RECORD = rb"(?:" + _FIELD + rb"(?:," + _FIELD + rb")*\r\n)"
try:
    _WRITTEN_RECORDS = re.compile(_RECORD + rb"*+")
except re.error:  # no possessive repeats before Python 3.11
    _WRITTEN_RECORDS = re.compile(_RECORD + rb"*")
VERBATIM_BLOCK = 1 << 20
VERBATIM_LONGEST_RECORD = 1 << 26  # a longer record (or none at all) is left to the slow path


class _NotVerbatim(Exception):
    pass


def write_verbatim(raw, output_path):
    """Copy binary stream `raw` (UTF-8 text, no BOM, at its start) to output_path when converting it
    would write exactly the same bytes: strict UTF-8 without NULs, comma-delimited records ending in
    CRLF, none empty, the first on one line and not blank, every field quoted as csv.writer quotes it
    (never a record of one empty field, which csv.writer writes as ""). Returns the number of records;
    None (nothing written) when the file is not like that. About a third of the cost of parsing and
    writing it, checked block by block as it is copied."""
    try:
        with atomic_write(output_path, "wb") as out:
            return _copy_written_records(raw, out)
    except _NotVerbatim:
        return None


def _copy_written_records(raw, out):
    count = 0
    pending = b""
    while True:
        block = raw.read(VERBATIM_BLOCK)
        data = pending + block if pending else block
        if not block:
            if data or not count:  # a last record without CRLF, or nothing at all
                raise _NotVerbatim
            return count
        # a CRLF is always a record's end (a field never holds a CR): blocks end at the last one
        end = data.rfind(b"\r\n") + 2
        if end < 2:  # no whole record yet: fine only while it could still be one long one
            if b"\n" in data or len(data) > VERBATIM_LONGEST_RECORD:
                raise _NotVerbatim  # (bare LFs and no CRLF: LF line ends, most likely)
            pending = data
            continue
        records, pending = data[:end], data[end:]
        if not count:  # the slow path looks for the delimiter on the first line
            first = records[:records.index(b"\r\n")]
            header = first.decode("utf-8", "replace")
            if b"\n" in first or not header.strip() or delimiter(header) != ",":
                raise _NotVerbatim
        if b"\x00" in records or b"\r\n\r\n" in records or records.startswith(b"\r\n"):
            raise _NotVerbatim  # NULs are dropped and blank lines skipped
        if _WRITTEN_RECORDS.match(records).end() != len(records):
            raise _NotVerbatim
        try:
            records.decode("utf-8")
        except UnicodeDecodeError:  # the slow path reads a stray byte as Windows-1252
            raise _NotVerbatim from None
        count += records.count(b"\r\n")
        out.write(records)
