"""Excel cells as text; GeoPackage and SQLite through GDAL, every layer appended."""
import datetime
import sqlite3


def test_xlsx_cells_become_text(run_convert, tmp_path):
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["reference", "date", "when", "count", "area", "flag", "empty", None])
    sheet.append(["A1", datetime.date(2020, 1, 2), datetime.datetime(2020, 1, 2, 3, 4, 5), 17.0, 0.1 + 0.2, True, None])
    sheet.append([None, None, None])  # a blank row
    sheet.append(["A2", datetime.datetime(2021, 5, 6), None, 3, 1234.5])
    second = book.create_sheet("ignored")
    second.append(["not", "read"])
    path = tmp_path / "book.resource"
    book.save(path)
    result, rows = run_convert(path)
    assert result["status"] == "success", result["exception"]
    assert result["mime_type"] == "application/vnd.ms-excel"
    assert rows == [
        ["reference", "date", "when", "count", "area", "flag", "empty"],
        ["A1", "2020-01-02", "2020-01-02T03:04:05", "17", "0.3", "True", ""],
        ["A2", "2021-05-06", "", "3", "1234.5", "", ""],
    ]


def test_broken_xlsx_fails_clearly(run_convert, tmp_path):
    import zipfile

    path = tmp_path / "broken"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/workbook.xml", "<not-a-workbook")
    result, rows = run_convert(path)
    assert result["status"] == "failed"
    assert result["exception"].startswith("unreadable Excel workbook")


def make_geopackage(path):
    from osgeo import ogr

    source = ogr.GetDriverByName("GPKG").CreateDataSource(str(path))
    first = source.CreateLayer("areas", None, ogr.wkbPolygon)
    first.CreateField(ogr.FieldDefn("name", ogr.OFTString))
    first.CreateField(ogr.FieldDefn("made", ogr.OFTDate))
    feature = ogr.Feature(first.GetLayerDefn())
    feature.SetField("name", "one")
    feature.SetField("made", "2019/02/07")
    feature.SetGeometry(ogr.CreateGeometryFromWkt("POLYGON ((0 0,1 0,1 1,0 0))"))
    first.CreateFeature(feature)
    second = source.CreateLayer("points", None, ogr.wkbPoint)
    second.CreateField(ogr.FieldDefn("ref", ogr.OFTString))
    second.CreateField(ogr.FieldDefn("name", ogr.OFTString))
    feature = ogr.Feature(second.GetLayerDefn())
    feature.SetField("ref", "p1")
    feature.SetField("name", "two")
    feature.SetGeometry(ogr.CreateGeometryFromWkt("POINT (530000 180000)"))
    second.CreateFeature(feature)
    feature = first = second = source = None


def test_geopackage_layers_are_appended_with_the_union_of_their_columns(run_convert, tmp_path):
    path = tmp_path / "layers.resource"
    make_geopackage(path)
    result, rows = run_convert(path)
    assert result["status"] == "success", result["exception"]
    assert result["mime_type"] == "application/geopackage+sqlite3"
    assert rows == [
        ["WKT", "name", "made", "ref"],
        ["MULTIPOLYGON (((0 0,1 0,1 1,0 0)))", "one", "2019-02-07", ""],
        ["POINT (530000 180000)", "two", "", "p1"],
    ]


def test_geopackage_is_read_without_touching_its_folder(run_convert, tmp_path):
    folder = tmp_path / "resources"
    folder.mkdir()
    make_geopackage(folder / "r")
    before = {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}
    folder.chmod(0o555)
    try:
        assert run_convert(folder / "r")[0]["status"] == "success"
    finally:
        folder.chmod(0o755)
    assert {p.name: p.stat().st_mtime_ns for p in folder.iterdir()} == before


def test_plain_sqlite_gives_the_rows_of_its_first_table(run_convert, tmp_path):
    path = tmp_path / "plain.resource"
    connection = sqlite3.connect(path)
    connection.execute("CREATE TABLE site (reference TEXT, hectares REAL, n INTEGER)")
    connection.execute("CREATE TABLE other (x)")
    connection.executemany("INSERT INTO site VALUES (?, ?, ?)", [("S1", 1.5, 2), ("S2", None, 3)])
    connection.commit()
    connection.close()
    result, rows = run_convert(path)
    assert result["status"] == "success", result["exception"]
    assert rows == [["reference", "hectares", "n"], ["S1", "1.5", "2"], ["S2", "", "3"]]


def test_opendocument_spreadsheet_first_sheet_is_read(run_convert, tmp_path):
    from osgeo import ogr

    made = tmp_path / "made.ods"
    source = ogr.GetDriverByName("ODS").CreateDataSource(str(made))
    for name, value in (("first", "A1"), ("second", "B1")):
        layer = source.CreateLayer(name, None, ogr.wkbNone)
        layer.CreateField(ogr.FieldDefn("reference", ogr.OFTString))
        layer.CreateField(ogr.FieldDefn("count", ogr.OFTInteger))
        feature = ogr.Feature(layer.GetLayerDefn())
        feature.SetField("reference", value)
        feature.SetField("count", 3)
        layer.CreateFeature(feature)
    feature = layer = source = None
    resource = tmp_path / "resource"
    made.rename(resource)  # collected resources have no extension
    result, rows = run_convert(resource)
    assert result["status"] == "success", result["exception"]
    assert result["mime_type"] == "application/vnd.oasis.opendocument.spreadsheet"
    assert rows == [["reference", "count"], ["A1", "3"]]


def test_old_office_file_that_is_not_a_workbook_fails_clearly(run_convert):
    result, rows = run_convert(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600)
    assert result["status"] == "failed"
    assert result["mime_type"] == "application/vnd.ms-excel"
    assert result["exception"].startswith("unreadable Excel (xls) workbook")
