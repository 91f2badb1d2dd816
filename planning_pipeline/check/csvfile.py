"""Reading a configuration CSV for checking: encoding, header and rows with their line numbers.

The file's bytes must be UTF-8 (a byte order mark is fine). A byte that is not is reported at the line
it is on, and the rest of the file is still checked (with the bad bytes replaced). Rows are yielded with
the number of the line they start on, blank rows skipped (as the pipeline's readers skip them); a row with
more or fewer fields than the header is reported.
"""
import csv
import os
import sys

csv.field_size_limit(sys.maxsize)

BOM = b"\xef\xbb\xbf"


def not_utf8(data):
    """(line, byte) of the first byte of data that is not UTF-8, or None."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as error:
        return data.count(b"\n", 0, error.start) + 1, data[error.start]
    return None


def first_bad_byte(path, strict=False):
    """(line, byte) of the first non-UTF-8 byte of a file, or None (also None if it cannot be read, unless
    strict: then the OSError is raised)."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        if strict:
            raise
        return None
    return not_utf8(data[3:] if data.startswith(BOM) else data)


class CsvFile:
    """One CSV file being checked: .header (list, [] when the file is empty), .rows() -> (line, cells)."""

    def __init__(self, path, shown, report, anchor):
        self.path = path
        self.shown = shown
        self.report = report
        self.anchor = anchor
        bad = first_bad_byte(path, strict=True)
        if bad:
            line, byte = bad
            report.error(shown, line, f"byte 0x{byte:02x} is not UTF-8: save the file as UTF-8", "encoding")
        # streamed: a lookup.csv can run to many megabytes (bad bytes replaced, reported above)
        self._stream = open(path, encoding="utf-8-sig", errors="replace", newline="")
        self._reader = csv.reader(self._stream)
        self.header = []
        self._header_line = 0
        try:
            for cells in self._reader:
                if any(cells):
                    self.header = cells
                    self._header_line = self._reader.line_num
                    break
        except csv.Error as error:
            report.error(shown, self._reader.line_num or 1, f"unreadable CSV: {error}", "rows")
            self.close()

    @property
    def header_line(self):
        return self._header_line or 1

    def rows(self):
        """(line, cells) of every non-blank row after the header; a row with the wrong number of fields is
        reported, not yielded."""
        if self._stream.closed:
            return
        reader, width = self._reader, len(self.header)
        report, shown = self.report, self.shown
        last = self._header_line
        try:
            for cells in reader:
                line, last = last + 1, reader.line_num
                if not any(cells):
                    continue
                if len(cells) != width:
                    # its values are not under their columns: nothing else about it can be told
                    report.error(shown, line, f"row has {_fields(len(cells))}, the header has {width}", "rows")
                    continue
                yield line, cells
        except csv.Error as error:
            report.error(shown, last + 1, f"unreadable CSV: {error}", "rows")
        finally:
            self.close()

    def close(self):
        self._stream.close()


def _fields(n):
    return f"{n} field" if n == 1 else f"{n} fields"


def not_utf8_error(paths):
    """The UserError naming the first of paths holding a byte that is not UTF-8 and its line (for a reader
    that met a UnicodeDecodeError, which does not say in which file)."""
    from ..errors import UserError

    for path in paths:
        bad = first_bad_byte(path) if path and os.path.isfile(path) else None
        if bad:
            line, byte = bad
            return UserError(f"byte 0x{byte:02x} is not UTF-8: save the file as UTF-8 "
                             "(see docs/configuration.md#encoding)", path, line)
    return UserError("a file is not UTF-8 (see docs/configuration.md#encoding)", ", ".join(p for p in paths if p))
