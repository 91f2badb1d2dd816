"""bin/collect-endpoint and bin/collect-summary as Make runs them: one line out, exit 0 unless misconfigured."""
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATE = "2026-11-02"
CSV = b"reference,name\nCA1,Old Town\n"


def run(script, *args, cwd=None):
    return subprocess.run([sys.executable, os.path.join(ROOT, "bin", script), *args], capture_output=True, text=True, cwd=cwd, timeout=60)


def test_collect_endpoint_prints_one_line_and_writes_the_log(collection, http_server):
    endpoint = collection.add(http_server.content("/cli.csv", CSV))
    done = run("collect-endpoint", "--collection-dir", collection.path + "/", "--endpoint", endpoint, "--date", DATE, "--progress", "3/7")
    assert done.returncode == 0, done.stderr
    log = json.load(open(os.path.join(collection.path, "log", DATE, endpoint + ".json")))
    url = http_server.url("/cli.csv")
    assert done.stdout == f"collect test-collection [3/7] {url} -> 200 new resource {log['resource'][:12]} ({log['elapsed']}s)\n"
    again = run("collect-endpoint", "--collection-dir", collection.path, "--endpoint", endpoint, "--date", DATE)
    assert again.stdout == f"collect test-collection {url} -> already collected on {DATE}\n"


def test_collect_endpoint_failure_is_logged_and_exits_zero(collection, tmp_path):
    endpoint = collection.add("file:missing/data.csv")
    done = run("collect-endpoint", "--collection-dir", collection.path, "--endpoint", endpoint, "--date", DATE, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "-> failed FileNotFoundError: missing/data.csv" in done.stdout
    log = json.load(open(os.path.join(collection.path, "log", DATE, endpoint + ".json")))
    assert log["exception"] == "FileNotFoundError"


def test_collect_endpoint_not_live_writes_nothing_and_exits_zero(collection):
    endpoint = collection.add("file:data.csv", end="2026-11-01")
    done = run("collect-endpoint", "--collection-dir", collection.path, "--endpoint", endpoint, "--date", DATE)
    assert done.returncode == 0
    assert done.stdout.endswith(f"-> not live on {DATE} (ended 2026-11-01)\n")
    assert os.listdir(collection.path) == ["endpoint.csv"]


def test_collect_endpoint_hash_mismatch_is_a_one_line_error(collection):
    collection.add("file:data.csv", endpoint="0" * 64)
    done = run("collect-endpoint", "--collection-dir", collection.path, "--endpoint", "0" * 64, "--date", DATE)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "endpoint.csv:2: endpoint 000" in done.stderr
    assert "Traceback" not in done.stderr


def test_collect_endpoint_rejects_a_bad_date(collection):
    endpoint = collection.add("file:data.csv")
    done = run("collect-endpoint", "--collection-dir", collection.path, "--endpoint", endpoint, "--date", "02/11/2026")
    assert done.returncode == 2 and "bad --date" in done.stderr


def test_collect_summary_prints_the_days_counts(collection, http_server):
    endpoint = collection.add(http_server.content("/summary.csv", CSV))
    collection.add("file:nowhere.csv")
    run("collect-endpoint", "--collection-dir", collection.path, "--endpoint", endpoint, "--date", DATE)
    done = run("collect-summary", "--collection-dir", collection.path, "--date", DATE, "--list")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == f"collect test-collection {DATE}: 1 endpoints fetched, 1 ok (1 new resources, 0 unchanged), 0 failed, 1 live endpoints not fetched"
    assert lines[-1] == "  not fetched file:nowhere.csv"


def test_scripts_have_help():
    for script in ("collect-endpoint", "collect-summary"):
        done = run(script, "--help")
        assert done.returncode == 0 and "--collection-dir" in done.stdout


def test_terminated_download_leaves_no_temp_file_and_no_log(collection, http_server):
    import signal
    import time

    def stall(h):
        h.send_response(200)
        h.send_header("Content-Length", "100000")
        h.end_headers()
        h.wfile.write(b"x" * 1000)
        h.wfile.flush()
        time.sleep(3)

    endpoint = collection.add(http_server.route("/stall-forever", stall))
    script = os.path.join(ROOT, "bin", "collect-endpoint")
    args = ["--collection-dir", collection.path, "--endpoint", endpoint, "--date", DATE, "--timeout", "10"]
    process = subprocess.Popen([sys.executable, script, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    resource_dir = os.path.join(collection.path, "resource")
    deadline = time.monotonic() + 10
    while not (os.path.isdir(resource_dir) and os.listdir(resource_dir)) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert os.listdir(resource_dir), "the download never started"
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=10) == 130
    assert os.listdir(resource_dir) == []
    assert not os.path.exists(os.path.join(collection.path, "log"))


def run_env(env, *args):
    return subprocess.run([sys.executable, os.path.join(ROOT, "bin", "collect-endpoint"), *args], capture_output=True, text=True,
                          timeout=60, env={**os.environ, **env})


def test_collect_deadline_from_the_environment_cuts_off_a_dripping_server(collection, http_server):
    import time

    endpoint = collection.add(http_server.route("/cli-drip", lambda h: http_server.drip(h, CSV * 10, 0.2)))
    started = time.monotonic()
    done = run_env({"COLLECT_DEADLINE": "2"}, "--collection-dir", collection.path, "--endpoint", endpoint, "--date", DATE)
    assert done.returncode == 0, done.stderr
    assert time.monotonic() - started < 4  # 2 s and the interpreter's start
    assert "-> failed DeadlineExceeded: download not finished in 2s" in done.stdout
    log = json.load(open(os.path.join(collection.path, "log", DATE, endpoint + ".json")))
    assert log["exception"] == "DeadlineExceeded" and "resource" not in log
    assert os.listdir(os.path.join(collection.path, "resource")) == []


def test_deadline_option_wins_over_the_environment(collection, http_server):
    endpoint = collection.add(http_server.route("/cli-drip-2", lambda h: http_server.drip(h, CSV, 0.2)))
    done = run_env({"COLLECT_DEADLINE": "60"}, "--collection-dir", collection.path, "--endpoint", endpoint, "--date", DATE, "--deadline", "1.5")
    assert "download not finished in 1.5s" in done.stdout


def test_bad_deadline_is_a_one_line_error(collection):
    endpoint = collection.add("file:data.csv")
    for env, args, where in (({}, ["--deadline", "soon"], "--deadline"), ({"COLLECT_DEADLINE": "-5"}, [], "COLLECT_DEADLINE")):
        done = run_env(env, "--collection-dir", collection.path, "--endpoint", endpoint, "--date", DATE, *args)
        assert done.returncode == 2
        assert done.stderr.count("\n") == 1 and f"{where} must be a positive number of seconds" in done.stderr
        assert not os.path.exists(os.path.join(collection.path, "log"))
