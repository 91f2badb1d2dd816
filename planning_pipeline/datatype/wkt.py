"""Rounding to 6 decimal places and writing WKT text, vectorised.

The text is what upstream writes (shapely's WKT writer at rounding_precision=6, trim=False, output
dimension 2, then ", " -> ","): upper case, fixed 6 decimal places, '-0.000000' for negative zero,
e.g. ``MULTIPOLYGON (((-0.111575 51.478267,-0.111888 51.478283,...)))`` and ``POINT (-1.5 53.1)``
as ``POINT (-1.500000 53.100000)``. It is built from digits with numpy rather than by GEOS, which
is several times slower at fixed precision; tests check the two give the same bytes.
"""
import numpy as np

SCALE = 1e6
_U8 = np.dtype("<u8")


def _pack(text):
    return int.from_bytes(text.encode("ascii"), "little")


# each number is written as two little-endian 64-bit words of ASCII, 0 bytes being padding:
# [sign][3 whole digits, left-padded with 0 bytes]['.'] and [6 fraction digits][tail byte]
_WHOLE = np.array([_pack(str(i).rjust(3, "\0")) for i in range(1000)], dtype=_U8)
_THREE = np.array([_pack("%03d" % i) for i in range(1000)], dtype=_U8)
_SEPARATORS = np.array([_pack(s) for s in (",", "),(", ")),((", ")))")], dtype=_U8)
_SEPARATOR_LENGTHS = np.array([1, 3, 5, 3])
_POINT = _pack("POINT (")


def round6(values):
    """Round to 6 decimal places exactly as writing the decimal text would (half-even on the exact
    binary value), returning the nearest doubles. NaN stays NaN."""
    values = np.asarray(values, dtype=np.float64)
    scaled = values * SCALE
    whole = np.rint(scaled)
    out = whole / SCALE
    if not values.size:
        return out
    # x * 1e6 may have rounded onto or across a half-way point: decide those few exactly
    with np.errstate(invalid="ignore"):
        slack = 1e-6 if np.nanmax(np.abs(values), initial=0.0) < 1000 else 1e-6 + np.abs(scaled) * 1e-15
        near_half = np.abs(scaled - whole) > 0.5 - slack
    for i in np.flatnonzero(near_half):
        out.flat[i] = round(float(values.flat[i]), 6)
    return out


def _words(values, tail=0, tail2=0):
    """(n,) rounded floats -> (whole word, fraction word, characters written) or None when some
    value is not finite or has more than 3 whole digits (the callers then write it with "%.6f")."""
    magnitude = np.abs(values)
    if len(values) and not (float(magnitude.max()) < 1000):
        return None
    units = np.rint(magnitude * SCALE).astype(np.int32)  # exact for values rounded by round6
    whole = units // 1000000
    fraction = units - whole * 1000000
    high = fraction // 1000
    sign = np.signbit(values)
    first = (sign.astype(_U8) * _U8.type(45)) | (_WHOLE[whole] << _U8.type(8)) | _U8.type(46 << 32)
    second = _THREE[high] | (_THREE[fraction - high * 1000] << _U8.type(24)) | _U8.type(tail << 48 | tail2 << 56)
    length = 8 + sign + (whole >= 10) + (whole >= 100) + (tail != 0) + (tail2 != 0)
    return first, second, length


def _text(rows):
    """(n, k) uint64 words -> their bytes without the 0 padding, as one str (bytes.translate drops
    the padding a few times faster than a boolean mask)."""
    return rows.tobytes().translate(None, b"\0").decode("ascii")


def format_numbers(values):
    """(n,) rounded floats -> ["x.xxxxxx", ...], exactly as "%.6f" writes them."""
    values = np.asarray(values, dtype=np.float64)
    packed = _words(values, 10) if len(values) else None
    if packed is None:
        return ["%.6f" % v for v in values.tolist()]
    rows = np.empty((len(values), 2), dtype=_U8)
    rows[:, 0], rows[:, 1], _ = packed
    return _text(rows).split("\n")[:-1]


def format_points(xy):
    """(n, 2) rounded coordinates -> ["POINT (x y)", ...]."""
    if not len(xy):
        return []
    x = _words(xy[:, 0], 32)
    y = _words(xy[:, 1], 41, 10)
    if x is None or y is None:
        return ["POINT (%.6f %.6f)" % p for p in xy.tolist()]
    rows = np.empty((len(xy), 5), dtype=_U8)
    rows[:, 0] = _POINT
    rows[:, 1], rows[:, 2], _ = x
    rows[:, 3], rows[:, 4], _ = y
    return _text(rows).split("\n")[:-1]


def _format_multipolygons_slowly(coords, ring_offsets, polygon_offsets, geometry_offsets):
    out = []
    for g in range(len(geometry_offsets) - 1):
        polygons = []
        for p in range(geometry_offsets[g], geometry_offsets[g + 1]):
            rings = []
            for r in range(polygon_offsets[p], polygon_offsets[p + 1]):
                xy = coords[ring_offsets[r]: ring_offsets[r + 1]].tolist()
                rings.append("(" + ",".join("%.6f %.6f" % c for c in xy) + ")")
            polygons.append("(" + ",".join(rings) + ")")
        out.append("MULTIPOLYGON (" + ",".join(polygons) + ")")
    return out


def format_multipolygons(coords, ring_offsets, polygon_offsets, geometry_offsets):
    """Ragged MultiPolygon arrays (as shapely.to_ragged_array gives them, coordinates rounded) ->
    one WKT string per geometry. Every geometry must have at least one coordinate."""
    m = len(coords)
    if m == 0:
        return []
    ring_offsets = np.asarray(ring_offsets, dtype=np.int64)
    polygon_offsets = np.asarray(polygon_offsets, dtype=np.int64)
    geometry_offsets = np.asarray(geometry_offsets, dtype=np.int64)
    x = _words(coords[:, 0], 32)
    y = _words(coords[:, 1])
    if x is None or y is None:
        return _format_multipolygons_slowly(coords, ring_offsets, polygon_offsets, geometry_offsets)
    code = np.zeros(m, dtype=np.int8)
    code[ring_offsets[1:] - 1] = 1
    code[ring_offsets[polygon_offsets[1:]] - 1] = 2
    starts = ring_offsets[polygon_offsets[geometry_offsets]]
    code[starts[1:] - 1] = 3
    rows = np.empty((m, 5), dtype=_U8)
    rows[:, 0], rows[:, 1], xlength = x
    rows[:, 2], rows[:, 3], ylength = y
    rows[:, 4] = _SEPARATORS[code]
    text = _text(rows)
    ends = np.cumsum(xlength + ylength + _SEPARATOR_LENGTHS[code])
    char = np.concatenate([[0], ends])[starts].tolist()
    return ["MULTIPOLYGON (((" + text[a:b] for a, b in zip(char[:-1], char[1:])]
