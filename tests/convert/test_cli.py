"""bin/convert: exit status, one-line failure message, the converted-resource log."""
import csv
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLES = os.path.join(ROOT, "tests", "data", "resource-examples")
SCRIPT = os.path.join(ROOT, "bin", "convert")


def run(*args):
    return subprocess.run([sys.executable, SCRIPT, *map(str, args)], capture_output=True, text=True)


def test_converts_and_writes_a_successful_log(tmp_path):
    log = tmp_path / "log" / "shapefile_zip.csv"
    done = run(os.path.join(EXAMPLES, "shapefile_zip.resource"), tmp_path / "out.csv",
               "--converted-resource-log", log, "--dataset", "conservation-area")
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    with open(tmp_path / "out.csv", newline="", encoding="utf-8") as f:
        assert len(list(csv.reader(f))) == 7
    with open(log, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["dataset", "resource", "elapsed", "status", "exception"]
    assert rows[0]["dataset"] == "conservation-area"
    assert rows[0]["resource"] == "shapefile_zip"
    assert rows[0]["status"] == "success"
    assert rows[0]["exception"] == ""
    assert float(rows[0]["elapsed"]) >= 0


def test_failed_conversion_exits_1_with_one_line_and_logs_it(tmp_path):
    log = tmp_path / "log.csv"
    done = run(os.path.join(EXAMPLES, "kml-bad.resource"), tmp_path / "out.csv",
               "--converted-resource-log", log, "--dataset", "conservation-area")
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1 and "conversion failed" in done.stderr
    assert not (tmp_path / "out.csv").exists()
    with open(log, newline="", encoding="utf-8") as f:
        row = next(csv.DictReader(f))
    assert (row["resource"], row["status"]) == ("kml-bad", "failed")
    assert row["exception"]


def test_usage_errors_exit_2(tmp_path):
    assert run().returncode == 2
    assert run(tmp_path / "missing", tmp_path / "o.csv").returncode == 2
    done = run(os.path.join(EXAMPLES, "csv.resource"), tmp_path / "o.csv", "--converted-resource-log", tmp_path / "l")
    assert done.returncode == 2 and "--dataset" in done.stderr


def test_help_describes_the_command():
    done = run("--help")
    assert done.returncode == 0
    assert "WKT" in done.stdout and "--converted-resource-log" in done.stdout and "Exit status" in done.stdout
