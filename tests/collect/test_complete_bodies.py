"""Only a complete, real body becomes a resource: empty, cut-off, dripped and bomb bodies are logged failures."""
import gzip
import hashlib
import json
import os
import time

import pytest

from planning_pipeline.collect.fetch import collect_endpoint

DATE = "2026-11-02"
CSV = b"reference,name\nCA1,Old Town\nCA2,Riverside\n"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


def gzip_bomb(decoded, member=64 << 20):
    """gzip of `decoded` zero bytes, as concatenated members of `member` bytes each (quick to build)."""
    whole, rest = divmod(decoded, member)
    body = gzip.compress(b"0" * member, 9) * whole if whole else b""
    return body + (gzip.compress(b"0" * rest, 9) if rest else b"")


def collect(collection, url, options, **kwargs):
    endpoint = collection.add(url, **kwargs)
    result = collect_endpoint(collection.path, endpoint, date=DATE, options=options)
    with open(result.log_path, "rb") as f:
        log = json.loads(f.read())
    assert log == result.log
    return result, log


def assert_failed(collection, log, exception, status="200"):
    assert "resource" not in log
    assert log.get("exception") == exception
    assert log.get("status") == status
    assert collection.resources() == {}  # no resource, no temporary left in resource/
    if os.path.isdir(collection.resource_dir):
        assert os.listdir(collection.resource_dir) == []


def test_empty_200_response_is_a_failure_not_the_empty_resource(collection, options, http_server):
    url = http_server.content("/empty.csv", b"")
    result, log = collect(collection, url, options)
    assert_failed(collection, log, "EmptyResponse")
    assert not os.path.exists(os.path.join(collection.resource_dir, EMPTY_SHA256))
    assert "empty" in result.detail


def test_empty_chunked_response_is_a_failure(collection, options, http_server):
    url = http_server.route("/empty-chunked", lambda h: http_server.chunked(h, []))
    result, log = collect(collection, url, options)
    assert_failed(collection, log, "EmptyResponse")


def test_empty_file_is_a_failure(collection, options, tmp_path):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    result, log = collect(collection, f"file://{path}", options)
    assert_failed(collection, log, "EmptyResponse", status=None)


def test_gzip_body_that_decodes_to_nothing_is_a_failure(collection, options, http_server):
    url = http_server.content("/empty.csv.gz", gzip.compress(b""), headers={"Content-Encoding": "gzip"})
    result, log = collect(collection, url, options)
    assert_failed(collection, log, "EmptyResponse")


@pytest.mark.parametrize("length", [True, False], ids=["content-length", "no-content-length"])
def test_dripped_body_is_cut_off_at_the_deadline(collection, options, http_server, length):
    url = http_server.route(f"/drip-{length}", lambda h: http_server.drip(h, CSV * 10, 0.2, length=length))
    started = time.monotonic()
    result, log = collect(collection, url, options.replace(deadline=2.0))
    elapsed = time.monotonic() - started
    assert_failed(collection, log, "DeadlineExceeded")
    assert 2.0 <= elapsed < 3.0
    assert "2" in result.detail and "s" in result.detail
    assert http_server.hits(f"/drip-{length}") == 1  # a deadline is not retried


def test_dripped_headers_are_cut_off_at_the_deadline(collection, options, http_server):
    url = http_server.route("/drip-headers", lambda h: http_server.drip(h, CSV, 0.2, headers_too=True))
    started = time.monotonic()
    result, log = collect(collection, url, options.replace(deadline=2.0))
    assert time.monotonic() - started < 3.0
    assert_failed(collection, log, "DeadlineExceeded", status=None)


def test_a_body_within_the_deadline_is_kept(collection, options, http_server):
    url = http_server.route("/slow-but-done", lambda h: http_server.drip(h, CSV[:8], 0.05, length=False))
    result, log = collect(collection, url, options.replace(deadline=2.0))
    assert collection.resources() == {log["resource"]: CSV[:8]}


def test_connection_reset_mid_body_without_content_length_is_a_failure(collection, options, http_server):
    url = http_server.route("/reset-mid-body", lambda h: http_server.cut_short(h, CSV, how="reset"))
    result, log = collect(collection, url, options)
    assert_failed(collection, log, "ConnectionError")
    assert http_server.hits("/reset-mid-body") == options.retries + 1


def test_connection_closed_before_content_length_is_a_failure(collection, options, http_server):
    url = http_server.route("/closed-early", lambda h: http_server.cut_short(h, CSV, length=1000))
    result, log = collect(collection, url, options)
    assert_failed(collection, log, "IncompleteRead")
    assert f"{len(CSV)} of 1000" in result.detail


def test_body_ending_with_the_connection_is_complete_by_http_rules(collection, options, http_server):
    """Without Content-Length or chunking, HTTP ends a body by closing the connection: that is a whole body."""
    url = http_server.route("/closed-no-length", lambda h: http_server.cut_short(h, CSV))
    result, log = collect(collection, url, options)
    assert collection.resources() == {log["resource"]: CSV}


@pytest.mark.parametrize("how", ["close", "reset"])
def test_unterminated_chunked_body_is_a_failure(collection, options, http_server, how):
    path = f"/unterminated-{how}"
    url = http_server.route(path, lambda h: http_server.chunked(h, [CSV, CSV], terminate=False, how=how))
    result, log = collect(collection, url, options)
    assert_failed(collection, log, "IncompleteRead" if how == "close" else "ConnectionError")
    assert http_server.hits(path) == options.retries + 1


def test_chunk_cut_in_the_middle_is_a_failure(collection, options, http_server):
    def half_chunk(h):
        h.protocol_version = "HTTP/1.1"
        h.send_response(200)
        h.send_header("Transfer-Encoding", "chunked")
        h.end_headers()
        h.wfile.write(b"1000\r\n" + CSV)
        h.close_connection = True

    result, log = collect(collection, http_server.route("/half-chunk", half_chunk), options)
    assert_failed(collection, log, "IncompleteRead")


def test_terminated_chunked_body_is_kept(collection, options, http_server):
    url = http_server.route("/chunked", lambda h: http_server.chunked(h, [CSV[:10], CSV[10:]]))
    result, log = collect(collection, url, options)
    assert collection.resources() == {log["resource"]: CSV}


def test_gzip_body_cut_short_without_content_length_is_a_failure(collection, options, http_server):
    body = gzip.compress(CSV * 1000)
    url = http_server.route("/gzip-cut", lambda h: _gzip_cut(h, body[: len(body) // 2]))
    result, log = collect(collection, url, options)
    assert_failed(collection, log, "ContentDecodingError")


def _gzip_cut(h, part):
    h.send_response(200)
    h.send_header("Content-Encoding", "gzip")
    h.end_headers()
    h.wfile.write(part)


def test_gzip_bomb_is_refused_quickly_after_reading_little(collection, options, http_server):
    body = gzip_bomb(10 << 30)  # 10 GiB of zeros in about 10 MB
    assert len(body) > 10_000_000
    url = http_server.content("/bomb-10mb", body, "application/json", headers={"Content-Encoding": "gzip"})
    started = time.monotonic()
    result, log = collect(collection, url, options.replace(max_bytes=1 << 20))
    assert time.monotonic() - started < 1.0
    assert_failed(collection, log, "ContentTooLarge")
    compressed = int(result.detail.split(" after ")[1].split()[0])
    assert compressed < 200_000  # refused after reading a small part of the 10 MB


def test_single_member_gzip_bomb_is_refused(collection, options, http_server):
    body = gzip.compress(b"\0" * (64 << 20), 9)
    url = http_server.content("/bomb-single", body, headers={"Content-Encoding": "gzip"})
    started = time.monotonic()
    result, log = collect(collection, url, options.replace(max_bytes=1 << 20))
    assert time.monotonic() - started < 1.0
    assert_failed(collection, log, "ContentTooLarge")
    assert "decodes to over 1048576 bytes" in result.detail


def test_gzip_body_under_the_cap_is_kept_decoded(collection, options, http_server):
    content = CSV * 20000  # 0.8 MB decoded, under the 1 MB cap
    url = http_server.content("/fine.csv.gz", gzip.compress(content), headers={"Content-Encoding": "gzip"})
    result, log = collect(collection, url, options)
    assert collection.resources() == {log["resource"]: content}


def test_concatenated_gzip_members_are_kept_whole(collection, options, http_server):
    url = http_server.content("/members.gz", gzip.compress(CSV) + gzip.compress(CSV[:9]), headers={"Content-Encoding": "gzip"})
    result, log = collect(collection, url, options)
    assert collection.resources() == {log["resource"]: CSV + CSV[:9]}
