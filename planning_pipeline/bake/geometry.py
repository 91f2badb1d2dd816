"""Geometry for the published files: WKT parsed in batches, RFC 7946 rings, coordinates at 6 decimal places."""


def parse(wkts):
    """shapely geometries (None where blank or invalid) for a list of WKT strings."""
    import shapely

    return shapely.from_wkt([w or None for w in wkts], on_invalid="ignore")


def rfc7946(geometries):
    """Exterior rings counter-clockwise, holes clockwise."""
    import shapely

    return shapely.orient_polygons(geometries, exterior_cw=False)


def _round(coordinates):
    """[x, y] pairs of an (n, 2) array at 6 decimal places, as Python's round() gives them. Coordinates the
    pipeline wrote are already at 6 places, which numpy's (inexact) rounding leaves unchanged: then the array
    is returned as it is, without a Python call per number."""
    import numpy

    if numpy.array_equal(numpy.round(coordinates, 6), coordinates):
        return coordinates.tolist()
    return [[round(x, 6), round(y, 6)] for x, y in coordinates.tolist()]


def _coordinates(geometry, kind):
    import shapely

    if kind == "Point":
        return _round(shapely.get_coordinates(geometry))[0]
    if kind in ("LineString", "LinearRing"):
        return _round(shapely.get_coordinates(geometry))
    if kind == "Polygon":
        return [_round(shapely.get_coordinates(ring)) for ring in (geometry.exterior, *geometry.interiors)]
    part = kind[len("Multi"):]
    return [_coordinates(g, part) for g in geometry.geoms]


# GeoJSON type names by shapely type id, for the types geojson_all splits up at once
KINDS = {0: "Point", 1: "LineString", 3: "Polygon", 4: "MultiPoint", 5: "MultiLineString", 6: "MultiPolygon"}


def geojson_all(geometries):
    """GeoJSON geometry dicts (None where missing or empty) for an array of shapely geometries: the same as
    geojson() for each, a type at a time, with the coordinates of all of them rounded and split up at once."""
    import numpy
    import shapely

    out = [None] * len(geometries)
    types = shapely.get_type_id(geometries)
    usable = ~(shapely.is_missing(geometries) | shapely.is_empty(geometries))
    for type_id, kind in KINDS.items():
        at = numpy.flatnonzero(usable & (types == type_id))
        if not len(at):
            continue
        _, coordinates, offsets = shapely.to_ragged_array(geometries[at])
        nested = _round(coordinates[:, :2])
        for level in offsets:  # innermost first: rings, then polygons, then multipolygons
            bounds = level.tolist()
            nested = [nested[a:b] for a, b in zip(bounds, bounds[1:])]
        for i, value in zip(at.tolist(), nested):
            out[i] = {"type": kind, "coordinates": value}
    for i in numpy.flatnonzero(usable & ~numpy.isin(types, list(KINDS))).tolist():
        out[i] = geojson(geometries[i])  # collections and rings, one by one
    return out


def geojson(geometry):
    """A GeoJSON geometry dict for a shapely geometry, coordinates rounded to 6 decimal places."""
    if geometry is None or geometry.is_empty:
        return None
    kind = geometry.geom_type
    if kind == "GeometryCollection":
        return {"type": kind, "geometries": [g for g in (geojson(part) for part in geometry.geoms) if g]}
    return {"type": kind, "coordinates": _coordinates(geometry, kind)}


# WKT the pipeline writes (2D, 1-6 decimal places, at most 9 integer digits: within float precision) turns into
# GeoJSON as text: its numbers, less trailing zeros, are what Python's float repr writes for them
_NUMBER = r"-?(?:0|[1-9]\d{0,8})\.\d{1,6}"
_PAIR = _NUMBER + " " + _NUMBER
_RING = r"\(" + _PAIR + r"(?:, ?" + _PAIR + r")*\)"
_POLYGON = r"\(" + _RING + r"(?:, ?" + _RING + r")*\)"
_TEXT_KINDS = {  # shapely type id: (GeoJSON type, pattern whose group 1 is the coordinates)
    0: ("Point", r"POINT ?(\(" + _PAIR + r"\))"),
    3: ("Polygon", r"POLYGON ?(" + _POLYGON + ")"),
    6: ("MultiPolygon", r"MULTIPOLYGON ?(\(" + _POLYGON + r"(?:, ?" + _POLYGON + r")*\))"),
}
_RING_OPEN, _RING_CLOSE = r"\((?=[-\d])", r"(?<=\d)\)"


def geojson_texts(shape_wkts, point_wkts):
    """The GeoJSON geometry of each row as JSON text: its shape, else its point ("null" when neither is usable),
    exactly as json.dumps(geojson(...)) writes it after rfc7946(). Rings already in RFC 7946 order written
    with up to 6 decimal places (as the pipeline writes them) are rewritten as text, a batch at a time; the rest
    go through shapely."""
    import json
    import re

    import numpy
    import shapely

    shapes, points = parse(shape_wkts), parse(point_wkts)
    use_shape = ~shapely.is_missing(shapes)
    chosen = numpy.where(use_shape, shapes, points)
    wkts = [s if use else p for s, p, use in zip(shape_wkts, point_wkts, use_shape.tolist())]
    oriented = rfc7946(chosen)
    types = shapely.get_type_id(chosen)
    out = [None] * len(wkts)
    for type_id, (kind, pattern) in _TEXT_KINDS.items():
        at = numpy.flatnonzero((types == type_id) & ~shapely.is_empty(chosen))
        at = at[shapely.equals_exact(chosen[at], oriented[at], tolerance=0)]  # not reoriented
        pattern = re.compile(pattern)
        rows, bodies = [], []
        for i in at.tolist():
            match = pattern.fullmatch(wkts[i])
            if match and "0.0000" not in wkts[i]:  # below 1e-4 Python writes an exponent (1e-05)
                rows.append(i)
                bodies.append(match.group(1))
        if rows:
            prefix = '{"type":"' + kind + '","coordinates":'
            for i, text in zip(rows, _coordinates_text("\n".join(bodies), kind == "Point").split("\n")):
                out[i] = prefix + text + "}"
    absent = shapely.is_missing(chosen) | shapely.is_empty(chosen)
    rest = [i for i, (text, none) in enumerate(zip(out, absent.tolist())) if text is None and not none]
    for i, geometry in zip(rest, geojson_all(oriented[rest])):
        out[i] = json.dumps(geometry, separators=(",", ":"))
    return [text or "null" for text in out]


def _coordinates_text(wkt, point):
    """WKT coordinates ("(x y,x y)" nested, many separated by newlines) as GeoJSON coordinates text."""
    import re

    text = wkt.replace(", ", ",")
    for _ in range(6):  # trailing zeros: every number has a decimal point and at most 6 places
        text = text.replace("0 ", " ").replace("0,", ",").replace("0)", ")")
    text = text.replace(". ", ".0 ").replace(".,", ".0,").replace(".)", ".0)")
    if point:
        return text.replace(" ", ",").replace("(", "[").replace(")", "]")
    text = text.replace("),(", ")|(").replace(",", "],[").replace(" ", ",")  # | keeps ring separators apart
    text = re.sub(_RING_CLOSE, "]]", re.sub(_RING_OPEN, "[[", text))
    return text.replace("(", "[").replace(")", "]").replace("|", ",")
