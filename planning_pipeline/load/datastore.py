"""The shared S3 datastore: save a collection's state and outputs to a bucket, restore them from it,
so that a fresh machine restores yesterday's workspace and `make` runs only what is new.

Keys. Everything the platform's pipeline also writes keeps the platform's key, under
<C>-collection/ (or, for the flattened files, the bucket's hoisted dataset/):

  collection/C/log/, resource/, log.csv, resource.csv    <C>-collection/collection/...
  collection/C/{endpoint,source,old-resource}.csv          same place, saved only (the repository has them)
  var/transformed/D/, var/issue/D/                         <C>-collection/{transformed,issue}/D/
  var/{converted-resource,column-field,dataset-resource}/D/   <C>-collection/var/.../D/
  dataset/D.*, D-issue.csv, D-changes.{csv,json} (sqlite, inspect JSON, entity CSV, tiles, changelog)   <C>-collection/dataset/
  var/assembled/D.manifest.json (what the candidate was assembled from)                   <C>-collection/var/assembled/
  dataset/flattened/D.{csv,json,geojson,parquet}           dataset/D.* (bucket root, as the platform hoists them)
  dataset/organisation{,-check}.csv (organisation only)    organisation-collection/dataset/

for each dataset D of the collection. Our own state, which Make needs to see the tree as built and
the platform has no key for, is kept under <C>-collection/datastore/ at its local path:

  var/C/ (collect and plan makefiles, index and config stamps)   var/code/ (code stamps, shared)
  var/expectation/D.csv    var/load/{postgis,tiles,datasette}/D.stamp    var/gate/D.done
  datastore/manifest.json: every saved file's mtime, and the sha256 and mtime of every repository
  file the graph reads (Makefile, makerules/, bin/, planning_pipeline/, specification/, example/,
  requirements.txt, pipeline/C/, the collection's configuration)

The gate's candidate var/assembled/D.sqlite3 (and D-issue.csv) of a published dataset is the published
file itself (a hard link): restore links it again rather than saving it twice. A held build is not
saved: the next run builds and holds it again.

Not saved: var/converted/ (a conversion cache keyed by resource; no target depends on it), the
platform database (the postgis stamps record what it already holds) and the datasette directory:
restore publishes each dataset with a restored publish stamp into it again from the restored
dataset files, when the directory is inside the workspace (one outside it outlives the workspace).

Mtimes. Make compares mtimes, and S3 keeps none. Restore gives every file back its saved mtime,
so every dependency edge, inside the collection and across collections (dataset/organisation.csv,
the shared var/code/ stamps) and the content stamps next to their .done files, is exactly as it
was when saved; re-sequencing files by stage could not keep those. The repository is the other
half: a fresh clone's files are all new. So each repository file whose content equals what was
saved gets an mtime no newer than its saved one (older than the outputs built from it), and each
one that differs or is new is touched after the restore, so Make rebuilds exactly what depends on
it: new code re-transforms through its code stamp (whose hash Make recomputes), new bake code
rebakes, and the same commit redoes nothing. (A file deleted since the save changes no mtime: as
in any workspace, Make does not see it.) A file saved without a manifest entry keeps the time
aws gives it, the object's upload time. Mtimes are never left in the future (clock skew).

Shared var/code/ stamps are restored only when newer than the local ones, so restoring several
collections keeps the newest. The organisation package every collection reads is fetched from
organisation-collection/ when the workspace has none.

The digital-land builder. `--collection digital-land-builder` is no collection (no datasets, no
collection directory): it saves the digital-land pipeline's outputs, which read every collection,
at the platform's keys, and its stamp under our own area, with the same manifest and mtime rules:

  dataset/digital-land.sqlite3, dataset/performance.sqlite3   digital-land-builder/dataset/
  var/load/reference.stamp, var/run-day/ (the day performance   digital-land-builder/datastore/
  was last recorded), datastore/manifest.json

performance.sqlite3 keeps the rows of earlier run dates, so this save is its history. Its
repository files are those above plus every collection's configuration and pipeline/. Restore it
after the collections (`make restore` does), whose outputs it was built from.
"""
import fnmatch
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

from ..errors import UserError
from ..files import sha256_file

OWN = "datastore/"
MANIFEST = OWN + "manifest.json"
REPOSITORY = ("Makefile", "makerules/", "bin/", "planning_pipeline/", "specification/", "example/", "requirements.txt")
ORGANISATION_PACKAGE = "dataset/organisation.csv"
DIGITAL_LAND = "digital-land-builder"


class Mapping:
    """One local file or directory and its full S3 key (a directory ends in /)."""

    def __init__(self, local, key, restore=True, include=None, shared=False):
        self.local = local
        self.key = key
        self.restore = restore
        self.include = include  # for directories: only the top level's file names matching these globs
        self.shared = shared  # also saved by other collections: the newest copy wins

    @property
    def is_dir(self):
        return self.local.endswith("/")

    @property
    def root(self):
        """The top-level key prefix: one sync per root."""
        return self.key.split("/", 1)[0] + "/"


def key_prefix(collection):
    return DIGITAL_LAND + "/" if collection == DIGITAL_LAND else f"{collection}-collection/"


def mappings(collection, datasets):
    prefix = key_prefix(collection)
    if collection == DIGITAL_LAND:
        outputs = [Mapping(f"dataset/{n}.sqlite3", f"{prefix}dataset/{n}.sqlite3") for n in ("digital-land", "performance")]
        return outputs + [Mapping("var/load/reference.stamp", prefix + OWN + "var/load/reference.stamp"),
                          Mapping("var/run-day/", prefix + OWN + "var/run-day/")]
    return (_collection_mappings(collection, prefix) + _own_mappings(collection, prefix + OWN, datasets)
            + _dataset_mappings(collection, prefix, datasets))


def _collection_mappings(collection, prefix):
    c = f"collection/{collection}/"
    found = [Mapping(c + name, prefix + "collection/" + name) for name in ("log/", "resource/", "log.csv", "resource.csv")]
    for name in ("endpoint.csv", "source.csv", "old-resource.csv"):
        found.append(Mapping(c + name, prefix + "collection/" + name, restore=False))
    return found


def _own_mappings(collection, own, datasets):
    found = [Mapping(f"var/{collection}/", f"{own}var/{collection}/"), Mapping("var/code/", own + "var/code/", shared=True)]
    if collection == "organisation":
        found.append(Mapping("var/cache/organisation.csv", own + "var/cache/organisation.csv", shared=True))
    for d in datasets:
        found.append(Mapping(f"var/expectation/{d}.csv", f"{own}var/expectation/{d}.csv"))
        found += [Mapping(f"var/load/{kind}/{d}.stamp", f"{own}var/load/{kind}/{d}.stamp")
                  for kind in ("postgis", "tiles", "datasette")]
        found.append(Mapping(f"var/gate/{d}.done", f"{own}var/gate/{d}.done"))
    return found


def _dataset_mappings(collection, prefix, datasets):
    found = []
    for d in datasets:
        found += [
            Mapping(f"var/converted-resource/{d}/", f"{prefix}var/converted-resource/{d}/"),
            Mapping(f"var/transformed/{d}/", f"{prefix}transformed/{d}/"),
            Mapping(f"var/issue/{d}/", f"{prefix}issue/{d}/"),
            Mapping(f"var/column-field/{d}/", f"{prefix}var/column-field/{d}/"),
            Mapping(f"var/dataset-resource/{d}/", f"{prefix}var/dataset-resource/{d}/"),
        ]
    names = [p for d in datasets for p in (f"{d}.*", f"{d}-issue.csv", f"{d}-changes.csv", f"{d}-changes.json")]
    if collection == "organisation":
        names += ["organisation.csv", "organisation-check.csv"]
    if datasets:
        found.append(Mapping("dataset/", prefix + "dataset/", include=names))
        # what the candidate was assembled from: it names the candidate's inode, so a restored (relinked)
        # candidate is assembled in full the next time, but the workspace is restored as it was saved
        found.append(Mapping("var/assembled/", f"{prefix}var/assembled/", include=[f"{d}.manifest.json" for d in datasets]))
        found.append(Mapping("dataset/flattened/", "dataset/", include=[f"{d}.*" for d in datasets]))
    return found


def collection_datasets(collection, specification_dir="specification"):
    if collection == DIGITAL_LAND:
        return []
    from ..specification import Specification

    datasets = Specification(specification_dir).collection_datasets(collection)
    if not datasets:
        raise UserError(f"no datasets for collection {collection} in the specification", os.path.join(specification_dir, "dataset.csv"))
    return datasets


def workspace_datasette_dir(root, datasette_dir):
    """The datasette directory relative to the workspace, or None when it lies outside it (a served
    directory that outlives the workspace keeps its files, so its stamps stay true)."""
    if not datasette_dir:
        return None
    relative = os.path.relpath(os.path.abspath(os.path.join(root, datasette_dir)), os.path.abspath(root))
    return None if relative.startswith("..") else relative.rstrip("/") + "/"


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


def _local_files(root, mapping):
    base = os.path.join(root, mapping.local).rstrip("/")
    if not mapping.is_dir:
        return [mapping.local] if os.path.isfile(base) else []
    found = []
    for directory, dirs, files in os.walk(base):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "__pycache__")
        if mapping.include and directory != base:
            continue
        for name in sorted(files):
            if name.startswith(".") or name.endswith((".tmp", ".pyc")):
                continue  # the temporary file of an interrupted write
            if mapping.include and not any(fnmatch.fnmatch(name, p) for p in mapping.include):
                continue
            found.append(os.path.relpath(os.path.join(directory, name), root))
    return found


def _key(mapping, path):
    return mapping.key + path[len(mapping.local):] if mapping.is_dir else mapping.key


def _filters(root, chosen):
    """aws s3 sync filters (relative to root) selecting the mapped keys."""
    args = ["--exclude", "*"]
    for mapping in chosen:
        relative = mapping.key[len(root):]
        if mapping.include:
            for pattern in mapping.include:
                args += ["--include", relative + pattern]
        else:
            args += ["--include", relative + "*" if mapping.is_dir else relative]
    return args


RESOURCE_KEYS = "collection/resource/"


def _sync_calls(aws, source, target, filters, resource_source=None, resource_target=None):
    """The syncs of one key root, to run at once: content-addressed resources (when given) compared
    by size only, so never uploaded twice; everything else by size and time."""
    calls = [lambda: aws.run("s3", "sync", source, target, *filters, "--exclude", RESOURCE_KEYS + "*")]
    if resource_source:
        calls.append(lambda: aws.run("s3", "sync", resource_source, resource_target, "--size-only"))
    return calls


def _parallel(calls):
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        for future in [pool.submit(call) for call in calls]:
            future.result()


def repository_files(root, collection):
    """The repository files the graph reads: what the saved state was built from (the digital-land
    builder's: every collection's)."""
    if collection == DIGITAL_LAND:
        directory = os.path.join(root, "collection")
        collections, pipeline = sorted(os.listdir(directory)) if os.path.isdir(directory) else [], "pipeline/"
    else:
        collections, pipeline = [collection], f"pipeline/{collection}/"
    configuration = [f"collection/{c}/{name}" for c in collections for name in ("endpoint.csv", "source.csv", "old-resource.csv")]
    found = []
    for local in (*REPOSITORY, pipeline, *configuration):
        found += _local_files(root, Mapping(local, ""))
    return found


def _mtime(root, path):
    return os.stat(os.path.join(root, path)).st_mtime_ns


def save(collection, bucket, datasets, root=".", endpoint_url=None, log=print):
    """Upload the collection's files and the manifest; a staging tree of symbolic links in the
    bucket's layout lets one `aws s3 sync` per key root do the work."""
    aws = Aws(endpoint_url)
    aws.check_bucket(bucket)
    prefix = key_prefix(collection)
    files = {}
    staging = tempfile.mkdtemp(prefix=".datastore-", dir=root)
    try:
        roots = set()
        for mapping in mappings(collection, datasets):
            for path in _local_files(root, mapping):
                files[path] = _mtime(root, path)
                _link(staging, _key(mapping, path), os.path.abspath(os.path.join(root, path)))
                roots.add(mapping.root)
        repository = {path: [sha256_file(os.path.join(root, path)), _mtime(root, path)] for path in repository_files(root, collection)}
        _write_json(os.path.join(staging, prefix + MANIFEST), {"files": files, "repository": repository})
        roots.add(prefix)
        _parallel([call for r in sorted(roots) for call in _upload_calls(aws, staging, bucket, r, r == prefix)])
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    log(f"datastore: saved {len(files)} files of {collection} to s3://{bucket}/{prefix}")
    return len(files)


def _upload_calls(aws, staging, bucket, root, with_resources):
    resources = os.path.join(staging, root + RESOURCE_KEYS)
    with_resources = with_resources and os.path.isdir(resources)
    return _sync_calls(aws, os.path.join(staging, root), f"s3://{bucket}/{root}", [],
                       resources if with_resources else None, f"s3://{bucket}/{root}{RESOURCE_KEYS}")


def _link(staging, key, target):
    link = os.path.join(staging, key)
    os.makedirs(os.path.dirname(link), exist_ok=True)
    os.symlink(target, link)


def _write_json(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=0, sort_keys=True)


def _read_manifest(path):
    """The saved manifest, or an empty one for a save made without it (the platform's own)."""
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        return {"files": {k: int(v) for k, v in data.get("files", {}).items()},
                "repository": {k: (v[0], int(v[1])) for k, v in data.get("repository", {}).items()}}
    except (OSError, ValueError, AttributeError, TypeError, IndexError):
        return {"files": {}, "repository": {}}


def restore(collection, bucket, datasets, root=".", endpoint_url=None, datasette_dir=None, log=print):
    """Download the collection's files into a staging directory, move them into place with their
    saved mtimes, then date the repository files by whether they changed since the save."""
    aws = Aws(endpoint_url)
    aws.check_bucket(bucket)
    prefix = key_prefix(collection)
    chosen = [m for m in mappings(collection, datasets) if m.restore]
    os.makedirs(root, exist_ok=True)
    staging = tempfile.mkdtemp(prefix=".datastore-", dir=root)
    try:
        _download(aws, bucket, staging, prefix, chosen)
        manifest = _read_manifest(os.path.join(staging, prefix + MANIFEST))
        restored = _move_into_place(root, staging, chosen, manifest["files"])
        if collection not in ("organisation", DIGITAL_LAND):
            restored += _organisation_package(aws, bucket, root, staging)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    skew = _set_mtimes(root, restored)
    changed = date_repository(root, repository_files(root, collection), manifest["repository"], skew)
    relink_candidates(root, datasets, [path for path, _ in restored])
    republish(root, workspace_datasette_dir(root, datasette_dir), datasets, [path for path, _ in restored])
    log(f"datastore: restored {len(restored)} files of {collection} from s3://{bucket}/{prefix}"
        + (f"; {len(changed)} repository files changed since the save" if manifest["repository"] and changed else ""))
    return len(restored)


def relink_candidates(root, datasets, restored):
    """The gate's candidate of each dataset published when saved (its stamp restored), linked again
    to the restored dataset file (the same file, with its mtime): it is not saved twice."""
    from ..gate.publish import link

    for d in datasets:
        if f"var/gate/{d}.done" not in restored:
            continue
        for name in (f"{d}.sqlite3", f"{d}-issue.csv", f"{d}-changes.csv"):
            published, candidate = os.path.join(root, "dataset", name), os.path.join(root, "var", "assembled", name)
            if os.path.exists(published) and not os.path.exists(candidate):
                link(published, candidate)


def republish(root, served, datasets, restored):
    """Publish again into the workspace's datasette directory each dataset whose publish stamp was
    restored, from the restored dataset files (copies keep their mtimes): the directory is not saved
    twice. A directory outside the workspace outlives it and still has them."""
    if not served:
        return
    from .datasette import publish

    for d in datasets:
        if f"var/load/datasette/{d}.stamp" in restored:
            files = [os.path.join(root, "dataset", d + suffix) for suffix in (".sqlite3", ".sqlite3.json", ".mbtiles")]
            if os.path.exists(files[0]):
                publish(os.path.normpath(os.path.join(root, served)), [f for f in files if os.path.exists(f)], log=lambda _: None)


def _download(aws, bucket, staging, prefix, chosen):
    """Each key root into staging/ROOT; the resources into a directory of their own first, so that
    one sync never lists the other's half-written files, then moved into place."""
    resources = os.path.join(staging, ".resources/")
    calls = []
    for r in sorted({m.root for m in chosen} | {prefix}):
        filters = _filters(r, [m for m in chosen if m.root == r]) + (["--include", MANIFEST] if r == prefix else [])
        resource_source = f"s3://{bucket}/{r}{RESOURCE_KEYS}" if r == prefix else None
        calls += _sync_calls(aws, f"s3://{bucket}/{r}", os.path.join(staging, r), filters, resource_source, resources)
    _parallel(calls)
    if os.path.isdir(resources):
        os.makedirs(os.path.join(staging, prefix, "collection"), exist_ok=True)
        os.rename(resources, os.path.join(staging, prefix + RESOURCE_KEYS))


def _move_into_place(root, staging, chosen, saved):
    """[(path, mtime)] of the files moved from staging into the workspace: the saved mtime, or the
    object's upload time (aws's) for a file the manifest does not know."""
    restored = []
    for mapping in chosen:
        for staged in _local_files(staging, Mapping(mapping.key, "", include=mapping.include)):
            path = mapping.local + staged[len(mapping.key):] if mapping.is_dir else mapping.local
            mtime = saved.get(path, _mtime(staging, staged))
            target = os.path.join(root, path)
            if mapping.shared and os.path.exists(target) and os.stat(target).st_mtime_ns >= mtime:
                continue  # another collection restored or built a newer copy
            os.makedirs(os.path.dirname(target), exist_ok=True)
            shutil.move(os.path.join(staging, staged), target)
            restored.append((path, mtime))
    return restored


def _organisation_package(aws, bucket, root, staging):
    """The organisation package every collection reads, from the organisation collection's save,
    when the workspace has none: with its saved mtime, so the transforms made from it stay done."""
    if os.path.exists(os.path.join(root, ORGANISATION_PACKAGE)):
        return []
    source = "organisation-collection/"
    target = os.path.join(staging, source)
    aws.run("s3", "sync", f"s3://{bucket}/{source}", target, "--exclude", "*", "--include", ORGANISATION_PACKAGE,
            "--include", MANIFEST)
    if not os.path.exists(os.path.join(target, ORGANISATION_PACKAGE)):
        return []  # not saved yet: make builds it
    manifest = _read_manifest(os.path.join(target, MANIFEST))
    mtime = manifest["files"].get(ORGANISATION_PACKAGE, _mtime(target, ORGANISATION_PACKAGE))
    os.makedirs(os.path.join(root, "dataset"), exist_ok=True)
    shutil.move(os.path.join(target, ORGANISATION_PACKAGE), os.path.join(root, ORGANISATION_PACKAGE))
    return [(ORGANISATION_PACKAGE, mtime)]


def _set_mtimes(root, restored):
    """The saved mtimes, moved back together by the skew if the newest is in this machine's future
    (the saving machine's clock was fast), so Make neither warns nor reorders anything. Returns the skew."""
    if not restored:
        return 0
    skew = max(0, max(mtime for _, mtime in restored) - time.time_ns())
    for path, mtime in restored:
        os.utime(os.path.join(root, path), ns=(mtime - skew, mtime - skew))
    return skew


def date_repository(root, paths, saved, skew=0):
    """Give each repository file unchanged since the save at most its saved mtime (moved back by the
    restored files' skew), and touch each changed or new one, so Make rebuilds what depends on it.
    Returns the changed paths."""
    if not saved:
        return []  # nothing known about what the files were built from: a fresh clone's new mtimes rebuild them
    changed = []
    now = time.time_ns()
    for path in paths:
        current = _mtime(root, path)
        entry = saved.get(path)
        if entry and entry[0] == sha256_file(os.path.join(root, path)):
            mtime = min(current, entry[1] - skew)
        else:
            changed.append(path)
            mtime = max(current, now)
        if mtime != current:
            os.utime(os.path.join(root, path), ns=(mtime, mtime))
    return changed
