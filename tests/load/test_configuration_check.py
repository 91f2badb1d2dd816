"""A fault in the configuration stops the run before anything is rebuilt or published: the message names
the file and line, `make` exits non-zero, and the last good dataset stays in dataset/, the datasette
directory and PostGIS. `make check` runs the same checks alone."""
import os
import subprocess

from loadkit import EXAMPLE, run_make
from test_publication_gate import DATASET, SERVED, build, fingerprint, postgis_count, served_count

COLUMN_CSV = f"pipeline/{EXAMPLE}/column.csv"


def edit(path, old, new, count=1):
    text = path.read_bytes()
    assert old in text
    path.write_bytes(text.replace(old, new, count))


def test_a_header_typo_stops_the_run_and_the_published_dataset_stays(example_copy, database):
    build(example_copy, database)
    assert postgis_count(database) == 68
    published, served = fingerprint(example_copy / DATASET), fingerprint(example_copy / SERVED)
    transformed = sorted((example_copy / "var" / "transformed" / EXAMPLE).iterdir())
    before = {p.name: p.stat().st_mtime_ns for p in transformed}

    edit(example_copy / COLUMN_CSV, b",field", b",feild")
    result = build(example_copy, database, check=False)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert f"{COLUMN_CSV}:1: unknown column 'feild': did you mean 'field'?" in output
    assert "Traceback" not in output
    assert "bin/transform" not in output and "bin/assemble" not in output
    assert {p.name: p.stat().st_mtime_ns for p in transformed} == before
    assert fingerprint(example_copy / DATASET) == published and fingerprint(example_copy / SERVED) == served
    assert postgis_count(database) == 68 and served_count(example_copy) == 68

    # fixed, the run goes on as if nothing happened: the same configuration, nothing to transform again
    edit(example_copy / COLUMN_CSV, b",feild", b",field")
    result = build(example_copy, database)
    assert "bin/transform" not in result.stdout
    assert fingerprint(example_copy / DATASET)[0] == published[0]


def test_a_byte_that_is_not_utf8_is_named_with_its_line_and_no_traceback(example_copy):
    path = example_copy / "pipeline" / EXAMPLE / "patch.csv"
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines) + f"{EXAMPLE},,name,^Stra\xdfe$,x\r\n".encode("latin-1"))
    result = run_make(example_copy, f"collection/{EXAMPLE}", check=False)
    output = result.stdout + result.stderr
    assert result.returncode != 0 and "Traceback" not in output
    assert f"pipeline/{EXAMPLE}/patch.csv:{len(lines) + 1}: byte 0xdf is not UTF-8" in output


def test_a_bad_date_in_endpoint_csv_fails_the_run(example_copy):
    path = example_copy / "collection" / EXAMPLE / "endpoint.csv"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    line = next(i for i, text in enumerate(lines) if i and text.strip())
    fields = lines[line].rstrip("\r\n").split(",")
    fields[-2] = "2020-13-45"  # start-date
    lines[line] = ",".join(fields) + "\r\n"
    path.write_text("".join(lines), encoding="utf-8")
    result = run_make(example_copy, f"collection/{EXAMPLE}", check=False)
    output = result.stdout + result.stderr
    assert result.returncode != 0 and "Traceback" not in output
    assert f"collection/{EXAMPLE}/endpoint.csv:{line + 1}: start-date: '2020-13-45' is not a date" in output


def test_make_check_passes_on_the_bundled_configuration_and_fails_on_a_fault(example_copy):
    result = run_make(example_copy, "check")
    assert "0 errors" in result.stdout + result.stderr
    edit(example_copy / "pipeline" / EXAMPLE / "lookup.csv", f"{EXAMPLE},".encode(), b"conservation-aera,")
    result = run_make(example_copy, "check", check=False)
    output = result.stdout + result.stderr
    assert result.returncode != 0 and "Traceback" not in output
    assert "unknown prefix 'conservation-aera': did you mean 'conservation-area'?" in output


def test_check_config_is_quick_on_every_collection(example_copy):
    """Well under a second per collection: it runs before every build and in CI on a pull request."""
    result = subprocess.run([os.path.join(example_copy, ".venv", "bin", "python"), "bin/check-config"],
                            cwd=example_copy, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    summary = (result.stdout + result.stderr).strip().splitlines()[-1]
    assert summary.startswith("check-config: ") and " 0 errors" in summary
