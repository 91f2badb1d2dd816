"""The manifest beside an assembled candidate: what it was built from, so the next build can be incremental.

var/assembled/D.manifest.json records, for the candidate it describes (its inode, size and mtime), every
transformed file (size, mtime_ns, sha256), every resource's end-date, and one hash of everything else that
shapes the fact, fact_resource and entity tables (the assemble code, the specification, organisation.csv, the
dataset), and each log file's fingerprint and place in its table and in the issue CSV (logs.Reuse), with the
stat of that issue CSV. A manifest that is missing, unreadable, of another version or written for
another file than the candidate (a build interrupted between the rename and the manifest) means a full build.
"""
import contextlib
import glob
import hashlib
import json
import os

from ..files import atomic_write, sha256_file

VERSION = 1
PACKAGE = os.path.dirname(os.path.abspath(__file__))
CODE = sorted(glob.glob(os.path.join(PACKAGE, "*.py"))) + [
    os.path.join(os.path.dirname(PACKAGE), name) for name in ("sql.py", "specification.py", "csvio.py")]


def path_for(output):
    base = output[: -len(".sqlite3")] if output.endswith(".sqlite3") else output
    return base + ".manifest.json"


def global_hash(dataset, specification_dir, organisation_path, resource_path):
    """One hash of the inputs that change every entity when they change."""
    digest = hashlib.sha256(json.dumps([VERSION, dataset, bool(resource_path)]).encode())
    paths = CODE + sorted(glob.glob(os.path.join(specification_dir, "*.csv")))
    if organisation_path:
        paths.append(organisation_path)
    for path in paths:
        digest.update(os.path.basename(path).encode() + b"\0")
        digest.update(sha256_file(path).encode() if os.path.exists(path) else b"missing")
    return digest.hexdigest()


def stat_of(path):
    st = os.stat(path)
    return [st.st_ino, st.st_size, st.st_mtime_ns]


def file_entries(paths, previous=None):
    """{name: [size, mtime_ns, sha256]} of the transformed files; a file whose size and mtime match previous
    keeps its recorded hash, any other is hashed (streamed)."""
    previous = previous or {}
    entries = {}
    for path in paths:
        st = os.stat(path)
        name = os.path.basename(path)
        old = previous.get(name)
        if old and old[0] == st.st_size and old[1] == st.st_mtime_ns:
            entries[name] = old
        else:
            entries[name] = [st.st_size, st.st_mtime_ns, sha256_file(path)]
    return entries


def read(output):
    """The manifest of output when it describes output as it is now, else None."""
    try:
        with open(path_for(output), encoding="utf-8") as f:
            manifest = json.load(f)
        if manifest.get("version") != VERSION or manifest.get("candidate") != stat_of(output):
            return None
        if not isinstance(manifest.get("files"), dict) or not isinstance(manifest.get("ends"), dict):
            return None
        return manifest
    except (OSError, ValueError, AttributeError):
        return None


def write(output, global_digest, files, ends, logs=None, issue_csv=None):
    """logs: logs.Reuse entries of the log files; issue_csv: the stat of the issue CSV written with them."""
    manifest = {"version": VERSION, "candidate": stat_of(output), "global": global_digest, "files": files,
                "ends": dict(sorted(ends.items())), "logs": logs or {}, "issue_csv": issue_csv}
    with atomic_write(path_for(output)) as f:
        json.dump(manifest, f, sort_keys=True)


def remove(output):
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path_for(output))
