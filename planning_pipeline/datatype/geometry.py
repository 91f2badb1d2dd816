"""multipolygon and point values: parse, find the CRS, reproject to WGS84, repair, write WKT.

Batch functions do the work with shapely 2's array functions on a whole chunk of values at once.
One multipolygon value goes through the batch function; one point or GeoX/GeoY pair takes a
numpy-free path with the same rules (the per-call cost of array machinery dominates for one value).
Tests check that batch and one-at-a-time results and issues are identical.

multipolygon, for each value:
1. parse WKT (POLYGON, MULTIPOLYGON or GEOMETRYCOLLECTION, whose polygons are kept; an EWKT
   "SRID=...;" prefix is ignored; an unclosed ring is closed) or GeoJSON geometry text (logged
   "invalid type geojson", a warning, as upstream); else "invalid WKT"; other geometry types
   "Unexpected geom type"; a collection without polygons "Unexpected geom type within
   GeometryCollection"; Z and M values are dropped;
2. detect the CRS and reproject (see crs.py; issues "OSGB", "WGS84 flipped", "Mercator", ...);
3. round to 6 decimal places;
4. simplify(0.000001) (topology-preserving), kept only if it does not make a valid shape invalid.
   A geometry is only handed to GEOS's simplifier when some three consecutive vertices of a ring
   make a triangle whose smallest altitude is at most 2.2e-6 (a necessary condition for the
   simplifier to drop a vertex, see _maybe_simplifiable), which gives the same result faster;
5. set_precision(1e-6, pointwise) is not needed: after 3 and 4 every coordinate is on that grid;
6. if invalid: "invalid geometry - fixed" (value: GEOS's reason, e.g. "Self-intersection[0.5 0.5]"),
   make_valid, keep the polygons, buffer(0) if still invalid; a shape with no area (its points on a
   line, or all one point: upstream publishes the line) is kept as a polygon about a metre wide
   around it, with "invalid geometry - fixed" saying so; if nothing is left at all, "invalid
   geometry - not fixable" and the value is rejected (a geometry still invalid after buffer(0) is
   kept, with that issue);
7. every polygon's exterior ring counter-clockwise, holes clockwise (RFC 7946);
8. MULTIPOLYGON WKT, fixed 6 decimal places, no space after commas.

point: WKT POINT (or a GeoJSON Point) only, else "Unexpected geom type"; steps 2, 3 and 8 as
``POINT (x y)``. GeoX/GeoY pairs: ``normalise_point_xy`` / ``normalise_points_xy``.

Issue values are "" for the parse and CRS issues (as upstream: the geometry can be megabytes) and
the validity reason for the geometry repair issues.
"""
import numpy as np
import shapely

from . import crs
from .wkt import format_multipolygons, format_numbers, format_points, round6

GEOMETRY_DATATYPES = ("multipolygon", "point")
SIMPLIFY_TOLERANCE = 0.000001
COLLAPSED_BUFFER = 0.00001  # degrees (about a metre): what a shape with no area is widened by
# three points in a strip of width 2 * tolerance have a smallest altitude of at most 2 * tolerance
_COLLINEAR = 2.2 * SIMPLIFY_TOLERANCE

_POINT, _POLYGON, _MULTIPOLYGON, _COLLECTION = 0, 3, 6, 7

_MESSAGES = {
    "invalid WKT": "geometry must be WKT or a GeoJSON geometry",
    "invalid type geojson": "GeoJSON geometry given where WKT was expected",
    "invalid coordinates": "coordinates are not WGS84, OSGB36 or Web Mercator",
    "WGS84 flipped": "latitude and longitude were swapped",
    "WGS84 out of bounds of England": "geometry is outside England",
    "OSGB": "reprojected from OSGB36 (EPSG:27700)",
    "OSGB flipped": "eastings and northings were swapped, reprojected from OSGB36 (EPSG:27700)",
    "OSGB out of bounds of England": "geometry is outside England",
    "Mercator": "reprojected from Web Mercator (EPSG:3857)",
    "Mercator flipped": "x and y were swapped, reprojected from Web Mercator (EPSG:3857)",
    "invalid geometry - fixed": "invalid geometry was repaired",
    "invalid geometry - not fixable": "invalid geometry could not be repaired",
    "Unexpected geom type within GeometryCollection": "geometry collection has no polygons",
}
COLLAPSED_MESSAGE = "polygon has no area (its points are on a line): kept as a polygon about 1 m wide around that line"
_EXPECTED = {"multipolygon": "Geometry must be a polygon or multipolygon", "point": "Geometry must be a point"}


def _log(sink, issue, value="", message=None):
    if sink is not None:
        sink.log(issue, value, _MESSAGES.get(issue, "") if message is None else message)


def _parse(values, sinks):
    """Parse the non-empty values: (indices, geometries) of the ones that parsed."""
    wkt_index, wkt_text, json_index, json_text = [], [], [], []
    for i, value in enumerate(values):
        if not value:
            continue
        text = value.strip()
        if not text:
            continue
        if text[0] == "{":
            json_index.append(i)
            json_text.append(text)
        else:
            if text[:5].upper() == "SRID=":
                text = text.partition(";")[2]
            wkt_index.append(i)
            wkt_text.append(text)
    index = np.array(wkt_index + json_index, dtype=np.int64)
    geoms = np.empty(len(index), dtype=object)
    if wkt_text:
        with np.errstate(all="ignore"):  # e.g. overflow for 1e999: an infinite coordinate, rejected later
            geoms[: len(wkt_text)] = shapely.from_wkt(np.array(wkt_text, dtype=object), on_invalid="fix")
    if json_text:
        with np.errstate(all="ignore"):
            parsed = shapely.from_geojson(np.array(json_text, dtype=object), on_invalid="ignore")
        geoms[len(wkt_text):] = parsed
        for i, g in zip(json_index, parsed):
            if g is not None:
                _log(sinks[i], "invalid type geojson")
    missing = shapely.is_missing(geoms)
    for i in index[missing]:
        _log(sinks[i], "invalid WKT")
    keep = ~missing
    return index[keep], geoms[keep]


def _polygonal(index, geoms, sinks):
    """Keep the values that are polygonal: (indices, Polygon or MultiPolygon per index). The
    polygons of a GeometryCollection become a MultiPolygon; other types are logged."""
    types = shapely.get_type_id(geoms)
    simple = (types == _POLYGON) | (types == _MULTIPOLYGON)
    collection = types == _COLLECTION
    for i in index[~simple & ~collection]:
        _log(sinks[i], "Unexpected geom type", "", _EXPECTED["multipolygon"])
    keep = simple | collection
    index, geoms, collection = index[keep], geoms[keep], collection[keep]
    if collection.any():
        geoms = geoms.copy()
        for j in np.flatnonzero(collection).tolist():
            multi = _explode_polygonal(geoms[j])
            if multi is None:
                if _has_polygon(geoms[j]):
                    _log(sinks[index[j]], "invalid coordinates", "", "geometry is empty")
                else:
                    _log(sinks[index[j]], "Unexpected geom type within GeometryCollection")
            geoms[j] = multi
    present = ~shapely.is_missing(geoms)
    empty = present & shapely.is_empty(geoms)
    for i in index[empty]:
        _log(sinks[i], "invalid coordinates", "", "geometry is empty")
    keep = present & ~empty
    return index[keep], geoms[keep]


def _has_polygon(geom):
    parts = shapely.get_parts(geom)
    while len(parts):
        kind = shapely.get_type_id(parts)
        if (kind == _POLYGON).any():
            return True
        parts = shapely.get_parts(parts[(kind == _MULTIPOLYGON) | (kind == _COLLECTION)])
    return False


def _ragged(geoms):
    """Polygons and MultiPolygons -> (MultiPolygon ragged offsets, (m, 2) coordinates).

    As shapely.to_ragged_array does it, without its np.unique of the geometry types, whose first
    call imports numpy.ma (~25 ms a process)."""
    polygons, owner = shapely.get_parts(geoms, return_index=True)
    rings, polygon = shapely.get_rings(polygons, return_index=True)
    coords, ring = shapely.get_coordinates(rings, return_index=True)
    offsets = (_offsets(ring, len(rings)), _offsets(polygon, len(polygons)), _offsets(owner, len(geoms)))
    return _drop_empty_parts(offsets), coords


def _offsets(indices, n):
    """Offsets of n groups from the group index of each item (indices ascending)."""
    return np.concatenate([[0], np.cumsum(np.bincount(indices, minlength=n))])


def _drop_empty_parts(offsets):
    """Ragged MultiPolygon offsets without rings of no coordinates and polygons of no rings."""
    ring_offsets, polygon_offsets, geometry_offsets = (np.asarray(o, dtype=np.int64) for o in offsets)
    ring_length = np.diff(ring_offsets)
    if ring_length.all() and np.diff(polygon_offsets).all():
        return ring_offsets, polygon_offsets, geometry_offsets
    keep_ring = ring_length > 0
    kept = np.concatenate([[0], np.cumsum(keep_ring)])
    rings = kept[polygon_offsets[1:]] - kept[polygon_offsets[:-1]]
    keep_polygon = rings > 0
    kept = np.concatenate([[0], np.cumsum(keep_polygon)])
    polygons = kept[geometry_offsets[1:]] - kept[geometry_offsets[:-1]]
    return (
        np.concatenate([[0], np.cumsum(ring_length[keep_ring])]),
        np.concatenate([[0], np.cumsum(rings[keep_polygon])]),
        np.concatenate([[0], np.cumsum(polygons)]),
    )


def _ragged_owner(offsets, n):
    ring_offsets, polygon_offsets, geometry_offsets = offsets
    first = ring_offsets[polygon_offsets[geometry_offsets]]
    return np.repeat(np.arange(n), np.diff(first)), first


def _bounds(coords, first):
    starts = first[:-1]
    return np.column_stack([
        np.minimum.reduceat(coords[:, 0], starts),
        np.minimum.reduceat(coords[:, 1], starts),
        np.maximum.reduceat(coords[:, 0], starts),
        np.maximum.reduceat(coords[:, 1], starts),
    ])


def _neighbours(v, start, last):
    """Each ring vertex's previous and next vertex values, cyclically within its ring.
    start: first coordinate of each ring; last: its last distinct vertex (the closing one is last + 1)."""
    prev = np.empty_like(v)
    prev[0] = v[0]
    prev[1:] = v[:-1]
    prev[start] = v[last]
    nxt = np.empty_like(v)
    nxt[-1] = v[-1]
    nxt[:-1] = v[1:]
    nxt[last] = v[start]
    return prev, nxt


def _maybe_simplifiable(coords, offsets, owner, n):
    """Per geometry: could simplify(SIMPLIFY_TOLERANCE) drop a vertex? (False means certainly not.)

    Douglas-Peucker (and GEOS's topology-preserving variant, which only keeps more) drops vertices
    only from a run of consecutive vertices lying within the tolerance of the segment joining the
    run's ends, i.e. in a strip 2 * tolerance wide; any three consecutive vertices of such a run
    form a triangle whose smallest altitude (|cross product| / longest side) is at most 2 * tolerance.
    Rings are taken cyclically, which also covers the removal of a ring's start point."""
    ring_offsets = np.asarray(offsets[0], dtype=np.int64)
    start, last = ring_offsets[:-1], ring_offsets[1:] - 2
    hit = np.zeros(n, dtype=bool)
    short = last - start < 2  # fewer than 3 distinct vertices: leave it to GEOS
    if short.any():
        hit[owner[start[short]]] = True
        start, last = start[~short], last[~short]
    x, y = coords[:, 0], coords[:, 1]
    xp, xn = _neighbours(x, start, last)
    yp, yn = _neighbours(y, start, last)
    abx, aby = x - xp, y - yp
    acx, acy = xn - xp, yn - yp
    bcx, bcy = xn - x, yn - y
    cross = abx * acy - aby * acx
    longest = np.maximum(np.maximum(abx * abx + aby * aby, acx * acx + acy * acy), bcx * bcx + bcy * bcy)
    flat = cross * cross <= (_COLLINEAR * _COLLINEAR) * longest
    flat[ring_offsets[1:] - 1] = False  # closing vertices
    hit[owner[flat]] = True
    return hit


def _orient(coords, offsets):
    """Exterior rings counter-clockwise, holes clockwise (signed area relative to each ring's first
    vertex, for precision), by reversing the rings that need it."""
    ring_offsets = np.asarray(offsets[0], dtype=np.int64)
    polygon_offsets = np.asarray(offsets[1], dtype=np.int64)
    if len(ring_offsets) < 2:
        return coords
    start, end = ring_offsets[:-1], ring_offsets[1:]
    lengths = end - start
    x0 = np.repeat(coords[start, 0], lengths)
    y0 = np.repeat(coords[start, 1], lengths)
    rx, ry = coords[:, 0] - x0, coords[:, 1] - y0
    term = np.zeros(len(coords))
    term[:-1] = rx[:-1] * ry[1:] - rx[1:] * ry[:-1]
    term[end - 1] = 0.0  # no edge from a ring's last coordinate to the next ring
    area2 = np.add.reduceat(term, start)
    exterior = np.zeros(len(start), dtype=bool)
    exterior[polygon_offsets[:-1]] = True
    reverse = np.flatnonzero(np.where(exterior, area2 < 0, area2 > 0))
    if not len(reverse):
        return coords
    index = np.arange(len(coords))
    rs, rl = start[reverse], lengths[reverse]
    within = np.arange(rl.sum()) - np.repeat(np.cumsum(rl) - rl, rl)
    index[np.repeat(rs, rl) + within] = np.repeat(rs + rl - 1, rl) - within
    return coords[index]


def _explode_polygonal(geom):
    """A geometry's non-empty polygons as a MultiPolygon (None if none)."""
    parts = shapely.get_parts(geom)
    polygons = []
    while len(parts):
        kind = shapely.get_type_id(parts)
        polygons.extend(parts[kind == _POLYGON])
        parts = shapely.get_parts(parts[(kind == _MULTIPOLYGON) | (kind == _COLLECTION)])
    polygons = [p for p in polygons if not p.is_empty]
    return shapely.MultiPolygon(polygons) if polygons else None


def _repair(geom):
    """make_valid, keep polygons, buffer(0) if still invalid -> (MultiPolygon or None, valid, collapsed).
    A shape with no area left (all its points on a line, or on one point) is kept as a polygon a
    metre or so wide around what is left of it, rather than lost: collapsed is then True."""
    valid = shapely.make_valid(geom)
    fixed = _explode_polygonal(valid)
    if fixed is not None and not fixed.is_valid:
        fixed = _explode_polygonal(shapely.buffer(fixed, 0))
    if fixed is not None:
        return fixed, bool(fixed.is_valid), False
    if valid.is_empty:
        return None, False, False
    widened = _explode_polygonal(shapely.buffer(valid, COLLAPSED_BUFFER, quad_segs=1, cap_style="square",
                                                join_style="mitre"))
    if widened is not None:  # on the 6 dp grid, without the collinear vertices of joined segments
        widened = _explode_polygonal(shapely.simplify(shapely.set_precision(widened, SIMPLIFY_TOLERANCE), 0))
    if widened is None or not widened.is_valid:
        return None, False, False
    return widened, True, True


def _multipolygons(values, sinks):
    n = len(values)
    out = [""] * n
    index, geoms = _parse(values, sinks)
    members, multi = _polygonal(index, geoms, sinks)
    if not len(multi):
        return out
    order = np.argsort(members, kind="stable")  # WKT values were parsed before GeoJSON ones
    members, multi = members[order], multi[order]
    k = len(members)
    offsets, coords = _ragged(multi)
    coord_owner, first = _ragged_owner(offsets, k)

    coords, codes, rejected = crs.to_wgs84(coords, coord_owner, _bounds(coords, first))
    for j in np.flatnonzero(codes).tolist():
        _log(sinks[members[j]], crs.ISSUES[codes[j]])
    coords = round6(coords)
    coords[rejected[coord_owner]] = 0.0  # never written; keeps GEOS and the writer away from NaN
    geoms = shapely.from_ragged_array(shapely.GeometryType.MULTIPOLYGON, coords, offsets)

    accepted = ~rejected
    valid = np.zeros(k, dtype=bool)
    known = np.zeros(k, dtype=bool)
    replaced = {}

    # simplify, where a vertex could go, unless that turns a valid shape invalid
    candidates = np.flatnonzero(accepted & _maybe_simplifiable(coords, offsets, coord_owner, k))
    if len(candidates):
        simple = shapely.simplify(geoms[candidates], SIMPLIFY_TOLERANCE)
        changed = shapely.get_num_coordinates(simple) != shapely.get_num_coordinates(geoms[candidates])
        sel = candidates[changed]
        if len(sel):
            simple = simple[changed]
            before = shapely.is_valid(geoms[sel])
            after = shapely.is_valid(simple)
            use = ~(before & ~after)
            valid[sel] = np.where(use, after, before)
            known[sel] = True
            for j, g in zip(sel[use].tolist(), simple[use]):
                replaced[j] = g

    rest = np.flatnonzero(accepted & ~known)
    valid[rest] = shapely.is_valid(geoms[rest])

    for j in np.flatnonzero(accepted & ~valid).tolist():
        geom = replaced.get(j, geoms[j])
        reason = shapely.is_valid_reason(geom)
        fixed, ok, collapsed = _repair(geom)
        sink = sinks[members[j]]
        if fixed is None:
            _log(sink, "invalid geometry - not fixable", reason, "invalid geometry could not be repaired: the value is dropped")
            accepted[j] = False
            replaced.pop(j, None)
            continue
        if collapsed:
            _log(sink, "invalid geometry - fixed", reason, COLLAPSED_MESSAGE)
        else:
            _log(sink, "invalid geometry - fixed" if ok else "invalid geometry - not fixable", reason)
        replaced[j] = fixed

    text = format_multipolygons(_orient(coords, offsets), *offsets)
    if replaced:
        changed = sorted(replaced)
        parts, at = shapely.get_parts(np.array([replaced[j] for j in changed], dtype=object), return_index=True)
        multi = np.empty(len(changed), dtype=object)
        shapely.multipolygons(parts, indices=at, out=multi)  # simplify turns one-part MultiPolygons into Polygons
        o2, c2 = _ragged(multi)
        for j, t in zip(changed, format_multipolygons(_orient(round6(c2), o2), *o2)):
            text[j] = t
    for j in np.flatnonzero(accepted).tolist():
        out[members[j]] = text[j]
    return out


def _points(values, sinks):
    n = len(values)
    out = [""] * n
    index, geoms = _parse(values, sinks)
    kind = shapely.get_type_id(geoms)
    point = kind == _POINT
    for i in index[~point]:
        _log(sinks[i], "Unexpected geom type", "", _EXPECTED["point"])
    index, geoms = index[point], geoms[point]
    empty = shapely.is_empty(geoms)
    for i in index[empty]:
        _log(sinks[i], "invalid coordinates", "", "geometry is empty")
    index, geoms = index[~empty], geoms[~empty]
    xy = shapely.get_coordinates(geoms)
    coords, rejected = _reproject_points(xy, [sinks[i] for i in index])
    keep = ~rejected
    for i, text in zip(index[keep].tolist(), format_points(coords[keep])):
        out[i] = text
    return out


def _reproject_points(xy, sinks):
    """(n, 2) coordinates -> (WGS84 coordinates rounded to 6 dp, rejected mask); issues logged."""
    n = len(xy)
    coords, codes, rejected = crs.to_wgs84(xy, np.arange(n), np.column_stack([xy, xy]), points=True)
    for j in np.flatnonzero(codes).tolist():
        _log(sinks[j], crs.ISSUES[codes[j]])
    coords = round6(coords)
    coords[rejected] = 0.0
    return coords, rejected


def normalise_geometries(values, datatype, issue_sinks):
    """Normalise a list of multipolygon or point values; issue_sinks[i] receives value i's issues
    (a sink may be None). Returns one string per value, "" where the value was empty or rejected."""
    values = ["" if v is None else v for v in values]
    sinks = list(issue_sinks) if issue_sinks is not None else [None] * len(values)
    if len(sinks) != len(values):
        raise ValueError("one issue sink per value is needed")
    # coordinates near the largest double (1e308) overflow to inf on the way (midpoints, scaling): those
    # values are rejected with an issue, so numpy's RuntimeWarnings would only be noise on stderr
    with np.errstate(over="ignore", invalid="ignore"):
        if datatype == "multipolygon":
            return _multipolygons(values, sinks)
        if datatype == "point":
            return _points(values, sinks)
    return [v.strip() for v in values]


def normalise_geometry(value, datatype, issues=None):
    """One multipolygon or point value. A point is normalised without numpy arrays (the per-call
    cost of the batch machinery dominates for one value); a multipolygon by the batch function."""
    if datatype == "point":
        return _point(value, issues)
    return normalise_geometries([value], datatype, [issues])[0]


def _point_text(x, y, sink):
    """One point's coordinates -> ("x", "y") in WGS84 at 6 dp, or None; issues logged."""
    lon, lat, code, rejected = crs.point_to_wgs84(x, y)
    if code:
        _log(sink, crs.ISSUES[code])
    if rejected:
        return None
    return "%.6f" % round(lon, 6), "%.6f" % round(lat, 6)


def _point(value, sink):
    text = value.strip() if value else ""
    if not text:
        return ""
    with np.errstate(all="ignore"):
        if text[0] == "{":
            geom = shapely.from_geojson(text, on_invalid="ignore")
            if geom is not None:
                _log(sink, "invalid type geojson")
        else:
            if text[:5].upper() == "SRID=":
                text = text.partition(";")[2]
            geom = shapely.from_wkt(text, on_invalid="fix")
    if geom is None:
        _log(sink, "invalid WKT")
        return ""
    if shapely.get_type_id(geom) != _POINT:
        _log(sink, "Unexpected geom type", "", _EXPECTED["point"])
        return ""
    if geom.is_empty:
        _log(sink, "invalid coordinates", "", "geometry is empty")
        return ""
    xy = _point_text(geom.x, geom.y, sink)
    return "POINT (%s %s)" % xy if xy else ""


def _number(text):
    try:
        return float(text.strip()) if text else None
    except (ValueError, AttributeError):
        return None


def normalise_points_xy(xs, ys, issue_sinks):
    """GeoX/GeoY pairs -> per pair (x, y) WGS84 strings at 6 dp, or None (issue logged) when the pair
    is not a usable point. Pairs with both values empty give None with no issue."""
    n = len(xs)
    sinks = list(issue_sinks) if issue_sinks is not None else [None] * n
    if len(ys) != n or len(sinks) != n:
        raise ValueError("xs, ys and issue_sinks must have the same length")
    result = [None] * n
    try:  # the common case: every pair is two numbers
        xy = [(float(x.strip()), float(y.strip())) for x, y in zip(xs, ys)]
        keep = range(n)
    except (ValueError, TypeError, AttributeError):
        keep, xy = _numbers(xs, ys, sinks)
    if keep:
        with np.errstate(over="ignore", invalid="ignore"):  # (as in normalise_geometries)
            coords, rejected = _reproject_points(np.array(xy, dtype=np.float64), [sinks[i] for i in keep])
        good = np.flatnonzero(~rejected)
        texts = format_numbers(coords[good].ravel())
        for j, at in enumerate(good.tolist()):
            result[keep[at]] = (texts[2 * j], texts[2 * j + 1])
    return result


def _numbers(xs, ys, sinks):
    """(indices, (x, y) floats) of the pairs that are two numbers; the others are logged unless empty."""
    keep, xy = [], []
    for i in range(len(xs)):
        x, y = _number(xs[i]), _number(ys[i])
        if x is None or y is None:
            if (xs[i] or "").strip() or (ys[i] or "").strip():
                _log(sinks[i], "invalid coordinates", "", "GeoX and GeoY must both be numbers")
            continue
        keep.append(i)
        xy.append((x, y))
    return keep, xy


def normalise_point_xy(x, y, issues=None):
    """One GeoX/GeoY pair -> (x, y) strings in WGS84 at 6 dp, or None (as normalise_points_xy)."""
    fx, fy = _number(x), _number(y)
    if fx is None or fy is None:
        if (x or "").strip() or (y or "").strip():
            _log(issues, "invalid coordinates", "", "GeoX and GeoY must both be numbers")
        return None
    return _point_text(fx, fy, issues)
