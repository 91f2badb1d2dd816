"""From a resource path to (what it is, a generator of its rows): the dispatch over formats."""
import codecs
import json
import os
from dataclasses import dataclass, field
from typing import Callable, Iterator, Optional

from . import archive, detect, encoding, excel, json_rows, spatial, sqlite, text
from .errors import ConversionError

HEAD_BYTES = 1 << 16
JSON_HEAD_CHARS = 1 << 20
EXCEL_MIME = "application/vnd.ms-excel"
GEOPACKAGE_MIME = "application/geopackage+sqlite3"
ODS_MIME = "application/vnd.oasis.opendocument.spreadsheet"
TEXT_MEMBERS = (".csv", ".json", ".geojson")


@dataclass
class Limits:
    max_uncompressed_bytes: int = archive.MAX_UNCOMPRESSED_BYTES
    max_members: int = archive.MAX_MEMBERS


@dataclass
class Source:
    mime_type: str = ""
    internal_path: str = ""
    internal_mime_type: str = ""
    rows: Callable[[], Iterator[list]] = field(default=None, repr=False)
    # verbatim(output_path) -> record count, or None: writes the file as it is when that is exactly
    # what converting its rows would write (plain UTF-8 CSV files; text.write_verbatim)
    verbatim: Optional[Callable[[str], Optional[int]]] = field(default=None, repr=False)


def _read_head(opener, size=HEAD_BYTES):
    with opener() as f:
        return f.read(size)


def identify(path, limits=None):
    """A Source for the resource at path; raises ConversionError for what can't be converted."""
    limits = limits or Limits()
    path = os.path.abspath(path)
    try:
        size = os.path.getsize(path)
        head = _read_head(lambda: open(path, "rb"))
    except OSError as error:
        raise ConversionError(f"cannot read resource: {error.strerror}: {path}") from None
    if size == 0:
        raise ConversionError("empty file")

    kind = detect.signature(head)
    if kind == "sqlite":
        if detect.is_geopackage(head):
            return Source(GEOPACKAGE_MIME, rows=lambda: spatial.rows(path, "gpkg", "GeoPackage"))
        return Source("application/vnd.sqlite3", rows=lambda: _sqlite_rows(path))
    if kind == "ole2":
        return Source(EXCEL_MIME, rows=lambda: excel.xls_rows(path))
    if kind == "zip" or (kind is None and _is_zip_with_prefix(path, head)):
        return _zip_source(path, limits)
    if kind in detect.UNSUPPORTED:
        raise ConversionError(f"unsupported format: {detect.UNSUPPORTED[kind]}")
    return _text_source(head, lambda: open(path, "rb"), path, copyable=True)


def _is_zip_with_prefix(path, head):
    """A zip with something before it (self-extracting and the like), as zipfile.is_zipfile sees it."""
    if not any(b < 9 or 13 < b < 32 for b in head[:512]):
        return False  # plain text: don't go looking for a zip directory inside a CSV
    import zipfile

    return zipfile.is_zipfile(path)


def _sqlite_rows(path):
    """Spatial tables through GDAL (SpatiaLite and the like); a database without geometry gives the
    rows of its first table (a union of unrelated tables would mean nothing)."""
    try:
        with spatial.gdal_config(spatial.CONFIG), spatial.quiet_gdal() as messages:
            dataset = spatial.open_vector(path, "sqlite", messages)
            spatial_layers = sum(1 for i in range(dataset.GetLayerCount())
                                 if spatial._call(dataset.GetLayer(i).GetLayerDefn).GetGeomFieldCount())
            dataset = None
    except (RuntimeError, ConversionError):
        spatial_layers = 0
    if spatial_layers:
        return spatial.rows(path, "sqlite", "SQLite database")
    return sqlite.first_table_rows(path)


def _zip_source(path, limits):
    with archive.open_zip(path) as zf:
        archive.check(zf, limits.max_uncompressed_bytes, limits.max_members)
        if archive.is_spreadsheet(zf):
            if "xl/workbook.bin" in zf.namelist():
                raise ConversionError("unsupported format: Excel binary workbook (xlsb)")
            return Source(EXCEL_MIME, rows=lambda: excel.xlsx_rows(path))
        if archive.is_opendocument_spreadsheet(zf):
            return Source(ODS_MIME, rows=lambda: spatial.rows("ODS:" + path, "ods", "spreadsheet", True))
        member = archive.choose(zf)
        head = _read_head(lambda: zf.open(member.name)) if member.suffix in TEXT_MEMBERS else b""
    source = Source("application/zip", member.name, member.mime_type)
    inside = archive.vsizip_path(path, member.name)
    if member.suffix in TEXT_MEMBERS:
        # CSV, and JSON that may be a list or a table rather than GeoJSON: sniffed like a plain file,
        # streamed out of the archive (GeoJSON still goes to GDAL through /vsizip/).
        def rows():
            with archive.open_zip(path) as zf:
                yield from _text_source(head, lambda: zf.open(member.name), inside).rows()
        source.rows = rows
        return source
    if member.suffix in (".gml", ".kml"):
        def rows():
            with archive.open_zip(path) as zf:
                yield from _xml_rows(inside, lambda: zf.open(member.name), "xml", member.name)
        source.rows = rows
        return source
    source.rows = lambda: spatial.rows(inside, "", member.name)
    return source


def _text_source(head, opener, gdal_path, copyable=False):
    """Text: HTML is refused, XML goes to GDAL, JSON to the streaming reader or GDAL, the rest is CSV.
    gdal_path is where GDAL can read the same bytes (the file, or a /vsizip/ path); copyable: opener
    can be called after this returns (a plain file), so a CSV may be copied as it is."""
    found = encoding.detect(head)
    # a character cut at the end of the sample (or of a truncated file) is not binary content: in a small
    # file its one replacement character would be more than looks_binary allows
    decoder = codecs.getincrementaldecoder(found.codec)(errors="replace")
    sample = decoder.decode(head[found.bom_length:], final=False).replace("\x00", "")
    if detect.looks_binary(sample):
        raise ConversionError("not a data file: binary content of no known format")
    kind = detect.text_kind(sample)
    charset = found.label
    if kind == "html":
        raise ConversionError("HTML page, not data (the endpoint returned a web page)")
    if kind == "xml":
        return Source(f"application/xml;charset={charset}", rows=lambda: _xml_rows(gdal_path, opener, "xml", "XML"))
    if kind == "json":
        return Source("application/json", rows=lambda: _json_rows(gdal_path, found, opener))
    if not sample.strip():
        raise ConversionError("no data: the file holds only blank space")
    bare = _bare_json(sample) if len(head) < HEAD_BYTES else ""  # (the whole file is in head)
    if bare:
        raise ConversionError(f"not data: the file is a bare JSON {bare}")
    source = Source(f"text/csv;charset={charset}", rows=lambda: _csv_rows(found, opener))
    if copyable and found.codec == "utf-8" and not found.bom_length:
        source.verbatim = lambda output_path: _csv_verbatim(opener, output_path)
    return source


def _bare_json(text):
    """'null', 'true', 'false', 'number' or 'string' when the text is one JSON value of that kind (an
    API's answer when it has no data), else '': read as CSV it would be a header of one made-up column."""
    text = text.strip("\ufeff \t\r\n")
    if len(text) > 4096:
        return ""
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return ""
    if value is None or isinstance(value, bool):
        return json.dumps(value)
    if isinstance(value, (int, float)):
        return "number"
    return "string" if isinstance(value, str) else ""


def _chunks(opener, size=1 << 16):
    with opener() as f:
        while chunk := f.read(size):
            yield chunk


def _xml_rows(gdal_path, opener, kind, name):
    """GML, KML or WFS through GDAL, once its entity declarations are known to be safe: GDAL would
    otherwise give a document with an external or exploding entity as rows with values missing."""
    refusal = detect.xml_entity_refusal(_chunks(opener))
    if refusal:
        raise ConversionError(refusal)
    yield from spatial.rows(gdal_path, kind, name)


def _csv_rows(found, opener):
    with opener() as raw:
        yield from text.rows(raw, found)


def _csv_verbatim(opener, output_path):
    with opener() as raw:
        return text.write_verbatim(raw, output_path)


def _json_rows(path, found, opener):
    def open_text():
        return text.open_text(opener(), found)

    with open_text() as f:
        head = f.read(JSON_HEAD_CHARS)
    start = head.lstrip("\ufeff \t\r\n")
    if start.startswith("["):
        yield from json_rows.list_rows(open_text)
    elif json_rows.is_table_object(start):
        yield from json_rows.table_rows(open_text)
    else:
        try:
            yield from spatial.rows(path, "json", "JSON")
        except ConversionError as error:
            if "not a vector format" not in str(error):
                raise
            raise ConversionError(
                "JSON is not GeoJSON, ArcGIS JSON, a list of records or a columns/data table") from None
