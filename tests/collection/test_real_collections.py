"""Two more real collections (tests/data/brownfield-land, tests/data/article-4-direction) built end
to end through the real Makefile on a workspace copy: legacy CSV (CR-only lines, Windows-1252,
mojibake), XLSX, GeoJSON in British National Grid, ArcGIS JSON, a zipped shapefile and WFS GML;
each with a resource redirected to a replacement that is not on disk."""
import csv
import os
import shutil
import sqlite3
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATA = os.path.join(ROOT, "tests", "data")

DAVENTRY = "01da6cf132ec4520a3a2e8fa8a13fa0c5dc2b09dee01b4f739950905703093b7"
NORTH_NORFOLK = "251d147ceb9b0f4d2336d560159bd8f24bb499e5532b533ce23254633e55c242"
GOSPORT_CP1252 = "f1b82172307f6598bc4eb1850dd0659c8a3e9e79d340273fe4795269b294ce23"
YORKSHIRE_DALES_XLSX = "a11c34820ff047d46acc20692d22a01bbaa4a7603831251989742a1fb277ebeb"
KINGSTON_ESRI_JSON = "6270459b7f8baa73d1796e2dfcd6ea14a81d194acec36ea453a558769b1a5dcb"
KINGSTON_ZIP = "e9a844230bd7f620fe08655ca8d6dfecff98b8d48b5a419a0b0da431deb343be"
KINGSTON_GML = "b2c75a74413fb98eb2b2a0b31d19dc7becac8b7543ca7bae6388f5b8418edd75"
NEVER_COLLECTED = "cd" * 32


def workspace_with(make_workspace, name):
    workspace = make_workspace()
    for kind in ("collection", "pipeline"):
        shutil.copytree(os.path.join(DATA, name, kind), workspace / kind / name)
    return workspace


def make(workspace, *args):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "MAKEFLAGS", "MAKELEVEL")}
    result = subprocess.run(["make", *args], cwd=workspace, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout + result.stderr


def query(path, sql):
    with sqlite3.connect(path) as conn:
        return conn.execute(sql).fetchall()


def redirect_to_a_missing_file(workspace, collection, resource):
    with open(workspace / "collection" / collection / "old-resource.csv", "a", newline="") as f:
        f.write(f"{resource},301,{NEVER_COLLECTED},\r\n")
    return (f"collection/{collection}/old-resource.csv:2: resource {resource} is redirected to {NEVER_COLLECTED}, "
            f"which is not in collection/{collection}/resource/")


def test_brownfield_land_builds_from_legacy_csv_and_xlsx_and_survives_a_missing_replacement(make_workspace):
    workspace = workspace_with(make_workspace, "brownfield-land")
    message = redirect_to_a_missing_file(workspace, "brownfield-land", NORTH_NORFOLK)
    output = make(workspace, "collection/brownfield-land")
    assert message in output.splitlines()
    sqlite = workspace / "dataset" / "brownfield-land.sqlite3"

    # every register but North Norfolk's (left out) and the Yorkshire Dales' (organisation not resolved)
    assert query(sqlite, "SELECT organisation_entity, count(*) FROM entity GROUP BY 1") == [("104", 8), ("148", 23)]
    issues = dict(query(sqlite, "SELECT issue_type, count(*) FROM issue GROUP BY 1"))
    assert issues["OSGB"] == 8  # Daventry's CR-only CSV, OSGB36 eastings/northings
    assert issues["WGS84 flipped"] == 46  # Gosport's latitude in GeoX, in both of its files
    assert issues["invalid organisation"] == 8  # the Yorkshire Dales XLSX
    assert issues["missing resource"] == 1
    assert query(sqlite, "SELECT point, json_extract(json, '$.site-address') FROM entity WHERE reference = 'DA/2016/0800'") == \
        [("POINT (-1.168156 52.256225)", "7-13 Warwick Street, Daventry")]
    assert query(sqlite, "SELECT point FROM entity WHERE reference = 'BR27'") == [("POINT (-1.118104 50.787856)",)]
    # the Windows-1252 file is read as such: its no-break space, not mojibake
    [(note,)] = query(sqlite, f"SELECT f.value FROM fact f JOIN fact_resource r ON r.fact = f.fact "
                              f"WHERE r.resource = '{GOSPORT_CP1252}' AND f.field = 'notes' AND f.entity = 1700030")
    assert "by 2020. The Council" in note and "\ufffd" not in note and "Â" not in note
    assert query(sqlite, f"SELECT mime_type FROM dataset_resource WHERE resource = '{GOSPORT_CP1252}'") == \
        [("text/csv;charset=cp1252",)]
    assert query(sqlite, f"SELECT mime_type, line_count FROM dataset_resource WHERE resource = '{YORKSHIRE_DALES_XLSX}'") == \
        [("application/vnd.ms-excel", 9)]

    # the replacement arrives: North Norfolk's seven sites join
    c = workspace / "collection" / "brownfield-land" / "resource"
    shutil.copy(c / NORTH_NORFOLK, c / NEVER_COLLECTED)
    make(workspace, "collection/brownfield-land")
    assert query(sqlite, "SELECT count(*) FROM entity") == [(38,)]
    assert query(sqlite, "SELECT count(*) FROM issue WHERE issue_type = 'missing resource'") == [(0,)]


def test_article_4_direction_builds_from_geojson_arcgis_json_shapefile_and_gml(make_workspace):
    workspace = workspace_with(make_workspace, "article-4-direction")
    message = redirect_to_a_missing_file(workspace, "article-4-direction", KINGSTON_ESRI_JSON)
    output = make(workspace, "collection/article-4-direction")
    assert message in output.splitlines()
    sqlite = workspace / "dataset" / "article-4-direction-area.sqlite3"
    assert query(sqlite, "SELECT count(*) FROM entity") == [(114,)]
    [(name, geometry)] = query(sqlite, "SELECT name, geometry FROM entity WHERE reference = '13'")
    assert name == "Barwell Business Park A4D area"
    x, y = geometry[len("MULTIPOLYGON ((("):].split(",")[0].split()
    assert -0.32 < float(x) < -0.30 and 51.35 < float(y) < 51.36  # reprojected from OSGB36
    issues = dict(query(sqlite, "SELECT issue_type, count(*) FROM issue GROUP BY 1"))
    assert issues["OSGB"] >= 113 and issues["missing resource"] == 1
    resources = dict(query(sqlite, "SELECT resource, internal_path FROM dataset_resource"))
    assert resources[KINGSTON_ZIP] == "Article_4_Directions/Article_4_Directions.shp"
    assert KINGSTON_ESRI_JSON not in resources
    # the WFS response's feature envelopes are kept in the converted file, as upstream has them
    with open(workspace / "var" / "converted" / f"{KINGSTON_GML}.csv", newline="") as f:
        header = next(csv.reader(f))
    assert header[:4] == ["WKT", "gml_id", "lowerCorner", "upperCorner"]


@pytest.mark.parametrize("name", ["brownfield-land", "article-4-direction"])
def test_real_collection_resources_are_named_by_their_sha256(name):
    import hashlib

    folder = os.path.join(DATA, name, "collection", "resource")
    for resource in os.listdir(folder):
        with open(os.path.join(folder, resource), "rb") as f:
            assert hashlib.sha256(f.read()).hexdigest() == resource
