"""Every fault is logged in the day's JSON (never fatal) and never leaves a partial resource or temp file."""
import json
import time

from planning_pipeline.collect.fetch import collect_endpoint

DATE = "2026-11-02"


def collect(collection, url, options, **kwargs):
    endpoint = collection.add(url, **kwargs)
    result = collect_endpoint(collection.path, endpoint, date=DATE, options=options)
    with open(result.log_path, "rb") as f:
        log = json.loads(f.read())
    assert log == result.log
    return result, log


def assert_failed(collection, log, exception=None, status=None):
    assert "resource" not in log
    assert log.get("exception") == exception
    assert log.get("status") == status
    assert collection.resources() == {}


def test_connect_timeout_is_logged(collection, options, unresponsive_port):
    started = time.monotonic()
    result, log = collect(collection, f"http://127.0.0.1:{unresponsive_port}/data.csv", options)
    assert_failed(collection, log, "ConnectTimeout")
    assert "response-headers" not in log
    assert time.monotonic() - started < 3  # timeouts are not retried


def test_read_timeout_waiting_for_the_response_is_logged(collection, options, http_server):
    url = http_server.route("/slow-response", lambda h: (time.sleep(1.5), http_server.send(h, 200, b"late")))
    result, log = collect(collection, url, options)
    assert_failed(collection, log, "ReadTimeout")


def test_read_timeout_in_the_middle_of_the_body_is_logged(collection, options, http_server):
    def stall(h):
        h.send_response(200)
        h.send_header("Content-Length", "1000")
        h.end_headers()
        h.wfile.write(b"a,b\n1,2\n")
        h.wfile.flush()
        time.sleep(1.5)

    result, log = collect(collection, http_server.route("/stall", stall), options)
    assert_failed(collection, log, "ReadTimeout", status="200")
    assert log["response-headers"]["Content-Length"] == "1000"


def test_connection_reset_is_retried_then_logged(collection, options, http_server):
    url = http_server.route("/reset", http_server.reset)
    result, log = collect(collection, url, options)
    assert_failed(collection, log, "ConnectionError")
    assert http_server.hits("/reset") == options.retries + 1


def test_connection_refused_is_logged(collection, options):
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    result, log = collect(collection, f"http://127.0.0.1:{port}/", options)
    assert_failed(collection, log, "ConnectionError")


def test_not_found_is_logged_with_its_status_and_not_retried(collection, options, http_server):
    url = http_server.url("/nothing-here")
    result, log = collect(collection, url, options)
    assert_failed(collection, log, status="404")
    assert log["request-headers"]["User-Agent"] == "MHCLG Planning Data Collector"
    assert http_server.hits("/nothing-here") == 1
    assert result.detail == "status 404"


def test_server_error_then_success_is_retried_and_kept(collection, options, http_server):
    calls = []

    def flaky(h):
        calls.append(1)
        http_server.send(h, 500 if len(calls) == 1 else 200, b"error" if len(calls) == 1 else b"a,b\n1,2\n")

    result, log = collect(collection, http_server.route("/flaky", flaky), options)
    assert log["status"] == "200" and "exception" not in log
    assert collection.resources() == {log["resource"]: b"a,b\n1,2\n"}
    assert len(calls) == 2


def test_permanent_service_unavailable_is_logged_after_the_retries(collection, options, http_server):
    url = http_server.route("/down", lambda h: http_server.send(h, 503, b"down", "text/plain"))
    result, log = collect(collection, url, options)
    assert_failed(collection, log, status="503")
    assert http_server.hits("/down") == options.retries + 1


def test_redirect_loop_is_detected(collection, options, http_server):
    http_server.route("/loop-a", lambda h: http_server.send(h, 302, b"", headers={"Location": "/loop-b"}))
    url = http_server.route("/loop-b", lambda h: http_server.send(h, 302, b"", headers={"Location": "/loop-a"}))
    result, log = collect(collection, url, options)
    assert_failed(collection, log, "TooManyRedirects")
    assert "loop" in result.detail
    assert http_server.hits("/loop-a") == 1


def test_endless_redirects_stop_at_the_limit(collection, options, http_server):
    def onward(h):
        n = int(h.query.get("n", "0"))
        http_server.send(h, 301, b"", headers={"Location": f"/onward?n={n + 1}"})

    result, log = collect(collection, http_server.route("/onward", onward), options)
    assert_failed(collection, log, "TooManyRedirects")
    assert http_server.hits("/onward") == options.max_redirects + 1


def test_body_shorter_than_content_length_is_a_failure(collection, options, http_server):
    url = http_server.route("/short", lambda h: http_server.send(h, 200, b"a,b\n1,2\n", length=1000))
    result, log = collect(collection, url, options)
    assert_failed(collection, log, "IncompleteRead", status="200")
    assert http_server.hits("/short") == options.retries + 1
    assert "8 of 1000" in result.detail


def test_html_page_is_not_a_resource(collection, options, http_server):
    url = http_server.content("/page", b"<html><body>Sign in</body></html>", "text/html; charset=utf-8")
    result, log = collect(collection, url, options)
    assert_failed(collection, log, "HTMLResponse", status="200")
    assert log["response-headers"]["Content-Type"] == "text/html; charset=utf-8"


def test_body_over_max_bytes_is_a_failure(collection, options, http_server):
    url = http_server.content("/huge", b"x" * (options.max_bytes + 1))
    result, log = collect(collection, url, options)
    assert_failed(collection, log, "ContentTooLarge", status="200")


def test_body_over_max_bytes_without_content_length_is_stopped_while_streaming(collection, options, http_server):
    def endless(h):
        h.send_response(200)
        h.send_header("Content-Type", "application/octet-stream")
        h.end_headers()
        for _ in range(40):
            h.wfile.write(b"x" * 65536)

    result, log = collect(collection, http_server.route("/no-length", endless), options)
    assert_failed(collection, log, "ContentTooLarge", status="200")


def test_redirect_to_a_file_url_is_refused(collection, options, http_server):
    url = http_server.route("/to-file", lambda h: http_server.send(h, 302, b"", headers={"Location": "file:///etc/passwd"}))
    result, log = collect(collection, url, options)
    assert_failed(collection, log, "InvalidRedirect")


def test_gzip_bomb_is_stopped_at_max_bytes(collection, options, http_server):
    import gzip

    body = gzip.compress(b"0" * (options.max_bytes * 20))
    url = http_server.content("/bomb", body, headers={"Content-Encoding": "gzip"})
    result, log = collect(collection, url, options)
    assert_failed(collection, log, "ContentTooLarge", status="200")


def test_corrupt_gzip_body_is_a_failure(collection, options, http_server):
    url = http_server.content("/bad-gzip", b"not gzip at all", headers={"Content-Encoding": "gzip"})
    result, log = collect(collection, url, options)
    assert_failed(collection, log, "ContentDecodingError", status="200")


def test_untrusted_certificate_is_an_ssl_failure(collection, options, https_server):
    url = https_server.content("/secure.csv", b"a,b\n")
    result, log = collect(collection, url, options)
    assert_failed(collection, log, "SSLError")
    assert log["ssl-verify"] is True
    assert "certificate" in result.detail


def test_missing_file_is_a_logged_failure(collection, options, tmp_path):
    result, log = collect(collection, f"file://{tmp_path}/missing.csv", options)
    assert_failed(collection, log, "FileNotFoundError")


def test_unsupported_scheme_is_a_logged_failure(collection, options):
    result, log = collect(collection, "ftp://example.org/data.csv", options)
    assert_failed(collection, log, "InvalidSchema")


def test_unknown_plugin_is_a_logged_failure(collection, options, http_server):
    result, log = collect(collection, http_server.url("/x"), options, plugin="sparql")
    assert_failed(collection, log, "UnknownPlugin")


def test_parameters_that_are_not_json_are_a_logged_failure(collection, options, http_server):
    result, log = collect(collection, http_server.url("/x"), options, plugin="wfs", parameters="{page_size: 2")
    assert_failed(collection, log, "InvalidParameters")
