"""Incremental vector tiles: after a change only the tiles the changed features reach are rebuilt, and the
result is the full build's, tile by tile and byte for byte, with the same metadata (real tippecanoe)."""
import hashlib
import math
import os
import sqlite3

import pytest
import shapely.affinity
import shapely.wkt

from loadkit import VENV_BIN, run_bin, write_dataset
from planning_pipeline.load import tiles_incremental
from planning_pipeline.load.tiles import build_tiles

DATASET = "conservation-area"
TIPPECANOE = os.path.join(VENV_BIN, "tippecanoe")


def build(sqlite_path, mbtiles, **kwargs):
    messages, timings = [], {}
    build_tiles(DATASET, str(sqlite_path), str(mbtiles), tippecanoe=TIPPECANOE, log=messages.append,
                timings=timings, **kwargs)
    return timings.get("build"), messages


@pytest.fixture
def always_incremental(monkeypatch):
    """No share of changed features, affected tiles or work too large for an incremental build: on a
    handful of features any change reaches a large share of the tiles (which decides cost, not correctness)."""
    monkeypatch.setattr(tiles_incremental, "MAX_CHANGED_SHARE", math.inf)
    monkeypatch.setattr(tiles_incremental, "MAX_AFFECTED_SHARE", math.inf)
    monkeypatch.setattr(tiles_incremental, "MAX_WORK_SHARE", math.inf)


def content(path):
    """Every tile (zoom, column, row, bytes), the metadata and the feature index of an mbtiles file."""
    with sqlite3.connect(path) as conn:
        return (conn.execute("SELECT zoom_level, tile_column, tile_row, tile_data FROM tiles ORDER BY 1, 2, 3").fetchall(),
                conn.execute("SELECT name, value FROM metadata ORDER BY 1").fetchall(),
                conn.execute("SELECT * FROM feature_index ORDER BY entity").fetchall())


def incremental_equals_full(tmp_path, before, after, **zooms):
    """Build before's tiles, then after's incrementally; returns (published before, after) contents and
    asserts that the incremental build is after's full build."""
    sqlite_path = tmp_path / "conservation-area.sqlite3"
    mbtiles = tmp_path / "dataset" / "conservation-area.mbtiles"
    write_dataset(str(sqlite_path), before)
    assert build(sqlite_path, mbtiles, **zooms)[0] == "full"
    first = content(mbtiles)
    write_dataset(str(sqlite_path), after)
    how, messages = build(sqlite_path, mbtiles, **zooms)
    assert how == "incremental", messages
    fresh = tmp_path / "fresh" / "conservation-area.mbtiles"
    assert build(sqlite_path, fresh, incremental=False, **zooms)[0] == "full"
    incremental, full = content(mbtiles), content(fresh)
    assert len(incremental[0]) == len(full[0])
    assert incremental[0] == full[0]
    assert incremental[1] == full[1]
    assert incremental[2] == full[2]
    assert incremental[0] != first[0]  # the change reached the tiles
    return first, incremental


def moved(entity, dx, dy):
    entity = dict(entity)
    for column in ("geometry", "point"):
        if entity.get(column):
            entity[column] = shapely.wkt.dumps(shapely.affinity.translate(shapely.wkt.loads(entity[column]), dx, dy),
                                               rounding_precision=7)
    return entity


def tile_of(lon, lat, z):
    n = 2 ** z
    x = int((lon + 180.0) / 360.0 * n)
    y = int((1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n)
    return x, n - 1 - y  # mbtiles' TMS row


def tile_edge_lon(lon, z):
    """The longitude of the tile edge at zoom z nearest lon."""
    n = 2 ** z
    return round((lon + 180.0) / 360.0 * n) / n * 360.0 - 180.0


@pytest.mark.usefixtures("always_incremental")
def test_a_moved_geometry_rebuilds_its_tiles_as_a_full_build_does(tmp_path, ca_entities):
    after = [moved(e, 0.002, 0.001) if e["entity"] == 44000003 else e for e in ca_entities]
    incremental_equals_full(tmp_path, ca_entities, after)


@pytest.mark.usefixtures("always_incremental")
def test_a_renamed_feature_rebuilds_its_tiles_as_a_full_build_does(tmp_path, ca_entities):
    after = [dict(e, name="Renamed") if e["entity"] == 44000005 else e for e in ca_entities]
    incremental_equals_full(tmp_path, ca_entities, after)


@pytest.mark.usefixtures("always_incremental")
def test_a_feature_added_far_from_the_others_gets_tiles_of_its_own(tmp_path, ca_entities):
    york = {"dataset": DATASET, "entity": 44000500, "name": "York", "reference": "YORK", "point": "POINT (-1.08 53.96)",
            "geometry": "POLYGON ((-1.09 53.955, -1.07 53.955, -1.07 53.965, -1.09 53.965, -1.09 53.955))"}
    _, after = incremental_equals_full(tmp_path, ca_entities, ca_entities + [york])
    assert (15, *tile_of(-1.08, 53.96, 15)) in {t[:3] for t in after[0]}


@pytest.mark.usefixtures("always_incremental")
def test_a_removed_feature_takes_its_tiles_away_where_nothing_else_is(tmp_path, ca_entities):
    york = {"dataset": DATASET, "entity": 44000500, "name": "York", "reference": "YORK", "point": "POINT (-1.08 53.96)"}
    before, after = incremental_equals_full(tmp_path, ca_entities + [york], ca_entities)
    where = (15, *tile_of(-1.08, 53.96, 15))
    assert where in {t[:3] for t in before[0]} and where not in {t[:3] for t in after[0]}
    assert 44000500 not in {row[0] for row in after[2]}


@pytest.mark.usefixtures("always_incremental")
def test_a_change_beside_a_tile_edge_rebuilds_the_neighbouring_tile_too(tmp_path):
    # two small squares either side of a zoom-15 tile edge, closer to it than tippecanoe's buffer: the
    # right one is renamed, and the left tile, whose buffer holds a sliver of it, must change too
    edge, lat, d = tile_edge_lon(-1.5, 15), 52.5, 0.00001
    def square(entity, x0, x1):
        return {"dataset": DATASET, "entity": entity, "name": f"Square {entity}", "reference": f"S{entity}",
                "geometry": f"POLYGON (({x0} {lat}, {x1} {lat}, {x1} {lat + 0.0005}, {x0} {lat + 0.0005}, {x0} {lat}))"}
    before = [square(1, edge - 0.003, edge - 0.0001), square(2, edge + d, edge + 0.003)]
    after = [before[0], dict(before[1], name="Renamed square")]
    first, incremental = incremental_equals_full(tmp_path, before, after)
    left = (15, *tile_of(edge - 0.001, lat, 15))
    assert dict(((z, x, y), data) for z, x, y, data in first[0])[left] != \
        dict(((z, x, y), data) for z, x, y, data in incremental[0])[left]


@pytest.mark.usefixtures("always_incremental")
def test_many_changes_in_a_small_area_among_real_boundaries(tmp_path, ca_entities):
    # the Southwark areas moved and renamed in turn, a new one added, one removed, at once
    after = [dict(moved(e, 0.0005 * (i % 3), -0.0004 * (i % 2)), name=f"{e['name']} {i}") if i % 2 else e
             for i, e in enumerate(ca_entities) if e["entity"] != 44000004]
    after.append(dict(ca_entities[0], entity=44000600, reference="NEW", name="New", geometry=moved(ca_entities[1], 0.01, 0)["geometry"]))
    incremental_equals_full(tmp_path, ca_entities, after)


@pytest.mark.usefixtures("always_incremental")
def test_an_incremental_build_from_zoom_0_to_9_equals_a_full_build(tmp_path, ca_entities):
    york = {"dataset": DATASET, "entity": 44000500, "name": "York", "reference": "YORK", "point": "POINT (-1.08 53.96)"}
    after = [dict(e, name="Renamed") if e["entity"] == 44000002 else e for e in ca_entities] + [york]
    incremental_equals_full(tmp_path, ca_entities + [york], after, min_zoom=0, max_zoom=9)


def test_two_full_builds_of_the_same_features_are_identical(tmp_path, ca_entities):
    sqlite_path = write_dataset(str(tmp_path / "conservation-area.sqlite3"), ca_entities)
    one, two = tmp_path / "a" / "conservation-area.mbtiles", tmp_path / "b" / "conservation-area.mbtiles"
    assert build(sqlite_path, one)[0] == build(sqlite_path, two)[0] == "full"
    assert content(one) == content(two)
    metadata = dict(content(one)[1])
    assert "strategies" not in metadata and metadata["center"].endswith(",4")


def spread_points(n=200):
    """Points on a grid over England: a file of a few thousand tiles, of which one change reaches few."""
    return [{"dataset": DATASET, "entity": 45000000 + i, "name": f"Point {i}", "reference": f"P{i}",
             "point": f"POINT ({-3 + 4 * (i % 20) / 20:.4f} {50.8 + 3.5 * (i // 20) / (n // 20):.4f})"}
            for i in range(n)]


def published_and_changed(tmp_path, ca_entities):
    """A published file of the Southwark areas among points all over England, and one area renamed since."""
    sqlite_path = tmp_path / "conservation-area.sqlite3"
    mbtiles = tmp_path / "dataset" / "conservation-area.mbtiles"
    write_dataset(str(sqlite_path), ca_entities + spread_points())
    assert build(sqlite_path, mbtiles)[0] == "full"
    write_dataset(str(sqlite_path), [dict(e, name="Changed") if e["entity"] == 44000002 else e for e in ca_entities]
                  + spread_points())
    return sqlite_path, mbtiles


def test_one_change_among_many_features_is_an_incremental_build(tmp_path, ca_entities):
    sqlite_path, mbtiles = published_and_changed(tmp_path, ca_entities)
    how, messages = build(sqlite_path, mbtiles)
    assert how == "incremental" and "1 changed" in messages[-1]


def test_a_different_maximum_zoom_is_a_full_build(tmp_path, ca_entities):
    sqlite_path, mbtiles = published_and_changed(tmp_path, ca_entities)
    assert build(sqlite_path, mbtiles, max_zoom=14)[0] == "full"
    with sqlite3.connect(mbtiles) as conn:
        assert conn.execute("SELECT max(zoom_level) FROM tiles").fetchone()[0] == 14


def test_a_published_file_without_a_feature_index_is_a_full_build(tmp_path, ca_entities):
    sqlite_path, mbtiles = published_and_changed(tmp_path, ca_entities)
    with sqlite3.connect(mbtiles) as conn:
        conn.execute("DROP TABLE feature_index")
    assert build(sqlite_path, mbtiles)[0] == "full"
    assert content(mbtiles)[2]  # and it has one now


def test_changes_to_most_features_are_a_full_build(tmp_path, ca_entities):
    sqlite_path, mbtiles = published_and_changed(tmp_path, ca_entities)
    write_dataset(str(sqlite_path), [dict(e, name=e["name"] + "!") for e in ca_entities + spread_points()])
    how, messages = build(sqlite_path, mbtiles)
    assert how == "full" and any("features changed: a full build" in m for m in messages)


def test_the_published_file_is_never_modified_in_place(tmp_path, ca_entities):
    sqlite_path, mbtiles = published_and_changed(tmp_path, ca_entities)
    served = tmp_path / "served.mbtiles"  # what datasette serves: a hard link to the published file
    os.link(mbtiles, served)
    inode, digest = os.stat(served).st_ino, hashlib.sha256(served.read_bytes()).hexdigest()
    result = run_bin("build-tiles", "--dataset", DATASET, str(sqlite_path), str(mbtiles))
    assert result.returncode == 0 and "1 changed" in result.stdout, result.stdout + result.stderr
    assert os.stat(served).st_ino == inode and hashlib.sha256(served.read_bytes()).hexdigest() == digest
    assert os.stat(mbtiles).st_ino != inode
    assert sorted(os.listdir(mbtiles.parent)) == ["conservation-area.mbtiles"]


def test_a_tippecanoe_failure_in_an_incremental_build_leaves_the_published_file(tmp_path, ca_entities):
    sqlite_path, mbtiles = published_and_changed(tmp_path, ca_entities)
    built = mbtiles.read_bytes()
    failing = tmp_path / "bin" / "tippecanoe"
    failing.parent.mkdir()
    failing.write_text("#!/bin/sh\necho 'tippecanoe: killed' >&2\nexit 9\n")
    failing.chmod(0o755)
    result = run_bin("build-tiles", "--dataset", DATASET, str(sqlite_path), str(mbtiles), "--tippecanoe", str(failing))
    assert result.returncode == 2 and "tippecanoe failed (exit status 9)" in result.stderr
    assert "Traceback" not in result.stderr
    assert mbtiles.read_bytes() == built and sorted(os.listdir(mbtiles.parent)) == ["conservation-area.mbtiles"]


@pytest.mark.usefixtures("always_incremental")
def test_affected_tiles_nest_downwards_and_so_do_the_features_needed():
    box = (-0.1, 51.5, -0.099, 51.501)
    previous = {1: ("old", *box), 2: ("same", 1.0, 52.0, 1.001, 52.001)}
    current = [(1, "new", *box), (2, "same", 1.0, 52.0, 1.001, 52.001)]
    plan, why = tiles_incremental.plan(previous, current, 4, 15, 10 ** 6)
    assert why is None and plan.changed == [1]
    for z in range(5, 16):
        assert {(x // 2, y // 2) for x, y in plan.affected[z]} <= plan.affected[z - 1]
    assert plan.zooms[0] == 15 and plan.zooms[1] is not None and plan.zooms[1] < 15


@pytest.mark.parametrize("zoom, expected", [
    (15, b'{"type":"Feature"}\n'),
    (9, b'{"tippecanoe":{"maxzoom":9},"type":"Feature"}\n'),
    (None, b'{"tippecanoe":{"maxzoom":3},"type":"Feature"}\n'),
])
def test_a_feature_line_carries_its_maximum_zoom(zoom, expected):
    assert tiles_incremental.annotate(b'{"type":"Feature"}\n', zoom, 4, 15) == expected


def test_build_tiles_full_builds_every_tile_even_when_few_features_changed(tmp_path, ca_entities):
    sqlite_path, mbtiles = published_and_changed(tmp_path, ca_entities)
    result = run_bin("build-tiles", "--dataset", DATASET, "--full", str(sqlite_path), str(mbtiles))
    assert result.returncode == 0 and "zoom 4-15, written to" in result.stdout and "changed" not in result.stdout


def test_changes_that_reach_most_of_the_tiling_work_are_a_full_build():
    # one feature in every zoom-8 tile over England changed, among four in each: every feature is
    # needed at almost every zoom, so an incremental build would do a full build's work
    current = []
    for i in range(40):
        for j in range(40):
            lon, lat = -3 + 4 * i / 40, 50.8 + 3.5 * j / 40
            for k in range(4):
                current.append((len(current), "same", lon + k * 0.001, lat, lon + k * 0.001 + 0.0005, lat + 0.0005))
    previous = {row[0]: row[1:] for row in current}
    changed = [(row[0], "new" if row[0] % 4 == 0 else row[1], *row[2:]) for row in current]
    plan, why = tiles_incremental.plan(previous, changed, 4, 15, 10 ** 6)
    assert plan is None and "of a full build's work" in why
    # one of them changed: a fraction of the work
    one = [(row[0], "new" if row[0] == 0 else row[1], *row[2:]) for row in current]
    plan, why = tiles_incremental.plan(previous, one, 4, 15, 10 ** 6)
    assert why is None and plan.work < 0.3


def test_the_maximum_zooms_of_many_boxes_at_once_are_those_of_one_box_at_a_time():
    import random
    rng = random.Random(3)
    boxes = []
    for _ in range(3000):
        lon, lat, size = rng.uniform(-0.3, 0.1), rng.uniform(51.3, 51.7), rng.choice([0.00001, 0.001, 0.05])
        boxes.append((lon, lat, lon + size, lat + size))
    previous = {i: ("old", *box) for i, box in enumerate(boxes)}
    current = [(i, "new" if i % 500 == 0 else "old", *box) for i, box in enumerate(boxes)]
    plan, why = tiles_incremental.plan(previous, current, 4, 15, 10 ** 9)
    assert why is None
    hulls = {z: (min(x for x, _ in t), min(y for _, y in t), max(x for x, _ in t), max(y for _, y in t))
             for z, t in plan.affected.items()}
    one_at_a_time = []
    for box in boxes:
        top = None
        for z in range(4, 16):
            if not tiles_incremental._reaches(tiles_incremental.tile_range(tiles_incremental.mercator(box), z),
                                              plan.affected[z], hulls[z]):
                break
            top = z
        one_at_a_time.append(top)
    assert len(set(one_at_a_time)) > 3  # boxes far and near: several maximum zooms
    assert tiles_incremental.maximum_zooms(boxes, plan.affected, hulls, 4, 15) == one_at_a_time


def test_datasette_serves_an_incrementally_built_file_with_the_change(tmp_path, ca_entities):
    import gzip
    import urllib.request

    import mapbox_vector_tile
    from loadkit import popen_bin
    from local_servers import free_port, stop, wait_for_http

    sqlite_path, mbtiles = published_and_changed(tmp_path, ca_entities)
    assert build(sqlite_path, mbtiles)[0] == "incremental"
    directory = tmp_path / "datasette"
    assert run_bin("publish-datasette", "--dir", str(directory), str(sqlite_path), str(mbtiles)).returncode == 0
    lon, lat = shapely.wkt.loads(next(e for e in ca_entities if e["entity"] == 44000002)["point"]).coords[0]
    x, row = tile_of(lon, lat, 14)
    port = free_port()
    process = popen_bin("serve-datasette", "--dir", str(directory), "--port", str(port))
    try:
        wait_for_http(f"http://127.0.0.1:{port}/-/versions.json", process)
        url = f"http://127.0.0.1:{port}/-/tiles/conservation-area/14/{x}/{2 ** 14 - 1 - row}.vector.pbf"
        with urllib.request.urlopen(urllib.request.Request(url, headers={"Accept-Encoding": "gzip"}), timeout=10) as r:
            features = mapbox_vector_tile.decode(gzip.decompress(r.read()))["conservation-area"]["features"]
    finally:
        stop(process)
    names = {f["properties"]["entity"]: f["properties"]["name"] for f in features}
    assert names[44000002] == "Changed"


def test_reading_the_features_in_parallel_gives_upstreams_tiles(tmp_path, ca_entities):
    # --read-parallel is ours, not upstream's: the same tiles and metadata, whatever the threads, with
    # twins (features at the same place) whose order in a tile is the input's
    import subprocess

    from planning_pipeline.load import tiles

    sqlite_path = write_dataset(str(tmp_path / "conservation-area.sqlite3"), ca_entities + spread_points() + [
        dict(p, entity=p["entity"] + 1000, name="Twin") for p in spread_points()[::7]])
    features = tmp_path / "features.ndjson"
    features.write_text("".join(tiles.json.dumps(f, separators=(",", ":")) + "\n"
                                for _, f in tiles.features(sqlite_path, DATASET)))
    built = []
    for options, threads in ((tiles.UPSTREAM_OPTIONS, "2"), (tiles.TIPPECANOE_OPTIONS, "1"), (tiles.TIPPECANOE_OPTIONS, "4")):
        output = tmp_path / f"{len(built)}.mbtiles"
        subprocess.run([TIPPECANOE, *options, "-Z4", "-z15", "-l", DATASET, "-n", DATASET, "-o", str(output), str(features)],
                       check=True, env=dict(os.environ, TIPPECANOE_MAX_THREADS=threads))
        with sqlite3.connect(output) as conn:
            built.append((conn.execute("SELECT zoom_level, tile_column, tile_row, tile_data FROM tiles ORDER BY 1, 2, 3").fetchall(),
                          conn.execute("SELECT name, value FROM metadata WHERE name != 'generator_options' ORDER BY 1").fetchall()))
    assert built[0][0] and built[0] == built[1] == built[2]


def test_features_parsed_a_batch_at_a_time_are_those_shapely_maps_one_at_a_time(tmp_path, ca_entities, monkeypatch):
    import json

    import shapely.geometry

    from planning_pipeline.load import tiles

    odd = ["POINT Z (-0.1 51.5 12)", "GEOMETRYCOLLECTION (POINT (-0.1 51.5), LINESTRING (-0.1 51.5, -0.2 51.6))",
           "LINESTRING (-0.1 51.5, -0.2 51.6)", "MULTIPOINT ((-0.1 51.5), (-0.11 51.51))", "POLYGON EMPTY",
           "POLYGON ((-0.1 51.5, -0.09 51.5, -0.09 51.51, -0.1 51.5), (-0.098 51.502, -0.095 51.502, -0.095 51.505, -0.098 51.502))",
           "MULTILINESTRING ((-0.1 51.5, -0.2 51.6), (-0.3 51.5, -0.2 51.4))", "not WKT", "POLYGON ((1 2, 3 4))"]
    entities = ca_entities + [{"dataset": DATASET, "entity": 46000000 + i, "name": f"Odd {i}", "geometry": wkt,
                               "point": "POINT (-0.12 51.52)" if i % 2 else ""} for i, wkt in enumerate(odd)]
    sqlite_path = write_dataset(str(tmp_path / "conservation-area.sqlite3"), entities)
    monkeypatch.setattr(tiles, "BATCH", 4)  # several batches, some without a point to fall back on
    skipped = {}
    batched = [(e, json.dumps(f, separators=(",", ":")), b) for e, f, b in tiles._features(sqlite_path, DATASET, skipped=skipped)]
    expected, unparseable = [], 0
    for e in sorted(entities, key=lambda e: e["entity"]):
        if e.get("end_date"):
            continue
        shape = None
        for column in ("geometry", "point"):
            if e.get(column):
                try:
                    shape = shapely.wkt.loads(e[column])
                except Exception:
                    unparseable += column == "geometry"
                    continue
                if shape.is_empty:
                    shape = None
                    continue
                break
        if shape is not None:
            expected.append((e["entity"], json.dumps(shapely.geometry.mapping(shape), separators=(",", ":")), shape.bounds))
    assert [(e, json.loads(f)["geometry"], b) for e, f, b in batched] == \
        [(e, json.loads(g), b) for e, g, b in expected]
    assert [json.dumps(json.loads(f)["geometry"], separators=(",", ":")) for _, f, _ in batched] == [g for _, g, _ in expected]
    assert skipped == {"unparseable geometry": unparseable} and unparseable == 2
