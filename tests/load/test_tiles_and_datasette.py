"""Vector tiles built with tippecanoe and served, with the dataset, by datasette and the tiles plugin."""
import gzip
import json
import math
import os
import resource
import sqlite3
import urllib.request

import mapbox_vector_tile
import pytest


from loadkit import popen_bin, run_bin, write_dataset
from local_servers import free_port, stop, wait_for_http


def tile_for(lon, lat, z):
    n = 2**z
    x = int((lon + 180.0) / 360.0 * n)
    y = int((1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n)
    return x, y


def fetch(url, gzip_ok=True):
    request = urllib.request.Request(url, headers={"Accept-Encoding": "gzip"} if gzip_ok else {})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, response.headers, response.read()


def build(sqlite_path, mbtiles_path, *extra, **kwargs):
    return run_bin("build-tiles", "--dataset", "conservation-area", sqlite_path, mbtiles_path, *extra, **kwargs)


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """The conservation-area fixture built into tiles, published, and served by datasette."""
    from loadkit import conservation_area_entities

    work = tmp_path_factory.mktemp("served")
    sqlite_path = write_dataset(str(work / "conservation-area.sqlite3"), conservation_area_entities(),
                                [{"old_entity": 44000102, "entity": 44000001, "status": 301}])
    mbtiles = str(work / "conservation-area.mbtiles")
    built = build(sqlite_path, mbtiles)
    assert built.returncode == 0, built.stderr
    directory = str(work / "datasette")
    published = run_bin("publish-datasette", "--dir", directory, sqlite_path, mbtiles)
    assert published.returncode == 0, published.stderr
    port = free_port()
    process = popen_bin("serve-datasette", "--dir", directory, "--port", str(port))
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(base + "/-/versions.json", process)
        yield {"base": base, "dir": directory, "mbtiles": mbtiles, "built": built.stdout}
    finally:
        stop(process)


def test_build_reports_the_features_and_leaves_out_retired_and_redirected_entities(served):
    # 11 entities: the retired one and the one redirected by old_entity are not in the tiles
    assert "9 features" in served["built"]
    with sqlite3.connect(served["mbtiles"]) as conn:
        meta = dict(conn.execute("SELECT name, value FROM metadata"))
    assert meta["minzoom"] == "4" and meta["maxzoom"] == "15" and meta["format"] == "pbf"
    layers = json.loads(meta["json"])["vector_layers"]
    assert [layer["id"] for layer in layers] == ["conservation-area"]
    assert {"entity", "name", "reference", "dataset", "organisation-entity", "entry-date", "start-date",
            "end-date"} <= set(layers[0]["fields"])
    assert ".tmp" not in meta["generator_options"]


def test_datasette_serves_the_datasets_rows(served):
    status, _, body = fetch(served["base"] + "/conservation-area/entity.json?_shape=objects&_size=max")
    rows = json.loads(body)["rows"]
    assert status == 200 and len(rows) == 11
    assert {r["entity"] for r in rows} >= set(range(44000001, 44000009))
    status, _, body = fetch(served["base"] + "/-/databases.json")
    names = {d["name"] for d in json.loads(body)}
    assert "conservation-area" in names


def test_a_vector_tile_over_http_holds_the_expected_entities(served):
    # Southwark at zoom 12: the tile holding the first conservation area's point
    with sqlite3.connect(os.path.join(served["dir"], "conservation-area.sqlite3")) as conn:
        point = conn.execute("SELECT point FROM entity WHERE entity = 44000001").fetchone()[0]
    lon, lat = (float(v) for v in point[point.index("(") + 1:-1].split())
    x, y = tile_for(lon, lat, 12)
    status, headers, body = fetch(f"{served['base']}/-/tiles/conservation-area/12/{x}/{y}.vector.pbf")
    assert status == 200
    assert headers["Content-Type"] == "application/vnd.mapbox-vector-tile"
    assert headers.get("Content-Encoding") == "gzip"
    decoded = mapbox_vector_tile.decode(gzip.decompress(body))
    features = decoded["conservation-area"]["features"]
    entities = {f["properties"]["entity"] for f in features}
    assert 44000001 in entities
    first = next(f for f in features if f["properties"]["entity"] == 44000001)
    assert first["properties"]["reference"] == "CA01" and first["properties"]["dataset"] == "conservation-area"
    assert first["geometry"]["type"] in ("Polygon", "MultiPolygon")
    assert 44000103 not in entities  # retired
    # the same tile by TMS numbering, and decompressed for a client that does not accept gzip
    _, _, tms = fetch(f"{served['base']}/-/tiles-tms/conservation-area/12/{x}/{2**12 - 1 - y}.vector.pbf")
    assert tms == body
    _, plain_headers, plain = fetch(f"{served['base']}/-/tiles/conservation-area/12/{x}/{y}.vector.pbf", gzip_ok=False)
    assert "Content-Encoding" not in plain_headers and plain == gzip.decompress(body)


def test_tiles_outside_the_data_are_not_found(served):
    with pytest.raises(urllib.error.HTTPError) as missing:
        fetch(f"{served['base']}/-/tiles/conservation-area/12/0/0.vector.pbf")
    assert missing.value.code == 404
    with pytest.raises(urllib.error.HTTPError) as unknown:
        fetch(f"{served['base']}/-/tiles/no-such-dataset/12/0/0.vector.pbf")
    assert unknown.value.code == 404


def test_tilejson_describes_the_tileset(served):
    _, _, body = fetch(served["base"] + "/-/tiles/conservation-area.json")
    document = json.loads(body)
    assert document["tiles"] == [served["base"] + "/-/tiles/conservation-area/{z}/{x}/{y}.vector.pbf"]
    assert document["minzoom"] == 4 and document["maxzoom"] == 15
    west, south, east, north = document["bounds"]
    assert -0.2 < west < east < 0 and 51.4 < south < north < 51.6
    assert document["vector_layers"][0]["id"] == "conservation-area"
    _, _, listing = fetch(served["base"] + "/-/tiles.json")
    assert list(json.loads(listing)) == ["conservation-area"]


def test_serve_command_lists_the_directory(served):
    result = run_bin("serve-datasette", "--dir", served["dir"], "--port", "9", "--print")
    assert result.returncode == 0
    command = result.stdout
    assert "--immutable " + os.path.join(served["dir"], "conservation-area.sqlite3") in command
    assert "--immutable " + os.path.join(served["dir"], "conservation-area.mbtiles") in command
    assert "--inspect-file " + os.path.join(served["dir"], "inspect-data-all.json") in command
    assert "--setting sql_time_limit_ms 5000" in command and "--plugins-dir" in command
    with open(os.path.join(served["dir"], "inspect-data-all.json")) as f:
        assert json.load(f)["conservation-area"]["tables"]["entity"]["count"] == 11


def test_publish_replaces_files_without_leaving_temporary_ones(tmp_path):
    directory = tmp_path / "served"
    os.makedirs(tmp_path / "a")
    first = write_dataset(str(tmp_path / "a" / "green-belt.sqlite3"), [{"dataset": "green-belt", "entity": 1, "point": "POINT (0 51)"}])
    assert run_bin("publish-datasette", "--dir", str(directory), first).returncode == 0
    os.makedirs(tmp_path / "b")
    second = write_dataset(str(tmp_path / "b" / "green-belt.sqlite3"),
                           [{"dataset": "green-belt", "entity": n, "point": "POINT (0 51)"} for n in (1, 2)])
    assert run_bin("publish-datasette", "--dir", str(directory), second).returncode == 0
    assert sorted(os.listdir(directory)) == ["green-belt.sqlite3", "green-belt.sqlite3.json", "inspect-data-all.json"]
    with open(directory / "inspect-data-all.json") as f:
        assert json.load(f)["green-belt"]["tables"]["entity"]["count"] == 2
    missing = run_bin("publish-datasette", "--dir", str(directory), str(tmp_path / "nope.sqlite3"))
    assert missing.returncode == 2 and "not found" in missing.stderr


def _limit_file_size():
    resource.setrlimit(resource.RLIMIT_FSIZE, (16384, 16384))


def test_a_tippecanoe_failure_leaves_the_previous_tiles(tmp_path, ca_sqlite):
    mbtiles = tmp_path / "conservation-area.mbtiles"
    mbtiles.write_bytes(b"the previous tiles")
    failing = tmp_path / "bin" / "tippecanoe"  # writes part of its output, then fails, as tippecanoe on a full disk
    failing.parent.mkdir()
    failing.write_text("#!/bin/sh\necho 'tippecanoe: No space left on device' >&2\nexit 106\n")
    failing.chmod(0o755)
    result = build(ca_sqlite, str(mbtiles), "--tippecanoe", str(failing))
    assert result.returncode == 2, result.stdout + result.stderr
    assert "tippecanoe failed (exit status 106)" in result.stderr and "No space left on device" in result.stderr
    assert "Traceback" not in result.stderr
    assert mbtiles.read_bytes() == b"the previous tiles"
    assert sorted(os.listdir(tmp_path)) == ["bin", "conservation-area.mbtiles", "conservation-area.sqlite3"]


def test_a_full_disk_while_writing_the_features_leaves_the_previous_tiles(tmp_path, ca_sqlite):
    mbtiles = tmp_path / "conservation-area.mbtiles"
    mbtiles.write_bytes(b"the previous tiles")
    result = build(ca_sqlite, str(mbtiles), preexec_fn=_limit_file_size)  # no file over 16 KiB
    assert result.returncode == 2, result.stdout + result.stderr
    assert "cannot write the features for tippecanoe" in result.stderr and "Traceback" not in result.stderr
    assert mbtiles.read_bytes() == b"the previous tiles"
    assert sorted(os.listdir(tmp_path)) == ["conservation-area.mbtiles", "conservation-area.sqlite3"]


def test_tiles_are_not_rebuilt_when_their_features_are_unchanged(tmp_path, ca_sqlite):
    import sqlite3
    mbtiles = tmp_path / "conservation-area.mbtiles"
    first = build(ca_sqlite, str(mbtiles))
    assert first.returncode == 0 and "written to" in first.stdout
    built = mbtiles.read_bytes()
    mtime = os.stat(mbtiles).st_mtime_ns
    again = build(ca_sqlite, str(mbtiles))
    assert again.returncode == 0 and "unchanged" in again.stdout and "kept" in again.stdout
    assert os.stat(mbtiles).st_mtime_ns == mtime and mbtiles.read_bytes() == built
    # a field tiles carry changes: rebuilt, to the same tiles as a build from scratch
    with sqlite3.connect(ca_sqlite) as conn:
        conn.execute("UPDATE entity SET name = 'Renamed' WHERE entity = (SELECT min(entity) FROM entity WHERE geometry != '')")
    changed = build(ca_sqlite, str(mbtiles))
    assert "written to" in changed.stdout
    fresh = tmp_path / "fresh" / "conservation-area.mbtiles"
    assert build(ca_sqlite, str(fresh)).returncode == 0
    def tiles(path):
        with sqlite3.connect(path) as conn:
            return (conn.execute("SELECT zoom_level, tile_column, tile_row, tile_data FROM tiles ORDER BY 1, 2, 3").fetchall(),
                    conn.execute("SELECT name, value FROM metadata WHERE name != 'generator_options' ORDER BY 1").fetchall())
    assert tiles(mbtiles) == tiles(fresh)
    # options are part of what the tiles were built from
    assert "written to" in build(ca_sqlite, str(mbtiles), "--max-zoom", "12").stdout


def test_a_failed_first_build_leaves_no_mbtiles(tmp_path, ca_sqlite):
    mbtiles = tmp_path / "out" / "conservation-area.mbtiles"
    result = build(ca_sqlite, str(mbtiles), preexec_fn=_limit_file_size)
    assert result.returncode == 2
    assert os.listdir(tmp_path / "out") == []


def test_a_dataset_without_geometries_builds_no_tiles(tmp_path):
    sqlite_path = write_dataset(str(tmp_path / "conservation-area.sqlite3"),
                                [{"dataset": "conservation-area", "entity": 1, "name": "no geometry"}])
    mbtiles = tmp_path / "conservation-area.mbtiles"
    result = build(sqlite_path, str(mbtiles))
    assert result.returncode == 0
    assert "no entities with a geometry or point" in result.stdout
    assert not mbtiles.exists()


def test_the_assembled_example_builds_tiles_of_its_live_entities(tmp_path, example_sqlite):
    with sqlite3.connect(example_sqlite) as conn:
        live = conn.execute("SELECT count(*) FROM entity WHERE (COALESCE(geometry, '') != '' OR COALESCE(point, '') != '')"
                            " AND COALESCE(end_date, '') = ''").fetchone()[0]
    mbtiles = tmp_path / "conservation-area.mbtiles"
    result = build(example_sqlite, str(mbtiles))
    assert result.returncode == 0, result.stderr
    assert live > 60 and f"{live} features" in result.stdout
    with sqlite3.connect(mbtiles) as conn:
        assert conn.execute("SELECT count(*) FROM tiles WHERE zoom_level = 15").fetchone()[0] > 0


@pytest.fixture(scope="module")
def served_example(example_workspace):
    """datasette over the directory the real `make` published the bundled example into."""
    port = free_port()
    process = popen_bin("serve-datasette", "--dir", str(example_workspace / "var" / "datasette"), "--port", str(port))
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(base + "/-/versions.json", process)
        yield base
    finally:
        stop(process)


def test_datasette_serves_the_published_example_and_a_vector_tile_of_southwark(served_example, example_sqlite):
    with sqlite3.connect(example_sqlite) as conn:
        count = conn.execute("SELECT count(*) FROM entity").fetchone()[0]
        entity, point = conn.execute("SELECT entity, point FROM entity WHERE name = 'Bear Gardens'").fetchone()
    _, _, body = fetch(served_example + "/conservation-area/entity.json?_shape=objects&_size=max")
    rows = json.loads(body)["rows"]
    assert len(rows) == count and entity in {r["entity"] for r in rows}
    lon, lat = (float(v) for v in point[point.index("(") + 1:-1].split())
    x, y = tile_for(lon, lat, 14)
    status, _, tile = fetch(f"{served_example}/-/tiles/conservation-area/14/{x}/{y}.vector.pbf")
    features = mapbox_vector_tile.decode(gzip.decompress(tile))["conservation-area"]["features"]
    assert status == 200 and entity in {f["properties"]["entity"] for f in features}
