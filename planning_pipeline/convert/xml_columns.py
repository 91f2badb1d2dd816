"""Columns of GML and KML files that upstream's converted CSVs have and GDAL 3.6 no longer gives.

- GML: each feature's own gml:boundedBy envelope, as the columns lowerCorner and upperCorner right
  after gml_id (upstream's golden `WKT,gml_id,lowerCorner,upperCorner,Name,Ref`: an older GDAL read
  them as attributes). The text is kept as written, whitespace collapsed.
- KML read by GDAL's KML driver (the fallback when LIBKML refuses a file): that driver reads only
  Name and Description, so each Placemark's ExtendedData (<Data name=..><value>, <SimpleData name=..>)
  is added as columns after them, as LIBKML gives them for the files it reads.

The file is read a second time with expat, streamed (a chunk at a time, never a whole-document tree),
and its values are matched to GDAL's features in document order, checked against each feature's own
gml_id or Name: on the first disagreement the extra columns are left blank for the rest of that layer
rather than misplaced. A document that declares entities (or that expat cannot read) gets no extra
columns; GDAL has already read its geometry and attributes.
"""
import xml.parsers.expat as expat

from .errors import ConversionError

CHUNK = 1 << 16
CORNERS = ["lowerCorner", "upperCorner"]
MEMBERS = {"featureMember", "member", "featureMembers"}


class _Stop(Exception):
    pass


def _chunks(path):
    """The bytes of path (a file or a GDAL /vsizip/ path) a chunk at a time."""
    from osgeo import gdal

    handle = gdal.VSIFOpenL(path, "rb")
    if handle is None:
        raise ConversionError(f"cannot read {path}")
    try:
        while True:
            data = gdal.VSIFReadL(1, CHUNK, handle)
            if not data:
                return
            yield data
    finally:
        gdal.VSIFCloseL(handle)


def _contains(path, needle):
    """Whether the bytes of path contain needle (a quick look before any XML parsing)."""
    tail = b""
    for data in _chunks(path):
        if needle in tail + data:
            return True
        tail = data[-len(needle):]
    return False


def _local(name):
    return name.rpartition(":")[2]


def _parser():
    parser = expat.ParserCreate()
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)

    def refuse(*_):
        raise _Stop()

    parser.EntityDeclHandler = refuse
    parser.ExternalEntityRefHandler = refuse
    parser.buffer_text = True
    return parser


def _events(path, handler_factory):
    """Run expat over path with the handlers handler_factory(emit) sets up; yield what they emit,
    a chunk's worth at a time. Stops quietly on an entity declaration or unreadable XML."""
    parser = _parser()
    found = []
    handler_factory(parser, found.append)
    try:
        for data in _chunks(path):
            parser.Parse(data, False)
            yield from found
            found.clear()
        parser.Parse(b"", True)
        yield from found
    except (_Stop, expat.ExpatError, ConversionError):
        return


# --- GML: each feature's envelope ---------------------------------------------------------------

def _gml_handlers(parser, emit, layer=None):
    """emit((layer, gml_id, [lowerCorner, upperCorner] or None)) for each feature (of one layer)."""
    stack = []  # local names of the open elements
    state = {"feature": None, "depth": 0, "corners": None, "text": None, "in_bounds": False}

    def start(name, attributes):
        local = _local(name)
        stack.append(local)
        depth = len(stack)
        if state["feature"] is None:
            if depth >= 2 and (stack[-2] in MEMBERS):
                state.update(feature=local, depth=depth, corners=None,
                             gml_id=attributes.get("gml:id", attributes.get("fid", "")))
            return
        if depth == state["depth"] + 1 and local == "boundedBy":
            state["in_bounds"] = True
            state["corners"] = ["", ""]
        elif state["in_bounds"] and local in CORNERS:
            state["text"] = []

    def text(data):
        if state["text"] is not None:
            state["text"].append(data)

    def end(name):
        local = stack.pop()
        depth = len(stack) + 1
        if state["feature"] is None:
            return
        if state["text"] is not None and local in CORNERS:
            state["corners"][CORNERS.index(local)] = " ".join("".join(state["text"]).split())
            state["text"] = None
        elif local == "boundedBy" and depth == state["depth"] + 1:
            state["in_bounds"] = False
        elif depth == state["depth"]:
            if layer is None or state["feature"] == layer:
                emit((state["feature"], state["gml_id"], state["corners"]))
            state["feature"] = None

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text


def gml_has_envelopes(path):
    """Whether some feature of the GML file has its own gml:boundedBy envelope."""
    if not _contains(path, b"lowerCorner"):
        return False
    for _, _, corners in _events(path, _gml_handlers):
        if corners is not None and any(corners):
            return True
    return False


def gml_envelopes(path, layer):
    """(gml_id, [lowerCorner, upperCorner] or None) of each feature of layer, in document order."""
    for _, gml_id, corners in _events(path, lambda parser, emit: _gml_handlers(parser, emit, layer)):
        yield gml_id, corners


# --- KML: each Placemark's ExtendedData -----------------------------------------------------------

def _kml_handlers(parser, emit):
    """emit((name, {data name: value})) for each Placemark."""
    state = {"placemark": 0, "name": None, "data": None, "key": None, "text": None, "depth": 0}
    stack = []

    def start(name, attributes):
        local = _local(name)
        stack.append(local)
        if local == "Placemark":
            state.update(placemark=len(stack), name="", data={})
            return
        if not state["placemark"]:
            return
        if local == "name" and len(stack) == state["placemark"] + 1:
            state["text"] = []
        elif local == "Data" and "ExtendedData" in stack:
            state["key"] = attributes.get("name", "")
        elif local == "value" and state["key"] is not None:
            state["text"] = []
        elif local == "SimpleData" and "ExtendedData" in stack:
            state["key"] = attributes.get("name", "")
            state["text"] = []

    def text(data):
        if state["text"] is not None:
            state["text"].append(data)

    def end(name):
        local = stack.pop()
        if not state["placemark"]:
            return
        if local == "Placemark" and len(stack) + 1 == state["placemark"]:
            emit((state["name"], state["data"]))
            state.update(placemark=0, key=None, text=None)
        elif local == "name" and state["text"] is not None and state["key"] is None:
            state["name"] = " ".join("".join(state["text"]).split())
            state["text"] = None
        elif local in ("value", "SimpleData") and state["text"] is not None:
            if state["key"]:
                state["data"].setdefault(state["key"], "".join(state["text"]).strip())
            state["text"] = None
            if local == "SimpleData":
                state["key"] = None
        elif local == "Data":
            state["key"] = None

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text


def kml_data_names(path):
    """The ExtendedData names of the KML file's Placemarks, in order of first appearance."""
    if not _contains(path, b"ExtendedData"):
        return []
    names = {}
    for _, data in _events(path, _kml_handlers):
        for key in data:
            names.setdefault(key, None)
    return list(names)


def kml_placemarks(path):
    """(name, {data name: value}) of each Placemark, in document order."""
    return _events(path, _kml_handlers)


# --- the columns added to a conversion ------------------------------------------------------------

class Extra:
    """Columns to add to the rows GDAL gives: `columns` inserted at `at` in the header; `layer(name)`
    gives a function that fills a row (already holding GDAL's values) of that layer."""

    def __init__(self, columns, at, key, source, shared=False):
        self.columns, self.at, self.key, self.source, self.shared = columns, at, key, source, shared
        self._iterator = None
        self._broken = False

    def insert(self, header, plans):
        """The header with the columns inserted, and the layers' field plans with positions moved past them."""
        n = len(self.columns)
        header = header[:self.at] + self.columns + header[self.at:]
        moved = []
        for layer, geometries, fields in plans:
            moved.append((layer, geometries,
                          [(i, column + n if column >= self.at else column, reader) for i, column, reader in fields]))
        self._key = header.index(self.key) if self.key in header else None
        return header, moved

    def layer(self, name):
        if not self.shared or self._iterator is None:
            self._iterator = iter(self.source(name))
            self._broken = False
        iterator, at, key, n = self._iterator, self.at, self._key, len(self.columns)

        def fill(row):
            if self._broken:
                return
            item = next(iterator, None)
            if item is None or (key is not None and " ".join(row[key].split()) != item[0]):
                self._broken = True
                return
            row[at:at + n] = item[1]

        return fill


def extra_columns(driver, path, header):
    """The Extra for a GML or KML file GDAL opened with driver (its short name), or None."""
    if driver == "GML" and not set(CORNERS) & set(header) and gml_has_envelopes(path):
        at = header.index("gml_id") + 1 if "gml_id" in header else int(header[:1] == ["WKT"])

        def envelopes(layer):
            for gml_id, corners in gml_envelopes(path, layer):
                yield gml_id, corners or ["", ""]

        return Extra(list(CORNERS), at, "gml_id", envelopes)
    if driver == "KML":
        columns = [name for name in kml_data_names(path) if name not in header]
        if columns:
            def placemarks(_):
                for name, data in kml_placemarks(path):
                    yield name, [data.get(c, "") for c in columns]

            return Extra(columns, len(header), "Name", placemarks, shared=True)
    return None
