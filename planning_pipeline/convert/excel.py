"""Excel workbooks, first sheet, cells as text: xlsx/xlsm through openpyxl (read-only, streamed),
xls through xlrd.

Text rules: empty cells are "", whole numbers lose ".0", other numbers show at most 15 significant
digits (as Excel does), dates are ISO 8601 (a date alone when the time is midnight), booleans are
True/False. Rows that are entirely empty are skipped; trailing empty cells are trimmed, and rows
shorter than the header are padded to its width.
"""
import datetime
import os
import warnings

from .errors import ConversionError


def cell_text(value):
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return "%.15g" % value
    if isinstance(value, datetime.datetime):
        if value.time() == datetime.time(0) and value.tzinfo is None:
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    return str(value)


def _tidy(rows):
    """Skip empty rows, trim trailing empty cells, pad to the header's width."""
    width = None
    for row in rows:
        cells = [cell_text(v) for v in row]
        while cells and not cells[-1].strip():
            cells.pop()
        if not cells:
            continue
        if width is None:
            width = len(cells)
        elif len(cells) < width:
            cells.extend([""] * (width - len(cells)))
        yield cells


_CELL_ERRORS = (ValueError, TypeError, IndexError, KeyError, OverflowError)


def _tolerate_bad_cells():
    """Make openpyxl's read-only sheet parser give a cell it cannot read (a number or boolean that is
    not one, a shared string index past the end, a bad cell reference) as its own text, or "" for a
    shared string it cannot find, instead of raising and losing the whole workbook: one bad value is
    the transform's to judge (it logs an issue for a value its field cannot hold)."""
    from openpyxl.utils.cell import coordinate_to_tuple
    from openpyxl.worksheet import _read_only, _reader

    if getattr(_read_only.WorkSheetParser, "tolerant", False):
        return

    class TolerantParser(_reader.WorkSheetParser):
        tolerant = True

        def parse_cell(self, element):
            try:
                return super().parse_cell(element)
            except _CELL_ERRORS:
                pass
            try:
                row, column = coordinate_to_tuple(element.get("r") or "")
                self.col_counter = column
            except _CELL_ERRORS:
                self.col_counter += 1
                row, column = self.row_counter, self.col_counter
            kind = element.get("t", "n")
            value = "" if kind == "s" else (element.findtext(_reader.VALUE_TAG) or "")
            return {"row": row, "column": column, "value": value, "data_type": "s", "style_id": 0}

    _read_only.WorkSheetParser = TolerantParser


def xlsx_rows(path):
    import openpyxl

    _tolerate_bad_cells()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Data Validation extension is not supported" and the like
        stream = open(path, "rb")  # a file object: openpyxl refuses names without an Excel extension
        try:
            book = openpyxl.load_workbook(stream, read_only=True, data_only=True)
        except Exception as error:
            stream.close()
            raise ConversionError(f"unreadable Excel workbook: {type(error).__name__}: {error}") from None
        try:
            if not book.worksheets:
                raise ConversionError("Excel workbook has no worksheets")
            sheet = book.worksheets[0]
            if hasattr(sheet, "reset_dimensions"):
                sheet.reset_dimensions()  # don't trust the file's stated used range
            found = False
            for row in _tidy(sheet.iter_rows(values_only=True)):
                found = True
                yield row
            if not found:
                raise ConversionError("no data: the first worksheet is empty")
        finally:
            book.close()
            stream.close()


def _xls_value(book, cell):
    import xlrd

    kind = cell.ctype
    if kind in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
        return None
    if kind == xlrd.XL_CELL_DATE:
        try:
            return xlrd.xldate.xldate_as_datetime(cell.value, book.datemode)
        except (ValueError, OverflowError, xlrd.xldate.XLDateError):
            return cell.value
    if kind == xlrd.XL_CELL_BOOLEAN:
        return bool(cell.value)
    if kind == xlrd.XL_CELL_ERROR:
        return xlrd.error_text_from_code.get(cell.value, "#ERROR")
    return cell.value


def xls_rows(path):
    import xlrd

    with open(os.devnull, "w") as quiet:
        try:
            book = xlrd.open_workbook(path, on_demand=True, logfile=quiet, verbosity=0)
        except Exception as error:
            raise ConversionError(f"unreadable Excel (xls) workbook: {type(error).__name__}: {error}") from None
        try:
            if not book.nsheets:
                raise ConversionError("Excel workbook has no worksheets")
            sheet = book.sheet_by_index(0)
            found = False
            values = ([_xls_value(book, c) for c in sheet.row(r)] for r in range(sheet.nrows))
            for row in _tidy(values):
                found = True
                yield row
            if not found:
                raise ConversionError("no data: the first worksheet is empty")
        finally:
            book.release_resources()
