"""The shared S3 datastore: save a collection's state and outputs to a bucket, restore them from it.

Local paths map to keys in the platform's collection bucket layout (everything under
<collection>-collection/):

  collection/C/log/...                    <C>-collection/collection/log/...
  collection/C/resource/...               <C>-collection/collection/resource/...
  collection/C/{log,resource}.csv         <C>-collection/collection/{log,resource}.csv
  collection/C/{endpoint,source,old-resource}.csv   same place, saved only (configuration comes from the repository)
  var/converted-resource/D/...            <C>-collection/var/converted-resource/D/...
  var/transformed/D/...                   <C>-collection/transformed/D/...
  var/issue/D/...                         <C>-collection/issue/D/...
  var/column-field/D/...                  <C>-collection/var/column-field/D/...
  var/dataset-resource/D/...              <C>-collection/var/dataset-resource/D/...
  dataset/D.sqlite3                       <C>-collection/dataset/D.sqlite3
  dataset/D.* (inspect JSON, baked files, D.mbtiles)   <C>-collection/dataset/D.*

for each dataset D of the collection (specification/dataset.csv, or --dataset).

Make decides what to rebuild by comparing mtimes, and neither S3 nor `aws s3 sync` keeps them.
So save also uploads <C>-collection/datastore/mtimes.json, each saved file's mtime; restore
downloads the files, then gives every restored file a new mtime (from the moment the restore
began, so newer than a fresh checkout's configuration and code) in the order of (stage, saved mtime): each stage's
files are newer than every file of the stages before it (collection state, then indexes, then
converted, transformed, the dataset sqlite, then the files baked from it), and inside a stage the
saved order is kept. Make then sees a restored tree as up to date.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

from ..errors import UserError

MANIFEST = "datastore/mtimes.json"


class Mapping:
    """One local file or directory and its S3 key; `stage` orders restored mtimes."""

    def __init__(self, local, key, stage, restore=True, include=None):
        self.local = local
        self.key = key
        self.stage = stage
        self.restore = restore
        self.include = include  # for directories: only file names matching these globs

    @property
    def is_dir(self):
        return self.local.endswith("/")


def mappings(collection, datasets):
    prefix = f"{collection}-collection/"
    c = f"collection/{collection}/"
    found = [
        Mapping(c + "log/", prefix + "collection/log/", 0),
        Mapping(c + "resource/", prefix + "collection/resource/", 0),
        Mapping(c + "log.csv", prefix + "collection/log.csv", 1),
        Mapping(c + "resource.csv", prefix + "collection/resource.csv", 1),
    ]
    for name in ("endpoint.csv", "source.csv", "old-resource.csv"):
        found.append(Mapping(c + name, prefix + "collection/" + name, 0, restore=False))
    for d in datasets:
        found += [
            Mapping(f"var/converted-resource/{d}/", f"{prefix}var/converted-resource/{d}/", 2),
            Mapping(f"var/transformed/{d}/", f"{prefix}transformed/{d}/", 3),
            Mapping(f"var/issue/{d}/", f"{prefix}issue/{d}/", 3),
            Mapping(f"var/column-field/{d}/", f"{prefix}var/column-field/{d}/", 3),
            Mapping(f"var/dataset-resource/{d}/", f"{prefix}var/dataset-resource/{d}/", 3),
        ]
    if datasets:
        found.append(Mapping("dataset/", prefix + "dataset/", 5, include=[f"{d}.*" for d in datasets]))
    return found


def stage_of(path, mapping):
    """The dataset sqlite comes before the files baked from it."""
    if mapping.local == "dataset/" and path.endswith(".sqlite3"):
        return 4
    return mapping.stage


def collection_datasets(collection, specification_dir="specification"):
    from ..specification import Specification

    datasets = Specification(specification_dir).collection_datasets(collection)
    if not datasets:
        raise UserError(f"no datasets for collection {collection} in the specification", os.path.join(specification_dir, "dataset.csv"))
    return datasets


class Aws:
    """Runs the aws command line, with an optional endpoint (a local S3 server in tests)."""

    def __init__(self, endpoint_url=None, program=None):
        self.endpoint_url = endpoint_url
        beside = os.path.join(os.path.dirname(sys.executable), "aws")
        self.program = program or (beside if os.path.exists(beside) else shutil.which("aws"))
        if not self.program:
            raise UserError("the aws command line (awscli) is not installed")

    def run(self, *args, check=True):
        command = [self.program, *args, "--only-show-errors", "--no-progress"] if args[:2] in (("s3", "sync"), ("s3", "cp")) \
            else [self.program, *args]
        if self.endpoint_url:
            command += ["--endpoint-url", self.endpoint_url]
        result = subprocess.run(command, capture_output=True, text=True)
        if check and result.returncode != 0:
            last = (result.stderr.strip().splitlines() or [f"exit status {result.returncode}"])[-1]
            raise UserError(f"aws {' '.join(args[:2])} failed: {last}")
        return result

    def check_bucket(self, bucket):
        result = self.run("s3api", "head-bucket", "--bucket", bucket, check=False)
        if result.returncode != 0:
            where = f" at {self.endpoint_url}" if self.endpoint_url else ""
            raise UserError(f"bucket {bucket} not found or not accessible{where}")

    def list_keys(self, bucket, prefix):
        result = self.run("s3api", "list-objects-v2", "--bucket", bucket, "--prefix", prefix, "--output", "json",
                          "--query", "Contents[].Key")
        text = result.stdout.strip()
        keys = json.loads(text) if text and text != "null" else []
        return keys or []


def _local_files(root, mapping):
    import fnmatch

    base = os.path.join(root, mapping.local).rstrip("/")
    if not mapping.is_dir:
        return [mapping.local] if os.path.isfile(base) else []
    found = []
    for directory, dirs, files in os.walk(base):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        if mapping.include and directory != base:
            continue
        for name in sorted(files):
            if name.startswith("."):
                continue  # the temporary file of an interrupted write
            if mapping.include and not any(fnmatch.fnmatch(name, p) for p in mapping.include):
                continue
            found.append(os.path.relpath(os.path.join(directory, name), root))
    return found


def _key(mapping, path):
    return mapping.key + path[len(mapping.local):] if mapping.is_dir else mapping.key


def _filters(prefix, chosen):
    """aws s3 sync filters (relative to the collection prefix) selecting the mapped keys."""
    args = ["--exclude", "*"]
    for mapping in chosen:
        relative = mapping.key[len(prefix):]
        if mapping.include:
            for pattern in mapping.include:
                args += ["--include", relative + pattern]
        else:
            args += ["--include", relative + "*" if mapping.is_dir else relative]
    return args + ["--include", MANIFEST]


RESOURCE_KEYS = "collection/resource/*"


def _sync_both_ways(aws, source, target, filters):
    """Two syncs at once: content-addressed resources compared by size only (a restored tree's
    new mtimes must not re-upload them all), everything else by size and time."""
    _parallel([
        lambda: aws.run("s3", "sync", source, target, *filters, "--exclude", RESOURCE_KEYS),
        lambda: aws.run("s3", "sync", source, target, "--exclude", "*", "--include", RESOURCE_KEYS, "--size-only"),
    ])


def _parallel(calls):
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        for future in [pool.submit(call) for call in calls]:
            future.result()


def save(collection, bucket, datasets, root=".", endpoint_url=None, log=print):
    """Upload the collection's files; a staging tree of symbolic links in the bucket's layout
    lets one `aws s3 sync` do the work."""
    aws = Aws(endpoint_url)
    aws.check_bucket(bucket)
    prefix = f"{collection}-collection/"
    manifest = {}
    staging = tempfile.mkdtemp(prefix=".datastore-", dir=root)
    try:
        for mapping in mappings(collection, datasets):
            for path in _local_files(root, mapping):
                manifest[path] = os.stat(os.path.join(root, path)).st_mtime_ns
                link = os.path.join(staging, _key(mapping, path)[len(prefix):])
                os.makedirs(os.path.dirname(link), exist_ok=True)
                os.symlink(os.path.abspath(os.path.join(root, path)), link)
        manifest_path = os.path.join(staging, MANIFEST)
        os.makedirs(os.path.dirname(manifest_path), exist_ok=True)
        with open(manifest_path, "w", encoding="utf-8") as f:
            json.dump(manifest, f, indent=0, sort_keys=True)
        _sync_both_ways(aws, staging, f"s3://{bucket}/{prefix}", [])
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    log(f"datastore: saved {len(manifest)} files of {collection} to s3://{bucket}/{prefix}")
    return len(manifest)


def restore(collection, bucket, datasets, root=".", endpoint_url=None, log=print):
    """Download the collection's files into a staging directory, move them into place, then
    order their mtimes (see order_mtimes)."""
    start = time.time()
    aws = Aws(endpoint_url)
    aws.check_bucket(bucket)
    prefix = f"{collection}-collection/"
    chosen = [m for m in mappings(collection, datasets) if m.restore]
    os.makedirs(root, exist_ok=True)
    staging = tempfile.mkdtemp(prefix=".datastore-", dir=root)
    restored = []  # (stage, saved mtime, path)
    try:
        _sync_both_ways(aws, f"s3://{bucket}/{prefix}", staging, _filters(prefix, chosen))
        manifest = {}
        try:
            with open(os.path.join(staging, MANIFEST), encoding="utf-8") as f:
                manifest = {k: int(v) for k, v in json.load(f).items()}
        except (OSError, ValueError, AttributeError, TypeError):
            pass
        for mapping in chosen:
            local_files = _local_files(staging, Mapping(mapping.key[len(prefix):], "", 0, include=mapping.include))
            for staged in local_files:
                path = mapping.local + staged[len(mapping.key) - len(prefix):] if mapping.is_dir else mapping.local
                target = os.path.join(root, path)
                os.makedirs(os.path.dirname(target), exist_ok=True)
                shutil.move(os.path.join(staging, staged), target)
                restored.append((stage_of(path, mapping), manifest.get(path, 0), path))
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    order_mtimes(root, restored, start)
    log(f"datastore: restored {len(restored)} files of {collection} from s3://{bucket}/{prefix}")
    return len(restored)


def order_mtimes(root, files, start, step_ns=1_000, stage_gap_ns=1_000_000):
    """Give files [(stage, saved mtime, path)] new mtimes from start on, ordered by (stage, saved mtime).

    start is when the restore began: every restored file is then newer than whatever was on disk
    before it (a fresh checkout's configuration and code). Files of a later stage are newer than
    every file of an earlier stage; inside a stage the saved order is kept (ties stay ties). The
    steps are tiny so the newest mtime is still in the past; on a file system with coarse
    timestamps neighbours may become equal, which Make also treats as up to date (never reversed).
    """
    if not files:
        return
    groups = sorted({(stage, saved) for stage, saved, _ in files})
    offsets = {}
    t = 0
    previous_stage = None
    for stage, saved in groups:
        if previous_stage is not None:
            t += stage_gap_ns if stage != previous_stage else step_ns
        offsets[(stage, saved)] = t
        previous_stage = stage
    base = int(start * 1e9) + stage_gap_ns
    wait = (base + t) / 1e9 - time.time()
    if wait > 0:
        time.sleep(wait + 0.001)  # never leave an mtime in the future (Make warns of clock skew)
    for stage, saved, path in sorted(files):
        mtime = base + offsets[(stage, saved)]
        os.utime(os.path.join(root, path), ns=(mtime, mtime))
