"""Every real resource example converts to the expected columns and row counts.

Counts were checked with ogrinfo and by opening the files; columns follow GDAL 3.6 (see notes)."""
import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLES = os.path.join(ROOT, "tests", "data", "resource-examples")

# name: (first columns, data rows)
EXPECTED = {
    "csv": (["OrganisationURI", "OrganisationLabel", "SiteReference"], 2),
    "xlsx": (["OrganisationURI", "OrganisationLabel", "SiteReference"], 8),
    "xlsm": (["OrganisationURI", "OrganisationLabel", "SiteReference"], 50),
    "geojson": (["WKT", "OBJECTID_1"], 1),
    "utf-8-sig-json": (["WKT"], 114),
    # read by GDAL's KML driver, which gives only Name and Description: the ExtendedData is added
    "kml_multilayer": (["WKT", "Name", "Description", "conservation_area_name", "designated_date"], 210),
    # each feature's gml:boundedBy, as upstream's golden file has it (GDAL 3.6 itself drops it)
    "gml": (["WKT", "gml_id", "lowerCorner", "upperCorner", "Name", "Ref"], 10),
    "gml_very_long_rows": (["WKT", "gml_id"], 58),
    "shapefile_zip": (["WKT"], 6),
    "shapefile_zip_not_in_root": (["WKT"], 14),
    "kml": (["WKT", "Name", "description"], 12),
    "json_efficient_format": (["reference", "name"], 1),
    "json_efficient_format_data_first": (["reference", "name"], 1),
}


# upstream's golden headers (reference 12.1), each a subset of upstream's converted header, in order
UPSTREAM_GOLDEN = {
    "geojson": ["WKT", "OBJECTID_1"],
    "kml_multilayer": ["WKT", "Name", "Description"],
    "gml": ["WKT", "gml_id", "lowerCorner", "upperCorner", "Name", "Ref"],
    "json_efficient_format": ["reference", "name"],
    "json_efficient_format_data_first": ["reference", "name"],
}


@pytest.mark.parametrize("name", sorted(UPSTREAM_GOLDEN))
def test_resource_example_has_every_column_of_upstreams_golden_file(run_convert, name):
    result, rows = run_convert(os.path.join(EXAMPLES, name + ".resource"))
    header = rows[0]
    assert [c for c in header if c in UPSTREAM_GOLDEN[name]] == UPSTREAM_GOLDEN[name]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_resource_example_converts_with_expected_columns_and_rows(run_convert, name):
    columns, count = EXPECTED[name]
    result, rows = run_convert(os.path.join(EXAMPLES, name + ".resource"))
    assert result["status"] == "success", result["exception"]
    assert result["exception"] == ""
    assert rows[0][:len(columns)] == columns
    assert len(rows) - 1 == count
    assert result["line_count"] == count + 1
    assert all(len(row) == len(rows[0]) for row in rows[1:])


def test_xlsm_keeps_quoted_multi_line_cells(run_convert):
    result, rows = run_convert(os.path.join(EXAMPLES, "xlsm.resource"))
    assert result["mime_type"] == "application/vnd.ms-excel"
    assert any("\n" in cell for row in rows[1:] for cell in row)


def test_excel_cells_are_text_with_iso_dates_and_whole_numbers(run_convert):
    result, rows = run_convert(os.path.join(EXAMPLES, "xlsx.resource"))
    record = dict(zip(rows[0], rows[1]))
    assert record["PermissionDate"] == "2016-12-19"
    assert record["MinNetDwellings"] == "17"
    assert record["GeoX"] == "-2.57899"


def test_json_efficient_format_gives_header_and_first_row_in_either_key_order(run_convert):
    for name in ("json_efficient_format", "json_efficient_format_data_first"):
        result, rows = run_convert(os.path.join(EXAMPLES, name + ".resource"))
        assert rows[0][:2] == ["reference", "name"]
        assert rows[1][:2] == ["ref", "name"]
        assert result["mime_type"] == "application/json"


def test_geometry_stays_in_source_coordinates_at_ten_significant_digits(run_convert):
    result, rows = run_convert(os.path.join(EXAMPLES, "gml_very_long_rows.resource"))
    wkt = rows[1][0]
    assert wkt.startswith("MULTIPOLYGON ((("), wkt[:40]
    x, y = wkt[len("MULTIPOLYGON ((("):].split(",")[0].split()
    assert 100000 < float(x) < 700000 and 100000 < float(y) < 1300000  # OSGB eastings/northings
    numbers = [n for n in wkt.replace("(", " ").replace(")", " ").replace(",", " ").split()[1:]]
    assert max(len(n.replace("-", "").replace(".", "")) for n in numbers) <= 10


def test_shapefile_zip_records_internal_path_and_mime_type(run_convert):
    result, rows = run_convert(os.path.join(EXAMPLES, "shapefile_zip_not_in_root.resource"))
    assert result["mime_type"] == "application/zip"
    assert result["internal_path"] == "Conservation Areas/Esri/Conservation Areas_region.shp"
    assert result["internal_mime_type"] == "x-gis/x-shapefile"
    x = float(rows[1][0].split("(((")[1].split()[0])
    assert x > 1000  # OSGB, not reprojected


def test_bad_kml_fails_clearly_and_writes_nothing(run_convert):
    result, rows = run_convert(os.path.join(EXAMPLES, "kml-bad.resource"))
    assert result["status"] == "failed"
    assert rows is None
    assert result["line_count"] == 0
    assert "no element found" in result["exception"]
    assert "\n" not in result["exception"]


def test_kml_that_upstream_fails_on_converts_with_its_extended_data(run_convert):
    result, rows = run_convert(os.path.join(EXAMPLES, "kml.resource"))
    assert result["status"] == "success"
    assert {"id", "shape_star"} <= set(rows[0])
    assert rows[1][rows[0].index("Name")] == "St Nicholas Hospital"


def test_csv_example_is_passed_through_unchanged(run_convert):
    path = os.path.join(EXAMPLES, "csv.resource")
    result, rows = run_convert(path)
    import csv
    with open(path, encoding="utf-8", newline="") as f:
        assert rows == [r for r in csv.reader(f) if r]
    assert result["mime_type"] == "text/csv;charset=utf_8"


COLLECTED = {
    "conservation-area": {
        "1ee42cdabb3d317f243dcd6cb14da53092083ed9a87c863eab49662b23591999": ("application/zip", 14),
        "56645ee4f6e3ee9252a322dfbc89624f0675ecbd123929c7807c4cd452447735": ("application/zip", 6),
        "69148cb6b58a0ee3706302c1f586fb8e2a4fee9976354986c6d76ae0a63d9c97": ("application/json", 1),
        "9141bf76b0d89eab27d6e46014ec2fd282ad622924ec316d39dbf67551f8738c": ("application/xml;charset=utf_8", 12),
        "b85206c928baa3c519e8d7f6f8c0ea378bfad2f8eeacc65b2a1c0be8250f1e9f": ("application/xml;charset=utf_8", 210),
        "b9503f86a1e0c5e02c1fa5b42b8d84c63b1cca421813dfc44c0f1bf7b59e5d74": ("application/geopackage+sqlite3", 53),
    },
    "central-activities-zone": {
        "49d00c9ea82a5a345caa61a873967764d38ac7d8b34514586e164c1426838c38": ("application/zip", 1),
        "b7cd7941c1c8aee51465cbab3a72a81f42ba9393ee7c43ed142b5a278810c4e4": ("application/json", 1),
        "db5238c35bf94337fea6437627c66813009e86c44a569c6e7a95df31efd34db5": ("application/geopackage+sqlite3", 10),
    },
}


@pytest.mark.parametrize("collection,resource", [(c, r) for c in sorted(COLLECTED) for r in sorted(COLLECTED[c])])
def test_collected_resource_converts(run_convert, collection, resource):
    mime_type, count = COLLECTED[collection][resource]
    path = os.path.join(ROOT, "collection", collection, "resource", resource)
    result, rows = run_convert(path)
    assert result["status"] == "success", result["exception"]
    assert result["mime_type"] == mime_type
    assert rows[0][0] == "WKT"
    assert len(rows) - 1 == count
    assert all(row[0] for row in rows[1:])  # every feature has a geometry


def test_conversion_leaves_nothing_beside_the_resource(run_convert, tmp_path):
    import shutil
    for name in ("gml", "gml_very_long_rows", "kml", "shapefile_zip"):
        shutil.copy(os.path.join(EXAMPLES, name + ".resource"), tmp_path / name)
    before = sorted(os.listdir(tmp_path))
    for name in ("gml", "gml_very_long_rows", "kml", "shapefile_zip"):
        assert run_convert(tmp_path / name)[0]["status"] == "success"
    assert sorted(p for p in os.listdir(tmp_path) if p != "out") == before  # no .gfs, .aux.xml, ...
