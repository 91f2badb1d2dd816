"""Which coordinate reference system a geometry is in, and its coordinates in WGS84 (vectorised).

The rules are upstream's, with the same issue types, but applied to a representative point (the
centre of the geometry's bounding box) and the whole bounding box instead of only the first
coordinate, so one stray vertex cannot decide the CRS and a geometry whose coordinates are not all
of one kind is rejected ("invalid coordinates") rather than half-reprojected:

- degrees-like (every |x|, |y| < 60): centre inside the rough England polygon -> as is; swapped
  centre inside -> axes swapped, "WGS84 flipped"; else rejected "WGS84 out of bounds of England".
- easting/northing-like (every x, y in 1000..1,000,000): OSGB36 National Grid -> WGS84 with the
  OSTN15 transformation (convertbng; pyproj's fallback here is a Helmert shift metres off), "OSGB";
  swapped -> "OSGB flipped"; else (or a vertex off the OSTN15 grid) "OSGB out of bounds of England".
- every y in 6e6..1e7: Web Mercator (EPSG:3857) -> WGS84, "Mercator"; every x in that range:
  swapped, "Mercator flipped" (no bounds check, as upstream).
- anything else (NaN and infinite coordinates included): rejected "invalid coordinates".
"""
import numpy as np

ENGLAND_WKT = "POLYGON ((2.95 56, 2.95 49.5, -7 49.5, -7 53.4, -4 53.4, -4 56, 2.95 56))"

INVALID, DEGREES, OSGB, MERCATOR, MERCATOR_FLIPPED = range(5)

# issue codes, as returned by to_wgs84; ISSUES[code] is the issue type
ISSUES = (
    None,
    "WGS84 flipped",
    "WGS84 out of bounds of England",
    "OSGB",
    "OSGB flipped",
    "OSGB out of bounds of England",
    "Mercator",
    "Mercator flipped",
    "invalid coordinates",
)
REJECTING = np.array([False, False, True, False, False, True, False, False, True])
(NONE, WGS84_FLIPPED, WGS84_OUT, OSGB_OK, OSGB_FLIPPED, OSGB_OUT, MERCATOR_OK, MERCATOR_SWAPPED,
 INVALID_COORDINATES) = range(9)

_mercator = None


def inside_england(x, y):
    """Strictly inside ENGLAND_WKT (points on its boundary are outside, as shapely's within).
    Works on floats and on arrays."""
    return (x > -7) & (x < 2.95) & (y > 49.5) & (y < 56) & ((x > -4) | (y < 53.4))


def classify(bounds):
    """bounds: (n, 4) xmin, ymin, xmax, ymax -> an array of INVALID/DEGREES/OSGB/MERCATOR/MERCATOR_FLIPPED."""
    xmin, ymin, xmax, ymax = bounds.T
    kind = np.zeros(len(bounds), dtype=np.int8)
    with np.errstate(invalid="ignore"):
        kind[(xmin > 6e6) & (xmax < 1e7)] = MERCATOR_FLIPPED
        kind[(ymin > 6e6) & (ymax < 1e7)] = MERCATOR
        kind[(xmin > 1000) & (xmax < 1e6) & (ymin > 1000) & (ymax < 1e6)] = OSGB
        kind[(xmin > -60) & (xmax < 60) & (ymin > -60) & (ymax < 60)] = DEGREES
    return kind


def classify_point(x, y):
    """The same classification for one point (x, y floats)."""
    if -60 < x < 60 and -60 < y < 60:
        return DEGREES
    if 1000 < x < 1e6 and 1000 < y < 1e6:
        return OSGB
    if 6e6 < y < 1e7:
        return MERCATOR
    if 6e6 < x < 1e7:
        return MERCATOR_FLIPPED
    return INVALID


def osgb36_to_wgs84(eastings, northings):
    """OSGB36 National Grid metres -> WGS84 (lon, lat) degrees with OSTN15; NaN off the grid."""
    from convertbng.cutil import convert_lonlat

    eastings = np.ascontiguousarray(eastings, dtype=np.float64)
    northings = np.ascontiguousarray(northings, dtype=np.float64)
    if not len(eastings):
        return eastings.copy(), northings.copy()
    lon, lat = convert_lonlat(eastings, northings)
    return np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)


def mercator_to_wgs84(x, y):
    global _mercator
    if _mercator is None:
        from pyproj import Transformer

        _mercator = Transformer.from_crs("EPSG:3857", "EPSG:4326", always_xy=True)
    if not len(x):
        return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    lon, lat = _mercator.transform(np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64))
    return np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)


def to_wgs84(coords, owner, bounds, points=False):
    """Reproject the coordinates of n geometries to WGS84.

    coords: (m, 2) float array; owner: (m,) index of the geometry each coordinate belongs to;
    bounds: (n, 4) each geometry's xmin, ymin, xmax, ymax; points: each geometry is the single
    coordinate coords[i] (then bounds are (x, y, x, y) and owner is 0..n-1).
    Returns (coords in WGS84, issue codes (n,) int8 indexing ISSUES, rejected (n,) bool).
    """
    n = len(bounds)
    out = np.array(coords, dtype=np.float64, copy=True)
    issue = np.zeros(n, dtype=np.int8)
    kind = classify(bounds)
    present = set(kind.tolist())  # not np.unique: its first call imports numpy.ma (~25 ms a process)
    cx = (bounds[:, 0] + bounds[:, 2]) / 2
    cy = (bounds[:, 1] + bounds[:, 3]) / 2
    swap = np.zeros(n, dtype=bool)  # degree geometries to swap at the end

    if DEGREES in present:
        deg = kind == DEGREES
        ok = inside_england(cx, cy)
        flipped = deg & ~ok & inside_england(cy, cx)
        swap |= flipped
        issue[flipped] = WGS84_FLIPPED
        issue[deg & ~ok & ~flipped] = WGS84_OUT

    if OSGB in present:
        sel = np.flatnonzero(kind == OSGB)
        lon_c, lat_c = osgb36_to_wgs84(cx[sel], cy[sel])
        straight = inside_england(lon_c, lat_c)
        swapped = np.zeros(len(sel), dtype=bool)
        if not straight.all():
            retry = np.flatnonzero(~straight)
            lon_r, lat_r = osgb36_to_wgs84(cy[sel[retry]], cx[sel[retry]])
            swapped[retry] = inside_england(lon_r, lat_r)
            lon_c[retry], lat_c[retry] = lon_r, lat_r
        good = straight | swapped
        issue[sel] = np.where(straight, OSGB_OK, np.where(swapped, OSGB_FLIPPED, OSGB_OUT))
        if points:  # each geometry is its centre, already converted
            out[sel[good], 0] = lon_c[good]
            out[sel[good], 1] = lat_c[good]
        elif good.any():
            flip = np.zeros(n, dtype=bool)
            flip[sel[swapped]] = True
            accepted = np.zeros(n, dtype=bool)
            accepted[sel[good]] = True
            cmask = accepted[owner]
            cflip = flip[owner[cmask]]
            e = np.where(cflip, out[cmask, 1], out[cmask, 0])
            nn = np.where(cflip, out[cmask, 0], out[cmask, 1])
            lon, lat = osgb36_to_wgs84(e, nn)
            out[cmask, 0] = lon
            out[cmask, 1] = lat
            off_grid = np.isnan(lon) | np.isnan(lat)
            if off_grid.any():  # a vertex off the OSTN15 grid rejects its geometry
                issue[owner[cmask][off_grid]] = OSGB_OUT

    if MERCATOR in present or MERCATOR_FLIPPED in present:
        merc = (kind == MERCATOR) | (kind == MERCATOR_FLIPPED)
        cmask = merc[owner]
        cflip = kind[owner[cmask]] == MERCATOR_FLIPPED
        x = np.where(cflip, out[cmask, 1], out[cmask, 0])
        y = np.where(cflip, out[cmask, 0], out[cmask, 1])
        out[cmask, 0], out[cmask, 1] = mercator_to_wgs84(x, y)
        issue[kind == MERCATOR] = MERCATOR_OK
        issue[kind == MERCATOR_FLIPPED] = MERCATOR_SWAPPED

    if INVALID in present:
        issue[kind == INVALID] = INVALID_COORDINATES

    if swap.any():
        cmask = swap[owner]
        out[cmask] = out[cmask][:, ::-1]
    return out, issue, REJECTING[issue]


def point_to_wgs84(x, y):
    """One point: (lon, lat, issue code, rejected), with the same rules and results as to_wgs84."""
    kind = classify_point(x, y)
    if kind == DEGREES:
        if inside_england(x, y):
            return x, y, NONE, False
        if inside_england(y, x):
            return y, x, WGS84_FLIPPED, False
        return x, y, WGS84_OUT, True
    if kind == OSGB:
        lon, lat = osgb36_to_wgs84(np.array([x, y]), np.array([y, x]))
        lon, lat = lon.tolist(), lat.tolist()
        if inside_england(lon[0], lat[0]):
            return lon[0], lat[0], OSGB_OK, False
        if inside_england(lon[1], lat[1]):
            return lon[1], lat[1], OSGB_FLIPPED, False
        return x, y, OSGB_OUT, True
    if kind in (MERCATOR, MERCATOR_FLIPPED):
        if kind == MERCATOR_FLIPPED:
            x, y = y, x
        lon, lat = mercator_to_wgs84(np.array([x]), np.array([y]))
        return float(lon[0]), float(lat[0]), MERCATOR_OK if kind == MERCATOR else MERCATOR_SWAPPED, False
    return x, y, INVALID_COORDINATES, True
