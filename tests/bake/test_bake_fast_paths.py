"""The fast paths of bake write exactly what the plain Python ones write: sqlite's JSON objects for the JSON and
GeoJSON files, and GeoJSON geometries rewritten from WKT text."""
import json
import shutil
import sqlite3

import pytest

from dataset_factory import DATASET, SPECIFICATION, Collection
from planning_pipeline.bake import bake
from planning_pipeline.bake import columns as cols
from planning_pipeline.bake import geometry as geo
from planning_pipeline.specification import Specification

E = 44000001

# every kind of json value the flattening has to agree on, one per entity
JSON_VALUES = [
    '{"notes": "plain", "documentation-url": "https://x.org/a"}',
    '{"notes":"no spaces","legislation":"ü \\u2028 \\"quoted\\" \\n\\t\\u0001 a\\":b"}',
    '{"notes": 5, "documentation-url": "x"}',
    '{"notes": {"a": [1, 2.5, null, true]}}',
    '{"notes": null}',
    '{"notes": "first", "notes": "second"}',
    "not json",
    '{"notes": NaN}',
    "[1, 2]",
    "",
    None,
    '{"name": "from json", "weird key": "v", "it\'s": "apostrophe", "a.b": "1", "x[0]": "2", "": "3", "$": "4"}',
    '{"notes" : "space before the colon"}',
    '{"geojson": "never published", "notes": "n"}',
]
GEOMETRIES = [
    "MULTIPOLYGON (((-0.1 51.5,-0.2 51.5,-0.2 51.6,-0.1 51.6,-0.1 51.5)))",  # clockwise: reoriented
    "MULTIPOLYGON (((-0.1 51.5,-0.1 51.6,-0.2 51.6,-0.2 51.5,-0.1 51.5)))",  # counter-clockwise already
    ("POLYGON ((0.000000 0.000000, 1.000000 0.000000, 1.000000 1.000000, 0.000000 1.000000, 0.000000 0.000000), "
     "(0.200000 0.200000, 0.200000 0.400000, 0.400000 0.400000, 0.200000 0.200000))"),
    "MULTIPOLYGON (((0.1234567 0.1,1.0000005 0.1,1.5 1.5,0.1234567 0.1)))",  # more than 6 places: rounded
    "MULTIPOLYGON (((0.000010 0.5,1.5 0.5,1.5 1.5,0.000010 0.5)))",  # 1e-05 in Python's repr
    "MULTIPOLYGON (((123456789.123456 -0.000000,123456790.5 0.5,123456790.5 1.5,123456789.123456 -0.000000)))",
    "MULTIPOLYGON (((0 0,1 0,1 1,0 0)))",  # integers
    "MULTIPOLYGON Z (((0.5 0.5 1.0,1.5 0.5 1.0,1.5 1.5 1.0,0.5 0.5 1.0)))",
    "MULTIPOLYGON (((0.5 0.5,1.5 0.5,0.5 0.5)))",  # a three-point ring
    "POINT (-0.123457 51.765432)",
    "POINT EMPTY",
    "GEOMETRYCOLLECTION (POINT (1.5 2.5), LINESTRING (0.5 0.5, 1.5 1.5))",
    "MULTIPOINT ((1.5 2.5), (3.5 4.5))",
    "LINESTRING (0.5 0.5, 1.1234567 1e-7)",
    "garbage",
    "",
    None,
    ("MULTIPOLYGON (((-0.100000 51.500000,-0.200000 51.500000,-0.200000 51.600000,-0.100000 51.500000)),"
     "((1.500000 1.500000,2.500000 1.500000,2.500000 2.500000,1.500000 1.500000)))"),
]


def json_dumps(value):
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def test_geojson_texts_write_what_json_dumps_writes_for_every_kind_of_wkt():
    points = ["POINT (9.5 9.5)"] * len(GEOMETRIES)
    shapes, fallback = geo.parse(GEOMETRIES), geo.parse(points)
    chosen = geo.rfc7946([s if s is not None else p for s, p in zip(shapes, fallback)])
    expected = [json_dumps(g) for g in geo.geojson_all(chosen)]
    assert geo.geojson_texts(GEOMETRIES, points) == expected
    assert geo.geojson_texts([None, ""], [None, "garbage"]) == ["null", "null"]
    assert json.loads(geo.geojson_texts(["POINT (1.000000 -2.500000)"], [None])[0]) == {
        "type": "Point", "coordinates": [1.0, -2.5]}


@pytest.fixture(scope="module")
def messy(tmp_path_factory):
    """An assembled dataset whose entity table then gets every awkward json value and geometry."""
    root = tmp_path_factory.mktemp("messy")
    c = Collection(root)
    rows = []
    for i in range(max(len(JSON_VALUES), len(GEOMETRIES))):
        rows += [(E + i, "name", f"Entity {i}"), (E + i, "point", "POINT (-0.5 51.25)")]
    c.resource("a", rows)
    path = c.assemble()
    conn = sqlite3.connect(path)
    for i, value in enumerate(JSON_VALUES):
        conn.execute("UPDATE entity SET json = ? WHERE entity = ?", (value, E + i))
    for i, value in enumerate(GEOMETRIES):
        conn.execute("UPDATE entity SET geometry = ? WHERE entity = ?", (value, E + i))
    conn.execute("UPDATE entity SET name = '' WHERE entity = ?", (E + 11,))
    conn.execute("UPDATE entity SET json = 7 WHERE entity = ?", (E + len(JSON_VALUES),))
    conn.execute("UPDATE entity SET geojson = 1.5e20 WHERE entity = ?", (E + len(JSON_VALUES) + 1,))
    conn.commit()
    conn.close()
    return path


def baked_files(path, out, monkeypatch=None, python_only=False):
    if python_only:
        def slow(conn, columns, header):
            flat = original(conn, columns, header)
            flat.usable = False
            return flat
        original = cols.FlatSQL.for_table
        monkeypatch.setattr(cols.FlatSQL, "for_table", staticmethod(slow))
    paths = bake(DATASET, Specification(SPECIFICATION), path, str(out))
    return {kind: open(p, "rb").read() for kind, p in paths.items()}


def test_sqlite_json_objects_write_what_python_writes_for_every_kind_of_json_column(messy, tmp_path, monkeypatch):
    path = messy
    fast = baked_files(path, tmp_path / "fast")
    slow = baked_files(path, tmp_path / "slow", monkeypatch, python_only=True)
    assert fast == slow


def test_each_json_entity_is_the_flattened_row_and_each_feature_has_its_properties(messy, tmp_path):
    path = messy
    files = baked_files(path, tmp_path)
    conn = sqlite3.connect(path)
    columns = cols.entity_columns(conn)
    header = cols.flattened_header(columns, Specification(SPECIFICATION), DATASET, cols.json_keys(conn))
    flattener = cols.Flattener(columns, header)
    expected = [dict(zip(header, flattener.row(r))) for r in conn.execute("SELECT * FROM entity ORDER BY entity")]
    entities = json.loads(files["json"])["entities"]
    assert entities == expected
    features = json.loads(files["geojson"])["features"]
    assert [f["properties"] for f in features] == [{k: v for k, v in e.items() if k != "geometry"} for e in expected]
    by_entity = {e["entity"]: e for e in entities}
    assert by_entity[str(E)]["notes"] == "plain"
    assert by_entity[str(E + 2)]["notes"] == "5"  # a number is written as JSON text
    assert by_entity[str(E + 3)]["notes"] == '{"a": [1, 2.5, null, true]}'
    assert by_entity[str(E + 5)]["notes"] == "first"  # a repeated key keeps its first value, as sqlite reads it
    assert by_entity[str(E + 6)]["notes"] == ""  # invalid json adds nothing
    assert by_entity[str(E + 11)]["name"] == "from json" and by_entity[str(E + 11)]["it's"] == "apostrophe"
    assert by_entity[str(E + 13)]["geojson"] == ""
    for feature in features[:2]:  # the clockwise ring is reversed, the other left as it is
        assert feature["geometry"]["coordinates"][0][0] == [[-0.1, 51.5], [-0.1, 51.6], [-0.2, 51.6], [-0.2, 51.5],
                                                            [-0.1, 51.5]]
    assert features[14]["geometry"] == {"type": "Point", "coordinates": [-0.5, 51.25]}  # not WKT: the point


def test_a_json_key_with_a_quote_is_flattened_in_python(messy, tmp_path):
    path = messy
    copy = tmp_path / "quote.sqlite3"
    shutil.copy(path, copy)
    conn = sqlite3.connect(copy)
    conn.execute("UPDATE entity SET json = ? WHERE entity = ?", ('{"say \\"hi\\"": "hello", "notes": "n"}', E))
    conn.commit()
    conn.close()
    files = baked_files(str(copy), tmp_path / "out")
    first = json.loads(files["json"])["entities"][0]
    assert first['say "hi"'] == "hello" and first["notes"] == "n"
