import csv
import datetime
import json
import os
import sqlite3
import subprocess
import sys

import pytest

from dataset_factory import DATASET, ROOT, Collection, write
from planning_pipeline.errors import UserError
from planning_pipeline.expectations import HEADER, expectations

E = 44000001
SQUARE = "MULTIPOLYGON (((0 0,1 0,1 1,0 1,0 0)))"
NEAR_COPY = "MULTIPOLYGON (((0 0,1 0,1 1.01,0 1.01,0 0)))"
RULE_HEADER = ["datasets", "organisations", "operation", "parameters", "name", "description", "notes", "severity",
               "responsibility", "end-date", "entry-date", "start-date", "schedule"]


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    root = tmp_path_factory.mktemp("expect")
    c = Collection(root)
    c.resource("a", [
        (E, "reference", "CA1"), (E, "geometry", SQUARE), (E, "organisation", "local-authority:SWK"),
        (E, "documentation-url", "https://example.org/1"), (E, "start-date", "2020-01-01"),
        (E + 1, "reference", "CA2"), (E + 1, "geometry", NEAR_COPY), (E + 1, "organisation", "local-authority:SWK"),
        (E + 1, "documentation-url", "not a url"),
        (E + 2, "reference", "CA2"), (E + 2, "point", "POINT (5 5)"), (E + 2, "organisation", "local-authority:LBH"),
    ])
    return c, c.assemble()


def run(c, path, tmp_path, rules, **kwargs):
    expect = os.path.join(tmp_path, "expect.csv")
    write(expect, RULE_HEADER, [r + [""] * (len(RULE_HEADER) - len(r)) for r in rules])
    output = os.path.join(tmp_path, "result.csv")
    expectations(DATASET, expect, path, output, organisation_path=c.organisation_path, **kwargs)
    with open(output, newline="") as f:
        reader = csv.DictReader(f)
        assert reader.fieldnames == HEADER
        return list(reader)


def rule(operation, parameters, name="", organisations="", datasets=DATASET):
    return [datasets, organisations, operation, json.dumps(parameters), name]


def test_passing_and_failing_checks(dataset, tmp_path):
    c, path = dataset
    results = run(c, path, tmp_path, [
        rule("count_rows", {"expected": 3, "comparison_rule": "equals_to"}),
        rule("count_rows", {"expected": 5}),
        rule("check_unique", {"field": "entity"}),
        rule("check_unique", {"field": "reference"}),
        rule("expect_column_to_be_url", {"field": "documentation-url"}),
        rule("expect_column_to_be_date", {"field": "start-date"}),
        rule("expect_column_to_match_pattern", {"field": "reference", "pattern": "CA[0-9]+"}),
        rule("expect_column_to_match_pattern", {"field": "reference", "pattern": "X.*"}),
        rule("check_allowed_values", {"field": "organisation-entity", "allowed_values": ["329", "192"]}),
        rule("check_allowed_values", {"field": "organisation-entity", "allowed_values": ["329"]}),
        rule("check_no_blank_rows", {}),
    ])
    assert [r["passed"] for r in results] == ["True", "False", "True", "False", "False", "True", "True", "False",
                                              "True", "False", "True"]
    duplicates = json.loads(results[3]["details"])["duplicates"]
    assert duplicates == [{"value": "CA2", "count": 2}]
    invalid = json.loads(results[4]["details"])["invalid_rows"]
    assert invalid == [{"entity": E + 1, "field": "documentation-url", "value": "not a url", "datatype": "url"}]


def test_duplicate_geometry_check_finds_near_copies(dataset, tmp_path):
    c, path = dataset
    results = run(c, path, tmp_path, [rule("duplicate_geometry_check", {"spatial_field": "geometry"}),
                                      rule("duplicate_geometry_check", {"spatial_field": "point"})])
    assert results[0]["passed"] == "False"
    pair = json.loads(results[0]["details"])["duplicates"][0]
    assert (pair["entity_a"], pair["entity_b"]) == (E, E + 1)
    assert results[1]["passed"] == "True"


def test_rules_for_other_datasets_are_ignored_and_no_rules_give_a_header_only_file(dataset, tmp_path):
    c, path = dataset
    assert run(c, path, tmp_path, [rule("count_rows", {"expected": 1}, datasets="tree;article-4-direction")]) == []
    assert open(os.path.join(tmp_path, "result.csv")).read() == ",".join(HEADER) + "\n"
    assert len(run(c, path, tmp_path, [rule("count_rows", {"expected": 1}, datasets=f"tree;{DATASET}")])) == 1


def test_organisations_expand_and_templates_render(dataset, tmp_path):
    c, path = dataset
    results = run(c, path, tmp_path, [rule("count_rows", {"expected": "{{ organisation.entity }}", "organisation_entity": "{{ organisation.entity }}"},
                                           name="{{ organisation.name }} has rows", organisations="local-authority")])
    assert [(r["organisation"], r["name"]) for r in results] == [
        ("local-authority-eng:SWK", "London Borough of Southwark has rows"),
        ("local-authority-eng:LBH", "London Borough of Lambeth has rows")]
    assert json.loads(results[0]["parameters"]) == {"expected": "329", "organisation_entity": "329"}
    assert json.loads(results[0]["details"])["actual"] == 2


def test_count_lpa_boundary_uses_a_local_boundary_or_is_skipped(dataset, tmp_path):
    c, path = dataset
    parameters = {"lpa": "{{ organisation.statistical_geography }}", "expected": 2,
                  "organisation_entity": "{{ organisation.entity }}"}
    rules = [rule("count_lpa_boundary", parameters, organisations="local-authority-eng:SWK")]
    skipped = run(c, path, tmp_path, rules, boundary_paths=[])
    assert skipped[0]["passed"] == "skipped" and "E09000028" in skipped[0]["message"]
    boundary = os.path.join(tmp_path, "local-planning-authority.sqlite3")
    conn = sqlite3.connect(boundary)
    conn.execute("CREATE TABLE entity (entity INTEGER PRIMARY KEY, reference TEXT, geometry TEXT)")
    conn.execute("INSERT INTO entity VALUES (1, 'E09000028', 'MULTIPOLYGON (((-1 -1,3 -1,3 3,-1 3,-1 -1)))')")
    conn.commit()
    conn.close()
    found = run(c, path, tmp_path, rules, boundary_paths=[boundary])
    assert found[0]["passed"] == "True", found[0]["message"]
    assert json.loads(found[0]["details"])["actual"] == 2


def test_a_bad_parameter_is_a_failed_result_not_a_crash(dataset, tmp_path):
    c, path = dataset
    results = run(c, path, tmp_path, [rule("check_unique", {"column": "reference"}),
                                      rule("count_rows", {"expected": 1, "comparison_rule": "about"})])
    assert [r["passed"] for r in results] == ["False", "False"]
    assert results[0]["message"].startswith("error:")


def test_a_malformed_rules_file_is_a_one_line_error_naming_file_and_line(dataset, tmp_path):
    c, path = dataset
    with pytest.raises(UserError, match=r"expect.csv:3: parameters are not valid JSON"):
        run(c, path, tmp_path, [rule("count_rows", {"expected": 1}), [DATASET, "", "count_rows", "{not json", ""]])
    with pytest.raises(UserError, match=r"expect.csv:2: unknown operation 'no_such_check'"):
        run(c, path, tmp_path, [rule("no_such_check", {})])
    with pytest.raises(UserError, match=r"expect.csv:2: unknown template variable 'organisation.nonsense'"):
        run(c, path, tmp_path, [rule("count_rows", {"expected": 1}, name="{{ organisation.nonsense }}",
                                     organisations="local-authority-eng:SWK")])


def test_end_dated_and_other_weekday_rules_are_not_run(dataset, tmp_path):
    c, path = dataset
    today = datetime.date.today()
    other_day = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"][(today.weekday() + 1) % 7]
    ended = rule("count_rows", {"expected": 1}) + ["", "", "", "", "2000-01-01", "", "", ""]
    scheduled = rule("count_rows", {"expected": 1}) + ["", "", "", "", "", "", "", other_day]
    assert run(c, path, tmp_path, [ended, scheduled]) == []


def test_cli_exit_status_is_zero_on_failed_checks_and_two_on_a_bad_file(dataset, tmp_path):
    c, path = dataset
    expect = os.path.join(tmp_path, "expect.csv")
    write(expect, RULE_HEADER, [rule("count_rows", {"expected": 100}) + [""] * 8])
    output = os.path.join(tmp_path, "var", "expectation", DATASET + ".csv")
    command = [sys.executable, os.path.join(ROOT, "bin", "expectations"), "--dataset", DATASET, "--expect-path", expect,
               "--organisation-path", c.organisation_path, "--output", output, path]
    done = subprocess.run(command, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert list(csv.DictReader(open(output)))[0]["passed"] == "False"
    write(expect, RULE_HEADER, [[DATASET, "", "count_rows", "[1", ""] + [""] * 8])
    done = subprocess.run(command, capture_output=True, text=True)
    assert done.returncode == 2 and "expect.csv:2:" in done.stderr and len(done.stderr.strip().splitlines()) == 1
