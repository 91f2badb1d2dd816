import csv
import json
import os
import sqlite3
import subprocess
import sys

import pytest

from dataset_factory import DATASET, ROOT, Collection, write, FACT_HEADER
from planning_pipeline.errors import UserError

E = 44000001  # an entity in the conservation-area range


def entity(path, number=E):
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    row = conn.execute("SELECT * FROM entity WHERE entity = ?", (number,)).fetchone()
    conn.close()
    return dict(row) if row else None


def query(path, sql, *args):
    conn = sqlite3.connect(path)
    rows = conn.execute(sql, args).fetchall()
    conn.close()
    return rows


def test_higher_priority_wins_over_later_entry_date(tmp_path):
    c = Collection(tmp_path)
    c.resource("a", [(E, "name", "Authoritative")], priority=2, entry_date="2020-01-01")
    c.resource("b", [(E, "name", "Later but lower priority")], priority=1, entry_date="2024-01-01")
    assert entity(c.assemble())["name"] == "Authoritative"


def test_later_entry_date_wins_at_equal_priority(tmp_path):
    c = Collection(tmp_path)
    c.resource("a", [(E, "name", "Old")], entry_date="2020-01-01")
    c.resource("b", [(E, "name", "New")], entry_date="2024-01-01")
    assert entity(c.assemble())["name"] == "New"


def test_later_entry_number_wins_at_equal_date(tmp_path):
    c = Collection(tmp_path)
    c.resource("a", [{"entity": E, "field": "name", "value": "Second", "entry-number": 2},
                     {"entity": E, "field": "name", "value": "First", "entry-number": 1}])
    assert entity(c.assemble())["name"] == "Second"


def test_current_resource_wins_over_ended_resource_at_equal_keys(tmp_path):
    c = Collection(tmp_path)
    c.resource("a", [(E, "name", "From the current resource")], end_date="")
    c.resource("b", [(E, "name", "From an ended resource")], end_date="2023-06-01")
    c.resource("c", [(E, "name", "From an earlier-ended resource")], end_date="2022-06-01")
    assert entity(c.assemble())["name"] == "From the current resource"


def test_later_ended_resource_wins_over_earlier_ended_resource(tmp_path):
    c = Collection(tmp_path)
    c.resource("a", [(E, "name", "Ended 2022")], end_date="2022-06-01")
    c.resource("b", [(E, "name", "Ended 2023")], end_date="2023-06-01")
    assert entity(c.assemble())["name"] == "Ended 2023"


def test_full_tie_goes_to_the_smaller_resource_whatever_the_file_order(tmp_path):
    c = Collection(tmp_path)
    c.resource("b", [(E, "name", "From b")])
    c.resource("a", [(E, "name", "From a")])
    assert entity(c.assemble())["name"] == "From a"


def test_duplicate_facts_are_stored_once_with_every_provenance_row(tmp_path):
    c = Collection(tmp_path)
    c.resource("a", [(E, "name", "Same"), (E, "reference", "CA1")], priority=1, entry_date="2020-01-01")
    c.resource("b", [(E, "name", "Same"), (E, "reference", "CA1")], priority=2, entry_date="2021-01-01")
    path = c.assemble()
    assert query(path, "SELECT count(*) FROM fact") == [(2,)]
    assert query(path, "SELECT count(*) FROM fact_resource") == [(4,)]
    # the kept fact row is its best: priority 2, 2021
    assert query(path, "SELECT priority, entry_date FROM fact WHERE field = 'name'") == [(2, "2021-01-01")]


def test_json_holds_other_fields_sorted_kebab_case_and_is_null_when_empty(tmp_path):
    c = Collection(tmp_path)
    c.resource("a", [(E, "notes", "a note"), (E, "designation-date", "1970-01-01"), (E, "name", "Named"),
                     (E, "organisation", "local-authority-eng:SWK"), (E + 1, "name", "No extras")])
    path = c.assemble()
    row = entity(path)
    assert row["json"] == '{"designation-date":"1970-01-01","notes":"a note"}'
    assert list(json.loads(row["json"])) == ["designation-date", "notes"]
    assert entity(path, E + 1)["json"] is None


def test_point_is_the_geometry_centroid_written_as_upstream_writes_it(tmp_path):
    """POINT(x y), no space, "%.6f": the text of upstream's dataset, so downloads compare equal."""
    c = Collection(tmp_path)
    square = "MULTIPOLYGON (((-0.1 51.5,-0.1 51.6,-0.2 51.6,-0.2 51.5,-0.1 51.5)))"
    c.resource("a", [(E, "geometry", square), (E + 1, "geometry", square), (E + 1, "point", "POINT (1 2)"),
                     (E + 2, "geometry", "MULTIPOLYGON (((0 0,0.0000001 0,0 0.0000001,0 0)))")])
    path = c.assemble()
    assert entity(path)["point"] == "POINT(-0.150000 51.550000)"
    assert entity(path, E + 1)["point"] == "POINT (1 2)"  # a published point is kept
    assert entity(path, E + 2)["point"] == "POINT(0.000000 0.000000)"


def test_organisation_entity_comes_from_organisation_csv(tmp_path):
    c = Collection(tmp_path)
    c.resource("a", [(E, "organisation", "local-authority:SWK"), (E + 1, "organisation", "local-authority-eng:LBH"),
                     (E + 2, "organisation", "local-authority:NOWHERE")])
    path = c.assemble()
    assert entity(path)["organisation_entity"] == "329"
    assert entity(path, E + 1)["organisation_entity"] == "192"
    assert entity(path, E + 2)["organisation_entity"] == ""
    assert "organisation" not in (entity(path)["json"] or "")


def test_dataset_typology_prefix_quality_and_dates_are_set(tmp_path):
    c = Collection(tmp_path)
    c.resource("a", [(E, "name", "Some"), (E, "start-date", "2001-02-03"), (E, "end-date", "")], entry_date="2022-02-02")
    c.resource("b", [(E + 1, "name", "Authoritative")], priority=2)
    path = c.assemble()
    row = entity(path)
    assert (row["dataset"], row["typology"], row["prefix"], row["quality"]) == (DATASET, "geography", DATASET, "some")
    assert (row["start_date"], row["end_date"], row["entry_date"]) == ("2001-02-03", "", "2022-02-02")
    assert entity(path, E + 1)["quality"] == "authoritative"


def test_old_entity_rows_are_loaded_only_within_the_dataset_range(tmp_path):
    c = Collection(tmp_path)
    c.resource("a", [(E, "name", "x")])
    c.old_entities = [["44000999", "301", str(E), "", "", "", ""], ["3016200", "301", "3033940", "", "", "", ""],
                      ["44999999", "410", "", "", "", "", ""], ["45000000", "410", "", "", "", "", ""]]
    path = c.assemble()
    assert query(path, "SELECT old_entity, status, entity FROM old_entity ORDER BY old_entity") == [
        ("44000999", "301", E), ("44999999", "410", None)]


def test_logs_are_loaded_and_issue_csv_has_every_issue_under_one_header(tmp_path):
    c = Collection(tmp_path)
    c.resource("a", [(E, "name", "x")], issues=[[DATASET, "a", "2", "1", "name", str(E), "invalid", "v", ""]])
    c.resource("b", [(E, "name", "y")], issues=[[DATASET, "b", "3", "2", "start-date", "", "invalid date", "z", "m"]])
    issue_csv = os.path.join(tmp_path, "dataset", DATASET + "-issue.csv")
    path = c.assemble(issue_csv=issue_csv)
    lines = open(issue_csv).read().splitlines()
    assert lines[0] == "dataset,resource,line-number,entry-number,field,entity,issue-type,value,message"
    assert len(lines) == 3 and lines[1].startswith(DATASET + ",a,2,1,name")
    assert query(path, "SELECT resource, line_number, entity, issue_type FROM issue ORDER BY resource") == [
        ("a", 2, E, "invalid"), ("b", 3, None, "invalid date")]
    assert query(path, "SELECT dataset, resource, column, field FROM column_field ORDER BY resource") == [
        (DATASET, "a", "NAME", "name"), (DATASET, "b", "NAME", "name")]
    assert query(path, "SELECT resource, entry_count FROM dataset_resource ORDER BY resource") == [("a", 1), ("b", 1)]


def test_tables_columns_types_and_indexes_follow_the_specification(tmp_path):
    c = Collection(tmp_path)
    c.resource("a", [(E, "name", "x")])
    path = c.assemble()
    columns = {r[1]: (r[2], r[5]) for r in query(path, "PRAGMA table_info(entity)")}
    assert list(columns) == ["dataset", "end_date", "entity", "entry_date", "geojson", "geometry", "json", "name",
                             "organisation_entity", "point", "prefix", "quality", "reference", "start_date", "typology"]
    assert columns["entity"] == ("INTEGER", 1) and columns["json"][0] == "JSON"
    assert [r[1] for r in query(path, "PRAGMA table_info(fact)")] == [
        "end_date", "entity", "fact", "field", "entry_date", "priority", "reference_entity", "start_date", "value"]
    indexes = {r[0] for r in query(path, "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")}
    assert {"fact_on_entity_index", "fact_resource_on_fact_index", "fact_resource_on_resource_index",
            "issue_on_resource_index", "old_entity_on_old_entity_index"} <= indexes
    assert {r[0] for r in query(path, "SELECT name FROM sqlite_master WHERE type = 'table'")} >= {
        "entity", "fact", "fact_resource", "issue", "column_field", "dataset_resource", "old_entity"}


def test_failure_mid_build_leaves_the_previous_sqlite_intact(tmp_path):
    c = Collection(tmp_path)
    c.resource("a", [(E, "name", "Good")])
    path = c.assemble()
    manifest = path[: -len(".sqlite3")] + ".manifest.json"
    before, manifest_before = open(path, "rb").read(), open(manifest, "rb").read()
    # a later resource with a ragged row: the build fails part way through loading
    write(os.path.join(c.dir("transformed"), "z.csv"), FACT_HEADER, [["", str(E), "2024-01-01", "1", "f", "name"]])
    for incremental in (True, False):
        with pytest.raises(UserError, match="z.csv:2"):
            c.assemble(incremental=incremental)
        assert open(path, "rb").read() == before and open(manifest, "rb").read() == manifest_before
        assert sorted(os.listdir(os.path.dirname(path))) == sorted(map(os.path.basename, (path, manifest)))


def test_same_inputs_give_the_same_tables(tmp_path):
    c = Collection(tmp_path)
    c.resource("a", [(E, "name", "x"), (E, "notes", "n"), (E + 1, "geometry", "MULTIPOLYGON (((0 0,1 0,1 1,0 0)))")])
    c.resource("b", [(E, "name", "y")], priority=2)
    first = c.assemble(output=os.path.join(tmp_path, "one.sqlite3"))
    second = c.assemble(output=os.path.join(tmp_path, "two.sqlite3"))
    for table in ("entity", "fact", "fact_resource"):
        assert query(first, f"SELECT * FROM {table} ORDER BY 1, 2, 3") == query(second, f"SELECT * FROM {table} ORDER BY 1, 2, 3")


def test_cli_builds_the_file_and_reports_a_bad_directory_in_one_line(tmp_path):
    c = Collection(tmp_path)
    c.resource("a", [(E, "name", "x")])
    output = os.path.join(tmp_path, "dataset", DATASET + ".sqlite3")
    done = subprocess.run([sys.executable, os.path.join(ROOT, "bin", "assemble")] + c.cli_args(output),
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert entity(output)["name"] == "x"
    args = c.cli_args(output)
    args[args.index("--transformed-dir") + 1] = os.path.join(tmp_path, "missing")
    done = subprocess.run([sys.executable, os.path.join(ROOT, "bin", "assemble")] + args, capture_output=True, text=True)
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1 and "transformed directory not found" in done.stderr


def test_json_escapes_quotes_controls_and_unicode_as_python_json_does(tmp_path):
    odd = 'say "hi" \\ back\nnext\ttab \x01 \x1f café 🏛 </script>'
    c = Collection(tmp_path)
    c.resource("a", [(E, "notes", odd), (E, "description", "é")])
    row = entity(c.assemble())
    assert row["json"] == json.dumps({"notes": odd, "description": "é"}, sort_keys=True, ensure_ascii=False,
                                     separators=(",", ":"))


def test_blank_lines_in_a_transformed_file_are_skipped(tmp_path):
    c = Collection(tmp_path)
    c.resource("a", [(E, "name", "x"), (E + 1, "name", "y")])
    path = os.path.join(c.dir("transformed"), "a.csv")
    lines = open(path).read().splitlines()
    with open(path, "w") as f:
        f.write("\n".join([lines[0], "", lines[1], "", lines[2], ""]) + "\n")
    output = c.assemble()
    assert query(output, "SELECT entity, name FROM entity ORDER BY entity") == [(E, "x"), (E + 1, "y")]
    assert query(output, "SELECT count(*) FROM fact_resource") == [(2,)]


def test_a_file_with_a_reordered_header_assembles_like_the_standard_one(tmp_path):
    standard = Collection(tmp_path / "standard")
    standard.resource("a", [(E, "name", "x"), (E, "reference", "CA1")])
    reordered = Collection(tmp_path / "reordered")
    reordered.resource("a", [(E, "name", "x"), (E, "reference", "CA1")])
    path = os.path.join(reordered.dir("transformed"), "a.csv")
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    order = list(reversed(range(len(FACT_HEADER))))
    write(path, [rows[0][i] for i in order], [[r[i] for i in order] for r in rows[1:]])
    a, b = standard.assemble(), reordered.assemble()
    for table in ("entity", "fact", "fact_resource"):
        assert query(a, f"SELECT * FROM {table} ORDER BY 1, 2, 3") == query(b, f"SELECT * FROM {table} ORDER BY 1, 2, 3")


def test_the_tables_do_not_depend_on_how_the_files_are_split_between_import_processes(tmp_path, monkeypatch):
    from planning_pipeline.assemble import build

    c = Collection(tmp_path)
    for n, name in enumerate("abcdefg"):
        c.resource(name, [(E + n % 3, "name", f"from {name}"), (E + n % 3, "notes", "same"), (E + 3, "reference", name)],
                   priority=1 + n % 2, entry_date=f"2024-01-0{1 + n % 4}")
    outputs = []
    for parts in (1, 2, 3):
        monkeypatch.setattr(build, "PARTS", parts)
        outputs.append(c.assemble(output=os.path.join(tmp_path, f"{parts}.sqlite3")))
    for table in ("entity", "fact"):
        expected = query(outputs[0], f"SELECT * FROM {table} ORDER BY 1, 2, 3")
        assert all(query(o, f"SELECT * FROM {table} ORDER BY 1, 2, 3") == expected for o in outputs[1:])
    expected = query(outputs[0], "SELECT * FROM fact_resource ORDER BY fact, resource")
    assert all(query(o, "SELECT * FROM fact_resource ORDER BY fact, resource") == expected for o in outputs[1:])


def test_without_the_sqlite3_tool_the_cli_says_so_in_one_line(tmp_path):
    c = Collection(tmp_path)
    c.resource("a", [(E, "name", "x")])
    output = os.path.join(tmp_path, "dataset", DATASET + ".sqlite3")
    done = subprocess.run([sys.executable, os.path.join(ROOT, "bin", "assemble")] + c.cli_args(output),
                          capture_output=True, text=True, env={**os.environ, "PATH": str(tmp_path)})
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == ["assemble: error: the sqlite3 command is not installed (bin/setup-system installs it)"]
    assert not os.path.exists(output)
