"""The report after hand-made changes to the bundled example, looked at in headless Chromium: a retired endpoint,
a patched value, a skip that empties Southwark's resource so the regression gate holds the build back, and
expectation rules, one failing."""
import csv
import datetime
import json
import os
import sqlite3
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from browser import Browser, available  # noqa: E402
from reportkit import COLLECTIONS, datasette, make  # noqa: E402

pytestmark = pytest.mark.skipif(not available() and not os.environ.get("CI"), reason="no /usr/bin/chromium: make test-setup")

CA = "conservation-area"
CAZ = "central-activities-zone"
HEADER = {"expect.csv": "datasets,organisations,operation,parameters,name,description,notes,severity,responsibility,"
                        "end-date,entry-date,start-date,schedule"}


def rows(path):
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def append(path, *lines):
    with open(path, "a", encoding="utf-8", newline="") as f:
        for line in lines:
            f.write(line + "\n")


@pytest.fixture(scope="module")
def changed(tmp_path_factory, workspace_at):
    workspace = workspace_at(tmp_path_factory.mktemp("changed"), *COLLECTIONS)
    make(workspace)
    with sqlite3.connect(workspace / "dataset" / f"{CA}.sqlite3") as conn:
        southwark = [r[0] for r in conn.execute("SELECT entity FROM entity WHERE organisation_entity = '329' ORDER BY entity")]
    today = datetime.date.today().isoformat()

    # retire Bracknell's live endpoint today
    endpoints = workspace / "collection" / CA / "endpoint.csv"
    text = endpoints.read_text(encoding="utf-8")
    bracknell = next(e for e in rows(endpoints) if "brc-conservation-area" in e["endpoint-url"])
    assert not bracknell["end-date"]
    line = next(l for l in text.splitlines() if l.startswith(bracknell["endpoint"]))
    endpoints.write_text(text.replace(line, line + today), encoding="utf-8")  # its end-date is the last column
    assert next(e for e in rows(endpoints) if e["endpoint"] == bracknell["endpoint"])["end-date"] == today
    # patch a value, and skip every line of Southwark's resource: 53 of 68 entities removed, so the build is held
    resource = next(r["resource"] for r in rows(workspace / "collection" / CA / "resource.csv")
                    if r["organisations"] == "local-authority-eng:SWK" and not r["end-date"]
                    and "d730619f" in r["endpoints"])
    append(workspace / "pipeline" / CA / "patch.csv", f"{CA},,name,^CALVERTON C.A.$,Calverton")
    append(workspace / "pipeline" / CA / "skip.csv", f"{CA},{resource},.*")
    # two expectations for the central activities zones: one met, one not
    expect = workspace / "pipeline" / CAZ / "expect.csv"
    if not expect.exists() or not expect.read_text(encoding="utf-8").strip():  # the example has no rules for it
        expect.write_text(HEADER["expect.csv"] + "\n", encoding="utf-8")
    append(expect,
           f'{CAZ},,count_rows,"{{""expected"": 5}}",more than 5 zones,,,warning,internal,,,,',
           f'{CAZ},,count_rows,"{{""expected"": 100}}",more than 100 zones,,,error,internal,,,,')
    held = make(workspace, ok=False)
    output = held.stdout + held.stderr
    assert held.returncode != 0 and "gate: conservation-area: HELD" in output
    assert "failed (exit status" not in output  # nothing else went wrong: the run failed for the held build only
    make(workspace, "report")
    with datasette(workspace) as (base, _):
        browser = Browser(str(tmp_path_factory.mktemp("chromium-profile")))
        try:
            yield {"base": base, "workspace": workspace, "browser": browser, "southwark": southwark,
                   "bracknell": bracknell["endpoint"], "today": today, "shots": tmp_path_factory.mktemp("screenshots")}
        finally:
            browser.close()


def cells(browser, selector):
    return browser.evaluate(
        f"Object.fromEntries([...document.querySelectorAll({json.dumps(selector + ' td[data-field]')})]"
        ".map(td => [td.dataset.field, td.textContent.trim()]))")


def test_report_shows_the_held_build_the_retired_endpoint_and_the_failed_expectation(changed):
    browser = changed["browser"]
    browser.open(changed["base"] + "/-/report/index.html")
    browser.screenshot(str(changed["shots"] / "index.png"))
    held = browser.evaluate("document.querySelector('#held li').textContent")
    assert held.startswith(f"{CA}: ") and "removed" in held
    row = cells(browser, f"#dataset-{CA}")
    assert row["decision"] == "held" and row["removed"] == str(len(changed["southwark"]))
    assert row["entities"] == "68"  # what stays published: the last good build
    assert cells(browser, f"#collection-{CA}")["held"] == CA

    endpoint = browser.evaluate(f"[...document.querySelectorAll('tr[data-endpoint=\"{changed['bracknell']}\"] td')]"
                                ".map(td => td.textContent)")
    assert f"ended {changed['today']}" in endpoint
    assert cells(browser, f"#collection-{CA}")["active-endpoints"] == "3"  # was 4

    assert cells(browser, f"#dataset-{CAZ}")["expectations"] == "1 / 2"
    assert cells(browser, f"#collection-{CAZ}")["expectations-failed"] == "1"


def test_dataset_page_shows_why_the_build_was_held_and_its_changes(changed):
    browser = changed["browser"]
    browser.open(changed["base"] + f"/-/report/{CA}.html")
    browser.screenshot(str(changed["shots"] / "held.png"))
    report = browser.evaluate("document.querySelector('#held pre').textContent")
    with open(changed["workspace"] / "dataset" / "held" / f"{CA}-report.md", encoding="utf-8") as f:
        assert report == f.read()
    text = browser.evaluate("document.querySelector('#changes p').textContent")
    total = len(rows(changed["workspace"] / "dataset" / "held" / f"{CA}-changes.csv"))
    assert text.startswith(f"{total} rows in dataset/held/{CA}-changes.csv")
    assert total == len(changed["southwark"]) + 1  # every Southwark entity removed, and the patched name
    shown = browser.evaluate("[...document.querySelectorAll('#changes tbody tr')].map(tr => [...tr.cells].map(td => td.textContent))")
    assert ["44001676", "changed", "name", "CALVERTON C.A.", "Calverton", ""] in shown
    assert sum(1 for r in shown if r[1] == "removed") == 19  # the first 20 rows of the changelog


def test_expectation_results_are_listed_with_the_failed_one_marked(changed):
    browser = changed["browser"]
    browser.open(changed["base"] + f"/-/report/{CAZ}.html")
    results = browser.evaluate("[...document.querySelectorAll('#expectations tbody tr')].map(tr => "
                               "[tr.querySelector('[data-field=name]').textContent, tr.querySelector('[data-field=passed]')"
                               ".textContent, tr.className])")
    assert sorted(results) == [["more than 100 zones", "False", "error"], ["more than 5 zones", "True", ""]]
    assert cells(browser, "#figures")["expectations-failed"] == "1"
