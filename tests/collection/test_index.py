import csv
import json
import os
import shutil

from planning_pipeline.collection.index import index_collection

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def rows(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def write_log(collection_dir, day, endpoint_url, resource=None, entry_time="01:00:00.000000"):
    import hashlib

    endpoint = hashlib.sha256(endpoint_url.encode()).hexdigest()
    log = {"endpoint-url": endpoint_url, "entry-date": f"{day}T{entry_time}", "elapsed": "0.1", "status": "200",
           "request-headers": {}, "response-headers": {"Content-Type": "text/csv", "Content-Length": "3"}, "ssl-verify": True}
    if resource:
        log["resource"] = resource
    folder = collection_dir / "log" / day
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{endpoint}.json").write_text(json.dumps(log))
    return endpoint


def test_index_builds_log_and_resource_csv_from_the_real_conservation_area_logs(copy_collection):
    c = copy_collection("conservation-area")
    count, changed = index_collection(str(c), "2026-11-27")
    log = rows(c / "log.csv")
    assert count == len(log) == 6  # one download of each of the six endpoints, 2020-2022
    resources = {r["resource"]: r for r in rows(c / "resource.csv")}
    assert changed and len(resources) == 6
    southwark = resources["b9503f86a1e0c5e02c1fa5b42b8d84c63b1cca421813dfc44c0f1bf7b59e5d74"]
    assert southwark["organisations"] == "local-authority-eng:SWK"
    assert southwark["datasets"] == "conservation-area"
    assert southwark["bytes"] == "516096"
    assert (southwark["start-date"], southwark["end-date"]) == ("2022-04-09", "2022-04-09")
    # the oldest logs use the legacy `datetime` key; they are migrated to entry-date
    newcastle = [r for r in log if r["resource"].startswith("9141bf76")]
    assert newcastle[0]["entry-date"] == "2020-09-06T15:39:06.971734"
    assert newcastle[0]["content-type"] == "application/vnd.google-earth.kml+xml"


def test_index_keeps_upstream_rows_and_rereads_only_the_last_indexed_day(copy_collection):
    c = copy_collection("central-activities-zone")
    state = os.path.join(ROOT, "tests", "data", "index", "central-activities-zone")
    shutil.copy(os.path.join(state, "log.csv"), c / "log.csv")
    shutil.copy(os.path.join(state, "resource.csv"), c / "resource.csv")
    count, changed = index_collection(str(c), "2024-10-21")
    # only the 2024-10-21 folder was read (the 2024-10-07 logs predate the index and are not re-read)
    assert count == 3
    assert not changed
    with open(os.path.join(state, "resource.csv"), "rb") as expected:
        assert (c / "resource.csv").read_bytes() == expected.read()
    before = rows(os.path.join(state, "log.csv"))
    after = rows(c / "log.csv")
    assert after[:-3] == before[:-3]
    # the last day's rows come from that day's (refilled) log files
    assert {r["entry-date"] for r in after[-3:]} == {"2024-10-21T22:01:31.776439"}


def test_index_is_incremental_and_does_not_read_old_log_files(copy_collection):
    c = copy_collection("conservation-area")
    index_collection(str(c), "2026-11-27")
    # an unreadable old log would be reported if it were read again
    old = next((c / "log" / "2020-09-06").iterdir())
    old.write_text("not json")
    resource = "b9503f86a1e0c5e02c1fa5b42b8d84c63b1cca421813dfc44c0f1bf7b59e5d74"
    write_log(c, "2026-11-27", "file:example/conservation-area/swk-conservation-area.gpkg", resource)
    count, changed = index_collection(str(c), "2026-11-27")
    assert count == 2  # the last indexed day (2022-04-09) again, and today's new log
    assert changed
    resources = {r["resource"]: r for r in rows(c / "resource.csv")}
    southwark = resources[resource]
    assert southwark["end-date"] == ""  # seen today
    assert southwark["start-date"] == "2022-04-09"
    assert len(southwark["endpoints"].split(";")) == 2
    assert len(rows(c / "log.csv")) == 7


def test_index_closes_the_end_date_of_a_resource_no_longer_seen(copy_collection):
    c = copy_collection("conservation-area")
    url = "file:example/conservation-area/swk-conservation-area.gpkg"
    write_log(c, "2026-11-26", url, "a" * 64)
    index_collection(str(c), "2026-11-26")
    assert {r["resource"]: r for r in rows(c / "resource.csv")}["a" * 64]["end-date"] == ""
    write_log(c, "2026-11-27", url, "b" * 64)
    index_collection(str(c), "2026-11-27")
    resources = {r["resource"]: r for r in rows(c / "resource.csv")}
    assert resources["a" * 64]["end-date"] == "2026-11-26"
    assert resources["b" * 64]["end-date"] == ""


def test_index_logs_failed_fetches_without_a_resource(copy_collection):
    c = copy_collection("conservation-area")
    endpoint = write_log(c, "2026-11-27", "http://127.0.0.1:9/missing.csv")
    log_file = c / "log" / "2026-11-27" / f"{endpoint}.json"
    log = json.loads(log_file.read_text())
    log.pop("status")
    log["exception"] = "ConnectionRefusedError"
    log_file.write_text(json.dumps(log))
    index_collection(str(c), "2026-11-27")
    failed = [r for r in rows(c / "log.csv") if r["endpoint"] == endpoint]
    assert failed[0]["exception"] == "ConnectionRefusedError" and failed[0]["resource"] == ""
    assert all(r["resource"] for r in rows(c / "resource.csv"))
