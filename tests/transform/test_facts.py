"""Facts: pivot, hash, prune, combine, reference-entity, reference uniqueness; chunking and isolation."""
import os
import hashlib

from planning_pipeline.transform.facts import FACT_FIELDS, fact_hash

LOOKUP = "\n".join(f"conservation-area,,,local-authority-eng:SWK,A{i},4400000{i}" for i in range(1, 8))


def test_the_fact_hash_is_sha256_of_entity_field_value():
    assert fact_hash("700000", "entry-date", "2021-11-22") == hashlib.sha256(b"700000:entry-date:2021-11-22").hexdigest()
    assert fact_hash("700000", "entry-date", "2021-11-22").startswith("4fc14c5e")


def test_one_fact_per_field_in_sorted_order_with_the_resource_columns(transform_csv):
    result = transform_csv("reference,name,notes\nA1,One,\n", config={"lookup": LOOKUP}, resource="res1")
    with open(result.output_path) as f:
        assert f.readline().rstrip("\n") == ",".join(FACT_FIELDS)
    fields = [f["field"] for f in result.facts]
    assert fields == ["entry-date", "name", "organisation", "prefix", "reference"]  # empty notes pruned
    for fact in result.facts:
        assert fact["fact"] == fact_hash(fact["entity"], fact["field"], fact["value"])
        assert (fact["resource"], fact["entry-number"], fact["entry-date"]) == ("res1", "1", "2024-01-02")
        assert fact["start-date"] == fact["end-date"] == ""


def test_an_empty_end_date_is_still_a_fact(transform_csv):
    result = transform_csv("reference,end-date,notes\nA1,,\n", config={"lookup": LOOKUP})
    assert result.entity(44000001)["end-date"] == ""
    assert "notes" not in result.entity(44000001)


def test_the_organisation_fact_refers_to_the_organisations_entity(transform_csv):
    config = {"lookup": LOOKUP + "\nlocal-authority-eng,,,,SWK,329"}
    result = transform_csv("reference\nA1\n", config=config)
    [organisation] = [f for f in result.facts if f["field"] == "organisation"]
    assert organisation["reference-entity"] == "329"


def test_a_reference_to_an_unknown_entity_of_a_specification_dataset_is_a_missing_associated_entity(transform_csv):
    config = {"lookup": "conservation-area-document,,,local-authority-eng:SWK,D1,6300001\n"
                        "conservation-area-document,,,local-authority-eng:SWK,D2,6300002\n"
                        "conservation-area,,,local-authority-eng:SWK,CA1,44000001"}
    content = "reference,conservation-area\nD1,CA1\nD2,CA9\n"
    result = transform_csv(content, dataset="conservation-area-document", config=config)
    facts = {(f["entity"], f["field"]): f for f in result.facts}
    assert facts[("6300001", "conservation-area")]["reference-entity"] == "44000001"
    assert facts[("6300002", "conservation-area")]["reference-entity"] == ""
    [issue] = result.issues_of("missing associated entity")
    assert (issue["field"], issue["value"], issue["entity"]) == ("conservation-area", "CA9", "6300002")


def test_combined_fields_join_an_entitys_values_and_come_last(transform_csv):
    config = {"lookup": "conservation-area,,,,A1,44000001\nconservation-area,,,,B1,44000001\n"
                        "conservation-area,,,,C1,44000003",
              "combine": "conservation-area,,,name,;"}
    result = transform_csv("reference,name\nA1,Beta\nC1,Gamma\nB1,Alpha\n", config=config)
    names = [(f["entity"], f["entry-number"], f["value"]) for f in result.facts if f["field"] == "name"]
    assert names == [("44000001", "1", "Alpha;Beta"), ("44000001", "3", "Alpha;Beta"), ("44000003", "2", "Gamma")]
    assert [f["field"] for f in result.facts][-3:] == ["name", "name", "name"]
    [issue] = result.issues_of("combined-value")
    assert (issue["field"], issue["value"], issue["entity"]) == ("name", "44000001", "44000001")


def test_combined_geometries_are_unioned_into_one_multipolygon(transform_csv):
    config = {"lookup": "conservation-area,,,,A1,44000001\nconservation-area,,,,A2,44000001",
              "combine": "conservation-area,,,geometry,"}
    content = ('reference,geometry\n'
               'A1,"POLYGON ((-1 52, -0.9 52, -0.9 52.1, -1 52.1, -1 52))"\n'
               'A2,"POLYGON ((-0.9 52, -0.8 52, -0.8 52.1, -0.9 52.1, -0.9 52))"\n')
    result = transform_csv(content, config=config)
    geometries = {f["value"] for f in result.facts if f["field"] == "geometry"}
    assert len(geometries) == 1
    [geometry] = geometries
    import shapely

    shape = shapely.from_wkt(geometry)
    assert shape.geom_type == "MultiPolygon" and len(shape.geoms) == 1
    assert abs(shape.area - 0.02) < 1e-6


def test_references_given_by_several_entries_are_logged_when_nothing_is_combined(transform_csv):
    result = transform_csv("reference,name\nA1,one\nA2,two\nA1,again\n", config={"lookup": LOOKUP})
    issues = result.issues_of("reference values are not unique")
    assert [(i["line-number"], i["entry-number"], i["value"], i["entity"]) for i in issues] == [
        ("2", "1", "A1", "44000001"), ("4", "3", "A1", "44000001")]
    config = {"lookup": LOOKUP, "combine": "conservation-area,,,name,;"}
    result = transform_csv("reference,name\nA1,one\nA2,two\nA1,again\n", config=config)
    assert result.issues_of("reference values are not unique") == []


def test_references_that_resolve_to_one_entity_are_logged_on_both_lines_and_the_later_entry_wins(transform_csv):
    config = {"lookup": "conservation-area,,,,875,44000001\nconservation-area,,,,876,44000002"}
    result = transform_csv("reference,name\n8/75,first\n876,other\n875,second\n", config=config)
    issues = result.issues_of("reference values are not unique")
    assert [(i["line-number"], i["entry-number"], i["value"], i["entity"]) for i in issues] == [
        ("2", "1", "8/75", "44000001"), ("4", "3", "875", "44000001")]
    assert issues[0]["message"] == issues[1]["message"] == (
        "references 8/75 (line 2) and 875 (line 4) are one entity, 44000001, with entry-date 2024-01-02: "
        "the later entry's facts win")
    names = sorted((f["entry-number"], f["value"]) for f in result.facts if f["entity"] == "44000001" and f["field"] == "name")
    assert names == [("1", "first"), ("3", "second")]  # assemble's winner: the later entry-number


def test_the_assembled_entity_of_colliding_references_has_the_later_entrys_values(transform_csv, tmp_path):
    import sqlite3
    import subprocess
    config = {"lookup": "conservation-area,,,,875,44000001"}
    result = transform_csv("reference,name\n8/75,first\n875,second\n", config=config)
    database = tmp_path / "conservation-area.sqlite3"
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    subprocess.run([os.path.join(root, ".venv", "bin", "python"), os.path.join(root, "bin", "assemble"),
                    "--dataset", "conservation-area", "--specification-dir", os.path.join(root, "specification"),
                    "--organisation-path", os.path.join(root, "example", "organisation.csv"),
                    "--transformed-dir", os.path.dirname(result.output_path), "--output", str(database)],
                   check=True, capture_output=True)
    with sqlite3.connect(database) as conn:
        assert conn.execute("SELECT reference, name FROM entity").fetchall() == [("875", "second")]


def test_chunk_size_does_not_change_any_output(transform_csv):
    content = "reference,name,start-date\n" + "".join(f"A{i % 7 + 1},n{i},2020-01-{i % 28 + 1:02d}\n" for i in range(40))
    config = {"lookup": LOOKUP, "combine": "conservation-area,,,name,;", "patch": "conservation-area,,,name,^n1,N1"}
    small = transform_csv(content, config=config, chunk_size=3, resource="same")
    large = transform_csv(content, config=config, chunk_size=1000, resource="same")
    for name in ("output", "issue", "column-field", "dataset-resource"):
        with open(small.paths[name], "rb") as a, open(large.paths[name], "rb") as b:
            assert a.read() == b.read(), name


def test_nothing_leaks_from_one_resource_to_the_next(transform_csv):
    config = {"lookup": "conservation-area,,,,A1,44000001"}
    first = transform_csv("reference\nA1\n", config=config, organisations=["local-authority-eng:SWK"],
                          entry_date="2020-01-01")
    second = transform_csv("reference\nA1\n", config=config, organisations=[], entry_date="")
    assert first.entity(44000001)["organisation"] == "local-authority-eng:SWK"
    assert second.entity(44000001) == {"prefix": "conservation-area", "reference": "A1"}


def test_rows_with_different_fields_in_one_chunk_each_get_their_own_facts_in_sorted_order(transform_csv):
    # a bad point drops GeoX/GeoY, so rows reach the field pruning and the pivot with different
    # fields: the per-set-of-fields plans must not carry one row's fields over to the next
    lookup = "\n".join(f"brownfield-land,,,local-authority-eng:SWK,B{i},170000{i}" for i in range(1, 6))
    migrations = "brownfield-land,SiteReference,reference\nbrownfield-land,Hectares,hectares"
    content = ("SiteReference,GeoX,GeoY,Hectares\nB1,530000,180000,1.5\nB2,x,y,2\nB3,530100,180100,\n"
               "B4,,,3\nB5,530200,180200,4\n")
    result = transform_csv(content, dataset="brownfield-land", config={"lookup": lookup, "transform": migrations})
    fields = {}
    for fact in result.facts:
        fields.setdefault(fact["entity"], []).append(fact["field"])
    common = ["entry-date", "organisation", "prefix", "reference"]
    assert fields == {
        "1700001": sorted(common + ["hectares", "point"]),
        "1700002": sorted(common + ["hectares"]),
        "1700003": sorted(common + ["point"]),
        "1700004": sorted(common + ["hectares"]),
        "1700005": sorted(common + ["hectares", "point"]),
    }


def test_an_entity_whose_polygon_has_no_area_keeps_a_geometry_and_an_issue_naming_it(transform_csv):
    config = {"lookup": "conservation-area,,,,A1,44000001\nconservation-area,,,,A2,44000002\nconservation-area,,,,A3,44000003"}
    content = ('reference,name,geometry\n'
               'A1,on a line,"POLYGON ((-0.1 51.5, -0.09 51.5, -0.08 51.5, -0.1 51.5))"\n'
               'A2,fine,"POLYGON ((-0.1 51.5, -0.09 51.5, -0.09 51.51, -0.1 51.5))"\n'
               'A3,not a shape,"POLYGON ((-0.1 51.5, -0.09"\n')
    result = transform_csv(content, config=config)
    assert result.entity(44000001)["geometry"].startswith("MULTIPOLYGON (((")
    assert result.entity(44000002)["geometry"].startswith("MULTIPOLYGON (((")
    assert "geometry" not in result.entity(44000003)
    by_entity = {(i["entity"], i["issue-type"]): i for i in result.issues if i["field"] == "geometry"}
    assert "no area" in by_entity[("44000001", "invalid geometry - fixed")]["message"]
    assert ("44000003", "invalid WKT") in by_entity  # a shape that is lost always says so, for its entity
    assert not any(e == "44000002" for e, _ in by_entity)
