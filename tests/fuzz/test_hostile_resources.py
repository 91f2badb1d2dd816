"""A seeded fuzzer: hostile variants of real resources through bin/transform and bin/convert, as the
Makefile runs them, under a time and memory limit.

Every case must end in a clear outcome: exit 0 with the transformed CSV and its logs written (a bad
value or row an issue row, a bad file a failed conversion in the converted-resource log, with its
reason), or a one-line error naming the file (exit 2); never a traceback, a hang, a blown memory limit,
or a temporary file left beside an output. The cases are made from tests/data/resource-examples (the
real CSV, GeoJSON, GML, KML, zipped shapefiles, Excel and JSON files) and the bundled conservation-area
GeoPackage, mutated with seeds named after each case (mutate.seed_of), plus hand-made hostile files.
"""
import concurrent.futures
import csv
import os
import resource as rlimits
import shutil
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import mutate  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(HERE))
PYTHON = os.path.join(ROOT, ".venv", "bin", "python")
EXAMPLES = os.path.join(ROOT, "tests", "data", "resource-examples")
GEOPACKAGE = os.path.join(ROOT, "collection", "conservation-area", "resource",
                          "b9503f86a1e0c5e02c1fa5b42b8d84c63b1cca421813dfc44c0f1bf7b59e5d74")
TIME_LIMIT = 30
MEMORY_LIMIT = 1536 << 20
FACT_FIELDS = ["end-date", "entity", "entry-date", "entry-number", "fact", "field", "priority",
               "reference-entity", "resource", "start-date", "value"]
ISSUE_FIELDS = ["dataset", "resource", "line-number", "entry-number", "field", "entity", "issue-type", "value",
                "message"]

csv.field_size_limit(sys.maxsize)

# dataset -> (the real pipeline configuration, the resource's organisation, lookup rows added to it so the
# hand-made rows get entities: {reference: entity})
PIPELINES = {
    "conservation-area": (os.path.join(ROOT, "pipeline", "conservation-area"), "local-authority-eng:SWK",
                          {f"CA{n}": 44990000 + n for n in range(1, 31)}),
    "brownfield-land": (os.path.join(ROOT, "tests", "data", "brownfield-land", "pipeline"), "local-authority-eng:NKE",
                        {"BLR/0001": 1799901, "BLR/0002": 1799902}),
}


def pipeline_copy(dataset, base):
    """The dataset's real pipeline folder copied into base, with the lookup rows of PIPELINES added."""
    source, organisation, entities = PIPELINES[dataset]
    target = os.path.join(base, "pipeline", dataset)
    shutil.copytree(source, target)
    path = os.path.join(target, "lookup.csv")
    with open(path, encoding="utf-8", newline="") as f:
        header = next(csv.reader(f))
        f.seek(0)
        ends_with_newline = f.read().endswith("\n")
    with open(path, "a", encoding="utf-8", newline="") as f:
        if not ends_with_newline:
            f.write("\r\n")
        writer = csv.DictWriter(f, header)
        for reference, entity in entities.items():
            writer.writerow({"prefix": dataset, "organisation": organisation, "reference": reference,
                             "entity": entity})
    return target


def example(name):
    with open(os.path.join(EXAMPLES, name), "rb") as f:
        return f.read()


def geopackage():
    with open(GEOPACKAGE, "rb") as f:
        return f.read()


class Case:
    def __init__(self, name, make, dataset="conservation-area", expect=None, check=None, filename=None,
                 convert=True):
        self.name = name
        self.make = make  # () -> bytes
        self.dataset = dataset
        self.expect = expect  # "failed" / "success": the conversion status the case must have; None: either
        self.check = check  # (Outcome) -> None, asserting more of a case whose right answer is known
        self.filename = filename or "resource"
        self.convert = convert  # also through bin/convert (a value case's CSV converts trivially: not worth it)

    def __repr__(self):
        return self.name


# --- the cases ---------------------------------------------------------------------------------------
TEXT_BASES = {  # name -> (loader, dataset)
    "csv": (lambda: example("csv.resource"), "brownfield-land"),
    "geojson": (lambda: example("geojson.resource"), "conservation-area"),
    "gml": (lambda: example("gml.resource"), "conservation-area"),
    "kml": (lambda: example("kml.resource"), "conservation-area"),
    "kml-bad": (lambda: example("kml-bad.resource"), "conservation-area"),
    "json-table": (lambda: example("json_efficient_format.resource"), "conservation-area"),
    "json-table-data-first": (lambda: example("json_efficient_format_data_first.resource"), "conservation-area"),
    "json-utf8-sig": (lambda: example("utf-8-sig-json.resource"), "conservation-area"),
}
BINARY_BASES = {
    "shapefile-zip": (lambda: example("shapefile_zip.resource"), "conservation-area"),
    "shapefile-zip-not-in-root": (lambda: example("shapefile_zip_not_in_root.resource"), "conservation-area"),
    "xlsx": (lambda: example("xlsx.resource"), "brownfield-land"),
    "xlsm": (lambda: example("xlsm.resource"), "brownfield-land"),
    "geopackage": (geopackage, "conservation-area"),
}
TEXT_MUTATIONS = ("truncated", "flipped", "nuls", "bom-in-middle", "cr-only", "mixed-line-endings",
                  "unbalanced-quote")
BINARY_MUTATIONS = (("truncated", 1), ("truncated", 2), ("flipped", 1), ("flipped", 2), ("nuls", 1))


def mutated(base, loader, mutation, n=1):
    name = f"{base}-{mutation}" + (f"-{n}" if n > 1 else "")
    return name, lambda: mutate.MUTATIONS[mutation](loader(), mutate.rng(name))


def mutated_cases():
    for base, (loader, dataset) in TEXT_BASES.items():
        for mutation in TEXT_MUTATIONS:
            name, make = mutated(base, loader, mutation)
            yield Case(name, make, dataset)
    for base, (loader, dataset) in BINARY_BASES.items():
        for mutation, n in BINARY_MUTATIONS:
            name, make = mutated(base, loader, mutation, n)
            yield Case(name, make, dataset)


def issue_for(field, *issue_types):
    """A check: every row's `field` value was refused or changed with an issue (of one of the types)."""
    def check(outcome):
        logged = [i for i in outcome.issues if field.lower() in i["field"].lower().split(",")]
        assert logged, f"no issue logged for {field}"
        if issue_types:
            assert {i["issue-type"] for i in logged} & set(issue_types), logged
    return check


def no_fact_value(field, value):
    def check(outcome):
        assert not [f for f in outcome.facts if f["field"] == field and f["value"] == value], \
            f"{field} {value!r} emitted as a fact"
    return check


def both(*checks):
    def check(outcome):
        for c in checks:
            c(outcome)
    return check


GEOMETRY_VALUES = {
    "garbage": "this is not WKT",
    "unclosed-paren": "POLYGON((-0.1 51.5,-0.09 51.5",
    "1e308": "POINT(1e308 1e308)",
    "1e308-polygon": "POLYGON((0 0,1e308 0,1e308 1e308,0 0))",
    "overflow": "POINT(1e999 51)",
    "nan": "POINT(nan nan)",
    "infinity": "POINT(inf -inf)",
    "empty": "POLYGON EMPTY",
    "collection": "GEOMETRYCOLLECTION(POINT(-0.1 51.5),LINESTRING(-0.1 51.5,-0.09 51.51))",
    "self-intersecting": "POLYGON((-0.1 51.5,-0.09 51.51,-0.09 51.5,-0.1 51.51,-0.1 51.5))",
    "unclosed-ring": "POLYGON((-0.1 51.5,-0.09 51.5,-0.09 51.51,-0.1 51.51))",
    "3d": "POLYGON Z((-0.1 51.5 1,-0.09 51.5 1,-0.09 51.51 1,-0.1 51.5 1))",
    "4d": "POLYGON ZM((-0.1 51.5 1 2,-0.09 51.5 1 2,-0.09 51.51 1 2,-0.1 51.5 1 2))",
    "ewkt": "SRID=27700;POINT(530000 180000)",
    "deep-parens": "POLYGON" + "(" * 100_000 + ")" * 100_000,
    "enormous": mutate.circle_wkt(60_000),
    "zigzag": mutate.zigzag_wkt(3_000),
    "two-points": "POLYGON((-0.1 51.5,-0.1 51.5))",
    "hex-junk": "0101000020E6100000" + "ff" * 40,
}
POINT_VALUES = {"garbage": "POINT(x y)", "1e308": "POINT(1e308 -1e308)", "nan": "POINT(nan 51)",
                "polygon": mutate.CA_ROW[2]}
DATE_VALUES = {"zeros": "0000-00-00", "not-leap": "1900-02-29", "offset-25h": "2024-01-01T00:00:00+25:00", "year-99999": "99999-01-01", "feb-30": "2024-02-30",
               "uk-feb-31": "31/02/2024", "1e999": "1e999", "minus-zero": "-0", "digits": "9" * 400,
               "bad-time": "2024-02-29T25:61:61", "year-0": "0000-01-01"}
BROWNFIELD_NUMBERS = {"1e999": "1e999", "minus-zero": "-0", "nan": "NaN", "infinity": "inf", "-infinity": "-Infinity",
                      "digits": "9" * 400, "thousands": "1,000.5", "garbage": "lots"}


def brownfield_csv(**values):
    rows = list(csv.reader(example("csv.resource").decode("utf-8").splitlines()))
    header, row = rows[0], list(rows[1])
    for column, value in values.items():
        row[header.index(column)] = value
    return mutate.csv_bytes([header, row])


def value_cases():
    for case in _value_cases():
        case.convert = False
        yield case


def _value_cases():
    bad_geometry = issue_for("geometry")
    for name, value in GEOMETRY_VALUES.items():
        check = None
        if name in ("garbage", "unclosed-paren", "1e308", "1e308-polygon", "overflow", "nan", "infinity", "deep-parens",
                    "hex-junk", "two-points"):
            check = both(bad_geometry, no_fact_value("geometry", value))
        yield Case(f"wkt-{name}", lambda v=value: mutate.ca_csv(geometry=v), expect="success", check=check)
    for name, value in POINT_VALUES.items():
        yield Case(f"point-{name}", lambda v=value: mutate.ca_csv(point=v), expect="success",
                   check=issue_for("point") if name != "polygon" else None)
    # upstream reads YYYY-DD-MM when YYYY-MM-DD fails: 2024-13-01 is 13 January, not an issue
    yield Case("date-month-13", lambda: mutate.ca_csv(designation_date="2024-13-01"), expect="success",
               check=lambda o: [f["value"] for f in o.facts if f["field"] == "designation-date"] == ["2024-01-13"]
               or pytest.fail(str(o.facts)))
    for name, value in DATE_VALUES.items():
        yield Case(f"date-{name}", lambda v=value: mutate.ca_csv(designation_date=v), expect="success",
                   check=both(issue_for("designation-date"), no_fact_value("designation-date", value)))
    for name, value in BROWNFIELD_NUMBERS.items():
        yield Case(f"number-{name}", lambda v=value: brownfield_csv(Hectares=v, MinNetDwellings=v),
                   dataset="brownfield-land", expect="success",
                   check=issue_for("Hectares") if name not in ("minus-zero", "thousands") else None)
        yield Case(f"coordinates-{name}", lambda v=value: brownfield_csv(GeoX=v, GeoY=v), dataset="brownfield-land",
                   expect="success", check=issue_for("GeoX") if name not in ("minus-zero",) else None)


def text_cases():
    yield Case("line-separators-in-values", lambda: mutate.csv_bytes(
        [mutate.CA_HEADER[:3] + ["notes"], ["CA1", "Old\u2028Town\x85", mutate.CA_ROW[2], "a\x0bb\x0cc\u2029d"],
         ["CA2", "Next", mutate.CA_ROW[2], "e"]]), expect="success",
        check=lambda o: {"CA1", "CA2"} <= {f["value"] for f in o.facts if f["field"] == "reference"}
        or pytest.fail(str(o.facts)))
    yield Case("reserved-column-names", lambda: mutate.csv_bytes(
        [["reference", "name", "entity", "entry-number", "resource", "fact", "priority", "line-number", "prefix",
          "organisation", "entry-date", "dataset"],
         ["CA1", "Old Town", "abc", "-5", "../../x", "f", "zz", "0", "other-prefix", "nonsense:org", "9999-99-99", "x"],
         ["CA2", "New Town", "1", "1e9", "", "", "-1", "", "", "", "", ""]]), expect="success")
    yield Case("utf-32-with-bom", lambda: "reference,name\r\nCA1,Café\r\n".encode("utf-32"), expect="success",
               check=lambda o: "Café" in {f["value"] for f in o.facts} or pytest.fail(str(o.facts)))
    yield Case("utf-16-odd-length", lambda: "reference,name\r\nCA1,Café\r\n".encode("utf-16")[:-1], expect="success")
    yield Case("utf-8-overlong-and-surrogates", lambda: b"reference,name\r\nCA1,\xc0\xaf\xed\xa0\x80\xf4\x90\x80\x80x\r\n",
               expect="success")
    yield Case("utf-8-then-cp1252", lambda: "reference,name\r\nCA1,Café\r\n".encode() * 3000
               + "CA2,Caf\xe9 \x80\r\n".encode("latin-1"), expect="success",
               check=lambda o: "Café €" in {f["value"] for f in o.facts} or pytest.fail("CA2's name misread"))
    yield Case("header-name-1mb", lambda: mutate.csv_bytes([["reference", "n" * (1 << 20)], ["CA1", "x"]]),
               expect="success")
    yield Case("nul-in-header", lambda: b"refer\x00ence,na\x00me\r\nCA1,Old Town\r\n", expect="success",
               check=lambda o: "Old Town" in {f["value"] for f in o.facts} or pytest.fail(str(o.facts)))
    yield Case("zero-bytes", lambda: b"", expect="failed")
    yield Case("blank-space", lambda: b" \r\n\t\n\n  \n", expect="failed")
    yield Case("one-quote", lambda: b'"', expect=None)
    yield Case("unclosed-quote-to-end", lambda: b'reference,name\r\nCA1,"Old Town\r\nCA2,New\r\n' * 3)
    yield Case("huge-field-10mb", mutate.huge_field, expect="success")
    yield Case("columns-100000", mutate.many_columns, expect="success")
    yield Case("duplicate-headers", mutate.duplicate_headers, expect="success")
    yield Case("blank-headers", mutate.blank_headers, expect="success")
    yield Case("header-only", mutate.header_only, expect="success",
               check=lambda o: len(o.facts) == 0 or pytest.fail("facts from a header-only file"))
    yield Case("utf16-le-without-bom", mutate.utf16_without_bom, expect="success",
               check=lambda o: {"Café Quarter", "Ålby"} <= {f["value"] for f in o.facts} or pytest.fail(str(o.facts)))
    yield Case("utf16-be-without-bom", lambda: mutate.utf16_without_bom(True), expect="success",
               check=lambda o: {"Café Quarter", "Ålby"} <= {f["value"] for f in o.facts} or pytest.fail(str(o.facts)))
    yield Case("latin-1", mutate.latin1, expect="success",
               check=lambda o: "Café £5 Ñ" in {f["value"] for f in o.facts} or pytest.fail(str(o.facts)))
    # upstream drops " and ” from text values (reference: string/text), so the ” goes
    yield Case("cp1252", mutate.cp1252, expect="success",
               check=lambda o: "“Smart quotes – and €" in {f["value"] for f in o.facts} or pytest.fail(str(o.facts)))
    yield Case("html-named-csv", lambda: mutate.HTML_PAGE, expect="failed", filename="conservation-areas.csv")
    yield Case("html-without-doctype", mutate.html_without_doctype, expect="failed")
    yield Case("random-bytes", lambda: mutate.random_bytes(mutate.rng("random-bytes"), 5000), expect="failed")
    yield Case("pdf", lambda: b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n", expect="failed")
    yield Case("commas-5mb-one-line", lambda: b"," * (5 << 20))
    yield Case("newlines-only-cr", lambda: b"\r" * 10000, expect="failed")


def json_cases():
    yield Case("json-deep-arrays", mutate.deep_json, expect="failed")
    yield Case("json-deep-objects", mutate.deep_objects, expect="failed")
    yield Case("json-deep-in-records", mutate.deep_in_records, expect="failed")
    for name, text in (("number", b"42"), ("string", b'"hello"'), ("null", b"null"), ("true", b"true"),
                       ("empty-object", b"{}"), ("empty-list", b"[]"), ("list-of-numbers", b"[1,2,3]"),
                       ("list-of-strings", b'["a","b"]'), ("list-of-lists", b"[[1,2],[3]]"),
                       ("huge-number", b"[{\"reference\": \"CA1\", \"name\": 1e999}]"),
                       ("table-junk", b'{"columns": 5, "data": "x"}'),
                       ("table-ragged", b'{"columns": ["reference","name"], "data": [["CA1"],["CA2","b","c"],7]}'),
                       ("records-mixed", b'[{"reference":"CA1"}, 5, null, ["x"], {"reference":{"a":1}}]'),
                       ("unterminated", b'[{"reference":"CA1","name":"x'),
                       ("nan-literal", b'[{"reference":"CA1","name":NaN}]')):
        check = None
        if name in ("huge-number", "nan-literal"):  # the number's own text, not inf or nan
            check = (lambda o, v={"huge-number": "1e999", "nan-literal": "NaN"}[name]:
                     v in {f["value"] for f in o.facts if f["field"] == "name"} or pytest.fail(str(o.facts)))
        yield Case(f"json-{name}", lambda t=text: t, check=check,
                   expect="failed" if name in ("number", "string", "null", "true", "empty-object", "empty-list",
                                               "table-junk", "unterminated") else None)


def geojson_cases():
    g = mutate.feature_collection
    ring = mutate.RING
    polygon = lambda coordinates: {"type": "Polygon", "coordinates": coordinates}  # noqa: E731
    yield Case("geojson-null-geometry", lambda: g([None, polygon([ring])]), expect="success")
    yield Case("geojson-empty-coordinates", lambda: g([polygon([]), {"type": "Point", "coordinates": []}]))
    yield Case("geojson-invalid-type", lambda: g([{"type": "Blob", "coordinates": [1, 2]}]))
    yield Case("geojson-huge-coordinates", lambda: g([polygon([[[1e308, 1e308], [-1e308, 1e308], [0, -1e308],
                                                                 [1e308, 1e308]]])]),
               check=no_fact_value("geometry", "POLYGON ((1e308 1e308,-1e308 1e308,0 -1e308,1e308 1e308))"))
    yield Case("geojson-nan", lambda: mutate.geojson_raw('{"type":"Point","coordinates":[NaN,NaN]}'))
    yield Case("geojson-infinity", lambda: mutate.geojson_raw('{"type":"Point","coordinates":[Infinity,-Infinity]}'))
    yield Case("geojson-1e999", lambda: mutate.geojson_raw('{"type":"Point","coordinates":[1e999,51]}'))
    yield Case("geojson-3d", lambda: g([polygon([[p + [10.0] for p in ring]])]), expect="success")
    yield Case("geojson-4d", lambda: g([polygon([[p + [10.0, 20.0] for p in ring]])]), expect="success")
    yield Case("geojson-geometry-collection", lambda: g([{"type": "GeometryCollection", "geometries": [
        {"type": "Point", "coordinates": [-0.1, 51.5]}, polygon([ring])]}]), expect="success")
    yield Case("geojson-self-intersecting", lambda: g([polygon([[[-0.1, 51.5], [-0.09, 51.51], [-0.09, 51.5],
                                                                 [-0.1, 51.51], [-0.1, 51.5]]])]), expect="success")
    yield Case("geojson-unclosed-ring", lambda: g([polygon([ring[:-1]])]))
    yield Case("geojson-string-coordinates", lambda: g([{"type": "Point", "coordinates": ["a", "b"]}]))
    yield Case("geojson-deep-coordinates", lambda: mutate.geojson_raw(
        '{"type":"Polygon","coordinates":' + "[" * 50_000 + "]" * 50_000 + "}"))
    yield Case("geojson-features-null", lambda: b'{"type":"FeatureCollection","features":null}')
    yield Case("geojson-features-object", lambda: b'{"type":"FeatureCollection","features":{"a":1}}')
    yield Case("geojson-empty-collection", lambda: b'{"type":"FeatureCollection","features":[]}')
    yield Case("geojson-no-properties", lambda: b'{"type":"FeatureCollection","features":[{"type":"Feature",'
                                                b'"geometry":{"type":"Point","coordinates":[-0.1,51.5]}}]}')
    yield Case("geojson-bare-feature", lambda: b'{"type":"Feature","properties":{"reference":"CA1"},'
                                               b'"geometry":{"type":"Point","coordinates":[-0.1,51.5]}}')
    yield Case("geojson-not-utf8-values", lambda: mutate.geojson_raw('{"type":"Point","coordinates":[-0.1,51.5]}')
               .replace(b'"name":"x"', b'"name":"Caf\xe9 \xff\xfe \xed\xa0\x80"'), expect="success")
    yield Case("geojson-bare-geometry", lambda: b'{"type":"Point","coordinates":[-0.1,51.5]}')


GEOJSON_START = b'{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"name":"'


def archive_cases():
    csv_member = mutate.ca_csv()
    yield Case("zip-path-traversal", lambda: mutate.zip_of([("../../x.csv", csv_member)]), expect="failed")
    yield Case("zip-absolute-path", lambda: mutate.zip_of([("/etc/x.csv", csv_member)]), expect="failed")
    yield Case("zip-backslash-traversal", lambda: mutate.zip_of([("..\\..\\x.csv", csv_member)]), expect="failed")
    yield Case("zip-bomb", mutate.zip_bomb, expect="failed")
    yield Case("zip-bomb-lying-headers", lambda: mutate.zip_bomb(honest=False), expect="failed")
    yield Case("zip-bomb-geojson", lambda: mutate.zip_bomb(name="bomb.geojson", prefix=GEOJSON_START), expect="failed")
    yield Case("zip-bomb-geojson-lying-headers", lambda: mutate.zip_bomb(
        name="bomb.geojson", prefix=GEOJSON_START, honest=False), expect="failed")
    yield Case("zip-bomb-gml-lying-headers", lambda: mutate.zip_bomb(
        name="bomb.gml", prefix=b'<?xml version="1.0"?><wfs:FeatureCollection xmlns:wfs="http://www.opengis.net/wfs">',
        honest=False), expect="failed")
    yield Case("zip-bomb-shapefile-lying-headers", lambda: mutate.zip_of(
        [("a.shx", b"\x00" * 100), ("a.dbf", b"\x00" * 100)]).replace(b"PK\x05\x06", b"PK\x05\x07")  # no end record
        + mutate.zip_bomb(name="a.shp", prefix=b"\x00\x00\x27\x0a", honest=False), expect="failed")
    yield Case("zip-in-zip", lambda: mutate.zip_of([("inner.zip", mutate.zip_of([("x.csv", csv_member)]))]))
    yield Case("zip-empty", mutate.empty_zip, expect="failed")
    yield Case("zip-encrypted", lambda: mutate.encrypted_zip([("x.csv", csv_member)]), expect="failed")
    yield Case("zip-encrypted-shapefile", lambda: mutate.encrypted_zip(
        [(n, b"\x00" * 200) for n in ("a.shp", "a.shx", "a.dbf")]), expect="failed")
    yield Case("zip-html-member", lambda: mutate.zip_of([("data.csv", mutate.HTML_PAGE)]), expect="failed")
    yield Case("zip-two-csvs", lambda: mutate.zip_of([("a.csv", csv_member), ("b.csv", csv_member)]),
               expect="failed")
    yield Case("zip-only-text", lambda: mutate.zip_of([("readme.txt", b"hello")]), expect="failed")
    yield Case("zip-too-many-members", lambda: mutate.zip_of([(f"f{i}.txt", b"") for i in range(10_001)]),
               expect="failed")
    yield Case("zip-junk-shapefile", lambda: mutate.zip_of(
        [(n, mutate.random_bytes(mutate.rng("junk-" + n), 300)) for n in ("a.shp", "a.shx", "a.dbf")]),
        expect="failed")
    yield Case("xlsx-junk", lambda: mutate.junk_xlsx(mutate.rng("xlsx-junk")), expect="failed")
    yield Case("xlsx-billion-laughs", lambda: mutate.xlsx_with_xml(mutate.sheet(
        [["reference", "name"], ["CA1", "&lol9;"]], mutate.LAUGHS)), expect="failed")
    yield Case("xlsx-external-entity", lambda: mutate.xlsx_with_xml(mutate.sheet(
        [["reference", "name"], ["CA1", "&ext;"]], mutate.EXTERNAL)),
        check=lambda o: not any("root:" in f["value"] for f in o.facts) or pytest.fail("external entity read"))
    yield Case("xlsx-no-sheets", lambda: mutate.xlsx_with_xml(
        mutate.sheet([]), b'<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
                          b'2006/main"><sheets/></workbook>'), expect="failed")
    for name, cell in (("date-serial-huge", '<c r="B{n}" s="1"><v>1e20</v></c>'),
                       ("date-serial-negative", '<c r="B{n}" s="1"><v>-5000000</v></c>'),
                       ("date-serial-nan", '<c r="B{n}" s="1"><v>NaN</v></c>'),
                       ("number-junk", '<c r="B{n}"><v>not a number</v></c>'),
                       ("shared-string-out-of-range", '<c r="B{n}" t="s"><v>99999</v></c>'),
                       ("bad-cell-reference", '<c r="ZZZZZZ99999999" t="inlineStr"><is><t>x</t></is></c>'),
                       ("error-cell", '<c r="B{n}" t="e"><v>#DIV/0!</v></c>'),
                       ("boolean-junk", '<c r="B{n}" t="b"><v>maybe</v></c>')):
        yield Case(f"xlsx-{name}", lambda c=cell: mutate.xlsx_cells([c.format(n=2)],
                                                                    shared_strings=b'<?xml version="1.0"?><sst '
                                                                    b'xmlns="http://schemas.openxmlformats.org/'
                                                                    b'spreadsheetml/2006/main"><si><t>a</t></si></sst>'))
    yield Case("xlsx-last-cell", lambda: mutate.xlsx_cells(
        ['<c r="B2" t="inlineStr"><is><t>Old Town</t></is></c></row><row r="1048576"><c r="XFD1048576" '
         't="inlineStr"><is><t>far away</t></is></c>']), expect="success")
    yield Case("xlsx-wide-rows", lambda: mutate.xlsx_cells(
        ['<c r="B{n}" t="inlineStr"><is><t>x</t></is></c><c r="XFD{n}"><v>1</v></c>'.format(n=n) for n in range(2, 200)]),
        expect="success")
    yield Case("xls-junk", lambda: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + mutate.random_bytes(mutate.rng("xls"), 3000),
               expect="failed")
    yield Case("sqlite-junk", lambda: b"SQLite format 3\x00" + mutate.random_bytes(mutate.rng("sqlite"), 3000),
               expect="failed")
    yield Case("geopackage-header-only", lambda: geopackage()[:1024], expect="failed")
    yield Case("ods-junk", lambda: mutate.zip_of([("mimetype", b"application/vnd.oasis.opendocument.spreadsheet"),
                                                  ("content.xml", b"<junk")]), expect="failed")
    for name, change in (("prj-junk", lambda n, d: b"GEOGCS[junk" if n.endswith(".prj") else d),
                         ("cpg-unknown", lambda n, d: b"NOT-AN-ENCODING-\xff" if n.endswith(".cpg") else d),
                         ("cpg-utf16", lambda n, d: b"UTF-16" if n.endswith(".cpg") else d),
                         ("dbf-truncated", lambda n, d: d[:len(d) // 3] if n.endswith(".dbf") else d),
                         ("shx-missing", lambda n, d: None if n.endswith(".shx") else d),
                         ("dbf-missing", lambda n, d: None if n.endswith(".dbf") else d),
                         ("shp-header-only", lambda n, d: d[:100] if n.endswith(".shp") else d)):
        yield Case(f"shapefile-{name}", lambda c=change: mutate.rezip(example("shapefile_zip.resource"), c))
    yield Case("zip-member-name-not-utf8", lambda: mutate.zip_of([("caf\udce9}.csv".encode("utf-8", "surrogateescape")
                                                                   .decode("cp437"), mutate.ca_csv())]))
    yield Case("geojson-bogus-crs", lambda: mutate.feature_collection([{"type": "Polygon", "coordinates": [
        mutate.RING]}]).replace(b'{"type": "FeatureCollection",',
                                b'{"type": "FeatureCollection", "crs": {"type": "name", "properties": '
                                b'{"name": "urn:ogc:def:crs:EPSG::999999"}},'), expect="success")
    yield Case("gml-bogus-srs", lambda: example("gml.resource").replace(b'srsName="', b'srsName="EPSG:999999#', 1))
    yield Case("kml-many-placemarks", lambda: b'<?xml version="1.0"?><kml xmlns="http://www.opengis.net/kml/2.2">'
               b"<Document>" + b"".join(b"<Placemark><name>CA%d</name><Point><coordinates>-0.1,51.5</coordinates>"
                                        b"</Point></Placemark>" % i for i in range(20_000)) + b"</Document></kml>",
               expect="success")
    yield Case("kml-network-links", lambda: b'<?xml version="1.0"?><kml xmlns="http://www.opengis.net/kml/2.2"><Document>'
               + b"".join(b"<NetworkLink><Link><href>http://192.0.2.1/%d.kml</href></Link></NetworkLink>" % i
                          for i in range(20))
               + b"<Placemark><name>CA1</name><Point><coordinates>-0.1,51.5</coordinates></Point></Placemark>"
               b"</Document></kml>")
    yield Case("gml-remote-xlinks", lambda: example("gml.resource").replace(
        b"<gml:featureMember>", b'<gml:featureMember xlink:href="http://192.0.2.1/f.gml#x" '
                                b'xmlns:xlink="http://www.w3.org/1999/xlink">', 5))
    yield Case("kml-billion-laughs", lambda: mutate.kml_with(mutate.LAUGHS), expect="failed")
    yield Case("kml-external-entity", lambda: mutate.kml_with(mutate.EXTERNAL, b"&ext;"), expect="failed")
    yield Case("kml-deep-elements", lambda: b'<?xml version="1.0"?><kml xmlns="http://www.opengis.net/kml/2.2">'
                                            + b"<Folder>" * 50_000 + b"</Folder>" * 50_000 + b"</kml>")


CASES = [*mutated_cases(), *value_cases(), *text_cases(), *json_cases(), *geojson_cases(), *archive_cases()]
assert len({c.name for c in CASES}) == len(CASES)


# --- running them ------------------------------------------------------------------------------------
def limit_resources():
    rlimits.setrlimit(rlimits.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    rlimits.setrlimit(rlimits.RLIMIT_CORE, (0, 0))


def run_limited(argv, cwd):
    try:
        done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, errors="replace",
                              timeout=TIME_LIMIT, preexec_fn=limit_resources)
        return done.returncode, done.stdout, done.stderr
    except subprocess.TimeoutExpired as expired:
        return "timeout", str(expired.stdout or ""), str(expired.stderr or "")


class Outcome:
    pass


def read_dicts(path):
    with open(path, encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        return header, [dict(zip(header, row)) for row in reader]


def run_case(case, base, pipelines):
    work = os.path.join(base, case.name)
    os.makedirs(os.path.join(work, "collection"))
    path = os.path.join(work, "collection", case.filename)
    with open(path, "wb") as f:
        f.write(case.make())
    pipeline_dir, organisation = pipelines[case.dataset], PIPELINES[case.dataset][1]
    dirs = {k: os.path.join(work, k) for k in ("transformed", "issue", "column-field", "dataset-resource",
                                               "converted-resource", "converted", "cache", "convert")}
    output = os.path.join(dirs["transformed"], case.filename + ".csv")
    outcome = Outcome()
    outcome.case, outcome.path, outcome.dirs, outcome.output = case, path, dirs, output
    outcome.transform = run_limited([
        PYTHON, os.path.join(ROOT, "bin", "transform"), "--dataset", case.dataset, "--pipeline-dir", pipeline_dir,
        "--specification-dir", os.path.join(ROOT, "specification"),
        "--organisation-path", os.path.join(ROOT, "example", "organisation.csv"),
        "--endpoints", "e1", "--organisations", organisation, "--entry-date", "2024-01-02",
        "--issue-dir", dirs["issue"], "--column-field-dir", dirs["column-field"],
        "--dataset-resource-dir", dirs["dataset-resource"], "--converted-resource-dir", dirs["converted-resource"],
        "--converted-dir", dirs["converted"], "--cache-dir", dirs["cache"], path, output], work)
    if not case.convert:
        return outcome
    converted = os.path.join(dirs["convert"], case.filename + ".csv")
    outcome.convert_output = converted
    outcome.convert_log = os.path.join(dirs["convert"], "log", case.filename + ".csv")
    outcome.convert = run_limited([
        PYTHON, os.path.join(ROOT, "bin", "convert"), path, converted,
        "--converted-resource-log", outcome.convert_log, "--dataset", case.dataset], work)
    return outcome


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory):
    """Every case run once, two at a time (the machine's two cores), before the first check."""
    base = str(tmp_path_factory.mktemp("fuzz"))
    pipelines = {dataset: pipeline_copy(dataset, base) for dataset in PIPELINES}
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        futures = {case.name: pool.submit(run_case, case, base, pipelines) for case in CASES}
        return {name: future.result() for name, future in futures.items()}


def files_in(directory):
    found = []
    for top, _, names in os.walk(directory):
        found.extend(os.path.relpath(os.path.join(top, n), directory) for n in names)
    return sorted(found)


def assert_clean_exit(name, status, stdout, stderr, ok, path):
    assert status != "timeout", f"{name} ran over {TIME_LIMIT} s"
    assert "Traceback" not in stdout + stderr, f"{name}: {stderr[-3000:]}"
    assert status in ok or status == 2, f"{name} exit status {status}: {stderr[-2000:]}"
    if status != 0:
        lines = [line for line in stderr.splitlines() if line.strip()]
        assert len(lines) == 1, f"{name} exit {status} with {len(lines)} lines on stderr: {stderr[-2000:]}"
        assert path in lines[0] or os.path.basename(path) in lines[0], lines[0]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_hostile_resource_through_bin_transform_has_a_clear_outcome(outcomes, case):
    outcome = outcomes[case.name]
    status, stdout, stderr = outcome.transform
    assert_clean_exit("bin/transform", status, stdout, stderr, (0,), outcome.path)
    assert status != 0 or not stderr.strip(), f"bin/transform printed on stderr: {stderr[-2000:]}"
    name = case.filename + ".csv"
    expected = {"transformed": [name], "issue": [name], "column-field": [name], "dataset-resource": [name],
                "converted-resource": [name]}
    for kind, names in expected.items():
        assert files_in(outcome.dirs[kind]) == (names if status == 0 else []), kind
    log_header, log = read_dicts(os.path.join(outcome.dirs["converted-resource"], name))
    assert log_header == ["dataset", "resource", "elapsed", "status", "exception"] and len(log) == 1
    conversion = log[0]["status"]
    assert conversion in ("success", "failed")
    kept = files_in(outcome.dirs["converted"])
    assert kept == ([case.filename + ".csv", case.filename + ".json"] if conversion == "success" else []), kept
    header, outcome.facts = read_dicts(outcome.output)
    assert header == FACT_FIELDS
    issue_header, outcome.issues = read_dicts(os.path.join(outcome.dirs["issue"], name))
    assert issue_header == ISSUE_FIELDS
    if conversion == "failed":
        assert log[0]["exception"].strip(), "a failed conversion logged without a reason"
        assert outcome.facts == []
    if case.expect:
        assert conversion == case.expect, f"conversion {conversion}: {log[0]['exception']}"
    if case.check:
        case.check(outcome)


CONVERT_CASES = [c for c in CASES if c.convert]


@pytest.mark.parametrize("case", CONVERT_CASES, ids=[c.name for c in CONVERT_CASES])
def test_hostile_resource_through_bin_convert_has_a_clear_outcome(outcomes, case):
    outcome = outcomes[case.name]
    status, stdout, stderr = outcome.convert
    assert_clean_exit("bin/convert", status, stdout, stderr, (0, 1), outcome.path)
    _, log = read_dicts(outcome.convert_log)
    assert len(log) == 1 and log[0]["status"] == ("success" if status == 0 else "failed")
    if status == 1:
        assert log[0]["exception"].strip()
    written = [n for n in files_in(outcome.dirs["convert"]) if not n.startswith("log" + os.sep)]
    assert written == ([case.filename + ".csv"] if status == 0 else []), written
    if status == 0:
        with open(outcome.convert_output, encoding="utf-8", newline="") as f:
            rows = list(csv.reader(f))
        assert rows and rows[0], "a converted file without a header"
    if case.expect:
        assert log[0]["status"] == case.expect, log[0]["exception"]
