"""Saving a collection to an S3 server (moto) and restoring it so that make has nothing to redo:
the real Makefile on the bundled central-activities-zone collection, and hand-made trees for the rules."""
import hashlib
import os
import shutil
import sqlite3
import subprocess
import time

import pytest

from loadkit import ROOT, VENV_BIN, run_bin, run_make
from local_servers import moto_server

COLLECTION = "conservation-area"
DATASETS = ("conservation-area", "conservation-area-document")

# path: content, in the order the pipeline made them (oldest first)
TREE = [
    ("collection/conservation-area/log/2024-01-02/e1.json", '{"endpoint": "e1"}'),
    ("collection/conservation-area/resource/aaa111", "reference,name,geometry\nCA1,One,POINT (0 51)\n"),
    ("collection/conservation-area/resource/bbb222", "reference,name\nCAD1,Doc\n"),
    ("collection/conservation-area/log.csv", "bytes,endpoint\n10,e1\n"),
    ("collection/conservation-area/resource.csv", "resource\naaa111\nbbb222\n"),
    ("var/conservation-area/plan.mk", "# the plan\n"),
    ("var/code/transform.stamp", "0123abcd\n"),
    ("var/code/transform.done", ""),
    ("var/converted-resource/conservation-area/aaa111.csv", "converted\n"),
    ("var/transformed/conservation-area/aaa111.csv", "entity,field,value\n1,name,One\n"),
    ("var/issue/conservation-area/aaa111.csv", "issue-type\n"),
    ("var/column-field/conservation-area/aaa111.csv", "column,field\n"),
    ("var/dataset-resource/conservation-area/aaa111.csv", "dataset,resource\n"),
    ("var/transformed/conservation-area-document/bbb222.csv", "entity,field,value\n2,name,Doc\n"),
    ("dataset/conservation-area.sqlite3", "SQLite stand-in"),
    ("dataset/conservation-area.sqlite3.json", "{}"),
    ("dataset/conservation-area.csv", "entity\n1\n"),
    ("dataset/conservation-area-issue.csv", "issue-type\n"),
    ("dataset/flattened/conservation-area.geojson", '{"type": "FeatureCollection"}'),
    ("dataset/conservation-area.mbtiles", "tiles"),
    ("var/expectation/conservation-area.csv", "passed\nTrue\n"),
    ("var/load/postgis/conservation-area.stamp", ""),
    ("dataset/conservation-area-document.sqlite3", "SQLite stand-in 2"),
    ("dataset/conservation-area-document.csv", "entity\n2\n"),
]
NOT_SAVED = [("dataset/tree-preservation-zone.csv", "another collection's"),
             ("dataset/.conservation-area.csv.x1.tmp", "a temporary file"),
             ("dataset/conservation-area.sqlite3.json.tmp", "an interrupted datasette inspect")]
CONFIG = "collection/conservation-area/endpoint.csv"


@pytest.fixture(scope="module")
def s3():
    env = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}
    with moto_server(env) as url:
        yield {"url": url, "env": env}


def aws(s3, *args):
    return subprocess.run([os.path.join(VENV_BIN, "aws"), *args, "--endpoint-url", s3["url"]], capture_output=True,
                          text=True, env=dict(os.environ, **s3["env"]), check=True).stdout


def digest(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def make_tree(root):
    now = time.time() - 1000
    os.makedirs(os.path.join(root, "collection/conservation-area"), exist_ok=True)
    with open(os.path.join(root, CONFIG), "w") as f:
        f.write("endpoint,endpoint-url\ne1,https://example.org\n")
    os.utime(os.path.join(root, CONFIG), (now - 10, now - 10))
    for i, (path, content) in enumerate(TREE + NOT_SAVED):
        full = os.path.join(root, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w") as f:
            f.write(content)
        os.utime(full, (now + i, now + i))


def datastore(s3, action, root, bucket):
    args = [action, "--collection", COLLECTION, "--bucket", bucket, "--endpoint-url", s3["url"], "--root", str(root)]
    for d in DATASETS:
        args += ["--dataset", d]
    return run_bin("datastore", *args, env=s3["env"])


def state(root, paths):
    """{path: (sha256, mtime_ns)} of the given files."""
    return {path: (digest(root / path), os.stat(root / path).st_mtime_ns) for path in paths}


def test_save_uses_the_platform_bucket_layout_and_keeps_our_own_state_under_datastore(s3, tmp_path):
    make_tree(str(tmp_path))
    aws(s3, "s3", "mb", "s3://layout")
    result = datastore(s3, "save", tmp_path, "layout")
    assert result.returncode == 0, result.stderr
    keys = set(aws(s3, "s3api", "list-objects-v2", "--bucket", "layout", "--query", "Contents[].Key", "--output", "text").split())
    p = "conservation-area-collection/"
    assert keys == {
        p + "collection/log/2024-01-02/e1.json", p + "collection/resource/aaa111", p + "collection/resource/bbb222",
        p + "collection/log.csv", p + "collection/resource.csv", p + "collection/endpoint.csv",
        p + "var/converted-resource/conservation-area/aaa111.csv", p + "transformed/conservation-area/aaa111.csv",
        p + "issue/conservation-area/aaa111.csv", p + "var/column-field/conservation-area/aaa111.csv",
        p + "var/dataset-resource/conservation-area/aaa111.csv", p + "dataset/conservation-area.sqlite3",
        p + "dataset/conservation-area.sqlite3.json", p + "dataset/conservation-area.csv",
        p + "dataset/conservation-area-issue.csv", p + "dataset/conservation-area.mbtiles",
        p + "transformed/conservation-area-document/bbb222.csv", p + "dataset/conservation-area-document.sqlite3",
        p + "dataset/conservation-area-document.csv",
        "dataset/conservation-area.geojson",  # the flattened files, hoisted to the bucket's dataset/ as upstream
        p + "datastore/manifest.json", p + "datastore/var/conservation-area/plan.mk", p + "datastore/var/code/transform.stamp",
        p + "datastore/var/code/transform.done", p + "datastore/var/expectation/conservation-area.csv",
        p + "datastore/var/load/postgis/conservation-area.stamp",
    }


def test_restore_after_a_wipe_gives_back_every_file_with_its_saved_mtime(s3, tmp_path):
    root = tmp_path / "work"
    make_tree(str(root))
    saved = state(root, [path for path, _ in TREE])
    aws(s3, "s3", "mb", "s3://roundtrip")
    assert datastore(s3, "save", root, "roundtrip").returncode == 0
    for name in ("var", "dataset", "collection/conservation-area/log", "collection/conservation-area/resource"):
        shutil.rmtree(root / name)
    for name in ("log.csv", "resource.csv"):
        (root / "collection/conservation-area" / name).unlink()

    result = datastore(s3, "restore", root, "roundtrip")
    assert result.returncode == 0, result.stderr
    assert "restored 24 files" in result.stdout
    assert state(root, [path for path, _ in TREE]) == saved
    assert not (root / "dataset/tree-preservation-zone.csv").exists()
    assert not (root / "dataset/conservation-area.sqlite3.json.tmp").exists()


def test_restore_into_a_tree_that_has_it_all_already_changes_nothing(s3, tmp_path):
    root = tmp_path / "same"
    make_tree(str(root))
    aws(s3, "s3", "mb", "s3://again")
    assert datastore(s3, "save", root, "again").returncode == 0
    before = state(root, [path for path, _ in TREE])
    assert datastore(s3, "restore", root, "again").returncode == 0
    assert state(root, [path for path, _ in TREE]) == before


def test_a_shared_code_stamp_is_restored_only_over_an_older_one(s3, tmp_path):
    root = tmp_path / "shared"
    make_tree(str(root))
    aws(s3, "s3", "mb", "s3://shared")
    assert datastore(s3, "save", root, "shared").returncode == 0
    stamp = root / "var/code/transform.stamp"
    stamp.write_text("newer code, stamped by another collection\n")
    assert datastore(s3, "restore", root, "shared").returncode == 0
    assert stamp.read_text() == "newer code, stamped by another collection\n"
    os.utime(stamp, (time.time() - 5000, time.time() - 5000))  # older than the saved one
    assert datastore(s3, "restore", root, "shared").returncode == 0
    assert stamp.read_text() == "0123abcd\n"


def test_mtimes_saved_ahead_of_this_machines_clock_are_moved_back_together(s3, tmp_path):
    root = tmp_path / "skew"
    make_tree(str(root))
    ahead = time.time() + 3600  # the saving machine's clock was an hour fast
    for i, (path, _) in enumerate(TREE):
        os.utime(root / path, (ahead + i, ahead + i))
    os.utime(root / CONFIG, (ahead - 10, ahead - 10))
    aws(s3, "s3", "mb", "s3://skew")
    assert datastore(s3, "save", root, "skew").returncode == 0
    shutil.rmtree(root / "var")
    assert datastore(s3, "restore", root, "skew").returncode == 0
    restored = [os.stat(root / path).st_mtime_ns for path, _ in TREE]
    assert max(restored) <= time.time_ns()
    assert restored == sorted(restored) and len(set(restored)) == len(TREE)  # the order and gaps kept
    assert os.stat(root / CONFIG).st_mtime_ns < min(restored)  # and the configuration stays older


def test_a_missing_bucket_is_a_one_line_error(s3, tmp_path):
    make_tree(str(tmp_path))
    result = datastore(s3, "save", tmp_path, "no-such-bucket")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "bucket no-such-bucket not found" in result.stderr


def test_saving_a_restored_tree_uploads_changed_files_but_not_the_resources_again(s3, tmp_path):
    root = tmp_path / "resave"
    make_tree(str(root))
    aws(s3, "s3", "mb", "s3://resave")
    assert datastore(s3, "save", root, "resave").returncode == 0
    shutil.rmtree(root / "var")
    assert datastore(s3, "restore", root, "resave").returncode == 0

    def modified(key):
        return aws(s3, "s3api", "head-object", "--bucket", "resave", "--key", key, "--query", "LastModified", "--output", "text")

    resource_key = "conservation-area-collection/collection/resource/aaa111"
    transformed_key = "conservation-area-collection/transformed/conservation-area/aaa111.csv"
    before = modified(resource_key)
    time.sleep(1.1)  # S3 times are to the second
    path = root / "var/transformed/conservation-area/aaa111.csv"
    path.write_text(path.read_text().replace("One", "Uno"))  # same size, new content
    assert datastore(s3, "save", root, "resave").returncode == 0
    assert modified(resource_key) == before
    copy = tmp_path / "copy.csv"
    aws(s3, "s3", "cp", f"s3://resave/{transformed_key}", str(copy))
    assert copy.read_text() == path.read_text()


# --- the real Makefile: build, save, restore onto a fresh clone --------------------------------------

CAZ = "central-activities-zone"


def make(workspace, s3, *args, check=True):
    return run_make(workspace, *args, env=s3["env"], check=check)


def workspace_state(root, collection=CAZ):
    """{path: (sha256, mtime_ns)} of every file the pipeline wrote: the collection's state, var/, dataset/.
    Not var/converted/ (a conversion cache no target depends on), var/lock/ (the runs' lock files) nor the
    served directory's merged inspect file (rebuilt by restore, same content)."""
    found = {}
    for top in (f"collection/{collection}/log", f"collection/{collection}/resource", "var", "dataset"):
        for directory, _, files in os.walk(root / top):
            for name in files:
                path = os.path.relpath(os.path.join(directory, name), root)
                if not path.startswith(("var/converted/", "var/lock/")) and name != "inspect-data-all.json":
                    found[path] = (digest(root / path), os.stat(root / path).st_mtime_ns)
    for name in ("log.csv", "resource.csv"):
        path = f"collection/{collection}/{name}"
        found[path] = (digest(root / path), os.stat(root / path).st_mtime_ns)
    return found


def wipe(built, clone, collection):
    """A fresh machine on the same commit: the built workspace wiped of everything git does not hold
    (the collection's logs, resources, log.csv and resource.csv, var/, dataset/ with the organisation
    package), every file checked out just now (but requirements.txt: the shared venv is set up for it)."""
    shutil.copytree(built, clone, symlinks=True, ignore=shutil.ignore_patterns("__pycache__"))
    for name in (f"collection/{collection}/log", f"collection/{collection}/resource", "var", "dataset"):
        shutil.rmtree(clone / name)
    for name in ("log.csv", "resource.csv"):
        (clone / "collection" / collection / name).unlink()
    for directory, _, files in os.walk(clone):
        for name in files:
            if name != "requirements.txt":
                os.utime(os.path.join(directory, name))
    return clone


@pytest.fixture(scope="module")
def saved(s3, tmp_path_factory, workspace_at):
    """central-activities-zone built by the real Makefile, offline, then saved with `make save`; and
    the organisation package saved as the organisation collection saves it."""
    built = workspace_at(tmp_path_factory.mktemp("built"), CAZ)
    make(built, s3, f"COLLECTION={CAZ}")
    aws(s3, "s3", "mb", "s3://nightly")
    options = ("DATASTORE_BUCKET=nightly", f"DATASTORE_ENDPOINT={s3['url']}")
    assert "datastore: saved " in make(built, s3, "save", f"COLLECTION={CAZ}", *options).stdout
    package = run_bin("datastore", "save", "--collection", "organisation", "--dataset", "local-authority",
                      "--bucket", "nightly", "--endpoint-url", s3["url"], "--root", str(built), env=s3["env"])
    assert package.returncode == 0, package.stderr
    return {"root": built, "state": workspace_state(built), "options": options}


@pytest.fixture
def fresh_clone(saved, tmp_path):
    return wipe(saved["root"], tmp_path / "clone", CAZ)


def test_a_fresh_clone_restored_from_the_datastore_has_nothing_to_redo(s3, saved, fresh_clone):
    restored = make(fresh_clone, s3, "restore", f"COLLECTION={CAZ}", *saved["options"]).stdout
    # every file back (the organisation package from the organisation collection's save; the served
    # directory published again and the gate's candidates linked again to the published files, not
    # downloaded; the assemble manifests are downloaded), with its content and the mtime it had when saved
    downloaded = [path for path in saved["state"] if not path.startswith(("var/datasette/", "var/assembled/"))
                  or path.endswith(".manifest.json")]
    assert f"restored {len(downloaded)} files of {CAZ}" in restored and len(downloaded) < len(saved["state"])
    assert workspace_state(fresh_clone) == saved["state"]
    # so make, collecting today's endpoints included, has nothing to redo and changes nothing. (Not
    # `make -q` or `make -n`: they count the content stamps' empty recipes (var/code/, the config
    # stamps, the index) as remade, on any up-to-date workspace, restored or not.)
    again = make(fresh_clone, s3, f"COLLECTION={CAZ}")
    assert again.stdout.strip() == "make: Nothing to be done for 'collection'.", again.stdout + again.stderr
    assert workspace_state(fresh_clone) == saved["state"]


def test_a_restore_onto_newer_code_rebuilds_what_the_change_affects(s3, saved, fresh_clone):
    # a newer commit: the bake code changed since the save
    bake = fresh_clone / "planning_pipeline" / "bake" / "publish.py"
    bake.write_text(bake.read_text() + "\n# a change in the bake code\n")
    restored = make(fresh_clone, s3, "restore", f"COLLECTION={CAZ}", *saved["options"]).stdout
    assert "1 repository files changed since the save" in restored
    output = make(fresh_clone, s3, f"COLLECTION={CAZ}").stdout
    assert "bin/bake" in output
    assert "bin/transform" not in output and "bin/assemble" not in output

    # and a change in the transform code re-transforms, through its code stamp
    transform = fresh_clone / "planning_pipeline" / "transform" / "run.py"
    transform.write_text(transform.read_text() + "\n# a change in the transform code\n")
    make(fresh_clone, s3, "restore", f"COLLECTION={CAZ}", *saved["options"])
    output = make(fresh_clone, s3, f"COLLECTION={CAZ}").stdout
    assert output.count("bin/transform ") == 3


def test_make_save_without_a_bucket_is_a_one_line_error(s3, fresh_clone):
    result = make(fresh_clone, s3, "save", f"COLLECTION={CAZ}", check=False)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and result.stdout == ""
    assert result.stderr.strip().endswith("set DATASTORE_BUCKET (or COLLECTION_DATASET_BUCKET_NAME) to the datastore's bucket.  Stop.")


def test_the_organisation_collection_restored_onto_a_fresh_clone_has_nothing_to_redo(s3, tmp_path, workspace_at):
    # the collection that builds the organisation package, from the bundled snapshot (var/cache/)
    built = workspace_at(tmp_path / "built", "organisation")
    (built / "dataset" / "organisation.csv").unlink()
    make(built, s3, "COLLECTION=organisation")
    aws(s3, "s3", "mb", "s3://organisation")
    options = ("DATASTORE_BUCKET=organisation", f"DATASTORE_ENDPOINT={s3['url']}")
    make(built, s3, "save", "COLLECTION=organisation", *options)
    state = workspace_state(built, "organisation")
    assert {"dataset/organisation.csv", "var/cache/organisation.csv", "var/organisation/package.done"} <= set(state)

    clone = wipe(built, tmp_path / "clone", "organisation")
    make(clone, s3, "restore", "COLLECTION=organisation", *options)
    assert workspace_state(clone, "organisation") == state
    again = make(clone, s3, "COLLECTION=organisation")
    assert again.stdout.strip() == "make: Nothing to be done for 'collection'.", again.stdout + again.stderr


def test_a_relative_specification_dir_is_read_from_the_root_not_the_current_directory(s3, tmp_path):
    root = tmp_path / "rooted"
    make_tree(str(root))
    shutil.copytree(os.path.join(ROOT, "specification"), root / "spec")
    aws(s3, "s3", "mb", "s3://rooted")
    # run from the repository, which has no spec/: the datasets come from root/spec/dataset.csv
    result = run_bin("datastore", "save", "--collection", COLLECTION, "--bucket", "rooted", "--endpoint-url", s3["url"],
                     "--root", str(root), "--specification-dir", "spec", env=s3["env"])
    assert result.returncode == 0, result.stderr
    assert f"saved {len(TREE) + 1} files of {COLLECTION}" in result.stdout  # both datasets' files, and endpoint.csv


# --- the digital-land outputs: saved and restored by the top-level `make save` / `make restore` ------

def run_dates(path):
    with sqlite3.connect(path) as conn:
        return {row[0] for row in conn.execute("SELECT run_date FROM endpoint_summary")}


def test_top_level_save_and_restore_keep_the_digital_land_outputs_and_their_history(s3, saved, tmp_path):
    built = tmp_path / "built"
    shutil.copytree(saved["root"], built, symlinks=True)  # mtimes kept: built as saved
    make(built, s3, "digital-land-files")
    performance = str(built / "dataset" / "performance.sqlite3")
    history = run_bin("performance-sqlite", "--digital-land", str(built / "dataset" / "digital-land.sqlite3"),
                      "--dataset-dir", str(built / "dataset"), "--output", performance, "--run-date", "2026-01-01")
    assert history.returncode == 0, history.stderr
    dates = run_dates(performance)
    assert "2026-01-01" in dates and len(dates) == 2  # an earlier night's rows beside today's
    (built / "var" / "load" / "reference.stamp").touch()  # as a load into PostGIS leaves it
    day = os.listdir(built / "var" / "run-day")  # the day performance was last recorded
    outputs = ["dataset/digital-land.sqlite3", "dataset/performance.sqlite3", "var/load/reference.stamp",
               f"var/run-day/{day[0]}"]
    before = state(built, outputs)

    aws(s3, "s3", "mb", "s3://history")
    options = ("DATASTORE_BUCKET=history", f"DATASTORE_ENDPOINT={s3['url']}")
    output = make(built, s3, "save", *options).stdout
    assert "saved 4 files of digital-land-builder" in output and f"of {CAZ}" in output
    package = run_bin("datastore", "save", "--collection", "organisation", "--dataset", "local-authority",
                      "--bucket", "history", "--endpoint-url", s3["url"], "--root", str(built), env=s3["env"])
    assert package.returncode == 0, package.stderr
    keys = set(aws(s3, "s3api", "list-objects-v2", "--bucket", "history", "--prefix", "digital-land-builder/",
                   "--query", "Contents[].Key", "--output", "text").split())
    assert keys == {"digital-land-builder/dataset/digital-land.sqlite3", "digital-land-builder/dataset/performance.sqlite3",
                    "digital-land-builder/datastore/var/load/reference.stamp", "digital-land-builder/datastore/manifest.json",
                    f"digital-land-builder/datastore/var/run-day/{day[0]}"}

    clone = wipe(built, tmp_path / "clone", CAZ)
    assert not (clone / "dataset").exists()
    output = make(clone, s3, "restore", *options).stdout
    assert "restored 4 files of digital-land-builder" in output
    assert state(clone, outputs) == before
    assert run_dates(str(clone / "dataset" / "performance.sqlite3")) == dates
    again = make(clone, s3, "digital-land-files")
    assert again.stdout.strip() == "make: Nothing to be done for 'digital-land-files'.", again.stdout + again.stderr
    assert state(clone, outputs) == before
