"""The data-quality report of the bundled example, built by `make report`, served by `make serve`'s datasette
at /-/report/ and looked at in real headless Chromium: the page shows the figures the pipeline's outputs hold,
and each geography dataset's map draws its features from the project's own /-/tiles/ route."""
import csv
import http.client
import json
import os
import sqlite3
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from browser import Browser, available  # noqa: E402
from reportkit import COLLECTIONS, datasette, make  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# Debian's chromium comes with `make test-setup`; in CI a missing browser fails the tests instead of skipping them
pytestmark = pytest.mark.skipif(not available() and not os.environ.get("CI"), reason="no /usr/bin/chromium: make test-setup")


@pytest.fixture(scope="module")
def served(tmp_path_factory, workspace_at):
    """The example built by `make`, its report by `make report`, served by datasette as `make serve` runs it."""
    workspace = workspace_at(tmp_path_factory.mktemp("report"), *COLLECTIONS)
    make(workspace)
    output = make(workspace, "report").stdout
    assert "report: var/datasette/report: 3 collections" in output
    with datasette(workspace) as (base, log):
        browser = Browser(str(tmp_path_factory.mktemp("chromium-profile")))
        try:
            yield {"base": base, "workspace": workspace, "browser": browser, "log": log,
                   "shots": tmp_path_factory.mktemp("screenshots")}
        finally:
            browser.close()


def severities(workspace):
    with open(workspace / "specification" / "issue-type.csv", encoding="utf-8", newline="") as f:
        return {r["issue-type"]: r["severity"] for r in csv.DictReader(f)}


def expected_dataset_figures(workspace, dataset):
    """Counted straight from the published dataset, independently of the report's code."""
    with sqlite3.connect(workspace / "dataset" / f"{dataset}.sqlite3") as conn:
        entities = conn.execute("SELECT count(*) FROM entity").fetchone()[0]
        issues = conn.execute("SELECT issue_type, count(*) FROM issue GROUP BY issue_type").fetchall()
    severity = severities(workspace)
    by_severity = {}
    for issue_type, count in issues:
        by_severity[severity.get(issue_type, "info")] = by_severity.get(severity.get(issue_type, "info"), 0) + count
    return entities, by_severity


def cells(browser, selector):
    return browser.evaluate(
        f"Object.fromEntries([...document.querySelectorAll({json.dumps(selector + ' td[data-field]')})]"
        ".map(td => [td.dataset.field, td.textContent.trim()]))")


def test_report_page_shows_each_collections_endpoints_resources_entities_and_issues(served):
    browser, workspace = served["browser"], served["workspace"]
    browser.open(served["base"] + "/-/report")  # redirected to /-/report/index.html
    assert browser.evaluate("location.pathname") == "/-/report/index.html"
    browser.screenshot(str(served["shots"] / "index.png"))
    assert browser.evaluate("document.querySelector('h1').textContent") == "Data quality report"

    entities, by_severity = expected_dataset_figures(workspace, "conservation-area")
    assert entities == 68 and by_severity["error"] == 7  # the example's figures, as the pipeline built them
    row = cells(browser, "#dataset-conservation-area")
    assert row["entities"] == str(entities)
    assert {s: int(row[f"issue-{s}"]) for s in ("error", "warning", "notice", "info")} == \
        {s: by_severity.get(s, 0) for s in ("error", "warning", "notice", "info")}
    assert row["decision"] == "first publication" and row["added"] == str(entities)
    assert row["map"] == "68 features"

    with open(workspace / "collection" / "conservation-area" / "endpoint.csv", encoding="utf-8", newline="") as f:
        endpoints = list(csv.DictReader(f))
    with open(workspace / "collection" / "conservation-area" / "resource.csv", encoding="utf-8", newline="") as f:
        resources = list(csv.DictReader(f))
    collection = cells(browser, "#collection-conservation-area")
    assert collection["endpoints"] == str(len(endpoints))
    assert collection["active-endpoints"] == str(sum(1 for e in endpoints if not e["end-date"]))
    assert collection["error-endpoints"] == "0"
    assert collection["resources"] == str(len(resources))
    assert collection["entities"] == str(entities)  # conservation-area-document has no entities in the example

    # every endpoint of the collection is listed with its latest status
    listed = browser.evaluate("[...document.querySelectorAll('#endpoints-conservation-area + table tr[data-endpoint]')]"
                              ".map(tr => [tr.dataset.endpoint, tr.querySelector('[data-field=latest-status]').textContent])")
    assert sorted(e for e, _ in listed) == sorted(e["endpoint"] for e in endpoints)
    assert {status for _, status in listed} == {"200"}

    # per organisation: Southwark's conservation areas, counted from the dataset by organisation entity
    with sqlite3.connect(workspace / "dataset" / "conservation-area.sqlite3") as conn:
        southwark = conn.execute("SELECT count(*) FROM entity WHERE organisation_entity = '329'").fetchone()[0]
    organisation = cells(browser, '#organisations tr[data-organisation="local-authority-eng:SWK"][data-dataset="conservation-area"]')
    assert organisation["organisation"] == "London Borough of Southwark"
    assert organisation["entities"] == str(southwark) and southwark > 0

    assert browser.evaluate("document.querySelector('#held').textContent").strip().endswith("No dataset is held back.")


def test_dataset_page_maps_the_features_from_the_projects_tile_route(served):
    browser = served["browser"]
    browser.open(served["base"] + "/-/report/conservation-area.html")
    browser.wait_for("document.body.getAttribute('data-map-state') === 'idle'", timeout=60)
    browser.screenshot(str(served["shots"] / "conservation-area.png"))
    assert browser.evaluate("document.body.getAttribute('data-map-error')") is None
    source = browser.evaluate("reportMap.getStyle().sources.features.tiles")
    assert source == [served["base"] + "/-/tiles/conservation-area/{z}/{x}/{y}.vector.pbf"]
    rendered = browser.evaluate("[...new Set(reportMap.queryRenderedFeatures({layers: ['fill']}).map(f => f.properties.entity))]")
    with sqlite3.connect(served["workspace"] / "dataset" / "conservation-area.sqlite3") as conn:
        entities = {r[0] for r in conn.execute("SELECT entity FROM entity")}
    # the whole dataset is in view: most polygons are drawn at this zoom (tippecanoe drops the tiniest)
    assert set(rendered) <= entities and len(rendered) > len(entities) / 2
    with open(served["log"], encoding="utf-8") as f:
        tiles = [line for line in f if "GET /-/tiles/conservation-area/" in line]
    assert tiles and all(" 200 OK" in line for line in tiles)


def test_a_click_on_a_feature_shows_its_fields_and_issues(served):
    browser = served["browser"]
    with sqlite3.connect(served["workspace"] / "dataset" / "conservation-area.sqlite3") as conn:
        name, reference, point = conn.execute(
            "SELECT name, reference, point FROM entity WHERE entity = 44001676").fetchone()
        issues = dict(conn.execute("SELECT issue_type, count(*) FROM issue WHERE entity = '44001676' GROUP BY 1"))
    assert issues == {"invalid date": 1}  # Gedling's Calverton: its designation date '1974 & 1983'
    lon, lat = (float(v) for v in point[len("POINT("):-1].split())
    browser.open(served["base"] + "/-/report/conservation-area.html")
    browser.wait_for("document.body.getAttribute('data-map-state') === 'idle'", timeout=60)
    browser.evaluate(f"document.body.removeAttribute('data-map-state'); reportMap.jumpTo({{center: [{lon}, {lat}], zoom: 14}}); null")
    browser.wait_for("document.body.getAttribute('data-map-state') === 'idle'", timeout=60)
    x, y = browser.evaluate(f"(() => {{ const r = reportMap.getCanvas().getBoundingClientRect();"
                            f" const p = reportMap.project([{lon}, {lat}]); return [r.left + p.x, r.top + p.y]; }})()")
    fill = browser.evaluate(f"reportMap.queryRenderedFeatures([{x} - reportMap.getCanvas().getBoundingClientRect().left,"
                            f" {y} - reportMap.getCanvas().getBoundingClientRect().top], {{layers: ['fill']}})"
                            ".map(f => f.properties.entity)")
    assert fill == [44001676]
    browser.click(x, y)
    browser.wait_for("document.body.getAttribute('data-clicked-entity') === '44001676'", timeout=10)
    browser.screenshot(str(served["shots"] / "clicked.png"), full_page=False)
    fields = browser.evaluate("Object.fromEntries([...document.querySelectorAll('#feature-fields tr')]"
                              ".map(tr => [tr.cells[0].textContent, tr.cells[1].textContent]))")
    assert fields["name"] == name and fields["reference"] == reference and fields["entity"] == "44001676"
    shown = browser.evaluate("Object.fromEntries([...document.querySelectorAll('#feature-issues tr')]"
                             ".map(tr => [tr.cells[0].textContent, Number(tr.cells[1].textContent)]))")
    assert shown == issues
    # drawn in the colour of an entity with an error (#d4351c), the others in a warning's or the plain one
    colours = browser.evaluate("Object.fromEntries(reportMap.queryRenderedFeatures({layers: ['fill']}).map(f => "
                               "[f.properties.entity, [f.layer.paint['fill-color'].r, f.layer.paint['fill-color'].g,"
                               " f.layer.paint['fill-color'].b].map(v => Math.round(v * 255)).join(',')]))")
    assert colours["44001676"] == "212,53,28"
    # the trace from the server's /-/explain/ route: each field's winning value, with the configuration rows
    # and issues that bin/explain names for it (Calverton's entry-date: its column mapping, the resource's
    # start-date it defaulted to, and the invalid date of its line)
    from planning_pipeline.explain import explain

    browser.wait_for("document.body.getAttribute('data-explain-state') === 'shown'", timeout=20)
    browser.screenshot(str(served["shots"] / "explained.png"), full_page=False)
    shown = browser.evaluate("Object.fromEntries([...document.querySelectorAll('#feature-trace .trace-field')].map(d => "
                             "[d.dataset.field, [...d.querySelectorAll('li')].map(li => li.className + ': ' + li.textContent)]))")
    expected = explain(served["workspace"], "conservation-area", "44001676")
    assert sorted(shown) == sorted(f["field"] for f in expected["fields"])
    for f in expected["fields"]:
        changes = [f"change: {c['kind']}: {c['file']}:{c['line']}" for e in f["winner"]["entries"] for c in e["changes"]]
        assert [line for line in shown[f["field"]] if line.startswith("change: ")] == changes
    entry_date = shown["entry-date"]
    assert "change: column mapping: pipeline/conservation-area/column.csv:31" in entry_date
    assert "issue: invalid date (1974 & 1983)" in [line.split(": ", 1)[1] for line in entry_date if line.startswith("issue")]


def test_the_same_outputs_give_a_byte_identical_report(served, tmp_path):
    again = tmp_path / "again"
    result = subprocess.run([sys.executable, "bin/report", "--root", str(served["workspace"]), "--output", str(again)],
                            cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    first = served["workspace"] / "var" / "datasette" / "report"
    names = sorted(str(p.relative_to(first)) for p in first.rglob("*") if p.is_file())
    assert names == sorted(str(p.relative_to(again)) for p in again.rglob("*") if p.is_file())
    assert "conservation-area.html" in names and "static/maplibre-gl/maplibre-gl.js" in names
    for name in names:
        assert (first / name).read_bytes() == (again / name).read_bytes(), name


def test_the_report_route_serves_only_the_reports_own_files(served):
    def get(path):
        connection = http.client.HTTPConnection(served["base"].split("//")[1], timeout=10)
        connection.request("GET", path)  # sent as written: no client-side normalising of ..
        response = connection.getresponse()
        return response.status, response.getheader("content-type"), response.read()

    status, kind, body = get("/-/report/report.json")
    assert status == 200 and kind.startswith("application/json") and json.loads(body)["run_date"]
    for path in ("/-/report/../conservation-area.sqlite3", "/-/report/static/../../conservation-area.sqlite3",
                 "/-/report/%2e%2e/conservation-area.sqlite3", "/-/report//etc/passwd", "/-/report/missing.html"):
        assert get(path)[0] == 404, path
