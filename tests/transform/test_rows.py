"""The row phases before harmonise: normalise, skip, parse, concat, filter, map, patch."""
from planning_pipeline.transform.mapping import map_headers
from planning_pipeline.transform.normalise import normalise_cell

LOOKUP = "\n".join(f"conservation-area,,,local-authority-eng:SWK,A{i},4400000{i}" for i in range(1, 8))


def test_null_like_cells_are_blanked_and_whitespace_stripped():
    for value in ("NULL", "<null>", "<<NULL>>", "n/a", "N/A", "#N/A", "NA", "?", "???", "-", "---", "  \t"):
        assert normalise_cell(value) == "", value
    assert normalise_cell("  a\r\nb \n") == "a\r\nb"
    assert normalise_cell("nullable") == "nullable"
    assert normalise_cell("-1") == "-1"


def test_rows_mapped_as_they_are_read_are_the_rows_mapped_by_column_name(transform_csv):
    # without concat.csv and column filters the reader maps cells to fields itself; a filter that
    # keeps every row makes the transform map by column name instead: the results must not differ
    content = ("reference,name,NAME,notes,notes,geometry\nA1,One,Uno,n1,n2,\nA2,Two\nA3,Three,Tres,x,y,z,extra\n"
               ",\nNULL,n/a,,,\nA4,\"Fo,ur\",,,,\n")
    direct = transform_csv(content, config={"lookup": LOOKUP}, resource="r")
    by_name = transform_csv(content, config={"lookup": LOOKUP, "filter": "conservation-area,,,notes,.*"},
                            resource="r")
    assert direct.facts == by_name.facts and direct.facts
    assert direct.issues == by_name.issues
    assert [r["column"] for r in direct.column_field] == [r["column"] for r in by_name.column_field]


def test_empty_lines_are_dropped_and_entries_numbered_without_them(transform_csv):
    result = transform_csv("reference,name\nA1,One\n,\nNULL,n/a\nA2,Two\n",
                           config={"lookup": LOOKUP, "patch": "conservation-area,,,name,Two,Deux"})
    by_entity = {f["entity"]: f for f in result.facts if f["field"] == "name"}
    assert by_entity["44000001"]["entry-number"] == "1"
    assert by_entity["44000002"]["entry-number"] == "2"
    # the all-null line is dropped; A2 is the 2nd entry on the 5th CSV record
    [patch] = result.issues_of("patch")
    assert (patch["line-number"], patch["entry-number"], patch["entity"]) == ("5", "2", "44000002")
    assert result.dataset_resource[0]["line-count"] == "5"


def test_skip_patterns_drop_lines_and_can_drop_the_header(transform_csv):
    result = transform_csv("# a comment line\nreference,name\nA1,One\nSKIP ME,x\nA2,Two\n",
                           config={"skip": "conservation-area,,,^#\nconservation-area,,,^SKIP", "lookup": LOOKUP})
    assert sorted(result.entities) == ["44000001", "44000002"]
    assert result.dataset_resource[0]["entry-count"] == "2"
    # dropping the header makes the first data line the header: nothing maps, nothing has a reference
    result = transform_csv("reference,name\nA1,One\nA2,Two\n", config={"skip": "conservation-area,,,^reference",
                                                                      "lookup": LOOKUP})
    assert result.entities == []
    assert [i["line-number"] for i in result.issues_of("unknown entity - missing reference")] == ["3"]


def test_concat_joins_non_empty_columns_with_prepend_append_and_logs_the_column_field(transform_csv):
    result = transform_csv("reference,part1,part2\nA1,Alpha,Beta\nA2,,Gamma\nA3,,\n", config={
        "concat": "conservation-area,,,notes,part1;part2, / ,[,]", "lookup": LOOKUP})
    assert result.entity(44000001)["notes"] == "[Alpha / Beta]"
    assert result.entity(44000002)["notes"] == "[Gamma]"
    assert "notes" not in result.entity(44000003)
    assert {"dataset": "conservation-area", "resource": result.summary["resource"], "column": "[part1 / part2]",
            "field": "notes"} in result.column_field


def test_filters_keep_rows_only_when_every_filter_matches(transform_csv):
    content = "reference,name,status\nA1,Keep,live\nA2,Keep,dead\nA3,Drop,live\n"
    result = transform_csv(content, config={"lookup": LOOKUP, "filter": "conservation-area,,,name,^Keep\n"
                                                                        "conservation-area,,,status,^live"})
    assert result.entities == ["44000001"]


def test_filters_by_field_name_apply_after_mapping(transform_csv):
    content = "ref,title\nA1,Keep\nA2,Drop\n"
    result = transform_csv(content, config={"lookup": LOOKUP, "column": "conservation-area,,,ref,reference\n"
                                                                        "conservation-area,,,title,name",
                                            "filter": "conservation-area,,e1,name,^Keep"})
    assert result.entities == ["44000001"]


def test_map_uses_column_csv_then_field_names_and_drops_ignored_and_unknown_columns(transform_csv):
    content = "Site Name,REFERENCE,Secret,Whatever,Start_Date\nOne,A1,s,w,2020-01-02\n"
    result = transform_csv(content, config={"lookup": LOOKUP, "column": "conservation-area,,,site name,name\n"
                                                                        "conservation-area,,,secret,IGNORE"})
    assert result.entity(44000001) == {"entry-date": "2024-01-02", "name": "One", "organisation":
                                       "local-authority-eng:SWK", "prefix": "conservation-area", "reference": "A1",
                                       "start-date": "2020-01-02"}
    assert {(r["column"], r["field"]) for r in result.column_field} == {
        ("Site Name", "name"), ("REFERENCE", "reference"), ("Start_Date", "start-date")}


def test_an_explicit_mapping_beats_a_column_named_like_the_field():
    pairs = map_headers(["Name", "Title"], {"title": "name"}, ["name"])
    assert pairs == [("Title", "name")]


def test_geox_geoy_win_over_easting_northing_mapped_to_the_same_field():
    pairs = map_headers(["Easting", "GeoX", "Northing", "GeoY"], {"easting": "GeoX", "northing": "GeoY"},
                        ["GeoX", "GeoY"])
    assert pairs[-2:] == [("GeoX", "GeoX"), ("GeoY", "GeoY")]


def test_patch_matches_literally_or_by_case_insensitive_regex_and_logs_the_original(transform_csv):
    content = "reference,name,notes\nA1,old name,x\nA2,Mill Lane CA,x\n"
    result = transform_csv(content, config={"lookup": LOOKUP, "patch": """
conservation-area,,,name,old name,New Name
conservation-area,,,name,^(.*) ca$,\\1 Conservation Area
conservation-area,,,,^x$,patched everywhere
"""})
    assert result.entity(44000001)["name"] == "New Name"
    assert result.entity(44000002)["name"] == "Mill Lane Conservation Area"
    assert result.entity(44000002)["notes"] == "patched everywhere"
    patches = result.issues_of("patch")
    assert {(i["field"], i["value"]) for i in patches} == {("name", "old name"), ("name", "Mill Lane CA"),
                                                           ("notes", "x")}
    assert all(i["entity"] for i in patches)
