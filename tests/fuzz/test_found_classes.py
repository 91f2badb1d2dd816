"""Regression tests for the classes of failure the fuzzer (test_hostile_resources.py) found, one small
hand-made case each, through planning_pipeline.convert.convert."""
import csv
import os
import sys

import pytest

from planning_pipeline.convert import convert

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mutate  # noqa: E402

GML = b"""<?xml version="1.0" encoding="UTF-8"?>
<wfs:FeatureCollection xmlns:wfs="http://www.opengis.net/wfs" xmlns:gml="http://www.opengis.net/gml"
    xmlns:ca="http://example.com/ca">
  <gml:featureMember><ca:area gml:id="a.1"><ca:reference>CA1</ca:reference><ca:name>Old Town</ca:name>
    <ca:geom><gml:Point srsName="EPSG:4326"><gml:coordinates>-0.1,51.5</gml:coordinates></gml:Point></ca:geom>
  </ca:area></gml:featureMember>
  <gml:featureMember><ca:area gml:id="a.2"><ca:reference>CA2</ca:reference><ca:name>New Town</ca:name>
    <ca:geom><gml:Point srsName="EPSG:4326"><gml:coordinates>-0.2,51.6</gml:coordinates></gml:Point></ca:geom>
  </ca:area></gml:featureMember>
</wfs:FeatureCollection>
"""


@pytest.fixture
def converted(tmp_path):
    names = iter(range(1000))

    def run(content):
        name = f"resource{next(names)}"
        path = tmp_path / name
        path.write_bytes(content)
        output = tmp_path / (name + ".csv")
        result = convert(str(path), str(output))
        rows = None
        if output.exists():
            with open(output, encoding="utf-8", newline="") as f:
                rows = list(csv.reader(f))
        assert result["status"] == "failed" or rows is not None
        return result, rows

    return run


def test_a_gml_file_the_xml_parser_stops_in_is_a_failed_conversion_not_an_empty_success(converted):
    result, rows = converted(GML)
    assert result["status"] == "success" and [r[2] for r in rows[1:]] == ["CA1", "CA2"]  # the sound file reads
    for broken in (GML.replace(b"<ca:name>Old", b'<ca:name">Old'), GML.replace(b"-0.2,51.6", b"-0.2\x01,51.6"),
                   GML[:GML.index(b"New Town")]):
        result, rows = converted(broken)
        assert result["status"] == "failed" and rows is None
        assert "XML parsing of GML file failed" in result["exception"], result["exception"]


def test_a_gdal_error_whose_message_is_not_utf8_is_a_failed_conversion_with_gdals_reason(converted):
    # a byte-order mark in the middle (two files run together): the binding's error callback cannot take
    # GDAL's message and raised SystemError, which was logged as "SystemError: <built-in function OpenEx>
    # returned a result with an exception set"
    result, rows = converted(b'{"type": "FeatureCollection",\n\xef\xbb\xbf"features": [{"type": "Feature", '
                             b'"properties": {"a": 1}, "geometry": null}]}\n')
    assert result["status"] == "failed" and rows is None
    assert result["exception"] == "GDAL could not open JSON: Failed to read GeoJSON data"


def test_bytes_gdal_reads_that_are_not_utf8_are_read_as_windows_1252_not_a_failed_conversion(converted):
    # GDAL hands them over as surrogate escapes, which writing the UTF-8 CSV refused:
    # "UnicodeEncodeError: 'utf-8' codec can't encode characters ...: surrogates not allowed"
    result, rows = converted(b'{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": '
                             b'{"name": "Caf\xe9 \x93Quarter\x94", "caf\xe9": "x"}, "geometry": null}]}\n')
    assert result["status"] == "success", result["exception"]
    assert rows == [["WKT", "name", "café"], ["", "Café “Quarter”", "x"]]


def test_a_zip_member_that_would_expand_a_thousandfold_is_refused_as_a_bomb_before_it_is_read(converted):
    import time

    # 96 MiB of a CSV from 96 KiB: under the 2 GiB cap on an archive's total, but no real data is like that
    bomb = mutate.zip_bomb(size=96 << 20)
    assert len(bomb) < 128 << 10
    start = time.perf_counter()
    result, rows = converted(bomb)
    assert result["status"] == "failed" and rows is None
    assert "'bomb.csv' would uncompress to 100663312 bytes" in result["exception"]
    assert "zip bomb" in result["exception"]
    assert time.perf_counter() - start < 1  # refused from its directory, not after streaming it


@pytest.mark.parametrize("content", [b"[" * 100_000 + b"]" * 100_000,
                                     b'[{"reference": "CA1", "name": ' + b"[" * 50_000 + b"]" * 50_000 + b"}]",
                                     b'{"columns": ["a"], "data": [' + b"[" * 50_000 + b"]" * 50_000 + b"]}"],
                         ids=["list", "in-a-record", "in-a-table"])
def test_json_nested_deeper_than_the_decoder_recurses_is_a_failed_conversion_saying_so(converted, content):
    result, rows = converted(content)  # was "RecursionError: maximum recursion depth exceeded while decoding ..."
    assert result["status"] == "failed" and rows is None
    assert result["exception"].startswith("JSON nested too deeply"), result["exception"]


def test_json_numbers_no_float_holds_keep_their_text_instead_of_becoming_inf_or_nan(converted):
    # Python's decoder reads 1e999 as inf and accepts NaN and Infinity: they became "inf" and "nan"
    for content in (b'[{"a": 1e999, "b": NaN, "c": -Infinity, "d": -1E+400, "e": 1.5, "f": 12, "g": -0.0}]',
                    b'{"columns": ["a", "b", "c", "d", "e", "f", "g"], "data": [[1e999, NaN, -Infinity, -1E+400, '
                    b'1.5, 12, -0.0]]}'):
        result, rows = converted(content)
        assert result["status"] == "success", result["exception"]
        assert rows == [["a", "b", "c", "d", "e", "f", "g"], ["1e999", "NaN", "-Infinity", "-1E+400", "1.5", "12", "-0.0"]]


@pytest.mark.parametrize("content,kind", [(b"42\n", "number"), (b"-1.5e3", "number"), (b'"hello"', "string"),
                                          (b"null", "null"), (b" true\r\n", "true"), (b"\xef\xbb\xbffalse", "false")])
def test_a_file_that_is_a_bare_json_value_is_a_failed_conversion_not_a_csv_header(converted, content, kind):
    result, rows = converted(content)  # was a "success" with a header of one column named 42, null, ...
    assert result["status"] == "failed" and rows is None
    assert result["exception"] == f"not data: the file is a bare JSON {kind}"


def test_a_csv_of_one_word_is_still_a_csv(converted):
    for content in (b"reference\r\n", b"reference\r\nCA1\r\n", b"42\r\n43\r\n", b"name\n\"x\"\n"):
        result, rows = converted(content)
        assert result["status"] == "success", (content, result["exception"])


def test_an_excel_cell_openpyxl_cannot_read_is_kept_as_its_text_and_the_workbook_converts(converted):
    # each of these failed the whole workbook ("ValueError: could not convert string to float: ...",
    # "IndexError: list index out of range")
    cells = ['<c r="B2"><v>not a number</v></c>', '<c r="B3" s="1"><v>NaN</v></c>', '<c r="B4" t="b"><v>maybe</v></c>',
             '<c r="B5" t="s"><v>99999</v></c>', '<c r="B6" t="s"><v>0</v></c>', '<c r="B7" s="1"><v>45000</v></c>',
             '<c r="B8"><v>12.5</v></c>', '<c r="B9" t="b"><v>1</v></c>']
    strings = (b'<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
               b'<si><t>shared</t></si></sst>')
    result, rows = converted(mutate.xlsx_cells(cells, shared_strings=strings))
    assert result["status"] == "success", result["exception"]
    assert rows == [["reference", "name"], ["CA1", "not a number"], ["CA2", "NaN"], ["CA3", "maybe"], ["CA4", ""],
                    ["CA5", "shared"], ["CA6", "2023-03-15"], ["CA7", "12.5"], ["CA8", "True"]]


EXAMPLES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data", "resource-examples")


@pytest.mark.parametrize("prj", [b"GEOGCS[junk", b"\x00\xff", b'PROJCS["x",GEOGCS["y",DATUM["z"]]]'])
def test_a_shapefile_whose_prj_gdal_cannot_parse_still_converts_in_its_own_coordinates(converted, prj):
    # the coordinate system is never used (the transform tells it from the coordinates), but GDAL's
    # complaint about it ("missing , or ]") failed the whole file
    with open(os.path.join(EXAMPLES, "shapefile_zip.resource"), "rb") as f:
        real = f.read()
    good, good_rows = converted(real)
    result, rows = converted(mutate.rezip(real, lambda name, body: prj if name.endswith(".prj") else body))
    assert good["status"] == "success" and result["status"] == "success", result["exception"]
    assert rows == good_rows and len(rows) > 1


@pytest.mark.parametrize("datatype,value", [("multipolygon", "POLYGON((0 0,1e308 0,1e308 1e308,0 0))"),
                                            ("multipolygon", "MULTIPOLYGON(((-1e308 -1e308,1e308 -1e308,1e308 1e308,-1e308 -1e308)))"),
                                            ("point", "POINT(1e308 -1e308)"), ("point", "POINT(-1.7e308 1.7e308)")])
def test_coordinates_near_the_largest_double_are_rejected_with_an_issue_and_no_numpy_warnings(datatype, value):
    import warnings

    from planning_pipeline.datatype import ListIssues, normalise_geometries

    issues = ListIssues()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "RuntimeWarning: overflow encountered in multiply" went to stderr
        assert normalise_geometries([value], datatype, [issues]) == [""]
    assert issues.types == ["invalid coordinates"]


def test_geox_geoy_near_the_largest_double_are_rejected_with_an_issue_and_no_numpy_warnings():
    import warnings

    from planning_pipeline.datatype import ListIssues, normalise_points_xy

    issues = ListIssues()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert normalise_points_xy(["1e308", "-0.1"], ["1.7e308", "51.5"], [issues, None]) == [
            None, ("-0.100000", "51.500000")]
    assert issues.types == ["invalid coordinates"]


def test_an_opendocument_spreadsheet_gdal_cannot_parse_is_a_failed_conversion_that_says_so(converted):
    # GDAL's ODS driver says "ODS:PATH: No such file or directory" of the file it was given: logged as
    # "GDAL could not open spreadsheet: : No such file or directory"
    mimetype = ("mimetype", b"application/vnd.oasis.opendocument.spreadsheet")
    for members in ([mimetype, ("content.xml", b"<junk")], [mimetype]):
        result, rows = converted(mutate.zip_of(members))
        assert result["status"] == "failed" and rows is None
        assert result["exception"] == ("spreadsheet: not a readable OpenDocument spreadsheet "
                                       "(its content.xml is missing or broken)")


@pytest.mark.parametrize("content,name", [
    ("reference,name\r\nCA1,Café\r\n".encode("utf-16")[:-1], "Café"),  # the last byte of a UTF-16 file cut off
    (b"reference,name\r\nCA1,Caf\xc3", "CafÃ"),  # a small UTF-8 file cut inside its last character
], ids=["utf-16", "utf-8"])
def test_a_small_text_file_cut_inside_its_last_character_converts_not_refused_as_binary(converted, content, name):
    # the cut character's one replacement character was over 2% of so short a sample: "not a data file:
    # binary content of no known format"
    result, rows = converted(content)
    assert result["status"] == "success", result["exception"]
    assert rows[:2] == [["reference", "name"], ["CA1", name]]


def test_a_zip_member_whose_stated_size_is_smaller_than_its_compressed_data_is_refused(converted):
    # GDAL's /vsizip/ read the member to the end of its data, whatever the size said: a shapefile stating
    # 120 bytes still gave every row, so a member stating 100 bytes could expand to gigabytes unchecked
    with open(os.path.join(EXAMPLES, "shapefile_zip.resource"), "rb") as f:
        real = f.read()
    lying = mutate.with_stated_size(real, "ConservationAreas.shp", 120)
    result, rows = converted(lying)
    assert result["status"] == "failed" and rows is None
    assert result["exception"].startswith("zip archive member 'ConservationAreas.shp' claims to uncompress to 120 "
                                          "bytes, but its 13275 compressed bytes cannot be so few")
    result, rows = converted(mutate.zip_bomb(honest=False))  # 100 bytes stated, 1.1 GB in fact
    assert result["status"] == "failed" and "claims to uncompress to 100 bytes" in result["exception"]
    for incompressible in (mutate.random_bytes(mutate.rng("incompressible"), 300_000), b"", b"x"):
        result, rows = converted(mutate.zip_of([("a.csv", b"a,b\r\n" + incompressible)]))  # honest sizes pass
        assert "claims to uncompress" not in result["exception"]
