"""Saving a collection to an S3 server (moto) and restoring it so that make sees it as up to date."""
import hashlib
import os
import shutil
import subprocess
import time

import pytest

from loadkit import VENV_BIN, free_port, run_bin, stop, wait_for_http

COLLECTION = "conservation-area"
DATASETS = ("conservation-area", "conservation-area-document")

# path: content, in the order the pipeline made them (oldest first)
TREE = [
    ("collection/conservation-area/log/2024-01-02/e1.json", '{"endpoint": "e1"}'),
    ("collection/conservation-area/resource/aaa111", "reference,name,geometry\nCA1,One,POINT (0 51)\n"),
    ("collection/conservation-area/resource/bbb222", "reference,name\nCAD1,Doc\n"),
    ("collection/conservation-area/log.csv", "bytes,endpoint\n10,e1\n"),
    ("collection/conservation-area/resource.csv", "resource\naaa111\nbbb222\n"),
    ("var/converted-resource/conservation-area/aaa111.csv", "converted\n"),
    ("var/transformed/conservation-area/aaa111.csv", "entity,field,value\n1,name,One\n"),
    ("var/issue/conservation-area/aaa111.csv", "issue-type\n"),
    ("var/column-field/conservation-area/aaa111.csv", "column,field\n"),
    ("var/dataset-resource/conservation-area/aaa111.csv", "dataset,resource\n"),
    ("var/transformed/conservation-area-document/bbb222.csv", "entity,field,value\n2,name,Doc\n"),
    ("dataset/conservation-area.sqlite3", "SQLite stand-in"),
    ("dataset/conservation-area.sqlite3.json", "{}"),
    ("dataset/conservation-area.csv", "entity\n1\n"),
    ("dataset/conservation-area.json", '{"entities": []}'),
    ("dataset/conservation-area.mbtiles", "tiles"),
    ("dataset/conservation-area-document.sqlite3", "SQLite stand-in 2"),
    ("dataset/conservation-area-document.csv", "entity\n2\n"),
]
NOT_SAVED = [("dataset/tree-preservation-zone.csv", "another collection's"),
             ("dataset/.conservation-area.csv.x1.tmp", "a temporary file")]
CONFIG = "collection/conservation-area/endpoint.csv"

# the dependencies of these files, as make rules: a restored tree must be up to date
MAKEFILE = """
C := collection/conservation-area
all: dataset/conservation-area.json dataset/conservation-area.mbtiles dataset/conservation-area.sqlite3.json \\
     dataset/conservation-area-document.csv var/issue/conservation-area/aaa111.csv
$(C)/log/2024-01-02/e1.json: $(C)/endpoint.csv ; false
$(C)/log.csv: $(C)/log/2024-01-02/e1.json ; false
$(C)/resource.csv: $(C)/log/2024-01-02/e1.json ; false
var/converted-resource/conservation-area/aaa111.csv: $(C)/resource/aaa111 ; false
var/transformed/conservation-area/aaa111.csv var/issue/conservation-area/aaa111.csv: var/converted-resource/conservation-area/aaa111.csv $(C)/resource.csv ; false
var/transformed/conservation-area-document/bbb222.csv: $(C)/resource/bbb222 $(C)/resource.csv ; false
dataset/conservation-area.sqlite3: var/transformed/conservation-area/aaa111.csv var/column-field/conservation-area/aaa111.csv var/dataset-resource/conservation-area/aaa111.csv ; false
dataset/conservation-area.sqlite3.json dataset/conservation-area.csv dataset/conservation-area.mbtiles: dataset/conservation-area.sqlite3 ; false
dataset/conservation-area.json: dataset/conservation-area.csv ; false
dataset/conservation-area-document.sqlite3: var/transformed/conservation-area-document/bbb222.csv ; false
dataset/conservation-area-document.csv: dataset/conservation-area-document.sqlite3 ; false
"""


@pytest.fixture(scope="module")
def s3():
    port = free_port()
    env = dict(os.environ, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1")
    process = subprocess.Popen([os.path.join(VENV_BIN, "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(url + "/moto-api/", process)
        yield {"url": url, "env": {k: env[k] for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION")}}
    finally:
        stop(process)


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


def test_save_uses_the_platform_bucket_layout(s3, tmp_path):
    make_tree(str(tmp_path))
    aws(s3, "s3", "mb", "s3://layout")
    result = datastore(s3, "save", tmp_path, "layout")
    assert result.returncode == 0, result.stderr
    keys = set(aws(s3, "s3api", "list-objects-v2", "--bucket", "layout", "--query", "Contents[].Key", "--output", "text").split())
    p = "conservation-area-collection/"
    assert {
        p + "collection/log/2024-01-02/e1.json", p + "collection/resource/aaa111", p + "collection/log.csv",
        p + "collection/resource.csv", p + "collection/endpoint.csv",
        p + "var/converted-resource/conservation-area/aaa111.csv", p + "transformed/conservation-area/aaa111.csv",
        p + "issue/conservation-area/aaa111.csv", p + "var/column-field/conservation-area/aaa111.csv",
        p + "var/dataset-resource/conservation-area/aaa111.csv", p + "dataset/conservation-area.sqlite3",
        p + "dataset/conservation-area.sqlite3.json", p + "dataset/conservation-area.mbtiles",
        p + "transformed/conservation-area-document/bbb222.csv", p + "datastore/mtimes.json",
    } <= keys
    assert not any("tree-preservation-zone" in k or ".tmp" in k for k in keys)


def test_restore_after_a_wipe_gives_identical_files_that_make_sees_as_up_to_date(s3, tmp_path):
    root = tmp_path / "work"
    make_tree(str(root))
    expected = {path: digest(root / path) for path, _ in TREE}
    saved_order = sorted(TREE, key=lambda item: os.stat(root / item[0]).st_mtime_ns)
    aws(s3, "s3", "mb", "s3://roundtrip")
    assert datastore(s3, "save", root, "roundtrip").returncode == 0

    # a fresh machine: only the repository's configuration, checked out just now
    for name in ("var", "dataset", "collection/conservation-area/log", "collection/conservation-area/resource"):
        shutil.rmtree(root / name)
    for name in ("log.csv", "resource.csv"):
        (root / "collection/conservation-area" / name).unlink()
    os.utime(root / CONFIG)
    (root / "Makefile").write_text(MAKEFILE)

    result = datastore(s3, "restore", root, "roundtrip")
    assert result.returncode == 0, result.stderr
    assert {path: digest(root / path) for path, _ in TREE} == expected
    assert not (root / "dataset/tree-preservation-zone.csv").exists()
    mtimes = {path: os.stat(root / path).st_mtime_ns for path, _ in TREE}
    assert min(mtimes.values()) > os.stat(root / CONFIG).st_mtime_ns
    assert max(mtimes.values()) <= time.time_ns()
    # inside a stage the saved order is kept
    assert mtimes["dataset/conservation-area.csv"] < mtimes["dataset/conservation-area.json"]
    assert mtimes["collection/conservation-area/log.csv"] > mtimes["collection/conservation-area/resource/bbb222"]
    assert [p for p, _ in saved_order if p.startswith("dataset/conservation-area.")][0] == "dataset/conservation-area.sqlite3"
    # and make agrees: nothing to rebuild
    question = subprocess.run(["make", "-q", "-C", str(root), "all"], capture_output=True, text=True)
    assert question.returncode == 0, question.stdout + question.stderr
    # while touching an input makes its outputs out of date, as it should
    os.utime(root / "collection/conservation-area/resource/aaa111")
    assert subprocess.run(["make", "-q", "-C", str(root), "all"], capture_output=True).returncode == 1


def test_restore_into_a_tree_that_has_it_all_already_changes_nothing_but_mtimes(s3, tmp_path):
    root = tmp_path / "same"
    make_tree(str(root))
    aws(s3, "s3", "mb", "s3://again")
    assert datastore(s3, "save", root, "again").returncode == 0
    before = {path: digest(root / path) for path, _ in TREE}
    assert datastore(s3, "restore", root, "again").returncode == 0
    assert {path: digest(root / path) for path, _ in TREE} == before


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
