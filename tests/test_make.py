"""The Make graph end to end: one command builds a collection, a rerun does nothing, and an edit
to one endpoint's configuration re-transforms only that endpoint's resources."""
import os
import re
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CAZ = "central-activities-zone"
GLA_RESOURCE = "db5238c35bf94337fea6437627c66813009e86c44a569c6e7a95df31efd34db5"


@pytest.fixture
def workspace(make_workspace):
    return make_workspace(CAZ)


def make(workspace, *args):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "MAKEFLAGS", "MAKELEVEL")}
    result = subprocess.run(["make", *args], cwd=workspace, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout + result.stderr


def transformed(output):
    return set(re.findall(r"transform: [\w-]+: ([0-9a-f]{12}): ", output))


def test_make_dry_run_shows_the_transform_targets_of_the_plan(workspace):
    output = make(workspace, "-n", f"collection/{CAZ}")
    for resource in ("49d00c9ea82a", "b7cd7941c1c8", GLA_RESOURCE[:12]):
        assert re.search(rf"bin/transform --dataset {CAZ} .*{resource}", output)
    assert not (workspace / "var" / "transformed").exists()


def test_make_builds_a_collection_then_has_nothing_to_redo(workspace):
    output = make(workspace, f"collection/{CAZ}")
    assert "4 endpoints fetched" not in output  # three file: endpoints are live today
    assert len(transformed(output)) == 3
    for path in (f"dataset/{CAZ}.sqlite3", f"dataset/{CAZ}.csv", f"dataset/flattened/{CAZ}.geojson",
                 f"dataset/{CAZ}.mbtiles", f"var/datasette/{CAZ}.sqlite3", f"var/expectation/{CAZ}.csv"):
        assert (workspace / path).exists(), path
    again = make(workspace, f"collection/{CAZ}")
    assert "Nothing to be done" in again and "bin/" not in again


def test_editing_one_endpoints_mapping_retransforms_only_its_resources(workspace):
    make(workspace, f"collection/{CAZ}")
    sqlite_mtime = os.path.getmtime(workspace / "dataset" / f"{CAZ}.sqlite3")
    endpoint = "242b7e7c3919082b1c3a9251a8c431481f1ca63a3a3acef790ad4bddaf602dde"  # GLA's file: endpoint
    column = workspace / "pipeline" / CAZ / "column.csv"
    with open(column, "a", newline="") as f:
        f.write(f"{CAZ},,notes-column,notes,,,,{endpoint}\r\n")
    output = make(workspace, f"collection/{CAZ}")
    assert transformed(output) == {GLA_RESOURCE[:12]}
    assert os.path.getmtime(workspace / "dataset" / f"{CAZ}.sqlite3") > sqlite_mtime

    # a general row (no endpoint, no resource) affects every resource of the dataset
    with open(column, "a", newline="") as f:
        f.write(f"{CAZ},,another-column,notes,,,,\r\n")
    assert len(transformed(make(workspace, f"collection/{CAZ}"))) == 3


def add_endpoint(workspace, name, content, organisation):
    """A new file: endpoint of the collection, with its source row; returns the endpoint's hash."""
    import hashlib
    url = f"file:example/{CAZ}/{name}"
    (workspace / "example" / CAZ / name).write_text(content)
    endpoint = hashlib.sha256(url.encode()).hexdigest()
    with open(workspace / "collection" / CAZ / "endpoint.csv", "a") as f:
        f.write(f"{endpoint},{url},,,2026-12-01T00:00:00Z,2026-12-01,\n")
    with open(workspace / "collection" / CAZ / "source.csv", "a") as f:
        f.write(f"{endpoint[:32]},,{CAZ},,{endpoint},,{organisation},{CAZ},2026-12-01T00:00:00Z,,\n")
    return endpoint


def test_a_new_resource_and_the_entities_assigned_to_it_retransform_only_that_resource(workspace):
    make(workspace, f"collection/{CAZ}")
    # a second GLA endpoint: its references are in the same lookup block (prefix, GLA) as GLA's resource
    add_endpoint(workspace, "gla-extra.csv", "reference,name,geometry\n"
                 'CAZ-NEW-1,Extra one,"POLYGON((-0.1 51.5,-0.1 51.51,-0.09 51.51,-0.1 51.5))"\n'
                 'CAZ-NEW-2,Extra two,"POLYGON((-0.2 51.5,-0.2 51.51,-0.19 51.51,-0.2 51.5))"\n',
                 "local-authority-eng:GLA")
    output = make(workspace, f"collection/{CAZ}")
    (new,) = transformed(output)
    assert new not in {"49d00c9ea82a", "b7cd7941c1c8", GLA_RESOURCE[:12]}
    resource = next(p for p in (workspace / "collection" / CAZ / "resource").iterdir() if p.name.startswith(new))

    lookup = workspace / "pipeline" / CAZ / "lookup.csv"
    rows_before = lookup.read_text().count("\n")
    subprocess.run([".venv/bin/python", "bin/assign-entities", "--dataset", CAZ, "--pipeline-dir", f"pipeline/{CAZ}",
                    "--organisation-path", "dataset/organisation.csv", "--organisations", "local-authority-eng:GLA",
                    str(resource)], cwd=workspace, check=True, capture_output=True)
    assert lookup.read_text().count("\n") == rows_before + 2
    output = make(workspace, f"collection/{CAZ}")
    assert transformed(output) == {new}  # the rows appended answer only the new resource's references
    assert "12 entities" in output

    # a lookup row an existing resource reads (GLA's CAZ00000003) re-transforms that resource alone
    lookup.write_text(lookup.read_text().replace(",CAZ00000003,2200003,", ",CAZ00000003,2200099,"))
    output = make(workspace, f"collection/{CAZ}")
    assert transformed(output) == {GLA_RESOURCE[:12]}
    import sqlite3
    with sqlite3.connect(workspace / "dataset" / f"{CAZ}.sqlite3") as conn:
        assert conn.execute("SELECT count(*) FROM entity WHERE entity = 2200099").fetchone() == (1,)


def test_touching_configuration_without_changing_it_redoes_nothing(workspace):
    make(workspace, f"collection/{CAZ}")
    os.utime(workspace / "pipeline" / CAZ / "column.csv")
    output = make(workspace, f"collection/{CAZ}")
    assert transformed(output) == set()
    assert "bin/assemble" not in output


def test_make_collection_slash_name_with_collection_set_builds_the_collection(workspace):
    output = make(workspace, f"collection/{CAZ}", f"COLLECTION={CAZ}")
    assert len(transformed(output)) == 3
    assert (workspace / "dataset" / f"{CAZ}.sqlite3").exists()


def load_stamps(workspace):
    return {str(p.relative_to(workspace)) for p in (workspace / "var" / "load").glob("*/*.stamp")}


@pytest.mark.parametrize("collection", [CAZ, "organisation"])
def test_the_load_stamps_a_run_makes_are_kept_and_a_rerun_does_nothing(make_workspace, collection):
    # the organisation datasets are not geography datasets: their tiles stamps are reached only
    # through the datasette stamps' pattern rule, which made them intermediate files
    workspace = make_workspace(collection)
    output = make(workspace, f"COLLECTION={collection}")
    published = {p.stem for p in (workspace / "var" / "load" / "datasette").glob("*.stamp")}
    assert published and "\nrm " not in output
    assert {f"var/load/{kind}/{d}.stamp" for d in published for kind in ("tiles", "datasette")} <= load_stamps(workspace)
    stamps = load_stamps(workspace)
    again = make(workspace, f"COLLECTION={collection}")
    assert again.strip() == "make: Nothing to be done for 'collection'."
    assert load_stamps(workspace) == stamps


def test_performance_is_recorded_once_a_day_even_when_nothing_changed(workspace):
    import sqlite3

    make(workspace, "COLLECTION=central-activities-zone")
    make(workspace, "digital-land-files", "TODAY=2026-01-01")
    assert "Nothing to be done" in make(workspace, "digital-land-files", "TODAY=2026-01-01")
    next_day = make(workspace, "digital-land-files", "TODAY=2026-01-02")
    assert "bin/performance-sqlite" in next_day and "bin/digital-land-sqlite" not in next_day
    with sqlite3.connect(os.path.join(workspace, "dataset", "performance.sqlite3")) as conn:
        dates = {row[0] for row in conn.execute("SELECT run_date FROM endpoint_summary")}
    assert dates == {"2026-01-01", "2026-01-02"}
    assert "Nothing to be done" in make(workspace, "digital-land-files", "TODAY=2026-01-02")


def test_the_nightly_run_publishes_the_other_collections_and_fails_at_its_end_when_one_dataset_is_held(make_workspace):
    import sqlite3

    ca = "conservation-area"
    workspace = make_workspace(CAZ, ca)
    make(workspace)
    # the night after: a valid configuration change that loses most of conservation-area (Southwark's
    # 53 areas filtered out), and a real change in central-activities-zone (patched notes)
    with open(workspace / "pipeline" / ca / "filter.csv", "a", newline="") as f:
        f.write(f"{ca},,,,,reference,^none$,b9503f86a1e0c5e02c1fa5b42b8d84c63b1cca421813dfc44c0f1bf7b59e5d74,\r\n")
    with open(workspace / "pipeline" / CAZ / "patch.csv", "a", newline="") as f:
        f.write(f",notes,^(.+)$,Zone \\1,{CAZ},,,,,\r\n")  # resource,field,pattern,value,dataset,...
    held_before = (workspace / "dataset" / f"{ca}.sqlite3").read_bytes()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "MAKEFLAGS", "MAKELEVEL")}
    result = subprocess.run(["make"], cwd=workspace, env=env, capture_output=True, text=True, timeout=600)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    # everything else was built and published before the run failed
    changed = re.search(rf"gate: {CAZ}: published: 10 entities \(0 added, 0 removed, (\d+) changed\)", output)
    assert changed and int(changed.group(1)) > 0, output
    assert (workspace / "dataset" / f"{ca}.sqlite3").read_bytes() == held_before
    assert (workspace / "dataset" / "performance.sqlite3").exists()
    summary = (workspace / "var" / "run-summary.md").read_text()
    assert f"| {CAZ} | {CAZ} | published | 10 | 0 | 0 | {changed.group(1)} |" in summary
    assert f"| {ca} | {ca} | HELD | 15 | 0 | 53 | 0 |" in summary
    assert "run-summary: error: 1 dataset(s) held back, not published: conservation-area" in output
    with sqlite3.connect(workspace / "dataset" / "performance.sqlite3") as conn:
        rows = dict(conn.execute("SELECT dataset, decision FROM dataset_change_summary"))
    assert rows[CAZ] == "published" and rows[ca] == "held"
