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
