"""Vector data read through GDAL/OGR in-process: GML, KML, WFS, GeoJSON, ArcGIS JSON, shapefiles and
MapInfo inside zips, GeoPackage, SpatiaLite.

Every layer is appended (the header is the union of their fields, in order of first appearance).
The first column, WKT, holds the geometry in the source's own coordinates, written as ISO WKT with
up to 10 significant digits (the ogr2ogr `OGR_WKT_PRECISION 10` convention). Polygons become
MULTIPOLYGON as with `ogr2ogr -nlt MULTIPOLYGON`; points and lines stay as they are; curves are
linearised.

Safety: no network access (schema download off, every HTTP request sent to a closed local port),
GML parsed with expat (no external entities, billion-laughs protection), no .gfs or .aux.xml
written beside the source, GDAL messages captured instead of printed.
"""
import contextlib
import json
import re

from . import encoding, xml_columns
from .errors import ConversionError

WKT = "WKT"

CONFIG = {
    "OGR_WKT_PRECISION": "10",
    "GML_PARSER": "EXPAT",
    "GDAL_HTTP_PROXY": "127.0.0.1:9",
    "GDAL_HTTPS_PROXY": "127.0.0.1:9",
    "GDAL_HTTP_TIMEOUT": "1",
    "GDAL_HTTP_CONNECTTIMEOUT": "1",
    "GDAL_HTTP_MAX_RETRY": "0",
    "CPL_VSIL_CURL_ALLOWED_EXTENSIONS": ".network-access-disabled",
    "GDAL_PAM_ENABLED": "NO",
    "OGR_GEOJSON_MAX_OBJ_SIZE": "0",
}

OPEN_OPTIONS = {
    "xml": ["DOWNLOAD_SCHEMA=NO", "WRITE_GFS=NO"],
    "json": ["DATE_AS_STRING=YES", "ARRAY_AS_STRING=YES"],
    "gpkg": ["IMMUTABLE=YES"],
}

# What is logged when GDAL's message itself could not be read: the Python binding cannot hand a message
# that is not UTF-8 (a piece of a badly encoded file quoted in it) to our handler, and raises SystemError.
UNDECODABLE = "GDAL reported an error whose message is not UTF-8 text"

# Messages that don't mean the data were misread: we never reproject, so PROJ grid lookups don't matter.
IGNORED_FAILURES = ("PROJ: ",)

_gdal = None
_ogr = None
_precision_ready = None


def _load():
    """Import GDAL lazily. Works whether or not the process has turned GDAL exceptions on:
    errors are caught by our handler either way, and never printed."""
    global _gdal, _ogr
    if _gdal is None:
        from osgeo import gdal, ogr

        _gdal, _ogr = gdal, ogr
    return _gdal, _ogr


def _call(function, *args):
    """Call an OGR function. With GDAL exceptions on, a PROJ complaint raised while a layer sets up its
    CRS (which we never use) is retried: the second call finds the layer ready. Any other error
    becomes a ConversionError."""
    for attempt in range(3):
        try:
            return function(*args)
        except SystemError:  # a GDAL message not in UTF-8 broke the binding's error callback
            raise ConversionError(f"GDAL: {_last_error_message() or UNDECODABLE}") from None
        except RuntimeError as error:
            message = " ".join(str(error).split())
            if not message.startswith(IGNORED_FAILURES) or attempt == 2:
                raise ConversionError(f"GDAL: {message}") from None


def _last_error_message():
    """GDAL's last error message, when it can be read ('' when it cannot)."""
    gdal, _ = _load()
    try:
        return " ".join(gdal.GetLastErrorMsg().split())
    except Exception:
        return ""


@contextlib.contextmanager
def gdal_config(options):
    """Set GDAL configuration options for this thread only, restoring the previous values after."""
    gdal, _ = _load()
    previous = {key: gdal.GetThreadLocalConfigOption(key, None) for key in options}
    for key, value in options.items():
        gdal.SetThreadLocalConfigOption(key, value)
    try:
        yield
    finally:
        for key, value in previous.items():
            gdal.SetThreadLocalConfigOption(key, value)


class _Messages:
    """A GDAL error handler that keeps messages instead of printing them."""

    def __init__(self):
        self.failures = []

    def __call__(self, level, number, message):
        if level >= 3 and not message.startswith(IGNORED_FAILURES):  # CE_Failure, CE_Fatal
            self.failures.append(" ".join(message.split()))

    def raise_any(self, where):
        if self.failures:
            raise ConversionError(f"GDAL could not read {where}: {self.failures[0]}")

    def last(self):
        return self.failures[-1] if self.failures else "unknown error"


@contextlib.contextmanager
def quiet_gdal():
    gdal, _ = _load()
    messages = _Messages()
    gdal.PushErrorHandler(messages)
    try:
        yield messages
    finally:
        gdal.PopErrorHandler()


# --- WKT at 10 significant digits -------------------------------------------------------------
# OGR reads OGR_WKT_PRECISION once per process, at the first WKT export. If something in this
# process exported WKT before we could set it, round the numbers ourselves the way OGR would.

_TUPLE = re.compile(r"-?\d[\d.eE+\-]*(?: -?\d[\d.eE+\-]*)+")
_NOISE = re.compile(r"0{8,}|9{8,}")


def _fixed(value):
    """Below 1: ten decimals, float noise (a run of eight 0s or 9s) rounded away, trailing zeros dropped."""
    text = "%.10f" % value
    whole, fraction = text.split(".")
    noise = _NOISE.search(fraction)
    if noise:
        if noise.group()[0] == "9":
            return _fixed(round(value, noise.start())) if noise.start() else str(round(value)) + ".0"
        fraction = fraction[:noise.start()]
    return whole + "." + (fraction.rstrip("0") or "0")


def _format_number(value):
    return _fixed(value) if abs(value) < 1 else "%.10G" % value


def format_coordinates(values):
    """A coordinate tuple as OGR writes it with OGR_WKT_PRECISION=10 (GDAL 3.6's rules): x and y bare
    when both are whole, else rounded to 10 significant digits (10 decimals below 1) with ".0" added
    to an unsigned whole-looking result; z bare when whole, else 10 significant digits."""
    x, y = values[0], values[1]
    if x == int(x) and y == int(y) and abs(x) < 2 ** 31 and abs(y) < 2 ** 31:
        texts = [str(int(x)), str(int(y))]
    else:
        texts = [_format_number(v) for v in (x, y)]
        texts = [t + ".0" if t.isdigit() else t for t in texts]
    for z in values[2:]:
        texts.append(str(int(z)) if z == int(z) and abs(z) < 2 ** 31 else "%.10G" % z)
    return " ".join(texts)


def _round_tuple(match):
    return format_coordinates([float(v) for v in match.group().split()])


def round_wkt(wkt):
    """Round a full-precision WKT string the way OGR_WKT_PRECISION=10 would have written it."""
    return _TUPLE.sub(_round_tuple, wkt)


def _wkt_precision_ready():
    global _precision_ready
    if _precision_ready is None:
        _, ogr = _load()
        with gdal_config({"OGR_WKT_PRECISION": "10"}):
            probe = ogr.CreateGeometryFromWkt("POINT (1.23456789012345 2.5)").ExportToIsoWkt()
        _precision_ready = probe == "POINT (1.23456789 2.5)"
    return _precision_ready


# --- geometry ---------------------------------------------------------------------------------

def _geometry_writer():
    _, ogr = _load()
    polygonal = {ogr.wkbPolygon, ogr.wkbCurvePolygon, ogr.wkbMultiSurface, ogr.wkbGeometryCollection,
                 ogr.wkbPolyhedralSurface, ogr.wkbTIN, ogr.wkbTriangle}
    flatten = ogr.GT_Flatten
    force = ogr.ForceToMultiPolygon
    exact = _wkt_precision_ready()

    def wkt(geometry):
        if geometry is None:
            return ""
        if geometry.HasCurveGeometry():  # arcs: shapely and most readers only take straight lines
            geometry = geometry.GetLinearGeometry()
        if flatten(geometry.GetGeometryType()) in polygonal:
            geometry = force(geometry.Clone())
        text = geometry.ExportToIsoWkt()
        return text if exact else round_wkt(text)

    return wkt


# --- attributes -------------------------------------------------------------------------------

def _iso_datetime(feature, index, kind):
    _, ogr = _load()
    year, month, day, hour, minute, second, tz = feature.GetFieldAsDateTime(index)
    date = f"{year:04d}-{month:02d}-{day:02d}"
    whole = int(second)
    fraction = min(round((second - whole) * 1000), 999)
    time = f"{hour:02d}:{minute:02d}:{whole:02d}" + (f".{fraction:03d}" if fraction else "")
    if kind == ogr.OFTDate:
        return date
    if kind == ogr.OFTTime:
        return time
    zone = ""
    if tz == 100:
        zone = "Z"
    elif tz > 1:
        offset = (tz - 100) * 15
        sign = "+" if offset >= 0 else "-"
        zone = f"{sign}{abs(offset) // 60:02d}:{abs(offset) % 60:02d}"
    return f"{date}T{time}{zone}"


def _field_readers(definition):
    """For each field of a layer, a function (feature, index) -> text."""
    _, ogr = _load()
    lists = {ogr.OFTIntegerList, ogr.OFTInteger64List, ogr.OFTRealList, ogr.OFTStringList}
    dates = {ogr.OFTDate, ogr.OFTTime, ogr.OFTDateTime}

    def as_string(feature, index):
        return feature.GetFieldAsString(index)

    def as_list(feature, index):
        return json.dumps(feature.GetField(index), ensure_ascii=False)

    readers = []
    for index in range(definition.GetFieldCount()):
        kind = definition.GetFieldDefn(index).GetType()
        if kind in lists:
            readers.append(as_list)
        elif kind in dates:
            readers.append(lambda feature, i, kind=kind: _iso_datetime(feature, i, kind))
        else:
            readers.append(as_string)
    return readers


def _text(reader, feature, index):
    try:
        text = reader(feature, index)
    except (UnicodeDecodeError, ValueError, TypeError, RuntimeError):
        return ""
    return text if text.isascii() else utf8(text)


def utf8(text):
    """GDAL's text as UTF-8: the binding hands bytes that are not UTF-8 over as surrogate escapes, which
    no UTF-8 file can hold; they are read as Windows-1252 instead, as a CSV's stray bytes are."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        pass
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", encoding.ERRORS)
    except UnicodeEncodeError:  # a surrogate that is not an escaped byte
        return text.encode("utf-8", "replace").decode("utf-8")


# --- reading ----------------------------------------------------------------------------------

def open_vector(path, kind, messages, drivers=None):
    """Open `path` (a file or /vsizip/ path) as vector data; raises RuntimeError with GDAL's message."""
    gdal, _ = _load()
    kwargs = {"open_options": OPEN_OPTIONS.get(kind, [])}
    if drivers:
        kwargs["allowed_drivers"] = drivers
    try:
        dataset = gdal.OpenEx(path, gdal.OF_VECTOR | gdal.OF_READONLY | gdal.OF_VERBOSE_ERROR, **kwargs)
    except SystemError:  # a GDAL message not in UTF-8 broke the binding's error callback
        raise RuntimeError(_last_error_message() or UNDECODABLE) from None
    if dataset is None:  # exceptions off: the message went to our handler
        raise RuntimeError(messages.last())
    return dataset


def _open(path, kind, name, messages):
    try:
        return open_vector(path, kind, messages)
    except RuntimeError as error:
        failure = error
    if kind == "xml":
        # LIBKML refuses some files (a DOCTYPE, some multi-layer documents) that the KML driver reads;
        # and when both refuse a KML file, the KML driver's message is the clearer one.
        try:
            return open_vector(path, kind, messages, ["KML"])
        except RuntimeError as error:
            if "not recognized as a supported file format" not in str(error):
                failure = error
    message = " ".join(str(failure).replace(path, "").split()).lstrip(": ")  # keep the log line short
    if kind == "ods" and message == "No such file or directory":  # what GDAL's ODS driver says of any it cannot parse
        raise ConversionError(f"{name}: not a readable OpenDocument spreadsheet (its content.xml is missing or broken)")
    if "not recognized as a supported file format" in message:
        raise ConversionError(f"{name}: not a vector format GDAL can read")
    raise ConversionError(f"GDAL could not open {name}: {message}")


_PARSE_FAILURE = re.compile(r"XML parsing of \w+ file failed")  # the GML and KML drivers (not LIBKML's probe)


def rows(path, kind, name="the resource", first_table_only=False):
    """Yield the header then one row per feature, across all layers of the data source at `path`."""
    with gdal_config(CONFIG), quiet_gdal() as messages:
        dataset = _open(path, kind, name, messages)
        # complaints while probing drivers don't matter once one has opened it, except the opened
        # driver's own: a GML or KML file the XML parser stopped in opens with no (or only some) features
        opening = list(messages.failures)
        messages.failures.clear()
        for message in opening:
            if _PARSE_FAILURE.search(message):
                raise ConversionError(f"GDAL could not read {name}: {message}")
        layers = [_call(dataset.GetLayer, i) for i in range(_call(dataset.GetLayerCount))]
        if first_table_only:
            layers = layers[:1]
        if not layers:
            raise ConversionError(f"{name}: no layers found")
        definitions = [_call(layer.GetLayerDefn) for layer in layers]
        # A layer's coordinate system is never used (the geometry is written in the source's own
        # coordinates, and the transform tells the CRS from them), so a .prj or srsName GDAL cannot
        # parse ("missing , or ]") must not fail the file: GDAL parses it once, here, and its
        # complaints are dropped.
        before = len(messages.failures)
        for layer in layers:
            try:
                layer.GetSpatialRef()
            except (RuntimeError, SystemError):
                pass
        del messages.failures[before:]
        has_geometry = any(definition.GetGeomFieldCount() for definition in definitions)

        header = [WKT] if has_geometry else []
        position = {}
        plans = []
        for layer, definition in zip(layers, definitions):
            columns = []
            for index in range(definition.GetFieldCount()):
                field = utf8(definition.GetFieldDefn(index).GetName())
                if has_geometry and field == WKT:
                    field = "WKT_1"
                if field not in position:
                    position[field] = len(header)
                    header.append(field)
                columns.append(position[field])
            plans.append((layer, definition.GetGeomFieldCount(),
                          list(zip(range(len(columns)), columns, _field_readers(definition)))))
        # columns upstream keeps that GDAL's GML and KML drivers don't give (xml_columns.py)
        extra = xml_columns.extra_columns(dataset.GetDriver().ShortName, path, header) if kind == "xml" else None
        if extra:
            header, plans = extra.insert(header, plans)
        yield header

        wkt = _geometry_writer()
        width = len(header)
        for layer, geometries, fields in plans:
            where = f"{name} (layer {layer.GetName()!r})"
            fill = extra.layer(layer.GetName()) if extra else None
            _call(layer.ResetReading)
            feature = _call(layer.GetNextFeature)
            while feature is not None:
                row = [""] * width
                if geometries:
                    row[0] = wkt(feature.GetGeometryRef())
                for index, column, reader in fields:
                    if feature.IsFieldSetAndNotNull(index):
                        row[column] = _text(reader, feature, index)
                if fill:
                    fill(row)
                yield row
                feature = _call(layer.GetNextFeature)
            messages.raise_any(where)
        dataset = None
