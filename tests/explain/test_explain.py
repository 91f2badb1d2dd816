"""bin/explain and planning_pipeline.explain on the bundled example, built by the real Makefile, and on
hand-made changes to it: each value names the resource, line and configuration row it came through."""
import json
import os
import subprocess

import pytest

from explainkit import EXAMPLE, run_make

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GEDLING = "69148cb6b58a0ee3706302c1f586fb8e2a4fee9976354986c6d76ae0a63d9c97"  # one area: Calverton
CALVERTON = "44001676"


def explain_cli(root, *args):
    return subprocess.run([os.path.join(ROOT, "bin", "explain"), "--root", str(root), *args],
                          capture_output=True, text=True, timeout=60)


def explain_json(root, *args):
    result = explain_cli(root, *args, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def field(result, name):
    return next(f for f in result["fields"] if f["field"] == name)


def file_line(root, change):
    """The text of the configuration line a change names."""
    with open(os.path.join(root, change["file"]), encoding="utf-8", newline="") as f:
        return f.read().splitlines()[change["line"] - 1]


def test_each_field_names_its_resource_line_column_and_the_column_csv_row_that_mapped_it(built_example):
    result = explain_json(built_example, EXAMPLE, CALVERTON)
    name = field(result, "name")
    assert name["value"] == "CALVERTON C.A." and name["competitors"] == []
    [entry] = name["winner"]["entries"]
    assert (entry["resource"], entry["entry-number"], entry["line-number"]) == (GEDLING, 1, 2)
    assert entry["column"] == "TITLE" and entry["original"] == "CALVERTON C.A."
    [mapping] = entry["changes"]
    assert mapping["kind"] == "column mapping" and mapping["file"] == f"pipeline/{EXAMPLE}/column.csv"
    assert file_line(built_example, mapping) == f"{EXAMPLE},,{GEDLING},title,name"
    # the entity's lookup row, and the line's issues (its designation date is not a date)
    assert file_line(built_example, result["lookup"]).endswith(",123514,44001676")
    [entry_date] = field(result, "entry-date")["winner"]["entries"]
    [issue] = entry_date["issues"]
    assert (issue["issue-type"], issue["value"]) == ("invalid date", "1974 & 1983")
    # so the entry-date is the resource's start-date, as the organisation is the resource's one organisation
    [default] = [c for c in entry_date["changes"] if c["kind"] == "resource default"]
    assert default["file"] == f"collection/{EXAMPLE}/resource.csv" and default["value"] == "2020-09-15"
    assert file_line(built_example, default).startswith(f"{GEDLING},38565,local-authority-eng:GED,")
    [organisation] = field(result, "organisation")["winner"]["entries"][0]["changes"]
    assert organisation["kind"] == "resource default" and organisation["line"] == default["line"]
    assert not [c for c in field(result, "reference")["winner"]["entries"][0]["changes"] if c["kind"] != "column mapping"]
    # where the resource came from: both its endpoints, the organisation, when each fetch got it
    [resource] = result["resources"]
    assert resource["organisations"] == ["local-authority-eng:GED"]
    endpoints = {e["url"]: e for e in resource["endpoints"]}
    live = endpoints["file:example/conservation-area/ged-conservation-area.geojson"]
    retired = next(e for url, e in endpoints.items() if url.startswith("http://data-gedlingbc"))
    assert retired["end-date"] == "2026-11-01" and retired["first-fetched"]["entry-date"].startswith("2020-09-15")
    assert retired["first-fetched"]["status"] == "200" and live["fetches"] == 1 and live["organisations"] == ["local-authority-eng:GED"]

    text = explain_cli(built_example, EXAMPLE, CALVERTON, "name")
    assert text.returncode == 0
    assert f"from resource {GEDLING} line 2 (entry 1)" in text.stdout
    assert f"column mapping: pipeline/{EXAMPLE}/column.csv:{mapping['line']}: {EXAMPLE},,{GEDLING},title,name" in text.stdout
    assert "geometry" not in text.stdout.split("resources")[0]  # one field asked, one field shown


def test_a_patched_or_defaulted_value_names_the_patch_or_default_row_and_the_original_value(example_copy):
    patch = example_copy / "pipeline" / EXAMPLE / "patch.csv"
    with open(patch, "a", newline="") as f:
        f.write(f"{EXAMPLE},{GEDLING},name,^calverton c\\.a\\.$,Calverton\r\n")
    patch_line = len(patch.read_text().splitlines())
    default = example_copy / "pipeline" / EXAMPLE / "default-value.csv"
    with open(default, "a", newline="") as f:
        f.write(f"{EXAMPLE},,,,,documentation-url,{GEDLING},,https://example.org/calverton\r\n")
    run_make(example_copy, f"collection/{EXAMPLE}")

    [url] = explain_json(example_copy, EXAMPLE, CALVERTON, "documentation-url")["fields"]
    assert url["value"] == "https://example.org/calverton"
    [change] = url["winner"]["entries"][0]["changes"]
    assert (change["kind"], change["file"], change["line"]) == ("default value", f"pipeline/{EXAMPLE}/default-value.csv", 2)

    result = explain_json(example_copy, EXAMPLE, CALVERTON, "name")
    [name] = result["fields"]
    assert name["value"] == "Calverton"
    [entry] = name["winner"]["entries"]
    assert entry["original"] == "CALVERTON C.A." and entry["line-number"] == 2
    patched = [c for c in entry["changes"] if c["kind"] == "patch"]
    assert patched == [{"kind": "patch", "original": "CALVERTON C.A.", "message": "patched to 'Calverton'",
                        "file": f"pipeline/{EXAMPLE}/patch.csv", "line": patch_line,
                        "row": {"dataset": EXAMPLE, "resource": GEDLING, "field": "name",
                                "pattern": "^calverton c\\.a\\.$", "value": "Calverton"}}]
    text = explain_cli(example_copy, EXAMPLE, CALVERTON, "name").stdout
    assert f"patch: pipeline/{EXAMPLE}/patch.csv:{patch_line}:" in text and "'CALVERTON C.A.' patched to 'Calverton'" in text


@pytest.mark.parametrize("args, message", [
    (("no-such-dataset", CALVERTON), "unknown dataset 'no-such-dataset'"),
    ((EXAMPLE, "44999999"), f"{EXAMPLE}: no entity 44999999"),
    ((EXAMPLE, CALVERTON, "colour"), f"{EXAMPLE}: entity {CALVERTON} has no field 'colour'"),
    ((EXAMPLE, "calverton"), "entity 'calverton' is not a number"),
    ((EXAMPLE, "44008389"), f"{EXAMPLE}: entity 44008389 redirects to 44009617, which is not in it"),
])
def test_an_unknown_dataset_entity_or_field_is_a_one_line_error(built_example, args, message):
    result = explain_cli(built_example, *args)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith(f"explain: error: {message}") and result.stderr.count("\n") == 1


def test_every_winner_is_the_value_the_assembled_entity_has(built_example):
    """explain ranks candidates as assemble does: its winners are the entity table's values, for every entity."""
    import sqlite3

    from planning_pipeline.explain import explain

    conn = sqlite3.connect(built_example / "dataset" / f"{EXAMPLE}.sqlite3")
    conn.row_factory = sqlite3.Row
    compared = 0
    for row in conn.execute("SELECT * FROM entity"):
        values = {k: row[k.replace("-", "_")] for k in ("name", "reference", "prefix", "geometry", "point", "entry-date")}
        values.update(json.loads(row["json"] or "{}"))
        for f in explain(built_example, EXAMPLE, row["entity"])["fields"]:
            if f["field"] in values:
                assert f["value"] == values[f["field"]], (row["entity"], f["field"])
                compared += 1
    assert compared > 300


def add_endpoint(root, name, transform):
    """A new file: endpoint of Gedling serving a changed copy of its file, its source row, and column.csv
    rows scoped to it (its columns are mapped only for the old resource). Returns the endpoint hash."""
    import hashlib

    original = root / "example" / EXAMPLE / "ged-conservation-area.geojson"
    (root / "example" / EXAMPLE / name).write_text(transform(original.read_text()))
    url = f"file:example/{EXAMPLE}/{name}"
    endpoint = hashlib.sha256(url.encode()).hexdigest()
    with open(root / "collection" / EXAMPLE / "endpoint.csv", "a", newline="") as f:
        f.write(f"{endpoint},{url},,,2026-11-02T00:00:00Z,2026-11-02,\r\n")
    with open(root / "collection" / EXAMPLE / "source.csv", "a", newline="") as f:
        f.write(f"{hashlib.md5(url.encode()).hexdigest()},,{EXAMPLE},,{endpoint},,local-authority-eng:GED,{EXAMPLE},"
                f"2026-11-02T00:00:00Z,2026-11-02,\r\n")
    column = root / "pipeline" / EXAMPLE / "column.csv"
    with open(column, "a", newline="") as f:
        f.write(f"{EXAMPLE},{endpoint},,title,name\r\n{EXAMPLE},{endpoint},,keyval,reference\r\n")
    return endpoint, len(column.read_text().splitlines()) - 1


def test_two_resources_that_disagree_name_the_winner_the_loser_and_each_ones_endpoint_and_rows(example_copy):
    endpoint, title_line = add_endpoint(example_copy, "ged-renamed.geojson",
                                        lambda text: text.replace('"CALVERTON C.A."', '"Calverton Conservation Area"'))
    run_make(example_copy, f"collection/{EXAMPLE}")

    result = explain_json(example_copy, EXAMPLE, CALVERTON, "name")
    [name] = result["fields"]
    assert name["value"] == "Calverton Conservation Area" == result["record"]["name"]
    [winner], [[loser]] = name["winner"]["entries"], [c["entries"] for c in name["competitors"]]
    new = winner["resource"]
    assert new != GEDLING and loser["resource"] == GEDLING and name["competitors"][0]["value"] == "CALVERTON C.A."
    assert winner["entry-date"] > loser["entry-date"] == "2020-09-15"  # the newer entry wins, priorities equal
    assert [(c["file"], c["line"]) for c in winner["changes"]] == [(f"pipeline/{EXAMPLE}/column.csv", title_line)]
    assert file_line(example_copy, winner["changes"][0]) == f"{EXAMPLE},{endpoint},,title,name"
    assert file_line(example_copy, loser["changes"][0]) == f"{EXAMPLE},,{GEDLING},title,name"
    resources = {r["resource"]: r for r in result["resources"]}
    [served] = resources[new]["endpoints"]
    assert served["endpoint"] == endpoint and served["organisations"] == ["local-authority-eng:GED"]
    assert served["fetches"] == 1 and served["last-fetched"]["status"] == "200" and served["end-date"] == ""

    # retiring the endpoint keeps what it collected (explain says it ended); retiring its resource (410)
    # leaves the old value alone
    endpoints = example_copy / "collection" / EXAMPLE / "endpoint.csv"
    row = f"{endpoint},file:example/{EXAMPLE}/ged-renamed.geojson,,,2026-11-02T00:00:00Z,2026-11-02,"
    text = endpoints.read_bytes().decode()
    assert text.count(row + "\r\n") == 1
    endpoints.write_bytes(text.replace(row + "\r\n", row + "2026-11-03\r\n").encode())
    run_make(example_copy, f"collection/{EXAMPLE}")
    result = explain_json(example_copy, EXAMPLE, CALVERTON, "name")
    assert result["fields"][0]["value"] == "Calverton Conservation Area"
    [served] = {r["resource"]: r for r in result["resources"]}[new]["endpoints"]
    assert served["end-date"] == "2026-11-03"
    assert f"file:example/{EXAMPLE}/ged-renamed.geojson (local-authority-eng:GED, ended 2026-11-03)" in \
        explain_cli(example_copy, EXAMPLE, CALVERTON, "name").stdout

    with open(example_copy / "collection" / EXAMPLE / "old-resource.csv", "a", newline="") as f:
        f.write(f"{new},410,,\n")
    run_make(example_copy, f"collection/{EXAMPLE}")
    result = explain_json(example_copy, EXAMPLE, CALVERTON, "name")
    [name] = result["fields"]
    assert name["value"] == "CALVERTON C.A." and name["competitors"] == []
    assert [r["resource"] for r in result["resources"]] == [GEDLING]


def test_a_redirected_entity_is_explained_as_the_entity_it_redirects_to(built_example):
    result = explain_json(built_example, EXAMPLE, "44002365", "name")  # old-entity.csv: 44002365 -> 44007441 (301)
    assert (result["redirected-from"], result["entity"], result["fields"][0]["value"]) == ("44002365", "44007441",
                                                                                          "Trafalgar Avenue")
    assert explain_cli(built_example, EXAMPLE, "44002365", "name").stdout.startswith(
        "entity 44002365 redirects to 44007441 (old-entity.csv)\n")
