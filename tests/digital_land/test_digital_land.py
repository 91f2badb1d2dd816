"""digital-land.sqlite3 and performance.sqlite3 built from a tiny collection, pipeline and dataset."""
import csv
import os
import sqlite3
import subprocess
import sys

import pytest

from planning_pipeline.digital_land.builder import build_digital_land
from planning_pipeline.digital_land.performance import build_performance

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SPEC = os.path.join(ROOT, "specification")


def write(path, header, rows):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def make_fixture(base):
    """One collection `tiny` (dataset tree): org A publishes 2 endpoints, org B 1 (ended, failing)."""
    c = os.path.join(base, "collection", "tiny")
    write(os.path.join(c, "endpoint.csv"), ["endpoint", "endpoint-url", "parameters", "plugin", "entry-date", "start-date", "end-date"], [
        ["e1", "http://a/1", "", "", "2024-01-01", "", ""],
        ["e2", "http://a/2", "", "", "2024-01-02", "", ""],
        ["e3", "http://b/1", "", "", "2024-01-03", "", "2024-06-01"],
    ])
    write(os.path.join(c, "source.csv"), ["source", "attribution", "collection", "documentation-url", "endpoint", "licence",
                                          "organisation", "pipelines", "entry-date", "start-date", "end-date"], [
        ["s1", "", "tiny", "", "e1", "ogl3", "org:A", "tree", "", "", ""],
        ["s2", "", "tiny", "", "e2", "ogl3", "org:A", "tree", "", "", ""],
        ["s3", "", "tiny", "", "e3", "ogl3", "org:B", "tree", "", "", ""],
    ])
    write(os.path.join(c, "log.csv"), ["bytes", "content-type", "elapsed", "endpoint", "resource", "status", "entry-date",
                                       "start-date", "end-date", "exception"], [
        ["1", "", "0.1", "e1", "r1", "200", "2024-02-01T00:00:00", "", "", ""],
        ["1", "", "0.1", "e1", "", "404", "2024-03-01T00:00:00", "", "", ""],
        ["1", "", "0.1", "e2", "r2", "200", "2024-03-01T00:00:00", "", "", ""],
        ["1", "", "0.1", "e3", "", "", "2024-03-01T00:00:00", "", "", "ConnectionError"],
    ])
    write(os.path.join(c, "resource.csv"), ["resource", "bytes", "organisations", "datasets", "endpoints", "start-date", "end-date"], [
        ["r1", "1", "org:A", "tree", "e1", "2024-02-01", ""],
        ["r2", "1", "org:A", "tree", "e2", "2024-03-01", ""],
        ["r3", "1", "org:B", "tree", "e3", "2024-01-05", ""],
    ])
    write(os.path.join(c, "old-resource.csv"), ["old-resource", "status", "resource"], [])
    p = os.path.join(base, "pipeline", "tiny")
    write(os.path.join(p, "column.csv"), ["dataset", "endpoint", "resource", "column", "field"], [["tree", "", "", "ref", "reference"]])
    write(os.path.join(p, "default.csv"), ["dataset", "resource", "field", "default-field", "entry-date", "start-date", "end-date"], [])
    write(os.path.join(base, "organisation.csv"), ["organisation", "entity", "name"], [["org:A", "101", "Alpha"], ["org:B", "102", "Beta"]])
    d = os.path.join(base, "dataset")
    os.makedirs(d)
    conn = sqlite3.connect(os.path.join(d, "tree.sqlite3"))
    conn.execute("CREATE TABLE entity (entity INTEGER PRIMARY KEY, name TEXT, reference TEXT, organisation_entity TEXT, dataset TEXT, "
                 "typology TEXT, geometry TEXT, point TEXT, json TEXT, entry_date TEXT, start_date TEXT, end_date TEXT)")
    conn.executemany("INSERT INTO entity (entity, reference, organisation_entity, dataset) VALUES (?, ?, ?, 'tree')",
                     [(1, "a1", "101"), (2, "a2", "101"), (3, "a3", "101"), (4, "b1", "102")])
    conn.execute("CREATE TABLE issue (dataset TEXT, resource TEXT, line_number INTEGER, entry_number INTEGER, field TEXT, "
                 "entity TEXT, issue_type TEXT, value TEXT, message TEXT)")
    conn.executemany("INSERT INTO issue (dataset, resource, field, issue_type) VALUES ('tree', ?, ?, ?)", [
        ("r1", "start-date", "invalid date"), ("r1", "start-date", "invalid date"), ("r2", "geometry", "OSGB"),
        ("r3", "reference", "missing value"), ("r2", "name", "patch"),
    ])
    conn.commit()
    conn.close()
    write(os.path.join(base, "var", "expectation", "tree.csv"), ["dataset", "organisation", "name", "operation", "passed", "parameters",
                                                                  "message", "details", "description", "severity", "responsibility"], [
        ["tree", "org:A", "in LPA", "check", "False", "{}", "2 outside", "", "", "warning", "external"],
        ["tree", "org:A", "count", "check", "True", "{}", "", "", "", "error", "internal"],
        ["tree", "org:B", "in LPA", "check", "False", "{}", "1 outside", "", "", "error", "external"],
    ])
    return base


@pytest.fixture
def built(tmp_path):
    base = make_fixture(str(tmp_path))
    dl = os.path.join(base, "dataset", "digital-land.sqlite3")
    build_digital_land(SPEC, os.path.join(base, "collection"), os.path.join(base, "pipeline"), os.path.join(base, "dataset"), dl,
                       os.path.join(base, "var", "expectation"), os.path.join(base, "organisation.csv"), warn=lambda m: None)
    return base, dl


def query(path, sql, *args):
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


def test_digital_land_has_the_specification_the_collections_and_the_pipeline_configuration(built):
    base, dl = built
    tables = {r[0] for r in query(dl, "SELECT name FROM sqlite_master WHERE type='table'")}
    spec_tables = {f[:-4].replace("-", "_") for f in os.listdir(SPEC) if f.endswith(".csv")}
    assert spec_tables <= tables
    assert {"endpoint", "source", "resource", "log", "old_resource", "column", "_default", "organisation",
            "issue_summary", "expectation", "expectation_summary", "source_pipeline", "resource_organisation"} <= tables
    with open(os.path.join(SPEC, "dataset.csv"), newline="") as f:
        assert query(dl, "SELECT count(*) FROM dataset")[0][0] == sum(1 for _ in csv.DictReader(f))
    assert query(dl, "SELECT count(*), count(DISTINCT collection) FROM endpoint") == [(3, 1)]
    assert query(dl, "SELECT count(*) FROM log") == [(4,)]
    assert query(dl, "SELECT collection, field FROM \"column\"") == [("tiny", "reference")]
    assert "entity_minimum" in [r[1] for r in query(dl, "PRAGMA table_info(dataset)")]


def test_digital_land_summarises_issues_and_expectations(built):
    _, dl = built
    rows = query(dl, "SELECT resource, issue_type, severity, count FROM issue_summary ORDER BY 1, 2")
    assert rows == [("r1", "invalid date", "error", 2), ("r2", "OSGB", "warning", 1), ("r2", "patch", "info", 1),
                    ("r3", "missing value", "error", 1)]
    assert query(dl, "SELECT count(*) FROM expectation") == [(3,)]
    assert query(dl, "SELECT sum(count) FROM expectation_summary WHERE passed = 'False'") == [(2,)]


def test_performance_counts_what_the_inputs_say_per_organisation(built):
    base, dl = built
    perf = os.path.join(base, "dataset", "performance.sqlite3")
    build_performance(dl, os.path.join(base, "dataset"), perf, "2024-07-01", warn=lambda m: None)
    summary = {r[0]: r[1:] for r in query(perf, "SELECT organisation, endpoint_count, active_endpoint_count, error_endpoint_count, "
                                               "resource_count, entity_count, issue_count, issue_error_count, issue_warning_count, "
                                               "issue_info_count, expectation_failure_count, organisation_name FROM organisation_dataset_summary")}
    assert summary["org:A"] == (2, 2, 1, 2, 3, 4, 2, 1, 1, 1, "Alpha")
    assert summary["org:B"] == (1, 0, 0, 1, 1, 1, 1, 0, 0, 1, "Beta")
    latest = dict(query(perf, "SELECT endpoint, latest_status FROM endpoint_summary"))
    assert latest == {"e1": "404", "e2": "200", "e3": ""}
    assert query(perf, "SELECT exception FROM (SELECT latest_exception AS exception FROM endpoint_summary WHERE endpoint='e3')") == [("ConnectionError",)]
    assert query(perf, "SELECT latest_resource, resource_count FROM endpoint_summary WHERE endpoint='e1'") == [("r1", 1)]
    assert query(perf, "SELECT count FROM issue_type_summary WHERE organisation='org:A' AND issue_type='invalid date'") == [(2,)]


def test_performance_keeps_earlier_run_dates_and_replaces_the_same_date(built):
    base, dl = built
    perf = os.path.join(base, "dataset", "performance.sqlite3")
    for run_date in ("2024-07-01", "2024-07-02", "2024-07-02"):
        build_performance(dl, os.path.join(base, "dataset"), perf, run_date, warn=lambda m: None)
    assert query(perf, "SELECT run_date, count(*) FROM organisation_dataset_summary GROUP BY 1") == [("2024-07-01", 2), ("2024-07-02", 2)]
    assert query(perf, "SELECT run_date, count(*) FROM endpoint_summary GROUP BY 1") == [("2024-07-01", 3), ("2024-07-02", 3)]


def test_outputs_are_deterministic(built, tmp_path):
    base, dl = built
    again = str(tmp_path / "again.sqlite3")
    build_digital_land(SPEC, os.path.join(base, "collection"), os.path.join(base, "pipeline"), os.path.join(base, "dataset"), again,
                       os.path.join(base, "var", "expectation"), os.path.join(base, "organisation.csv"), warn=lambda m: None)
    assert open(dl, "rb").read() == open(again, "rb").read()


def test_cli_builds_from_the_bundled_collections(tmp_path):
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    dl = tmp_path / "digital-land.sqlite3"
    subprocess.run([sys.executable, os.path.join(ROOT, "bin", "digital-land-sqlite"), "--specification-dir", SPEC,
                    "--collection-dir", os.path.join(ROOT, "collection"), "--pipeline-dir", os.path.join(ROOT, "pipeline"),
                    "--dataset-dir", str(tmp_path), "--expectation-dir", str(tmp_path / "none"),
                    "--organisation", os.path.join(ROOT, "example", "organisation.csv"), "--output", str(dl)],
                   check=True, capture_output=True, env=env)
    collections = {r[0] for r in query(str(dl), "SELECT DISTINCT collection FROM endpoint")}
    assert {"conservation-area", "central-activities-zone"} <= collections
    perf = tmp_path / "performance.sqlite3"
    subprocess.run([sys.executable, os.path.join(ROOT, "bin", "performance-sqlite"), "--digital-land", str(dl), "--dataset-dir",
                    str(tmp_path), "--output", str(perf), "--run-date", "2026-01-01"], check=True, capture_output=True, env=env)
    assert query(str(perf), "SELECT count(*) FROM endpoint_summary")[0][0] >= 3
    bad = subprocess.run([sys.executable, os.path.join(ROOT, "bin", "performance-sqlite"), "--digital-land", str(tmp_path / "x"),
                          "--output", str(perf)], capture_output=True, text=True, env=env)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
