"""Fetching good content: content-addressed resources, canonical logs, dates and the once-a-day rule."""
import datetime
import gzip
import hashlib
import json
import os
import re

import pytest

from planning_pipeline.collect.endpoint import endpoint_hash
from planning_pipeline.collect.fetch import ALREADY_FETCHED, FETCHED, NOT_LIVE, collect_endpoint
from planning_pipeline.errors import UserError

DATE = "2026-11-02"
CSV = b"reference,name\nCA1,Old Town\nCA2,Riverside\n"


def sha(content):
    return hashlib.sha256(content).hexdigest()


def read(path):
    with open(path, "rb") as f:
        return f.read()


def test_content_is_kept_as_resource_named_by_its_sha256(collection, options, http_server):
    endpoint = collection.add(http_server.content("/good.csv", CSV))
    result = collect_endpoint(collection.path, endpoint, date=DATE, options=options)
    assert result.outcome == FETCHED and result.new
    assert result.log_path == os.path.join(collection.path, "log", DATE, endpoint + ".json")
    log = json.loads(read(result.log_path))
    assert log["resource"] == sha(CSV) and log["status"] == "200"
    assert collection.resources() == {sha(CSV): CSV}
    assert sorted(os.listdir(collection.resource_dir)) == [sha(CSV)]


def test_log_is_canonical_json_with_the_upstream_keys(collection, options, http_server):
    endpoint = collection.add(http_server.content("/canonical.csv", CSV))
    result = collect_endpoint(collection.path, endpoint, date=DATE, options=options)
    raw = read(result.log_path)
    log = json.loads(raw)
    assert raw == json.dumps(log, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    assert set(log) == {"elapsed", "endpoint-url", "entry-date", "request-headers", "resource", "response-headers", "ssl-verify", "status"}
    assert re.fullmatch(r"\d+\.\d{3}", log["elapsed"])
    assert log["ssl-verify"] is True
    assert log["response-headers"]["Content-Length"] == str(len(CSV))
    assert not raw.endswith(b"\n")


def test_log_keeps_non_ascii_text_unescaped(collection, options, tmp_path):
    path = tmp_path / "Conservation Areas \u00e9t\u00e9.csv"
    path.write_bytes(CSV)
    endpoint = collection.add(f"file://{path}")
    result = collect_endpoint(collection.path, endpoint, date=DATE, options=options)
    assert "\u00e9t\u00e9".encode() in read(result.log_path)
    assert result.resource == sha(CSV)


def test_entry_date_is_naive_utc_with_microseconds_taken_at_fetch_time(collection, options, http_server):
    endpoint = collection.add(http_server.content("/dated.csv", CSV))
    before = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    log = collect_endpoint(collection.path, endpoint, date=DATE, options=options).log
    after = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}", log["entry-date"])
    assert before <= datetime.datetime.fromisoformat(log["entry-date"]) <= after


def test_same_content_from_two_endpoints_is_stored_once(collection, options, http_server):
    first = collection.add(http_server.content("/one.csv", CSV))
    second = collection.add(http_server.content("/two.csv", CSV))
    a = collect_endpoint(collection.path, first, date=DATE, options=options)
    b = collect_endpoint(collection.path, second, date=DATE, options=options)
    assert a.resource == b.resource == sha(CSV)
    assert a.new and not b.new
    assert list(collection.resources()) == [sha(CSV)]


def test_json_timestamps_are_stripped_before_hashing(collection, options, http_server):
    body = b'{"type":"FeatureCollection","timeStamp": "2026-11-02T01:02:03Z","features":[],"meta":{"n":1,"timeStamp":"x"}}'
    endpoint = collection.add(http_server.content("/stamped.json", body, "application/json; charset=utf-8"))
    collect_endpoint(collection.path, endpoint, date=DATE, options=options)
    kept = b'{"type":"FeatureCollection","features":[],"meta":{"n":1}}'
    assert collection.resources() == {sha(kept): kept}
    assert json.loads(kept)


def test_xml_timestamp_attribute_is_stripped_before_hashing(collection, options, http_server):
    body = b'<?xml version="1.0"?>\n<wfs:FeatureCollection timeStamp="2026-11-02T01:02:03Z" numberMatched="0"/>\n'
    endpoint = collection.add(http_server.content("/stamped.xml", body, "application/xml"))
    result = collect_endpoint(collection.path, endpoint, date=DATE, options=options)
    kept = b'<?xml version="1.0"?>\n<wfs:FeatureCollection numberMatched="0"/>\n'
    assert collection.resources() == {result.resource: kept}


def test_timestamps_are_kept_in_other_content_types_and_file_urls(collection, options, http_server, tmp_path):
    body = b'{"timeStamp":"2026-11-02","a":1,}'
    one = collection.add(http_server.content("/stamped.txt", body, "text/plain"))
    (tmp_path / "stamped.json").write_bytes(body)
    two = collection.add(f"file://{tmp_path}/stamped.json")
    assert collect_endpoint(collection.path, one, date=DATE, options=options).resource == sha(body)
    assert collect_endpoint(collection.path, two, date=DATE, options=options).resource == sha(body)


def test_gzip_content_encoding_is_stored_decoded(collection, options, http_server):
    endpoint = collection.add(http_server.content("/gz.csv", gzip.compress(CSV), headers={"Content-Encoding": "gzip"}))
    result = collect_endpoint(collection.path, endpoint, date=DATE, options=options)
    assert collection.resources() == {sha(CSV): CSV}
    assert result.log["response-headers"]["Content-Encoding"] == "gzip"


def test_redirects_are_followed_and_the_final_response_logged(collection, options, http_server):
    http_server.content("/final.csv", CSV, headers={"X-Final": "yes"})
    http_server.route("/moved", lambda h: http_server.send(h, 301, b"", headers={"Location": "/hop"}))
    http_server.route("/hop", lambda h: http_server.send(h, 307, b"", headers={"Location": http_server.url("/final.csv")}))
    endpoint = collection.add(http_server.url("/moved"))
    log = collect_endpoint(collection.path, endpoint, date=DATE, options=options).log
    assert log["resource"] == sha(CSV)
    assert log["endpoint-url"] == http_server.url("/moved")
    assert log["response-headers"]["X-Final"] == "yes"


def test_relative_file_url_is_resolved_against_the_working_directory(collection, options, tmp_path, monkeypatch):
    (tmp_path / "example").mkdir()
    (tmp_path / "example" / "data.csv").write_bytes(CSV)
    monkeypatch.chdir(tmp_path)
    endpoint = collection.add("file:example/data.csv")
    log = collect_endpoint(collection.path, endpoint, date=DATE, options=options).log
    assert log["resource"] == sha(CSV) and log["status"] == "200"
    assert log["response-headers"] == {"Content-Length": str(len(CSV))}


def test_absolute_file_url_is_read(collection, options, tmp_path):
    (tmp_path / "data.csv").write_bytes(CSV)
    endpoint = collection.add(f"file://{tmp_path}/data.csv")
    assert collect_endpoint(collection.path, endpoint, date=DATE, options=options).resource == sha(CSV)


def test_file_url_over_max_bytes_is_a_failure(collection, options, tmp_path):
    (tmp_path / "big.csv").write_bytes(b"x" * (options.max_bytes + 1))
    endpoint = collection.add(f"file://{tmp_path}/big.csv")
    log = collect_endpoint(collection.path, endpoint, date=DATE, options=options).log
    assert log["exception"] == "ContentTooLarge" and "resource" not in log
    assert collection.resources() == {}


def test_endpoint_is_fetched_at_most_once_a_day(collection, options, http_server):
    endpoint = collection.add(http_server.content("/daily.csv", CSV))
    first = collect_endpoint(collection.path, endpoint, date=DATE, options=options)
    logged = read(first.log_path)
    again = collect_endpoint(collection.path, endpoint, date=DATE, options=options)
    assert again.outcome == ALREADY_FETCHED and again.log is None
    assert read(first.log_path) == logged
    assert http_server.hits("/daily.csv") == 1
    collect_endpoint(collection.path, endpoint, date="2026-11-03", options=options)
    assert http_server.hits("/daily.csv") == 2


def test_refill_fetches_again_and_overwrites_the_days_log(collection, options, http_server):
    bodies = [CSV, CSV + b"CA3,New\n"]
    http_server.route("/changing.csv", lambda h: http_server.send(h, 200, bodies[min(http_server.hits("/changing.csv"), 2) - 1]))
    endpoint = collection.add(http_server.url("/changing.csv"))
    first = collect_endpoint(collection.path, endpoint, date=DATE, options=options)
    second = collect_endpoint(collection.path, endpoint, date=DATE, refill=True, options=options)
    assert second.outcome == FETCHED
    assert json.loads(read(second.log_path))["resource"] == sha(bodies[1]) != first.resource
    assert set(collection.resources()) == {sha(bodies[0]), sha(bodies[1])}


@pytest.mark.parametrize(
    "start,end,live",
    [
        ("", "", True),
        ("2026-11-02", "", True),
        ("2026-11-03", "", False),
        ("", "2026-11-03", True),
        ("", "2026-11-02", False),
        ("2020-01-01T00:00:00Z", "2026-11-01T00:00:00Z", False),
    ],
)
def test_endpoint_is_collected_only_between_start_date_and_end_date(collection, options, http_server, start, end, live):
    endpoint = collection.add(http_server.content("/dates.csv", CSV), start=start, end=end)
    result = collect_endpoint(collection.path, endpoint, date=DATE, options=options)
    assert (result.outcome == FETCHED) == live
    assert os.path.exists(result.log_path) == live
    if not live:
        assert result.outcome == NOT_LIVE and result.detail
        assert not os.path.exists(os.path.join(collection.path, "log"))
        assert not os.path.exists(collection.resource_dir)


def test_date_defaults_to_today_utc(collection, options, http_server):
    endpoint = collection.add(http_server.content("/today.csv", CSV))
    result = collect_endpoint(collection.path, endpoint, options=options)
    assert result.date == datetime.datetime.now(datetime.timezone.utc).date().isoformat()
    assert os.path.exists(result.log_path)


def test_unknown_endpoint_is_a_user_error_naming_the_file(collection, options):
    with pytest.raises(UserError, match=r"endpoint\.csv: unknown endpoint abc"):
        collect_endpoint(collection.path, "abc", date=DATE, options=options)


def test_endpoint_hash_must_be_the_sha256_of_its_url(collection, options, http_server):
    collection.add(http_server.url("/a.csv"))
    wrong = endpoint_hash("https://example.org/other")
    collection.add(http_server.url("/b.csv"), endpoint=wrong)
    with pytest.raises(UserError, match=r"endpoint\.csv:3: endpoint [0-9a-f]{64} is not the sha256"):
        collect_endpoint(collection.path, wrong, date=DATE, options=options)
    assert not os.path.exists(os.path.join(collection.path, "log"))


def test_malformed_end_date_is_a_user_error_naming_the_line(collection, options, http_server):
    endpoint = collection.add(http_server.url("/c.csv"), end="01/11/2026")
    with pytest.raises(UserError, match=r"endpoint\.csv:2: .*bad date"):
        collect_endpoint(collection.path, endpoint, date=DATE, options=options)
