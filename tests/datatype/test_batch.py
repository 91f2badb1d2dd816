"""The vectorised geometry path: the same results as one value at a time, as upstream's step-by-step
shapely procedure, and as GEOS's own WKT writer; the shortcuts it takes are sound."""
import math
import random

import numpy as np
import pytest
import shapely

from planning_pipeline.datatype import (
    ListIssues,
    normalise_geometries,
    normalise_geometry,
    normalise_point_xy,
    normalise_points_xy,
)
from planning_pipeline.datatype.geometry import _maybe_simplifiable, _orient, _ragged
from planning_pipeline.datatype.wkt import format_multipolygons, format_numbers, format_points, round6


def _ring(rng, cx, cy, radius, n, clockwise=False, jitter=0.0):
    angles = sorted(rng.uniform(0, 2 * math.pi) for _ in range(n))
    if clockwise:
        angles.reverse()
    pts = [(cx + radius * rng.uniform(0.5, 1) * math.cos(a) + rng.uniform(-jitter, jitter),
            cy + radius * rng.uniform(0.5, 1) * math.sin(a)) for a in angles]
    return pts + [pts[0]]


def _text(ring):
    return "(" + ", ".join(f"{x!r} {y!r}" for x, y in ring) + ")"


def mixed_values(count, seed=3):
    """Geometry values of every kind the normaliser meets, good and bad."""
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        kind = rng.randrange(14)
        if kind == 0:  # OSGB polygon
            cx, cy = rng.uniform(200000, 600000), rng.uniform(100000, 600000)
            out.append(f"POLYGON ({_text(_ring(rng, cx, cy, rng.uniform(10, 500), rng.randint(3, 30)))})")
        elif kind == 1:  # WGS84 polygon, either orientation, sometimes with a hole
            cx, cy = rng.uniform(-3, 1), rng.uniform(50.5, 53)
            shell = _ring(rng, cx, cy, 0.01, rng.randint(3, 20), clockwise=rng.random() < 0.5)
            hole = ""
            if rng.random() < 0.4:
                hole = ", " + _text(_ring(rng, cx, cy, 0.002, 5, clockwise=rng.random() < 0.5))
            out.append(f"POLYGON ({_text(shell)}{hole})")
        elif kind == 2:  # multipolygon, flipped axes
            parts = []
            for _ in range(rng.randint(1, 3)):
                cx, cy = rng.uniform(-2, 0), rng.uniform(51, 52)
                parts.append("(" + _text([(y, x) for x, y in _ring(rng, cx, cy, 0.005, 6)]) + ")")
            out.append("MULTIPOLYGON (" + ", ".join(parts) + ")")
        elif kind == 3:  # bow-tie
            x, y = rng.uniform(-2, 0), rng.uniform(51, 52)
            out.append(f"POLYGON (({x} {y}, {x + 0.01} {y + 0.01}, {x + 0.01} {y}, {x} {y + 0.01}, {x} {y}))")
        elif kind == 4:  # nearly collinear vertices and repeated points
            x, y = rng.uniform(-2, 0), rng.uniform(51, 52)
            out.append(f"POLYGON (({x} {y}, {x + 0.005} {y + rng.uniform(-3e-6, 3e-6)}, {x + 0.01} {y}, "
                       f"{x + 0.01} {y + 0.01}, {x + 0.01} {y + 0.01}, {x} {y}))")
        elif kind == 5:  # Web Mercator
            x, y = rng.uniform(-300000, 100000), rng.uniform(6.5e6, 7.0e6)
            out.append(f"POLYGON (({x} {y}, {x + 500} {y}, {x + 500} {y + 500}, {x} {y}))")
        elif kind == 6:  # GeoJSON
            cx, cy = rng.uniform(-2, 0), rng.uniform(51, 52)
            ring = _ring(rng, cx, cy, 0.01, 5)
            out.append('{"type": "Polygon", "coordinates": [[' + ", ".join(f"[{x}, {y}]" for x, y in ring) + "]]}")
        elif kind == 7:  # collection
            cx, cy = rng.uniform(-2, 0), rng.uniform(51, 52)
            out.append(f"GEOMETRYCOLLECTION (POINT ({cx} {cy}), POLYGON ({_text(_ring(rng, cx, cy, 0.01, 5))}))")
        elif kind == 8:
            out.append(rng.choice(["", "  ", "garbage", "POINT (1 2", "LINESTRING (-1 52, -1 53)", "POLYGON EMPTY",
                                   "GEOMETRYCOLLECTION (POINT (-1 52))", "POLYGON ((0 0, 1 0, 1 1, 0 0))"]))
        elif kind == 9:  # points in every CRS
            x, y = rng.choice([(rng.uniform(200000, 600000), rng.uniform(100000, 600000)),
                               (rng.uniform(-3, 1), rng.uniform(50.5, 53)), (rng.uniform(50.5, 53), rng.uniform(-3, 1)),
                               (rng.uniform(-300000, 100000), rng.uniform(6.5e6, 7e6)), (10.0, 10.0), (900000.0, 900000.0)])
            out.append(f"POINT ({x} {y})")
        elif kind == 10:  # out of bounds and off-grid
            out.append(rng.choice(["POLYGON ((10 10, 11 10, 11 11, 10 10))",
                                   "POLYGON ((900000 900000, 900100 900000, 900100 900100, 900000 900000))",
                                   "POLYGON ((300000 950000, 300100 950000, 300100 950100, 300000 950000))"]))
        elif kind == 11:  # collapsed
            x, y = rng.uniform(-2, 0), rng.uniform(51, 52)
            out.append(f"POLYGON (({x} {y}, {x + 0.01} {y}, {x + 0.02} {y}, {x} {y}))")
        elif kind == 12:  # swapped OSGB
            cx, cy = rng.uniform(200000, 600000), rng.uniform(100000, 600000)
            out.append(f"POLYGON ({_text([(y, x) for x, y in _ring(rng, cx, cy, 100, 8)])})")
        else:  # self-overlapping multipolygon parts
            x, y = rng.uniform(-2, 0), rng.uniform(51, 52)
            out.append(f"MULTIPOLYGON ((({x} {y}, {x + 0.02} {y}, {x + 0.02} {y + 0.02}, {x} {y})), "
                       f"(({x + 0.01} {y}, {x + 0.03} {y}, {x + 0.03} {y + 0.02}, {x + 0.01} {y})))")
    return out


@pytest.mark.parametrize("datatype", ["multipolygon", "point"])
def test_a_batch_gives_what_one_value_at_a_time_gives(datatype):
    values = mixed_values(400)
    batch_sinks = [ListIssues() for _ in values]
    batch = normalise_geometries(values, datatype, batch_sinks)
    for value, result, sink in zip(values, batch, batch_sinks):
        one = ListIssues()
        assert normalise_geometry(value, datatype, one) == result, value
        assert one.issues == sink.issues, value
    assert sum(1 for r in batch if r) > 20  # the mix has plenty of good values


def batch_of_pairs_checked_one_at_a_time(xs, ys):
    """normalise_points_xy's results, each checked (value and issues) against normalise_point_xy's."""
    sinks = [ListIssues() for _ in xs]
    batch = normalise_points_xy(xs, ys, sinks)
    for x, y, result, sink in zip(xs, ys, batch, sinks):
        one = ListIssues()
        assert normalise_point_xy(x, y, one) == result
        assert one.issues == sink.issues
    return batch


def test_a_batch_of_geox_geoy_pairs_gives_what_one_pair_at_a_time_gives():
    rng = random.Random(5)
    xs, ys = [], []
    for _ in range(300):
        x, y = rng.choice([(rng.uniform(200000, 600000), rng.uniform(100000, 600000)),
                           (rng.uniform(-3, 1), rng.uniform(50.5, 53)), (rng.uniform(50.5, 53), rng.uniform(-3, 1)),
                           (rng.uniform(-300000, 100000), rng.uniform(6.5e6, 7e6)), (10, 10), (900000, 900000)])
        xs.append(rng.choice([f"{x}", f" {x:.2f} ", "", "x"]))
        ys.append(f"{y}")
    batch_of_pairs_checked_one_at_a_time(xs, ys)


def test_a_batch_of_only_numeric_pairs_gives_what_one_pair_at_a_time_gives():
    rng = random.Random(6)
    pad = ["", " ", "\t", "\x1c", "\u3000"]  # str.strip() whitespace, some of which float() keeps
    xs = [f"{rng.choice(pad)}{rng.uniform(200000, 600000):.2f}{rng.choice(pad)}" for _ in range(200)] + ["1e999"]
    ys = [f"{rng.uniform(100000, 600000)}" for _ in range(200)] + ["200000"]
    batch = batch_of_pairs_checked_one_at_a_time(xs, ys)
    assert sum(1 for r in batch if r) > 100


def upstream_steps(value):
    """Upstream's procedure, step by step with shapely, for a WGS84 polygon inside England (or an
    OSGB36 one, reprojected here with convertbng)."""
    geom = value if isinstance(value, shapely.Geometry) else shapely.from_wkt(value)
    geom = shapely.from_wkt(shapely.to_wkt(geom, rounding_precision=6, trim=False))
    simple = geom.simplify(0.000001)
    if not (geom.is_valid and not simple.is_valid):
        geom = simple
    geom = shapely.set_precision(geom, 1e-6, mode="pointwise")

    def polygons(g):
        parts = [g] if g.geom_type == "Polygon" else [
            p for part in getattr(g, "geoms", []) for p in ([part] if part.geom_type == "Polygon" else polygons(part).geoms)]
        return shapely.MultiPolygon([p for p in parts if p.geom_type == "Polygon" and not p.is_empty])

    if not geom.is_valid:
        geom = polygons(shapely.make_valid(geom))
        if not geom.is_valid:
            geom = polygons(geom.buffer(0))
    geom = shapely.orient_polygons(polygons(geom))
    return shapely.to_wkt(geom, rounding_precision=6, trim=False).replace(", ", ",")


def test_the_vectorised_steps_match_upstreams_step_by_step_procedure():
    def in_england(value):  # WGS84 values that need no reprojection
        geom = shapely.from_wkt(value) if value.startswith(("POLYGON", "MULTIPOLYGON")) else None
        if geom is None or geom.is_empty:
            return False
        xmin, ymin, xmax, ymax = geom.bounds
        return -4 < xmin and xmax < 2.95 and 49.5 < ymin and ymax < 56

    values = [v for v in mixed_values(600, seed=11) if in_england(v)]
    results = normalise_geometries(values, "multipolygon", [None] * len(values))
    compared = 0
    for value, result in zip(values, results):
        if not result:
            continue
        upstream = upstream_steps(value)
        if upstream == "MULTIPOLYGON EMPTY":  # no area left: upstream loses the shape, we widen it (a metre)
            widened, original = shapely.from_wkt(result), shapely.from_wkt(value)
            assert widened.is_valid and widened.area > 0
            assert shapely.hausdorff_distance(widened, original) < 0.00005, value
            continue
        assert result == upstream, value
        compared += 1
    assert compared > 100


def test_osgb_polygons_match_upstreams_procedure_after_ostn15():
    from convertbng.cutil import convert_lonlat

    values = [v for v in mixed_values(400, seed=12) if v.startswith(("POLYGON ((2", "POLYGON ((3", "POLYGON ((4", "POLYGON ((5"))
              and shapely.from_wkt(v).bounds[3] < 600000]
    sinks = [ListIssues() for _ in values]
    results = normalise_geometries(values, "multipolygon", sinks)
    compared = 0
    for value, result, sink in zip(values, results, sinks):
        if sink.types != ["OSGB"]:  # e.g. in Scotland, so taken for swapped axes
            continue
        geom = shapely.transform(shapely.from_wkt(value), lambda c: np.column_stack(convert_lonlat(c[:, 0], c[:, 1])))
        assert result == upstream_steps(geom), value
        compared += 1
    assert compared > 15


def test_the_wkt_writer_writes_what_geos_writes():
    rng = np.random.default_rng(1)
    geoms = []
    for i in range(300):
        parts = []
        for _ in range(rng.integers(1, 4)):
            cx, cy = rng.uniform(-180, 180), rng.uniform(-90, 90)
            shell = shapely.Polygon(np.column_stack([cx + rng.uniform(-1, 1, 6), cy + rng.uniform(-1, 1, 6)]))
            parts.append(shapely.Polygon(shapely.get_coordinates(shell), holes=[
                np.column_stack([cx + rng.uniform(-0.1, 0.1, 4), cy + rng.uniform(-0.1, 0.1, 4)])]
                if rng.random() < 0.5 else None))
        geoms.append(shapely.MultiPolygon(parts))
    geoms.append(shapely.MultiPolygon([shapely.Polygon([(-0.0, 0.0), (-1e-7, 5e-7), (0.0000005, -0.0000015), (-0.0, 0.0)])]))
    geoms = np.array(geoms, dtype=object)
    offsets, coords = _ragged(geoms)
    coords = round6(coords)
    rounded = shapely.from_ragged_array(shapely.GeometryType.MULTIPOLYGON, coords, offsets)
    geos = [w.replace(", ", ",") for w in shapely.to_wkt(rounded, rounding_precision=6, trim=False)]
    assert format_multipolygons(coords, *offsets) == geos
    points = coords[:50]
    assert format_points(points) == shapely.to_wkt(shapely.points(points), rounding_precision=6, trim=False).tolist()
    assert format_numbers(coords.ravel()) == ["%.6f" % v for v in coords.ravel().tolist()]
    assert format_numbers(np.array([1234.5, -0.0, float("nan")])) == ["1234.500000", "-0.000000", "nan"]


def test_rounding_is_exact_decimal_rounding():
    rng = np.random.default_rng(2)
    values = np.concatenate([
        rng.uniform(-180, 180, 20000),
        (rng.integers(-10 ** 8, 10 ** 8, 5000) + 0.5) / 1e6,  # near half-way points
        np.array([2.5e-6, 1 / 128, 3 / 128, -1 / 128, 0.0, -0.0, -1e-7, 123456.0000005]),
    ])
    assert round6(values).tolist() == [round(v, 6) for v in values.tolist()]


def test_only_geometries_flagged_as_simplifiable_can_lose_vertices():
    rng = random.Random(9)
    geoms = []
    for _ in range(400):
        x, y = rng.uniform(-2, 0), rng.uniform(51, 52)
        n = rng.randint(4, 12)
        step = rng.choice([2e-6, 1e-5, 1e-4, 1e-3])
        noise = rng.choice([0.0, 1e-6, 3e-6, 1e-5, 1e-4])
        ring = [(x + i * step, y + rng.uniform(-noise, noise)) for i in range(n)]
        ring += [(x + n * step, y + 0.001), (x, y + 0.001 + rng.uniform(-noise, noise)), ring[0]]
        geoms.append(shapely.Polygon([(round(a, 6), round(b, 6)) for a, b in ring]))
    geoms = np.array(geoms, dtype=object)
    offsets, coords = _ragged(geoms)
    owner = np.repeat(np.arange(len(geoms)), np.diff(offsets[0][offsets[1][offsets[2]]]))
    flagged = _maybe_simplifiable(coords, offsets, owner, len(geoms))
    changed = shapely.get_num_coordinates(shapely.simplify(geoms, 1e-6)) != shapely.get_num_coordinates(geoms)
    assert not (changed & ~flagged).any()
    assert changed.sum() > 50 and (~flagged).sum() > 50  # both cases are exercised


def test_orientation_matches_shapely():
    rng = random.Random(4)
    geoms = []
    for _ in range(200):
        cx, cy = rng.uniform(-2, 0), rng.uniform(51, 52)
        shell = _ring(rng, cx, cy, 0.01, rng.randint(3, 12), clockwise=rng.random() < 0.5)
        holes = [_ring(rng, cx, cy, 0.002, 4, clockwise=rng.random() < 0.5)] if rng.random() < 0.5 else []
        geoms.append(shapely.MultiPolygon([shapely.Polygon(shell, holes)]))
    geoms = np.array([g for g in geoms if g.is_valid], dtype=object)  # orientation is only taken of valid shapes
    assert len(geoms) > 150
    offsets, coords = _ragged(geoms)
    expected = shapely.get_coordinates(shapely.orient_polygons(geoms))
    assert np.array_equal(_orient(coords, offsets), expected)
