"""collect-summary counts a day's fetches: new resources (never logged before), unchanged, failed by reason."""
import os

from planning_pipeline.collect.log import write_log
from planning_pipeline.collect.summary import summarise

R1, R2, R3 = "1" * 64, "2" * 64, "3" * 64


def log(collection, date, endpoint, **fields):
    write_log(os.path.join(collection.path, "log", date, endpoint + ".json"), {"endpoint-url": f"http://x/{endpoint}", **fields})


def test_summary_counts_new_unchanged_and_failures_by_reason(collection):
    log(collection, "2026-11-01", "a", resource=R1, status="200")
    log(collection, "2026-11-02", "a", resource=R1, status="200")
    log(collection, "2026-11-02", "b", resource=R2, status="200")
    log(collection, "2026-11-02", "c", resource=R2, status="200")
    log(collection, "2026-11-02", "d", status="404")
    log(collection, "2026-11-02", "e", exception="ReadTimeout")
    log(collection, "2026-11-02", "f", exception="ReadTimeout")
    log(collection, "2026-11-03", "g", resource=R3, status="200")
    s = summarise(collection.path, "2026-11-02")
    assert (s.fetched, s.ok, s.unchanged) == (6, 3, 1)
    assert s.new == [(R2, "http://x/b")]
    assert s.failed == {"status 404": ["http://x/d"], "ReadTimeout": ["http://x/e", "http://x/f"]}
    lines = list(s.lines())
    assert lines[0] == "collect test-collection 2026-11-02: 6 endpoints fetched, 3 ok (1 new resources, 1 unchanged), 3 failed"
    assert lines[1:] == ["  failed ReadTimeout: 2", "  failed status 404: 1"]


def test_summary_uses_resource_csv_for_the_days_it_covers(collection):
    with open(os.path.join(collection.path, "resource.csv"), "w") as f:
        f.write("resource,bytes,organisations,datasets,endpoints,start-date,end-date\n")
        f.write(f"{R1},1,,,,2025-01-01,2026-10-30\n")
    log(collection, "2026-11-01", "b", resource=R2, status="200")  # after resource.csv's last day: read
    log(collection, "2020-01-01", "c", resource=R3, status="200")  # covered by resource.csv: not read
    for endpoint, resource in (("a", R1), ("b", R2), ("c", R3)):
        log(collection, "2026-11-02", endpoint, resource=resource, status="200")
    s = summarise(collection.path, "2026-11-02")
    assert s.unchanged == 2 and s.new == [(R3, "http://x/c")]


def test_summary_reports_live_endpoints_without_a_log(collection):
    fetched = collection.add("http://x/fetched")
    collection.add("http://x/missed")
    collection.add("http://x/ended", end="2026-01-01")
    log(collection, "2026-11-02", fetched, resource=R1, status="200")
    s = summarise(collection.path, "2026-11-02")
    assert s.not_fetched == ["http://x/missed"]
    assert "1 live endpoints not fetched" in next(s.lines())
