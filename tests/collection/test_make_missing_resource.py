"""Through the real Makefile on a workspace copy: a resource redirected to a file that was never
collected is reported and recorded as an issue, the rest of the collection builds, and the plan is
made again when the file appears."""
import os
import sqlite3
import subprocess

CAZ = "central-activities-zone"
GLA = "db5238c35bf94337fea6437627c66813009e86c44a569c6e7a95df31efd34db5"
LBH = "b7cd7941c1c8aee51465cbab3a72a81f42ba9393ee7c43ed142b5a278810c4e4"
NEVER_COLLECTED = "ab" * 32


def make(workspace, *args):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "MAKEFLAGS", "MAKELEVEL")}
    result = subprocess.run(["make", *args], cwd=workspace, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout + result.stderr


def query(path, sql):
    with sqlite3.connect(path) as conn:
        return conn.execute(sql).fetchall()


def test_a_missing_replacement_is_reported_and_the_collection_still_builds(make_workspace):
    workspace = make_workspace(CAZ)
    c = workspace / "collection" / CAZ
    with open(c / "old-resource.csv", "a", newline="") as f:
        f.write(f"{GLA},301,{NEVER_COLLECTED}\r\n")
    output = make(workspace, f"collection/{CAZ}")
    message = (f"collection/{CAZ}/old-resource.csv:2: resource {GLA} is redirected to {NEVER_COLLECTED}, "
               f"which is not in collection/{CAZ}/resource/")
    assert message in output.splitlines()
    assert "No rule to make target" not in output
    sqlite = workspace / "dataset" / f"{CAZ}.sqlite3"
    assert query(sqlite, "SELECT count(*) FROM entity") == [(2,)]  # Southwark's and Lambeth's
    assert query(sqlite, "SELECT resource, value, message FROM issue WHERE issue_type = 'missing resource'") == \
        [(GLA, NEVER_COLLECTED, message)]
    assert "missing resource" in (workspace / "dataset" / f"{CAZ}-issue.csv").read_text()
    assert (workspace / "dataset" / "flattened" / f"{CAZ}.geojson").exists()

    again = make(workspace, f"collection/{CAZ}")
    assert "Nothing to be done" in again and "bin/" not in again

    # the replacement arrives (a restore, a late copy): the plan is made again and it is transformed
    os.link(c / "resource" / GLA, c / "resource" / NEVER_COLLECTED)
    output = make(workspace, f"collection/{CAZ}")
    assert f"transform: {CAZ}: {GLA[:12]}: success" in output
    assert query(sqlite, "SELECT count(*) FROM entity") == [(10,)]
    assert query(sqlite, "SELECT count(*) FROM issue WHERE issue_type = 'missing resource'") == [(0,)]
    assert "Nothing to be done" in make(workspace, f"collection/{CAZ}")


def test_a_planned_resource_file_deleted_after_planning_is_planned_again_not_a_make_error(make_workspace):
    workspace = make_workspace(CAZ)
    make(workspace, f"collection/{CAZ}")
    (workspace / "collection" / CAZ / "resource" / LBH).unlink()  # today's collect has run: not fetched again
    output = make(workspace, f"collection/{CAZ}")
    assert f"resource {LBH} is not in collection/{CAZ}/resource/" in output
    assert "No rule to make target" not in output
    sqlite = workspace / "dataset" / f"{CAZ}.sqlite3"
    assert query(sqlite, "SELECT DISTINCT resource FROM issue WHERE issue_type = 'missing resource'") == [(LBH,)]
    assert query(sqlite, f"SELECT count(*) FROM fact_resource WHERE resource = '{LBH}'") == [(0,)]
