"""Zip archives: the one member to convert is chosen, unsafe archives are refused, nothing is extracted."""
import io
import os
import zipfile

from planning_pipeline.convert import Limits


def make_zip(members, **kwargs):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, **kwargs) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buffer.getvalue()


def shapefile_members(tmp_path, name="areas", encoding="UTF-8", value="Café"):
    """A real point shapefile written by GDAL (with a .cpg), as {member name: bytes}."""
    from osgeo import ogr, osr

    folder = tmp_path / ("shp-" + name)
    folder.mkdir()
    driver = ogr.GetDriverByName("ESRI Shapefile")
    source = driver.CreateDataSource(str(folder / (name + ".shp")))
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(27700)
    layer = source.CreateLayer(name, srs, ogr.wkbPoint, options=[f"ENCODING={encoding}"])
    layer.CreateField(ogr.FieldDefn("NAME", ogr.OFTString))
    feature = ogr.Feature(layer.GetLayerDefn())
    feature.SetField("NAME", value)
    feature.SetGeometry(ogr.CreateGeometryFromWkt("POINT (530000.5 180000.25)"))
    layer.CreateFeature(feature)
    feature = layer = source = None
    return {p: (folder / p).read_bytes() for p in sorted(os.listdir(folder))}


def test_shapefile_in_a_zip_converts_honouring_its_cpg_and_keeping_points(run_convert, tmp_path):
    members = shapefile_members(tmp_path)
    assert "areas.cpg" in members and "areas.prj" in members
    result, rows = run_convert(make_zip({"data/" + n: b for n, b in members.items()}))
    assert result["status"] == "success", result["exception"]
    assert result["internal_path"] == "data/areas.shp"
    assert rows == [["WKT", "NAME"], ["POINT (530000.5 180000.25)", "Café"]]


def test_zip_with_two_shapefiles_fails_clearly(run_convert, tmp_path):
    members = {"a/" + n: b for n, b in shapefile_members(tmp_path, "one").items()}
    members.update({"b/" + n: b for n, b in shapefile_members(tmp_path, "two").items()})
    result, rows = run_convert(make_zip(members))
    assert result["status"] == "failed"
    assert result["exception"].startswith("zip archive holds 2 .shp files (a/one.shp, b/two.shp)")
    assert rows is None


def test_mac_resource_forks_are_not_counted_as_shapefiles(run_convert, tmp_path):
    members = shapefile_members(tmp_path)
    members["__MACOSX/._areas.shp"] = b"\x00\x05\x16\x07"
    result, rows = run_convert(make_zip(members))
    assert result["status"] == "success", result["exception"]


def test_zip_member_names_that_escape_are_refused_and_nothing_is_written(run_convert, tmp_path):
    for name in ("../../evil.csv", "/etc/evil.csv", "C:/evil.csv", "a/../../evil.csv"):
        result, rows = run_convert(make_zip({name: b"a,b\n1,2\n"}))
        assert result["status"] == "failed"
        assert "escapes the archive" in result["exception"]
        assert rows is None
    assert not list(tmp_path.parent.rglob("evil.csv"))


def test_zip_bomb_over_the_uncompressed_cap_fails(run_convert):
    bomb = make_zip({"big.csv": b"a,b\n" + b"0" * (8 << 20)})
    assert len(bomb) < 64 << 10
    result, rows = run_convert(bomb, limits=Limits(max_uncompressed_bytes=4 << 20))
    assert result["status"] == "failed"
    assert "over the limit of 4194304" in result["exception"]
    assert rows is None


def test_default_uncompressed_cap_is_two_gibibytes():
    assert Limits().max_uncompressed_bytes == 2 << 30


def test_zip_with_too_many_members_fails(run_convert):
    result, rows = run_convert(make_zip({f"f{i}.txt": b"x" for i in range(20)}), limits=Limits(max_members=10))
    assert result["status"] == "failed"
    assert "20 members" in result["exception"]


def test_zipped_csv_is_converted_through_the_text_reader(run_convert):
    result, rows = run_convert(make_zip({"readme.txt": b"hello", "folder/data.csv": "a,b\n£,2\n".encode("cp1252")}))
    assert result["status"] == "success", result["exception"]
    assert (result["mime_type"], result["internal_path"], result["internal_mime_type"]) == (
        "application/zip", "folder/data.csv", "text/csv")
    assert rows == [["a", "b"], ["£", "2"]]


def test_zip_without_a_supported_member_fails(run_convert):
    result, rows = run_convert(make_zip({"readme.txt": b"hello", "picture.png": b"\x89PNG"}))
    assert result["status"] == "failed"
    assert "no file of a supported kind" in result["exception"]


def test_corrupt_zip_fails_without_raising(run_convert):
    data = make_zip({"a.csv": b"a,b\n1,2\n" * 100})
    result, rows = run_convert(data[:40] + b"\x00" * 20 + data[60:])
    assert result["status"] == "failed"


def test_zipped_json_list_is_streamed_and_zipped_geojson_goes_to_gdal(run_convert):
    result, rows = run_convert(make_zip({"records.json": b'[{"reference": "r1", "name": "One"}]'}))
    assert result["status"] == "success", result["exception"]
    assert (result["internal_path"], result["internal_mime_type"]) == ("records.json", "application/json")
    assert rows == [["reference", "name"], ["r1", "One"]]
    geojson = (b'{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"name":"p"},'
               b'"geometry":{"type":"Point","coordinates":[1.5,52.5]}}]}')
    result, rows = run_convert(make_zip({"sub/areas.geojson": geojson}))
    assert result["status"] == "success", result["exception"]
    assert rows == [["WKT", "name"], ["POINT (1.5 52.5)", "p"]]
