"""Tabular JSON is streamed; GeoJSON and ArcGIS JSON go through GDAL."""
import json

import pytest


def test_list_of_objects_has_the_union_of_keys_in_order_of_appearance(run_convert):
    data = [{"reference": "a", "name": "A"}, {"reference": "b", "extra": 1.5, "flag": True},
            {"name": None, "nested": {"k": [1, 2]}}]
    result, rows = run_convert(json.dumps(data))
    assert result["status"] == "success"
    assert rows == [["reference", "name", "extra", "flag", "nested"],
                    ["a", "A", "", "", ""],
                    ["b", "", "1.5", "True", ""],
                    ["", "", "", "", '{"k": [1, 2]}']]
    assert result["mime_type"] == "application/json"


def test_list_of_lists_uses_the_first_as_header(run_convert):
    result, rows = run_convert('[["reference","name"],["a","A"],[1,null]]')
    assert rows == [["reference", "name"], ["a", "A"], ["1", ""]]


def test_columns_may_be_objects_with_names(run_convert):
    result, rows = run_convert('{"columns":[{"name":"reference"},{"name":"n"}],"data":[["r",2]]}')
    assert rows == [["reference", "n"], ["r", "2"]]


def test_datasette_style_rows_key_is_read(run_convert):
    result, rows = run_convert('{"database":"x","rows":[["r",1]],"columns":["reference","n"],"truncated":false}')
    assert rows == [["reference", "n"], ["r", "1"]]


def test_values_split_across_read_chunks_are_decoded_whole(run_convert, monkeypatch):
    from planning_pipeline.convert import json_rows
    monkeypatch.setattr(json_rows, "CHUNK", 7)
    data = {"columns": ["n", "s"], "data": [[123456789, "a long string value"], [1.25e10, "x"]] * 50}
    result, rows = run_convert(json.dumps(data))
    assert result["status"] == "success", result["exception"]
    assert rows[1] == ["123456789", "a long string value"]
    assert rows[2] == ["12500000000.0", "x"]
    assert len(rows) == 101


def test_empty_list_fails(run_convert):
    assert "empty" in run_convert("[]")[0]["exception"]


@pytest.mark.parametrize("text", ['[{"a": 1}, {"a": 2', '{"columns": ["a"], "data": [[1], [2]', '[{"a": 1}] trailing'])
def test_invalid_json_fails_and_writes_nothing(run_convert, text):
    result, rows = run_convert(text)
    assert result["status"] == "failed"
    assert "JSON" in result["exception"]
    assert rows is None


def test_json_object_of_no_known_shape_fails_clearly(run_convert):
    result, rows = run_convert('{"hello": "world"}')
    assert result["status"] == "failed"
    assert result["exception"].startswith("JSON is not GeoJSON")


GEOJSON = {
    "type": "FeatureCollection",
    "features": [
        {"type": "Feature", "properties": {"name": "point", "start": "2020-01-02T03:04:05Z", "tags": ["a", "b"]},
         "geometry": {"type": "Point", "coordinates": [-0.0000512345678, 51.123456789012]}},
        {"type": "Feature", "properties": {"name": "polygon", "start": "2021-02-03"},
         "geometry": {"type": "Polygon", "coordinates": [[[530000.123456789, 180000.5], [530010, 180000.5],
                                                           [530010, 180010], [530000.123456789, 180000.5]]]}},
        {"type": "Feature", "properties": {"name": "nothing"}, "geometry": None},
    ],
}


def test_geojson_points_stay_points_and_polygons_become_multipolygons(run_convert):
    result, rows = run_convert(json.dumps(GEOJSON))
    assert result["status"] == "success", result["exception"]
    assert rows[0] == ["WKT", "name", "start", "tags"]
    assert rows[1][0] == "POINT (-0.0000512346 51.12345679)"
    # OGR writes a whole x as "530010.0" when its y is not whole
    assert rows[2][0] == "MULTIPOLYGON (((530000.1235 180000.5,530010.0 180000.5,530010 180010,530000.1235 180000.5)))"
    assert rows[3][0] == ""


def test_geojson_dates_keep_their_source_text(run_convert):
    result, rows = run_convert(json.dumps(GEOJSON))
    assert [r[2] for r in rows[1:]] == ["2020-01-02T03:04:05Z", "2021-02-03", ""]


def test_arcgis_json_is_read(run_convert):
    esri = {"displayFieldName": "", "geometryType": "esriGeometryPolygon", "spatialReference": {"wkid": 27700},
            "fields": [{"name": "NAME", "type": "esriFieldTypeString", "alias": "NAME"}],
            "features": [{"attributes": {"NAME": "Area 1"},
                          "geometry": {"rings": [[[530000, 180000], [530010, 180000], [530010, 180010], [530000, 180000]]]}}]}
    result, rows = run_convert(json.dumps(esri))
    assert result["status"] == "success", result["exception"]
    assert rows[0] == ["WKT", "NAME"]
    assert rows[1] == ["MULTIPOLYGON (((530000 180000,530010 180000,530010 180010,530000 180000)))", "Area 1"]
