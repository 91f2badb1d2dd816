import csv
import json
import os
import sqlite3
import subprocess
import sys

import pytest

from dataset_factory import DATASET, ROOT, SPECIFICATION, Collection
from planning_pipeline.bake import bake
from planning_pipeline.specification import Specification

E = 44000001
CLOCKWISE = "MULTIPOLYGON (((-0.1 51.5,-0.1 51.6,-0.2 51.6,-0.2 51.5,-0.1 51.5)),((0 0,0 1,1 1,1 0,0 0),(0.2 0.2,0.8 0.2,0.8 0.8,0.2 0.8,0.2 0.2)))"


@pytest.fixture(scope="module")
def baked(tmp_path_factory):
    root = tmp_path_factory.mktemp("bake")
    c = Collection(root)
    c.resource("a", [
        (E, "name", "Shape"), (E, "geometry", CLOCKWISE), (E, "notes", "a note"), (E, "organisation", "local-authority:SWK"),
        (E + 1, "name", "Point only"), (E + 1, "point", "POINT (-0.1234567 51.7654321)"), (E + 1, "documentation-url", "https://x.org/1"),
        (E + 2, "name", "Nowhere"), (E + 2, "unknown-field", "kept"),
    ])
    path = c.assemble()
    out = os.path.join(root, "dataset")
    paths = bake(DATASET, Specification(SPECIFICATION), path, out)
    return path, out, paths


def entities(path):
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    rows = [dict(r) for r in conn.execute("SELECT * FROM entity ORDER BY entity")]
    conn.close()
    return rows


def test_entity_csv_rows_equal_the_entity_table(baked):
    path, out, paths = baked
    with open(paths["csv"], newline="") as f:
        rows = list(csv.DictReader(f))
    expected = entities(path)
    assert list(rows[0]) == list(expected[0])
    assert rows == [{k: "" if v is None else str(v) for k, v in e.items()} for e in expected]


def test_flattened_csv_has_kebab_columns_with_json_exploded(baked):
    path, out, paths = baked
    with open(paths["flattened"], newline="") as f:
        reader = csv.DictReader(f)
        header, rows = reader.fieldnames, list(reader)
    assert header[:14] == ["dataset", "end-date", "entity", "entry-date", "geojson", "geometry", "name",
                           "organisation-entity", "point", "prefix", "quality", "reference", "start-date", "typology"]
    assert "json" not in header
    schema_fields = ["designation-date", "document-url", "documentation-url", "legislation", "notes", "organisation"]
    assert header[14:] == schema_fields + ["unknown-field"]
    assert len(rows) == len(entities(path)) == 3
    assert rows[0]["notes"] == "a note" and rows[0]["organisation-entity"] == "329"
    assert rows[1]["documentation-url"] == "https://x.org/1"
    assert rows[2]["unknown-field"] == "kept"


def test_json_has_every_entity(baked):
    path, out, paths = baked
    data = json.load(open(paths["json"]))
    assert list(data) == ["entities"]
    assert [e["entity"] for e in data["entities"]] == [str(E), str(E + 1), str(E + 2)]
    assert data["entities"][0]["notes"] == "a note"


def signed_area(ring):
    return sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in zip(ring, ring[1:])) / 2


def test_geojson_is_rfc7946_with_counter_clockwise_exterior_rings(baked):
    path, out, paths = baked
    data = json.load(open(paths["geojson"]))
    assert data["type"] == "FeatureCollection" and "crs" not in data
    features = data["features"]
    assert [f["properties"]["entity"] for f in features] == [str(E), str(E + 1), str(E + 2)]
    shape = features[0]["geometry"]
    assert shape["type"] == "MultiPolygon"
    for polygon in shape["coordinates"]:
        assert signed_area(polygon[0]) > 0  # exterior counter-clockwise
        for hole in polygon[1:]:
            assert signed_area(hole) < 0  # holes clockwise
    assert "geometry" not in features[0]["properties"] and features[0]["properties"]["notes"] == "a note"
    assert features[1]["geometry"] == {"type": "Point", "coordinates": [-0.123457, 51.765432]}
    assert features[2]["geometry"] is None
    import shapely.geometry
    assert shapely.geometry.shape(shape).is_valid


def test_parquet_reads_back_with_types_and_geoparquet_metadata(baked):
    import pyarrow.parquet as pq
    import shapely

    path, out, paths = baked
    table = pq.read_table(paths["parquet"])
    assert table.num_rows == 3
    assert str(table.schema.field("entity").type) == "int64"
    assert str(table.schema.field("geometry").type) == "binary"
    assert str(table.schema.field("name").type) == "string"
    assert table.column("entity").to_pylist() == [E, E + 1, E + 2]
    geo = json.loads(table.schema.metadata[b"geo"])
    assert geo["primary_column"] == "geometry" and geo["columns"]["geometry"]["encoding"] == "WKB"
    shape = shapely.from_wkb(table.column("geometry").to_pylist()[0])
    assert shape.equals(shapely.from_wkt(CLOCKWISE))
    assert table.column("geometry").to_pylist()[2] is None
    assert table.column("notes").to_pylist() == ["a note", None, None]
    assert pq.ParquetFile(paths["parquet"]).metadata.row_group(0).column(0).compression == "ZSTD"


def test_baking_twice_gives_identical_files(baked, tmp_path):
    path, out, paths = baked
    again = bake(DATASET, Specification(SPECIFICATION), path, str(tmp_path))
    for kind in paths:
        assert open(paths[kind], "rb").read() == open(again[kind], "rb").read(), kind


def test_cli_writes_the_files_and_a_missing_sqlite_is_a_one_line_error(baked, tmp_path):
    path, out, paths = baked
    bake_bin = os.path.join(ROOT, "bin", "bake")
    done = subprocess.run([sys.executable, bake_bin, "--dataset", DATASET, "--specification-dir", SPECIFICATION,
                           path, "--output-dir", str(tmp_path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert sorted(os.listdir(tmp_path / "flattened")) == [DATASET + e for e in (".csv", ".geojson", ".json", ".parquet")]
    done = subprocess.run([sys.executable, bake_bin, "--dataset", DATASET, "--specification-dir", SPECIFICATION,
                           str(tmp_path / "missing.sqlite3"), "--output-dir", str(tmp_path)], capture_output=True, text=True)
    assert done.returncode == 2 and "not found" in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_geojson_coordinates_are_rounded_to_six_places_exactly_as_python_rounds():
    import shapely

    from planning_pipeline.bake import geometry as geo

    wkt = ("MULTIPOLYGON (((0 0,2.0000005 0,2.0000005 1.0000015,0 0),(0.5 0.25,0.5 0.5,1 0.5,0.5 0.25)),"
           "((10 10,11.1234567 10,11 11,10 10)))")
    shape = geo.rfc7946(geo.parse([wkt]))[0]
    expected = [[[[round(x, 6), round(y, 6)] for x, y in ring.coords] for ring in (p.exterior, *p.interiors)]
                for p in shape.geoms]
    assert geo.geojson(shape) == {"type": "MultiPolygon", "coordinates": expected}
    assert geo.geojson(shapely.Point(-0.0000001, 51.5)) == {"type": "Point", "coordinates": [-0.0, 51.5]}
    assert geo.geojson(shapely.from_wkt("LINESTRING (0 0, 1.25 0.0000004)"))["coordinates"] == [[0.0, 0.0], [1.25, 0.0]]
    assert geo.geojson(shapely.from_wkt("GEOMETRYCOLLECTION (POINT (1 2), POINT EMPTY)")) == {
        "type": "GeometryCollection", "geometries": [{"type": "Point", "coordinates": [1.0, 2.0]}]}
    assert geo.geojson(shapely.from_wkt("POLYGON EMPTY")) is None


def test_a_failure_in_the_second_process_publishes_none_of_the_first_processes_files(baked, tmp_path, monkeypatch):
    from planning_pipeline.bake import geometry as geo
    from planning_pipeline.errors import UserError

    def broken(shapes, points):
        raise UserError("a geometry the GeoJSON writer cannot take")

    monkeypatch.setattr(geo, "geojson_texts", broken)  # only the second process writes GeoJSON
    path, out, paths = baked
    with pytest.raises(UserError, match="cannot take"):
        bake(DATASET, Specification(SPECIFICATION), path, str(tmp_path))
    assert [name for _, _, names in os.walk(tmp_path) for name in names] == []
