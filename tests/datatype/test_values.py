"""string, text, address, flag, url, decimal, integer, latitude/longitude and pass-through datatypes:
small tables of inputs -> outputs and issue types."""
import csv
import os

import pytest

from planning_pipeline.datatype import ListIssues, normaliser

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run(datatype, value, **options):
    issues = ListIssues()
    result = normaliser(datatype, "field", **options)(value, issues)
    return result, issues.types


@pytest.mark.parametrize("value, expected", [
    ("  plain  ", "plain"),
    ('  "Quoted"   text\n with\tspaces ', "Quoted text with spaces"),
    ("right \u201dquote\u201d", "right quote"),
    ("", ""),
])
def test_strings_and_texts_are_stripped_collapsed_and_unquoted(value, expected):
    assert run("string", value) == (expected, [])
    assert run("text", value) == (expected, [])


@pytest.mark.parametrize("value, expected", [
    ("1 High Street\nTown;County", "1 High Street, Town, County"),
    ("Flat 1 , , High Street,,", "Flat 1, High Street"),
    ("12 - 14 Mill Lane", "12-14 Mill Lane"),
    ('"The Old Mill",\r\nLittle   Snoring', "The Old Mill, Little Snoring"),
])
def test_addresses_become_one_line(value, expected):
    assert run("address", value) == (expected, [])


@pytest.mark.parametrize("value, expected, issues", [
    ("yes", "yes", []),
    ("Y", "yes", []),
    (" NO ", "no", []),
    ("n", "no", []),
    ("", "", []),
    ("maybe", "", ["invalid flag"]),
    ("true", "", ["invalid flag"]),
])
def test_flags_are_yes_no_or_blank(value, expected, issues):
    assert run("flag", value) == (expected, issues)


@pytest.mark.parametrize("value, expected", [
    ("https://example.com/a/b?c=1#d", "https://example.com/a/b?c=1#d"),
    (" http://www.example.org.uk/some path ", "http://www.example.org.uk/somepath"),
    ("HTTP://Example.COM", "HTTP://Example.COM"),
    ("ftp://ftp.example.com/file.zip", "ftp://ftp.example.com/file.zip"),
    ("http://192.168.1.10:8080/x", "http://192.168.1.10:8080/x"),
    ("http://[2001:db8::1]/x", "http://[2001:db8::1]/x"),
    ("https://user:pw@example.com/", "https://user:pw@example.com/"),
    ("https://münchen.de/straße", "https://münchen.de/straße"),
    ("https://xn--mnchen-3ya.de/", "https://xn--mnchen-3ya.de/"),
])
def test_good_urls_are_kept_without_whitespace(value, expected):
    assert run("url", value) == (expected, [])


@pytest.mark.parametrize("value", [
    "example.com", "www.example.com/page", "mailto:someone@example.com", "javascript:alert(1)",
    "http://", "http://localhost/", "http://-bad-.com", "http://ex_ample.com", "http://example",
    "http://example.123", "http://999.1.1.1/", "http://example.com:99999/", "http://[::zz]/",
    "http://exa\x00mple.com", "not a url",
])
def test_bad_urls_are_an_invalid_uri(value):
    assert run("url", value) == ("", ["invalid URI"])


@pytest.mark.parametrize("value, expected", [
    ("1.500000", "1.5"),
    ("10.0", "10"),
    ("£1,234.50", "1234.5"),
    ("-2.25", "-2.25"),
    ("0.12345678", "0.123457"),
    ("1.0000005", "1"),  # half-even at 6 places
    ("1.0000015", "1.000002"),
    ("-0.0000001", "0"),
    ("1e3", "1000"),
    (" 7 ", "7"),
    (".5", "0.5"),
])
def test_decimals_are_rounded_and_written_plainly(value, expected):
    assert run("decimal", value) == (expected, [])


@pytest.mark.parametrize("value", ["abc", "1.2.3", "NaN", "Infinity", "1_000", "٣", "1 000", "--1", "1e1000"])
def test_bad_decimals_are_an_invalid_decimal(value):
    assert run("decimal", value) == ("", ["invalid decimal"])


@pytest.mark.parametrize("precision", [0, 2, 6, 10])
def test_plain_decimals_are_written_as_the_decimal_arithmetic_writes_them(precision):
    import random

    from planning_pipeline.datatype.number import DecimalNormaliser

    rng = random.Random(precision)
    fast = DecimalNormaliser("field", precision=precision)
    slow = DecimalNormaliser("field", precision=precision)
    slow.plain = None  # always Decimal
    digits = lambda: "".join(rng.choice("0000123456789") for _ in range(rng.randint(0, 12)))  # noqa: E731
    values = [digits() + rng.choice(["", ".", "." + digits()]) for _ in range(5000)] + ["0", "000.000", "5.", "100"]
    for value in values:
        assert fast(value) == slow(value), value


def test_decimals_have_no_default_minimum_but_honour_given_bounds():
    assert run("decimal", "-5") == ("-5", [])  # upstream defaulted to minimum 0: "too small"
    assert run("decimal", "-5", minimum=0) == ("", ["too small"])
    assert run("decimal", "12.5", maximum=10) == ("", ["too large"])
    assert run("decimal", "10", minimum=0, maximum=10) == ("10", [])


@pytest.mark.parametrize("value, expected", [("5", "5"), ("5.0", "5"), ("5.000", "5"), ("+007", "7"),
                                             ("-3", "-3"), ("-0", "0"), (" 42 ", "42")])
def test_integers_lose_a_zero_fraction_and_leading_zeros(value, expected):
    assert run("integer", value) == (expected, [])


@pytest.mark.parametrize("value", ["1.5", "abc", "1e3", "1,000", "1_000", "5.0.0"])
def test_bad_integers_are_an_invalid_integer(value):
    assert run("integer", value) == ("", ["invalid integer"])


def test_integers_have_no_default_minimum_but_honour_given_bounds():
    assert run("integer", "-7") == ("-7", [])
    assert run("integer", "-7", minimum=0) == ("", ["too small"])
    assert run("integer", "11", maximum=10) == ("", ["too large"])


@pytest.mark.parametrize("datatype", ["latitude", "longitude"])
def test_latitudes_and_longitudes_are_decimals_without_bounds_or_pound_signs(datatype):
    assert run(datatype, "51.50000000") == ("51.5", [])
    assert run(datatype, "-0.1234567") == ("-0.123457", [])
    assert run(datatype, "530000.25") == ("530000.25", [])  # eastings in GeoX, reprojected later
    assert run(datatype, "£5") == ("", ["invalid decimal"])
    assert run(datatype, "north") == ("", ["invalid decimal"])


@pytest.mark.parametrize("datatype", ["wkt", "json", "hash", "pattern", "reference", "blob", "curie",
                                      "curie-list", "no-such-datatype", ""])
def test_opaque_and_unknown_datatypes_pass_through_stripped(datatype):
    assert run(datatype, '  {"a": 1}  ') == ('{"a": 1}', [])


def test_every_datatype_of_the_specification_has_a_normaliser():
    with open(os.path.join(ROOT, "specification", "datatype.csv"), newline="") as f:
        datatypes = [row["datatype"] for row in csv.DictReader(f)]
    for datatype in datatypes:
        fn = normaliser(datatype, "field")
        assert fn("", ListIssues()) == ""
        assert isinstance(fn(" x ", ListIssues()), str)


def test_issue_types_logged_are_those_of_the_specification():
    with open(os.path.join(ROOT, "specification", "issue-type.csv"), newline="") as f:
        known = {row["issue-type"] for row in csv.DictReader(f)}
    emitted = {"invalid date", "far-past-date", "far-future-date", "invalid decimal", "too small", "too large",
               "invalid integer", "invalid URI", "invalid flag", "Unexpected geom type", "invalid WKT",
               "invalid coordinates", "invalid type geojson", "OSGB", "OSGB flipped",
               "OSGB out of bounds of England", "WGS84 flipped", "WGS84 out of bounds of England", "Mercator",
               "Mercator flipped", "invalid geometry - fixed", "invalid geometry - not fixable",
               "Unexpected geom type within GeometryCollection"}
    assert emitted - known == set()


NASTY = ["", " ", "\x00", "\n\n", "None", "null", "-", ".", ",", "£", "1e999999", "9" * 5000, "٢٠٢٠",
         "\u2028", "POINT (", "{", '{"type": 1}', "🙂", "31/31/31", "0000-00-00",
         "2020-02-30T25:61:61+99:99", "SRID=4326;", "GEOMETRYCOLLECTION (", "-1" * 100]


@pytest.mark.parametrize("datatype", ["address", "datetime", "decimal", "flag", "integer", "latitude",
                                      "longitude", "multipolygon", "point", "string", "text", "url", "curie"])
def test_no_input_makes_a_normaliser_raise(datatype):
    fn = normaliser(datatype, "field")
    for value in NASTY:
        assert isinstance(fn(value, ListIssues()), str)
        assert isinstance(fn(value, None), str)


@pytest.mark.parametrize("datatype", ["multipolygon", "point"])
def test_no_input_makes_the_geometry_batch_raise(datatype):
    from planning_pipeline.datatype import normalise_geometries, normalise_points_xy

    values = NASTY + ["POINT (NaN NaN)", "POLYGON ((nan nan, 1 1, 1 0, nan nan))", "POINT (1e999 1)"]
    assert all(isinstance(v, str) for v in normalise_geometries(values, datatype, [ListIssues() for _ in values]))
    assert normalise_geometries([], datatype, []) == []
    assert normalise_points_xy(values, list(reversed(values)), [None] * len(values)) == [None] * len(values)
