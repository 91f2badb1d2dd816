"""Columns upstream's converted CSVs have that GDAL 3.6's drivers drop: each GML feature's envelope
(lowerCorner, upperCorner) and the ExtendedData of KML files read by GDAL's KML driver."""
import os
import zipfile

from planning_pipeline.convert import xml_columns

EXAMPLES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data", "resource-examples")


def records(rows):
    return [dict(zip(rows[0], row)) for row in rows[1:]]


def gml(features, collection_bounds=True):
    """A WFS 2.0 GML document of (gml:id, envelope or None, name) features."""
    members = []
    for gml_id, envelope, name in features:
        bounds = ""
        if envelope:
            bounds = (f"<gml:boundedBy><gml:Envelope><gml:lowerCorner>{envelope[0]}</gml:lowerCorner>"
                      f"<gml:upperCorner>{envelope[1]}</gml:upperCorner></gml:Envelope></gml:boundedBy>")
        members.append(
            f'<wfs:member><x:area gml:id="{gml_id}">{bounds}<x:geom><gml:Point srsName="urn:ogc:def:crs:EPSG::27700">'
            f"<gml:pos>530000 180000</gml:pos></gml:Point></x:geom><x:name>{name}</x:name></x:area></wfs:member>")
    top = ("<wfs:boundedBy><gml:Envelope><gml:lowerCorner>1 2</gml:lowerCorner><gml:upperCorner>3 4</gml:upperCorner>"
           "</gml:Envelope></wfs:boundedBy>") if collection_bounds else ""
    return ('<?xml version="1.0" encoding="UTF-8"?><wfs:FeatureCollection xmlns:wfs="http://www.opengis.net/wfs/2.0" '
            'xmlns:gml="http://www.opengis.net/gml/3.2" xmlns:x="http://example.org/x">'
            + top + "".join(members) + "</wfs:FeatureCollection>")


def test_gml_keeps_each_features_envelope_after_gml_id_as_upstream(run_convert):
    result, rows = run_convert(os.path.join(EXAMPLES, "gml.resource"))
    assert rows[0] == ["WKT", "gml_id", "lowerCorner", "upperCorner", "Name", "Ref"]
    first = records(rows)[0]
    assert first["gml_id"] == "conservation_areas_polygon.1" and first["Name"] == "Daresbury"
    assert first["lowerCorner"] == "53.336623621792555 -2.6370448708677467"
    assert first["upperCorner"] == "53.34224810480465 -2.630234540634663"
    assert all(r["lowerCorner"] and r["upperCorner"] for r in records(rows))


def test_gml_envelopes_go_to_their_own_features_and_a_feature_without_one_is_blank(run_convert):
    result, rows = run_convert(gml([("a.1", ("1 1", "2 2"), "one"), ("a.2", None, "two"), ("a.3", ("5 5", "6 6"), "three")]))
    assert result["status"] == "success", result["exception"]
    got = [(r["gml_id"], r["lowerCorner"], r["upperCorner"], r["name"]) for r in records(rows)]
    assert got == [("a.1", "1 1", "2 2", "one"), ("a.2", "", "", "two"), ("a.3", "5 5", "6 6", "three")]


def test_gml_whose_features_have_no_envelope_gets_no_corner_columns(run_convert):
    result, rows = run_convert(gml([("a.1", None, "one")]))  # only the collection has a boundedBy
    assert "lowerCorner" not in rows[0]
    result, rows = run_convert(os.path.join(EXAMPLES, "gml_very_long_rows.resource"))
    assert rows[0] == ["WKT", "gml_id", "ca_name", "descriptio", "designated"]


def test_gml_inside_a_zip_keeps_its_envelopes(run_convert, tmp_path):
    path = tmp_path / "areas.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.write(os.path.join(EXAMPLES, "gml.resource"), "areas/conservation.gml")
    result, rows = run_convert(str(path))
    assert result["internal_path"] == "areas/conservation.gml"
    assert records(rows)[0]["lowerCorner"] == "53.336623621792555 -2.6370448708677467"


def test_kml_read_by_the_kml_driver_keeps_its_extended_data(run_convert):
    result, rows = run_convert(os.path.join(EXAMPLES, "kml_multilayer.resource"))
    assert rows[0] == ["WKT", "Name", "Description", "conservation_area_name", "designated_date"]
    got = records(rows)
    assert (got[0]["Name"], got[0]["conservation_area_name"], got[0]["designated_date"]) == \
        ("kml_1", "Fitzroy Square", "01/06/1985")
    assert got[0]["Description"].startswith("Attributes:")
    assert all(r["conservation_area_name"] for r in got)  # both layers, all 210 placemarks
    assert len({r["conservation_area_name"] for r in got}) > 30


KML = """<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns:kml="http://earth.google.com/kml/2.2"><Document><Folder>{placemarks}</Folder></Document></kml>"""
PLACEMARK = """<Placemark><name>{name}</name><description>{name} area</description>
<ExtendedData>{data}</ExtendedData><Point><coordinates>-0.1,51.5</coordinates></Point></Placemark>"""


def kml(*placemarks):
    return KML.format(placemarks="".join(PLACEMARK.format(name=n, data=d) for n, d in placemarks))


def test_kml_extended_data_and_simple_data_become_columns_in_order_of_first_appearance(run_convert):
    text = kml(("A", '<Data name="ref"><value>CA1</value></Data>'),
               ("B", '<SchemaData><SimpleData name="year">1970</SimpleData></SchemaData>'
                     '<Data name="ref"><value> CA2 </value></Data>'))
    result, rows = run_convert(text)
    assert result["status"] == "success", result["exception"]
    assert rows[0] == ["WKT", "Name", "Description", "ref", "year"]
    assert [(r["Name"], r["ref"], r["year"]) for r in records(rows)] == [("A", "CA1", ""), ("B", "CA2", "1970")]


def test_kml_extended_data_named_like_an_existing_column_is_not_repeated(run_convert):
    result, rows = run_convert(kml(("A", '<Data name="Name"><value>other</value></Data>')))
    assert rows[0] == ["WKT", "Name", "Description"]
    assert records(rows)[0]["Name"] == "A"


def test_kml_with_entity_declarations_is_converted_without_extra_columns(run_convert, tmp_path):
    path = tmp_path / "entities.kml"
    path.write_text('<?xml version="1.0"?><!DOCTYPE kml [<!ENTITY a "aaaaaaaaaa">]>'
                    + kml(("A", '<Data name="ref"><value>&a;</value></Data>')).split("?>", 1)[1])
    assert xml_columns.kml_data_names(str(path)) == []


def test_extra_values_that_disagree_with_gdals_feature_are_left_blank_not_misplaced():
    extra = xml_columns.Extra(["x"], 2, "gml_id", lambda layer: iter([("a.1", ["1"]), ("a.3", ["3"]), ("a.4", ["4"])]))
    header, _ = extra.insert(["WKT", "gml_id", "name"], [])
    fill = extra.layer("area")
    rows = [["", "a.1", "", "n"], ["", "a.2", "", "n"], ["", "a.3", "", "n"]]
    for row in rows:
        fill(row)
    assert header == ["WKT", "gml_id", "x", "name"]
    assert [row[2] for row in rows] == ["1", "", ""]
