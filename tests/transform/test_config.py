"""Loading the pipeline files: scoping (general, endpoint, resource), the dataset filter, legacy
aliases, how scopes override each other, and the effective configuration of a resource."""
import os

import pytest

from planning_pipeline.errors import UserError
from planning_pipeline.transform.config import ConfigIndex, effective_config

from .conftest import write_pipeline


def config_for(tmp_path, config, resource="r1", endpoints=("e1",), organisations=("local-authority-eng:SWK",),
               dataset="conservation-area", specification=None):
    index = ConfigIndex(write_pipeline(str(tmp_path / "pipeline"), config), specification)
    return index.resource_config(dataset, resource, list(endpoints), list(organisations))


def test_resource_and_endpoint_column_mappings_override_general_ones(tmp_path):
    config = config_for(tmp_path, {"column": """
conservation-area,,,Name,name
conservation-area,,,Title,name
conservation-area,,,Ref,reference
conservation-area,,e1,Title,notes
conservation-area,r1,,Ref,documentation-url
conservation-area,,e1,Ref,description
conservation-area,,,Other,documentation-url
"""})
    columns = config.columns()
    # Title: endpoint mapping beats general; Ref: resource beats endpoint beats general
    assert columns["title"] == "notes"
    assert columns["ref"] == "documentation-url"
    # a general mapping whose field is already a specific target is dropped
    assert "other" not in columns
    assert columns["name"] == "name"


def test_rows_scoped_to_other_resources_endpoints_or_datasets_do_not_apply(tmp_path):
    config = config_for(tmp_path, {"column": """
conservation-area,r2,,A,name
conservation-area,,e2,B,name
tree,,,C,name
,,,D,notes
"""})
    assert config.columns() == {"d": "notes"}


def test_legacy_pipeline_and_pattern_value_columns_are_understood(tmp_path):
    config = config_for(tmp_path, {
        "column": ("pipeline,resource,pattern,value", "conservation-area,,Site Name,name\ntree,,X,notes"),
        "skip": ("pipeline,resource,pattern", "conservation-area,,^#\ntree,,^x"),
        "lookup": ("dataset,resource,organisation,value,entity", "conservation-area,,,CA1,44000001"),
    })
    assert config.columns() == {"sitename": "name"}
    assert [p for p, _ in config.skip_patterns()] == ["^#"]
    row = next(config.lookup_rows())
    assert (row["prefix"], row["reference"]) == ("conservation-area", "CA1")


def test_skip_patterns_apply_from_every_scope(tmp_path):
    config = config_for(tmp_path, {"skip": """
conservation-area,,,^general
conservation-area,r1,,^resource
conservation-area,,e1,^endpoint
conservation-area,,e2,^other
"""})
    assert sorted(p for p, _ in config.skip_patterns()) == ["^endpoint", "^general", "^resource"]


def test_concat_endpoint_overrides_resource_overrides_general(tmp_path):
    config = config_for(tmp_path, {"concat": """
conservation-area,,,notes,a;b,-,,
conservation-area,r1,,notes,c;d,-,,
conservation-area,,e1,notes,e;f,-,,
conservation-area,r1,,name,x;y,/,,
"""})
    rules = config.concatenations()
    assert rules["notes"]["fields"] == "e;f"
    assert rules["name"]["fields"] == "x;y"


def test_filters_before_mapping_ignore_endpoint_rows_after_mapping_use_them(tmp_path):
    config = config_for(tmp_path, {"filter": """
conservation-area,,,name,^A
conservation-area,,e1,name,^B
conservation-area,,e1,reference,^R
"""})
    assert {f: p for f, (p, _) in config.filters(mapped=False).items()} == {"name": "^A"}
    assert {f: p for f, (p, _) in config.filters(mapped=True).items()} == {"name": "^B", "reference": "^R"}


def test_patches_specific_first_and_override_general_for_the_same_pattern(tmp_path):
    config = config_for(tmp_path, {"patch": """
conservation-area,,,name,^x$,general
conservation-area,,,name,^y$,general-y
conservation-area,r1,,name,^x$,resource
conservation-area,,e1,name,^z$,endpoint
"""})
    patches = config.patches()["name"]
    assert [(p, v) for p, v, _ in patches] == [("^x$", "resource"), ("^z$", "endpoint"), ("^y$", "general-y")]


def test_defaults_and_combine_take_the_most_specific_row(tmp_path):
    config = config_for(tmp_path, {
        "default": "conservation-area,,,start-date,designation-date\nconservation-area,,e1,start-date,entry-date",
        "default-value": "conservation-area,,,notes,general\nconservation-area,,e1,notes,endpoint\n"
                         "conservation-area,r2,,notes,other-resource",
        "combine": "conservation-area,,,geometry,\nconservation-area,,e1,name,;",
    })
    assert config.default_fields() == {"start-date": "entry-date"}
    assert config.default_values() == {"notes": "endpoint"}
    assert config.combine_fields() == {"geometry": "", "name": ";"}


def test_a_replacement_field_given_twice_is_an_error_naming_the_line(tmp_path):
    config = config_for(tmp_path, {"transform": "conservation-area,old-a,name\nconservation-area,old-b,name"})
    with pytest.raises(UserError) as error:
        config.migrations()
    assert "transform.csv:3" in str(error.value)


def test_lookup_rows_are_those_of_the_dataset_prefix_and_the_resources_organisations(tmp_path, specification):
    config = config_for(tmp_path, {"lookup": """
conservation-area,,,local-authority-eng:SWK,A,44000001
conservation-area,,,local-authority:SWK,B,44000002
conservation-area,,,local-authority-eng:CMD,C,44000003
conservation-area,,,,D,44000004
conservation-area,r1,1,,,44000005
conservation-area,r2,1,,,44000006
tree,,,local-authority-eng:SWK,E,7002000001
local-authority-eng,,,,SWK,329
"""}, specification=specification)
    references = sorted(r["reference"] or r["entry-number"] for r in config.lookup_rows())
    # E: a row of the resource's own organisation applies whatever prefix the data names
    assert references == ["1", "A", "B", "D", "E", "SWK"]


def test_old_entity_rows_are_those_of_the_lookup_entities_followed_through(tmp_path, specification):
    config = config_for(tmp_path, {
        "lookup": "conservation-area,,,local-authority-eng:SWK,A,44000001",
        "old-entity": "44000001,301,44000010\n44000010,410,\n44000099,410,",
    }, specification=specification)
    assert [r["old-entity"] for r in config.old_entity_rows] == ["44000001", "44000010"]


def test_effective_config_changes_only_for_the_endpoint_whose_row_was_edited(tmp_path, specification):
    pipeline = write_pipeline(str(tmp_path / "p"), {"column": "conservation-area,,,Name,name\n"
                                                              "conservation-area,,e1,Title,name"})

    def texts():
        return {r: effective_config(pipeline, "conservation-area", r, [e], ["local-authority-eng:SWK"],
                                    specification=specification)
                for r, e in (("r1", "e1"), ("r2", "e2"), ("r3", "e1"))}

    before = texts()
    with open(os.path.join(pipeline, "column.csv"), "a") as f:
        f.write("conservation-area,,e1,Ref,reference\n")
    os.utime(os.path.join(pipeline, "column.csv"), ns=(1, 1))  # a new mtime and size for the cache
    after_endpoint_edit = texts()
    assert after_endpoint_edit["r1"] != before["r1"] and after_endpoint_edit["r3"] != before["r3"]
    assert after_endpoint_edit["r2"] == before["r2"]

    with open(os.path.join(pipeline, "patch.csv"), "a") as f:
        f.write("conservation-area,,,name,^x,y\n")
    after_general_edit = texts()
    assert all(after_general_edit[r] != after_endpoint_edit[r] for r in after_general_edit)


def test_effective_config_ignores_other_datasets_rows_and_expectations(tmp_path, specification):
    pipeline = write_pipeline(str(tmp_path / "p"), {"column": "conservation-area,,,Name,name"})
    before = effective_config(pipeline, "conservation-area", "r1", ["e1"], [], specification=specification)
    with open(os.path.join(pipeline, "column.csv"), "a") as f:
        f.write("tree,,,Name,name\n")
    with open(os.path.join(pipeline, "expect.csv"), "a") as f:
        f.write("conservation-area,,count,{},x\n")
    after = effective_config(pipeline, "conservation-area", "r1", ["e1"], [], specification=specification)
    assert before == after


def test_effective_config_is_canonical_text_of_the_rows_whatever_the_column_order(tmp_path, specification):
    pipeline = write_pipeline(str(tmp_path / "p"), {"column": "conservation-area,,,Name,name",
                                                    "entity-organisation": "conservation-area,44000001,44000100,"
                                                                           "local-authority-eng:SWK"})
    text = effective_config(pipeline, "conservation-area", "r1", ["e1"], ["local-authority-eng:SWK"],
                            specification=specification)
    lines = text.splitlines()
    assert lines[0].startswith('{"dataset":"conservation-area"')
    assert lines[1:3] == ["#column,column,dataset,endpoint,field,resource", "Name,conservation-area,,name,"]
    assert "conservation-area,44000100,44000001,local-authority-eng:SWK" in lines
    reordered = write_pipeline(str(tmp_path / "q"), {
        "column": ("field,column,resource,endpoint,dataset", "name,Name,,,conservation-area"),
        "entity-organisation": "conservation-area,44000001,44000100,local-authority-eng:SWK"})
    assert effective_config(reordered, "conservation-area", "r1", ["e1"], ["local-authority-eng:SWK"],
                            specification=specification) == text


def test_a_bad_filter_or_skip_pattern_is_an_error_naming_the_file_and_line(transform_csv):
    with pytest.raises(UserError) as error:
        transform_csv("reference\nA1\n", config={"filter": "conservation-area,,,name,(unclosed"})
    assert "filter.csv:2" in str(error.value)
    with pytest.raises(UserError) as error:
        transform_csv("reference\nA1\n", config={"skip": "conservation-area,,,\nconservation-area,,,[bad"})
    assert "skip.csv:3" in str(error.value)
