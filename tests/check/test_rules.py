"""One hand-made case per rule of the configuration check (docs/configuration.md)."""
from .conftest import C, ENDPOINT, ENDPOINT_HEADER, RESOURCE, SOURCE_HEADER, URL

COLUMN_HEADER = "dataset,endpoint,resource,column,field"


def test_a_good_hand_made_collection_has_no_problem(workspace):
    workspace.pipeline("column.csv", COLUMN_HEADER, f"{C},,,wkt,geometry", f"{C},,{RESOURCE},Name,name")
    assert workspace.lines() == []


# ---- headers --------------------------------------------------------------------------------------------------
def test_a_misspelt_required_header_is_named_with_the_nearest_expected_name(workspace):
    workspace.pipeline("column.csv", "dataset,endpoint,resource,column,feild", f"{C},,,wkt,geometry")
    assert workspace.lines() == [
        f"pipeline/{C}/column.csv:1: unknown column 'feild': did you mean 'field'? (required column 'field' is missing) "
        "(see docs/configuration.md#column-csv)"]


def test_a_missing_required_header_is_an_error(workspace):
    workspace.pipeline("patch.csv", "dataset,resource,field,value", f"{C},,name,x")
    assert workspace.lines() == [
        f"pipeline/{C}/patch.csv:1: missing required column 'pattern' (see docs/configuration.md#patch-csv)"]


def test_legacy_header_names_are_accepted(workspace):
    workspace.pipeline("column.csv", "pipeline,resource,pattern,value", f"{C},,wkt,geometry")
    workspace.pipeline("skip.csv", "pipeline,resource,pattern", f"{C},,^#")
    workspace.pipeline("lookup.csv", "prefix,resource,entry-number,organisation,reference,entity",
                       f"{C},,,local-authority-eng:SWK,1,44000001")
    assert workspace.lines() == []


def test_an_unknown_extra_column_is_allowed_unless_it_looks_misspelt(workspace):
    workspace.pipeline("column.csv", COLUMN_HEADER + ",comment,Start_Date", f"{C},,,wkt,geometry,why,2020-01-01")
    assert workspace.lines() == [
        f"pipeline/{C}/column.csv:1: unknown column 'Start_Date': did you mean 'start-date'? "
        "(see docs/configuration.md#column-csv)"]


def test_a_column_named_twice_is_an_error(workspace):
    workspace.pipeline("column.csv", COLUMN_HEADER + ",field", f"{C},,,wkt,geometry,name")
    assert workspace.lines() == [
        f"pipeline/{C}/column.csv:1: column 'field' appears twice in the header (see docs/configuration.md#headers)"]


def test_an_empty_file_that_needs_a_header_is_an_error_and_a_header_only_file_is_fine(workspace):
    workspace.pipeline("column.csv")
    workspace.pipeline("patch.csv", "dataset,resource,field,pattern,value")
    assert workspace.lines() == [
        f"pipeline/{C}/column.csv:1: the file is empty: it needs a header with column, field "
        "(see docs/configuration.md#column-csv)"]


# ---- rows and encoding ----------------------------------------------------------------------------------------
def test_rows_with_the_wrong_number_of_fields_are_errors_and_blank_rows_are_ignored(workspace):
    workspace.pipeline("column.csv", COLUMN_HEADER, f"{C},,,wkt", "", ",,,,", f"{C},,,wkt,geometry,extra",
                       f"{C},,,Name,name")
    assert workspace.lines() == [
        f"pipeline/{C}/column.csv:2: row has 4 fields, the header has 5 (see docs/configuration.md#rows)",
        f"pipeline/{C}/column.csv:5: row has 6 fields, the header has 5 (see docs/configuration.md#rows)"]


def test_a_multi_line_value_is_one_row_reported_at_its_first_line(workspace):
    workspace.pipeline("column.csv", COLUMN_HEADER, f'{C},,,"two\nlines",geometry', f"{C},,,x,nmae")
    assert workspace.lines() == [
        f"pipeline/{C}/column.csv:4: field: unknown field 'nmae': did you mean 'name'? (not in specification/field.csv) "
        "(see docs/configuration.md#column-csv)"]


def test_a_non_utf8_byte_is_reported_at_its_line_and_a_bom_is_fine(workspace):
    workspace.write(f"pipeline/{C}/column.csv", raw=b"\xef\xbb\xbf" + f"{COLUMN_HEADER}\r\n{C},,,wkt,geometry\r\n"
                    f"{C},,,Stra\xdfe,name\r\n".encode("latin-1"))
    assert workspace.lines() == [
        f"pipeline/{C}/column.csv:3: byte 0xdf is not UTF-8: save the file as UTF-8 (see docs/configuration.md#encoding)"]


def test_blank_required_values_are_errors(workspace):
    workspace.pipeline("column.csv", COLUMN_HEADER, f"{C},,,,geometry", f"{C},,,wkt,  ")
    assert workspace.lines() == [
        f"pipeline/{C}/column.csv:2: column is blank (see docs/configuration.md#column-csv)",
        f"pipeline/{C}/column.csv:3: field is blank (see docs/configuration.md#column-csv)"]


# ---- names the specification and organisation table know --------------------------------------------------------
def test_an_unknown_dataset_is_an_error_and_another_collections_dataset_a_warning(workspace):
    workspace.pipeline("column.csv", COLUMN_HEADER, f"conservaton-area,,,wkt,geometry", "brownfield-land,,,x,name")
    assert workspace.lines() == [
        f"pipeline/{C}/column.csv:2: dataset: unknown dataset 'conservaton-area': did you mean 'conservation-area'? "
        "(not in specification/dataset.csv) (see docs/configuration.md#column-csv)",
        f"pipeline/{C}/column.csv:3: warning: dataset: dataset 'brownfield-land' is not one of collection {C}'s "
        "datasets (conservation-area, conservation-area-document, conservation-area-document-type): the row is never "
        "used (see docs/configuration.md#column-csv)"]


def test_an_unknown_field_is_an_error_and_ignore_is_allowed(workspace):
    workspace.pipeline("column.csv", COLUMN_HEADER, f"{C},,,wkt,geometry", f"{C},,,junk,IGNORE", f"{C},,,x,nmae")
    workspace.pipeline("default.csv", "dataset,resource,field,default-field", f"{C},,start-date,entry-daet")
    problems = workspace.lines()
    assert problems == [
        f"pipeline/{C}/column.csv:4: field: unknown field 'nmae': did you mean 'name'? (not in specification/field.csv) "
        "(see docs/configuration.md#column-csv)",
        f"pipeline/{C}/default.csv:2: default-field: unknown field 'entry-daet': did you mean 'entry-date'? "
        "(not in specification/field.csv) (see docs/configuration.md#default-csv)"]


def test_organisations_local_authority_and_local_authority_eng_are_the_same(workspace):
    workspace.pipeline("lookup.csv", "prefix,resource,endpoint,entry-number,organisation,reference,entity",
                       f"{C},,,,local-authority:SWK,1,44000001", f"{C},,,,local-authority-eng:SWK,2,44000002",
                       f"{C},,,,government-organisation:D1342,3,44000003")
    assert workspace.lines() == []


def test_an_unknown_organisation_prefix_is_an_error_and_an_unknown_organisation_a_warning(workspace):
    workspace.pipeline("entity-organisation.csv", "dataset,entity-minimum,entity-maximum,organisation",
                       f"{C},44000001,44000009,local-authorty:SWK", f"{C},44000010,44000019,local-authority:ZZZ",
                       f"{C},44000020,44000029,Southwark")
    assert workspace.lines() == [
        f"pipeline/{C}/entity-organisation.csv:2: organisation: organisation 'local-authorty:SWK' has an unknown prefix "
        "'local-authorty': did you mean 'local-authority'? (not in example/organisation.csv) "
        "(see docs/configuration.md#entity-organisation-csv)",
        f"pipeline/{C}/entity-organisation.csv:3: warning: organisation: organisation 'local-authority:ZZZ' is not in "
        "example/organisation.csv (a new organisation?) (see docs/configuration.md#entity-organisation-csv)",
        f"pipeline/{C}/entity-organisation.csv:4: organisation: organisation 'Southwark' is not a CURIE "
        "(prefix:reference, e.g. local-authority:SWK) (see docs/configuration.md#entity-organisation-csv)"]


def test_organisations_are_checked_against_the_organisation_package_when_there_is_one(workspace):
    package = workspace.write("dataset/organisation.csv", "organisation,entity,name", "local-authority:ZZZ,1,New",
                              "local-authority:SWK,2,Southwark")
    workspace.pipeline("patch.csv", "dataset,resource,field,pattern,value", f"{C},,organisation,new,local-authority:ZZZ")
    assert workspace.lines() == []
    package.unlink()
    assert workspace.lines() == [
        f"pipeline/{C}/patch.csv:2: warning: value: organisation 'local-authority:ZZZ' is not in example/organisation.csv "
        "(a new organisation?) (see docs/configuration.md#patch-csv)"]


def test_warnings_do_not_fail_the_check_but_errors_do(workspace):
    workspace.pipeline("patch.csv", "dataset,resource,field,pattern,value", f"{C},,organisation,new,local-authority:ZZZ")
    report = workspace.check()
    assert report.errors == [] and len([w for w in report.warnings if "ZZZ" in str(w)]) == 1
    workspace.pipeline("patch.csv", "dataset,resource,field,pattern,value", f"{C},,organisation,new,local-autority:ZZZ")
    assert len(workspace.check().errors) == 1


def test_an_unknown_lookup_prefix_is_an_error(workspace):
    workspace.pipeline("lookup.csv", "prefix,resource,entry-number,organisation,reference,entity",
                       f"conservation-aera,,,local-authority-eng:SWK,1,44000001",
                       "transport-authority,,,,TFL,1", "local-authority-eng,,,,SWK,2")
    assert workspace.lines() == [
        f"pipeline/{C}/lookup.csv:2: prefix: unknown prefix 'conservation-aera': did you mean 'conservation-area'? (not a "
        "dataset or prefix of the specification, nor an organisation prefix) (see docs/configuration.md#lookup-csv)"]


# ---- values ---------------------------------------------------------------------------------------------------
def test_bad_dates_are_errors_and_blank_dates_and_date_times_are_fine(workspace):
    workspace.pipeline("column.csv", COLUMN_HEADER + ",entry-date,start-date,end-date",
                       f"{C},,,a,name,2020-09-06T11:53:32Z,2020-10-01,", f"{C},,,b,name,2021-12-08T12:12:45:14Z,,",
                       f"{C},,,c,name,2020-02-30,,", f"{C},,,d,name,,01/02/2020,", f"{C},,,e,name,,,2020-1-1")
    assert workspace.lines() == [
        f"pipeline/{C}/column.csv:4: entry-date: '2020-02-30' is not a date (YYYY-MM-DD, or YYYY-MM-DDThh:mm:ssZ) "
        "(see docs/configuration.md#column-csv)",
        f"pipeline/{C}/column.csv:5: start-date: '01/02/2020' is not a date (YYYY-MM-DD, or YYYY-MM-DDThh:mm:ssZ) "
        "(see docs/configuration.md#column-csv)",
        f"pipeline/{C}/column.csv:6: end-date: '2020-1-1' is not a date (YYYY-MM-DD, or YYYY-MM-DDThh:mm:ssZ) "
        "(see docs/configuration.md#column-csv)"]


def test_a_bad_date_in_endpoint_csv_is_an_error(workspace):
    workspace.write(f"collection/{C}/endpoint.csv", ENDPOINT_HEADER, f"{ENDPOINT},{URL},,,2020-09-06T11:53:32Z,2020-10-01,2026-13-01")
    assert workspace.errors() == [
        f"collection/{C}/endpoint.csv:2: end-date: '2026-13-01' is not a date (YYYY-MM-DD, or YYYY-MM-DDThh:mm:ssZ) "
        "(see docs/configuration.md#endpoint-csv)"]


def test_bad_regular_expressions_are_errors_in_patch_filter_and_skip(workspace):
    workspace.pipeline("patch.csv", "dataset,resource,field,pattern,value", f"{C},,name,(unclosed,x", f"{C},,name,^ok$,y")
    workspace.pipeline("filter.csv", "dataset,resource,field,pattern", f"{C},,name,[a-")
    workspace.pipeline("skip.csv", "dataset,resource,pattern", f"{C},,*start")
    assert [p.split(": ", 2)[:2] for p in workspace.lines()] == [
        [f"pipeline/{C}/filter.csv:2", "pattern"],
        [f"pipeline/{C}/patch.csv:2", "pattern"],
        [f"pipeline/{C}/skip.csv:2", "pattern"]]
    assert "'(unclosed' is not a valid regular expression: missing )" in workspace.lines()[1]


def test_a_patch_value_naming_a_group_the_pattern_lacks_is_an_error(workspace):
    workspace.pipeline("patch.csv", "dataset,resource,field,pattern,value",
                       f"{C},,name,^This site is within (.*),\\1", f"{C},,name,^(.*) - (.*)$,\\2 \\3")
    assert workspace.lines() == [
        f"pipeline/{C}/patch.csv:3: value '\\\\2 \\\\3' refers to group 3, but the pattern has 2 groups "
        "(see docs/configuration.md#patch-csv)"]


def test_bad_endpoint_urls_are_errors(workspace):
    urls = ["https://example.org/a b.csv", "ftp://example.org/x", "https:///nohost", "file:example/x.gpkg",
            "http://example.org:99999/"]
    rows = [f"{__import__('hashlib').sha256(u.encode()).hexdigest()},{u},,,,," for u in urls]
    workspace.write(f"collection/{C}/endpoint.csv", ENDPOINT_HEADER, *rows)
    errors = [e for e in workspace.errors() if "endpoint-url" in e]
    assert [e.split(":")[1] for e in errors] == ["2", "3", "4", "6"]
    assert "contains spaces" in errors[0] and "not an http, https or file URL" in errors[1]
    assert "has no host" in errors[2] and "bad port" in errors[3]


def test_an_endpoint_must_be_the_sha256_of_its_url_and_unique(workspace):
    other = "0" * 64
    workspace.write(f"collection/{C}/endpoint.csv", ENDPOINT_HEADER, f"{ENDPOINT},{URL},,,,,", f"{other},{URL},,,,,",
                    f"{ENDPOINT},{URL},,,,,", f"{ENDPOINT[:-1]},{URL},,,,,")
    errors = workspace.errors()
    assert errors[0].startswith(f"collection/{C}/endpoint.csv:3: endpoint 000000000000... is not the sha256 of its "
                                f"endpoint-url (that is {ENDPOINT})")
    assert errors[1] == (f"collection/{C}/endpoint.csv:4: duplicate endpoint {ENDPOINT}: also on line 2 "
                         "(see docs/configuration.md#endpoint-csv)")
    assert errors[2].startswith(f"collection/{C}/endpoint.csv:5: endpoint: '{ENDPOINT[:-1]}' is not a sha256 hash")
    assert len(errors) == 3


def test_endpoint_plugin_and_parameters_are_checked(workspace):
    workspace.write(f"collection/{C}/endpoint.csv", ENDPOINT_HEADER, f'{ENDPOINT},{URL},"{{""page_size"": 500}}",wfs,,,',
                    )
    assert workspace.lines() == []
    workspace.write(f"collection/{C}/endpoint.csv", ENDPOINT_HEADER, f'{ENDPOINT},{URL},"[1, 2]",wfss,,,')
    assert workspace.errors() == [
        f"collection/{C}/endpoint.csv:2: parameters: '[1, 2]' is not a JSON object ({{...}}) "
        "(see docs/configuration.md#endpoint-csv)",
        f"collection/{C}/endpoint.csv:2: plugin: unknown plugin 'wfss' (known: arcgis, wfs; blank for a plain download) "
        "(see docs/configuration.md#endpoint-csv)"]


def test_a_source_must_name_a_known_endpoint_and_datasets(workspace):
    unknown = "1" * 64
    workspace.write(f"collection/{C}/source.csv", SOURCE_HEADER,
                    f",,{C},,{ENDPOINT},,local-authority-eng:SWK,conservation-areas,,,",
                    f",,{C},,{unknown},,local-authority-eng:SWK,{C},,,",
                    f",,{C},,{ENDPOINT},,local-authority-eng:SWK,,,,",
                    f",,{C},,,,local-authority-eng:CMD,,,,")  # a placeholder
    assert workspace.errors() == [
        f"collection/{C}/source.csv:2: pipelines: unknown dataset 'conservation-areas': did you mean "
        "'conservation-area'? (not in specification/dataset.csv) (see docs/configuration.md#source-csv)",
        f"collection/{C}/source.csv:3: endpoint 111111111111... is not in endpoint.csv (see docs/configuration.md#source-csv)",
        f"collection/{C}/source.csv:4: pipelines is blank: the endpoint's resources would feed no dataset "
        "(see docs/configuration.md#source-csv)"]


def test_an_endpoint_no_source_names_is_a_warning(workspace):
    workspace.write(f"collection/{C}/source.csv", SOURCE_HEADER)
    assert workspace.lines() == [
        f"collection/{C}/endpoint.csv:2: warning: endpoint {ENDPOINT[:12]}... has no source in source.csv: its "
        "resources feed no dataset (see docs/configuration.md#endpoint-csv)"]


def test_old_resource_statuses_and_duplicates(workspace):
    new = "2" * 64
    workspace.write(f"collection/{C}/old-resource.csv", "old-resource,status,resource",
                    f"{RESOURCE},301,{new}", f"{RESOURCE},410,", f"{new},302,{RESOURCE}", f"{'3' * 64},301,")
    assert workspace.errors() == [
        f"collection/{C}/old-resource.csv:3: duplicate old-resource {RESOURCE}: also on line 2 "
        "(see docs/configuration.md#old-resource-csv)",
        f"collection/{C}/old-resource.csv:4: status: status '302' is neither 301 (moved: replaced by another) nor 410 "
        "(gone) (see docs/configuration.md#old-resource-csv)",
        f"collection/{C}/old-resource.csv:5: status 301 needs the resource that replaces the old one "
        "(see docs/configuration.md#old-resource-csv)"]


def test_whole_numbers_and_ranges(workspace):
    workspace.pipeline("lookup.csv", "prefix,resource,entry-number,organisation,reference,entity",
                       f"{C},,,local-authority-eng:SWK,1,4400000x", f"{C},,,local-authority-eng:SWK,2,")
    workspace.pipeline("old-entity.csv", "old-entity,status,entity", "44000001,301,", "44000002,301,44000002",
                       "44000003,410,")
    workspace.pipeline("entity-organisation.csv", "dataset,entity-minimum,entity-maximum,organisation",
                       f"{C},44000009,44000001,local-authority-eng:SWK")
    assert workspace.errors() == [
        f"pipeline/{C}/entity-organisation.csv:2: entity-minimum 44000009 is greater than entity-maximum 44000001 "
        "(see docs/configuration.md#entity-organisation-csv)",
        f"pipeline/{C}/lookup.csv:2: entity: '4400000x' is not a whole number (see docs/configuration.md#lookup-csv)",
        f"pipeline/{C}/lookup.csv:3: entity is blank (see docs/configuration.md#lookup-csv)",
        f"pipeline/{C}/old-entity.csv:2: status 301 needs the entity the old entity redirects to "
        "(see docs/configuration.md#old-entity-csv)",
        f"pipeline/{C}/old-entity.csv:3: entity 44000002 redirects to itself (see docs/configuration.md#old-entity-csv)"]


def test_expect_operations_and_parameters(workspace):
    header = "datasets,organisations,operation,parameters,name"
    workspace.pipeline("expect.csv", header, f'{C},local-authority,count_lpa_boundary,"{{""lpa"": ""{{{{ organisation.local_planning_authority }}}}""}}",a',
                       f"{C},,count_rowz,,b", f'{C},,count_rows,"{{not json",c', f"{C},councils,count_rows,,d")
    errors = workspace.errors()
    assert [e.split(": ")[0] for e in errors] == [f"pipeline/{C}/expect.csv:3", f"pipeline/{C}/expect.csv:4",
                                                  f"pipeline/{C}/expect.csv:5"]
    assert "unknown operation 'count_rowz': did you mean 'count_rows'?" in errors[0]
    assert "parameters: '{not json' is not JSON" in errors[1]
    assert "'councils' is neither an organisation CURIE nor a kind of organisation" in errors[2]


# ---- files ----------------------------------------------------------------------------------------------------
def test_a_misspelt_configuration_file_name_is_an_error(workspace):
    workspace.pipeline("colum.csv", COLUMN_HEADER)
    workspace.pipeline("lookup-rule.csv", "prefix,organisation,offset")
    assert workspace.lines() == [
        f"pipeline/{C}/colum.csv: unknown configuration file: did you mean column.csv? (see docs/configuration.md#pipeline)"]


def test_missing_collection_files_and_directories_are_errors(workspace):
    (workspace.root / "collection" / C / "source.csv").unlink()
    (workspace.root / "pipeline" / C).rmdir()
    assert workspace.lines() == [
        f"collection/{C}/source.csv: missing file (see docs/configuration.md#source-csv)",
        f"pipeline/{C}: the pipeline directory is missing (it may hold header-only files) "
        "(see docs/configuration.md#pipeline)"]


def test_the_specification_is_checked_too(workspace):
    spec = workspace.root / "specification"
    text = (spec / "field.csv").read_text(encoding="utf-8")
    (spec / "field.csv").write_text(text.replace(",datetime,", ",datetim,", 1), encoding="utf-8")
    (spec / "datatype.csv").write_text((spec / "datatype.csv").read_text(encoding="utf-8") + "datetime,,,,,\r\n",
                                       encoding="utf-8")
    errors = workspace.errors()
    assert len(errors) == 2
    assert errors[0].startswith("specification/datatype.csv:") and "duplicate datatype datetime" in errors[0]
    assert errors[1].startswith("specification/field.csv:") and "unknown datatype 'datetim': did you mean 'datetime'?" in errors[1]


def test_a_collection_the_specification_does_not_know_is_an_error(workspace):
    workspace.root.joinpath("collection", C).rename(workspace.root / "collection" / "conservation-areas")
    workspace.root.joinpath("pipeline", C).rename(workspace.root / "pipeline" / "conservation-areas")
    from planning_pipeline.check import check

    problems = [str(p) for p in check(str(workspace.root), ["conservation-areas"]).errors]
    assert problems[0] == ("specification/dataset.csv: no dataset has collection 'conservation-areas': the collection "
                           "would build nothing (see docs/configuration.md#specification-dataset-csv)")


def test_threshold_rows_are_checked_as_the_gate_reads_them(workspace):
    workspace.pipeline("threshold.csv", "dataset,check,field,threshold", f"{C},shrink,,25%", f"{C},shrnik,,10",
                       ",blank,name,lots", f"{C},removed,name,5", ",organisation-lost,,none")
    assert workspace.lines() == [
        f"pipeline/{C}/threshold.csv:3: unknown check 'shrnik': expected one of shrink, removed, blank, "
        "organisation-lost (see docs/configuration.md#threshold-csv)",
        f"pipeline/{C}/threshold.csv:4: threshold 'lots' for blank is not a percentage such as 10% or none "
        "(see docs/configuration.md#threshold-csv)",
        f"pipeline/{C}/threshold.csv:5: a field is only given for the blank check, not removed "
        "(see docs/configuration.md#threshold-csv)"]
