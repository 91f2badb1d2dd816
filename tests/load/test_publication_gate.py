"""The bundled example through the real Makefile, PostGIS and datasette: a build that loses data is held
back and the last good version stays published everywhere; an intended change passes; ACCEPT releases a
held build; two runs at once and a killed run lose nothing."""
import os
import signal
import sqlite3
import subprocess
import time
import urllib.request

from loadkit import EXAMPLE, popen_bin, run_make
from local_servers import free_port, stop, wait_for_http
from test_postgis import query

SOUTHWARK_RESOURCE = "b9503f86a1e0c5e02c1fa5b42b8d84c63b1cca421813dfc44c0f1bf7b59e5d74"  # 53 of the 68 areas
DATASET = f"dataset/{EXAMPLE}.sqlite3"
SERVED = f"var/datasette/{EXAMPLE}.sqlite3"


def build(workspace, database, *args, check=True):
    return run_make(workspace, f"collection/{EXAMPLE}", *args, env={"DATABASE_URL": database["url"]}, check=check)


def drop_southwarks_rows(workspace):
    """A configuration change that is valid but loses most of the dataset: a filter no row passes."""
    with open(workspace / "pipeline" / EXAMPLE / "filter.csv", "a", newline="") as f:
        f.write(f"{EXAMPLE},,,,,reference,^no such reference$,{SOUTHWARK_RESOURCE},\r\n")


def postgis_count(database):
    return query(database["url"], "SELECT count(*) FROM entity WHERE dataset = %s", (EXAMPLE,))[0][0]


def sqlite_count(path):
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT count(*) FROM entity").fetchone()[0]


def fingerprint(path):
    with open(path, "rb") as f:
        return f.read(), os.stat(path).st_mtime_ns


def served_count(workspace):
    """The entity count datasette serves from the datasette directory."""
    port = free_port()
    process = popen_bin("serve-datasette", "--dir", str(workspace / "var" / "datasette"), "--port", str(port))
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for_http(base + "/-/versions.json", process)
        with urllib.request.urlopen(f"{base}/{EXAMPLE}.json?sql=select+count(*)+as+n+from+entity&_shape=array") as r:
            import json

            return json.load(r)[0]["n"]
    finally:
        stop(process)


def test_a_build_that_loses_most_entities_is_held_and_the_last_good_one_stays_published(example_copy, database):
    build(example_copy, database)
    assert postgis_count(database) == 68
    published, served = fingerprint(example_copy / DATASET), fingerprint(example_copy / SERVED)

    drop_southwarks_rows(example_copy)
    result = build(example_copy, database, check=False)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert f"gate: {EXAMPLE}: HELD, not published: the dataset shrinks from 68 to 15 entities" in output
    assert f"see dataset/held/{EXAMPLE}-report.md" in output and f"ACCEPT={EXAMPLE}" in output
    assert "1 dataset(s) held back, not published: conservation-area" in output
    assert "Traceback" not in output
    # nothing published moved: the dataset, the served copy, PostGIS, and so the tiles and downloads
    assert fingerprint(example_copy / DATASET) == published and fingerprint(example_copy / SERVED) == served
    assert postgis_count(database) == 68 and served_count(example_copy) == 68
    assert sqlite_count(example_copy / "dataset" / "held" / f"{EXAMPLE}.sqlite3") == 15
    report = (example_copy / "dataset" / "held" / f"{EXAMPLE}-report.md").read_text()
    assert "London Borough of Southwark (329): 53 entities" in report

    # every run looks again, and fails again, without redoing the transforms
    again = build(example_copy, database, check=False)
    assert again.returncode != 0 and "HELD" in again.stderr and "bin/transform" not in again.stdout

    # reviewed and accepted: published everywhere
    accepted = build(example_copy, database, f"ACCEPT={EXAMPLE}")
    assert f"gate: {EXAMPLE}: accepted and published despite" in accepted.stderr
    assert sqlite_count(example_copy / DATASET) == 15 and postgis_count(database) == 15
    assert served_count(example_copy) == 15
    assert not (example_copy / "dataset" / "held").exists()


def test_retiring_every_resource_of_a_dataset_empties_it_everywhere_it_is_published(example_copy, database):
    build(example_copy, database)
    collection = example_copy / "collection" / EXAMPLE
    resources = [line.split(",")[0] for line in (collection / "resource.csv").read_text().splitlines()[1:] if line]
    with open(collection / "old-resource.csv", "a", newline="") as f:
        f.writelines(f"{resource},410,,withdrawn\r\n" for resource in resources)
    result = build(example_copy, database)
    assert f"gate: {EXAMPLE}: published: 0 entities (0 added, 68 removed" in result.stdout
    assert sqlite_count(example_copy / DATASET) == 0 and postgis_count(database) == 0
    assert served_count(example_copy) == 0


def test_retiring_a_resource_in_old_resource_csv_is_published_without_friction(example_copy, database):
    build(example_copy, database)
    with open(example_copy / "collection" / EXAMPLE / "old-resource.csv", "a", newline="") as f:
        f.write(f"{SOUTHWARK_RESOURCE},410,,withdrawn\r\n")
    result = build(example_copy, database)
    assert f"gate: {EXAMPLE}: published: 15 entities (0 added, 53 removed" in result.stdout
    assert postgis_count(database) == 15
    changes = (example_copy / "dataset" / f"{EXAMPLE}-changes.csv").read_text()
    assert changes.count("retired (410)") == 53


def test_two_runs_at_once_both_finish_and_the_second_waits_for_the_first(example_copy):
    (example_copy / "pipeline" / EXAMPLE / "patch.csv").open("a").write(f"{EXAMPLE},,name,^Bear Gardens$,Bear Gardens (2)\r\n")
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "MAKEFLAGS", "MAKELEVEL")}
    runs = [subprocess.Popen(["make", f"collection/{EXAMPLE}"], cwd=example_copy, env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True) for _ in range(2)]
    outputs = [r.communicate(timeout=600)[0] for r in runs]
    assert [r.returncode for r in runs] == [0, 0], outputs
    assert any(f"collection {EXAMPLE} is being built by another run" in o for o in outputs)
    for path in (DATASET, f"{DATASET}.json", f"dataset/{EXAMPLE}.csv", SERVED):
        assert (example_copy / path).exists(), path
    assert "Nothing to be done" in run_make(example_copy, f"collection/{EXAMPLE}").stdout


def temporaries(root):
    found = []
    for directory, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in (".venv", "lock")]
        found += [os.path.join(directory, n) for n in dirs + files
                  if n.startswith(".") and (".tmp" in n or ".scratch" in n or n.endswith(".part"))]
    return found


def test_a_killed_run_leaves_no_temporaries_after_the_next_run(example_copy):
    (example_copy / "pipeline" / EXAMPLE / "patch.csv").open("a").write(f"{EXAMPLE},,name,^Bear Gardens$,Killed\r\n")
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "MAKEFLAGS", "MAKELEVEL")}
    run = subprocess.Popen(["make", f"collection/{EXAMPLE}"], cwd=example_copy, env=env, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, start_new_session=True)
    time.sleep(3)
    os.killpg(run.pid, signal.SIGKILL)
    run.wait()
    # what a step killed mid-write leaves, as the steps name them (a scratch database the dataset's size)
    left = [f"dataset/.{EXAMPLE}.sqlite3.a1b2c3.tmp", f"dataset/.{EXAMPLE}.sqlite3.a1b2c3.scratch0",
            f"var/assembled/.{EXAMPLE}.sqlite3.x9y8z7.tmp", f"dataset/flattened/.{EXAMPLE}.geojson.q1w2e3.tmp",
            f"var/transformed/{EXAMPLE}/.{SOUTHWARK_RESOURCE}.csv.r4t5y6.tmp",
            f"collection/{EXAMPLE}/resource/.collect-abc123.part", "var/datasette/.conservation-area.sqlite3.k8l9.tmp",
            f"var/run/{EXAMPLE}.12345.steps"]
    for path in left:
        os.makedirs(os.path.dirname(example_copy / path), exist_ok=True)
        with open(example_copy / path, "wb") as f:
            f.truncate(1 << 20)
    result = run_make(example_copy, f"collection/{EXAMPLE}")
    assert f"clean: removed dataset/.{EXAMPLE}.sqlite3.a1b2c3.scratch0, left by an interrupted run" in result.stderr
    assert temporaries(example_copy) == [] and not (example_copy / "var" / "run" / f"{EXAMPLE}.12345.steps").exists()
    assert sqlite_count(example_copy / DATASET) == 68
    with sqlite3.connect(example_copy / DATASET) as conn:
        assert conn.execute("SELECT count(*) FROM entity WHERE name = 'Killed'").fetchone()[0] == 1
