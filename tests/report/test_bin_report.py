"""bin/report's user errors: a workspace without the outputs it reads is one line and exit status 2."""
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def report(root, output):
    return subprocess.run([sys.executable, "bin/report", "--root", str(root), "--output", str(output)], cwd=ROOT,
                          capture_output=True, text=True)


def one_line_error(result):
    assert result.returncode == 2 and "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("report: error: ")
    return lines[0]


def test_a_workspace_not_built_yet_is_a_one_line_error(tmp_path):
    line = one_line_error(report(tmp_path, tmp_path / "out"))
    assert "dataset/performance.sqlite3: not found" in line
    assert not (tmp_path / "out").exists()


def test_a_damaged_performance_database_is_a_one_line_error(tmp_path):
    (tmp_path / "dataset").mkdir()
    (tmp_path / "dataset" / "performance.sqlite3").write_text("not a database\n")
    (tmp_path / "dataset" / "digital-land.sqlite3").write_text("")
    assert "performance.sqlite3: not a readable sqlite database" in one_line_error(report(tmp_path, tmp_path / "out"))


def test_a_performance_database_without_its_tables_is_a_one_line_error(tmp_path):
    import sqlite3

    (tmp_path / "dataset").mkdir()
    for name in ("performance", "digital-land"):
        sqlite3.connect(tmp_path / "dataset" / f"{name}.sqlite3").execute("CREATE TABLE other (x)").connection.close()
    assert "cannot read the report's figures" in one_line_error(report(tmp_path, tmp_path / "out"))
