"""The directory datasette serves: publishing files into it atomically, and the serve command line.

The directory holds <dataset>.sqlite3 files, each with its `datasette inspect` JSON
(<dataset>.sqlite3.json), <dataset>.mbtiles tile files, and inspect-data-all.json, the merged
inspect data datasette is started with (--inspect-file), so that it trusts the precomputed
hashes and table counts of the immutable files instead of scanning them at start-up.
"""
import json
import os
import shutil
import subprocess
import sys

from ..errors import UserError
from ..files import temporary_path, write_if_changed

MERGED_INSPECT = "inspect-data-all.json"
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PLUGINS_DIR = os.path.join(ROOT, "plugins")
SERVED_SUFFIXES = (".sqlite3", ".sqlite3.json", ".mbtiles")


def _link_or_copy_atomic(source, target):
    """Put source at target through a temporary name in target's directory, then rename.

    On the same filesystem the temporary name is a hard link, not a copy (a 400 MB database took ~1 s
    to copy): every file published here is replaced by rename, never written in place (the gate links
    a new candidate, tiles rename a new file), so the served inode never changes under datasette.
    Elsewhere (another filesystem, links not allowed) it is a copy."""
    if os.path.exists(target) and os.path.samefile(source, target):
        return  # already published
    with temporary_path(target) as tmp:
        try:
            os.link(source, tmp)
        except OSError:
            shutil.copyfile(source, tmp)
            shutil.copystat(source, tmp)


def datasette_command():
    """The datasette program of this Python environment."""
    beside = os.path.join(os.path.dirname(sys.executable), "datasette")
    if os.path.exists(beside):
        return [beside]
    found = shutil.which("datasette")
    if found:
        return [found]
    return [sys.executable, "-m", "datasette"]


def inspect(sqlite_path, inspect_path):
    """Write `datasette inspect` JSON for sqlite_path to inspect_path (atomically)."""
    with temporary_path(inspect_path) as tmp:
        result = subprocess.run([*datasette_command(), "inspect", sqlite_path, "--inspect-file", tmp],
                                capture_output=True, text=True)
        if result.returncode != 0:
            last = (result.stderr.strip().splitlines() or ["no message"])[-1]
            raise UserError(f"datasette inspect failed: {last}", sqlite_path)


def merge_inspect(directory):
    """Rebuild DIRECTORY/inspect-data-all.json from the *.sqlite3.json files whose database is present.

    Returns the merged file's path, or None when there is nothing to merge.
    """
    merged = {}
    for name in sorted(os.listdir(directory)):
        if not name.endswith(".sqlite3.json") or name.startswith("."):
            continue
        database = os.path.join(directory, name[: -len(".json")])
        if not os.path.exists(database):
            continue
        try:
            with open(os.path.join(directory, name), encoding="utf-8") as f:
                data = json.load(f)
        except ValueError as error:
            raise UserError(f"not valid inspect JSON: {error}", os.path.join(directory, name)) from None
        if not isinstance(data, dict):
            raise UserError("not valid inspect JSON: expected an object", os.path.join(directory, name))
        stem = os.path.basename(database)[: -len(".sqlite3")]
        for key, value in data.items():
            if isinstance(value, dict):
                value = dict(value, file=database)
            # the database is served under its file name: key the entry by it
            merged[stem if key != stem and len(data) == 1 else key] = value
    path = os.path.join(directory, MERGED_INSPECT)
    if not merged:
        if os.path.exists(path):
            os.unlink(path)
        return None
    write_if_changed(path, json.dumps(merged, indent=2, sort_keys=True) + "\n")
    return path


def publish(directory, paths, log=print):
    """Copy each file into directory atomically; make inspect JSON for a database published without one."""
    if not paths:
        raise UserError("nothing to publish")
    for path in paths:
        if not os.path.isfile(path):
            raise UserError("file not found", path)
        if not path.endswith(SERVED_SUFFIXES):
            raise UserError("expected a .sqlite3, .sqlite3.json or .mbtiles file", path)
    os.makedirs(directory, exist_ok=True)
    names = {os.path.basename(p) for p in paths}
    # inspect JSON first, so a watcher never sees a new database with old counts
    for path in sorted(paths, key=lambda p: (not p.endswith(".json"), p)):
        target = os.path.join(directory, os.path.basename(path))
        _link_or_copy_atomic(path, target)
        log(f"publish-datasette: {path} -> {target}")
    for name in sorted(names):
        if name.endswith(".sqlite3") and name + ".json" not in names:
            target = os.path.join(directory, name)
            inspect(target, target + ".json")
            log(f"publish-datasette: inspected {target}")
    merge_inspect(directory)


def find_spatialite():
    from datasette.utils import SpatialiteNotFound
    from datasette.utils import find_spatialite as find

    try:
        return find()
    except SpatialiteNotFound:
        return None


def serve_command(directory, host="127.0.0.1", port=8001, plugins_dir=PLUGINS_DIR, sql_time_limit_ms=5000,
                  spatialite=True, extra=()):
    """The datasette command line serving every database in directory (immutable)."""
    if not os.path.isdir(directory):
        raise UserError("datasette directory not found", directory)
    names = sorted(os.listdir(directory))
    databases = [n for n in names if n.endswith(".sqlite3") and not n.startswith(".")]
    tiles = [n for n in names if n.endswith(".mbtiles") and not n.startswith(".")]
    command = [*datasette_command(), "serve", "--host", host, "--port", str(port), "--nolock", "--cors"]
    # databases first: on a name clash datasette gives the later file a suffixed name, and the
    # tiles plugin finds an mbtiles file by its file name anyway
    for name in databases + tiles:
        command += ["--immutable", os.path.join(directory, name)]
    merged = merge_inspect(directory)
    if merged:
        command += ["--inspect-file", merged]
    if spatialite:
        path = find_spatialite()
        if path:
            command += ["--load-extension", "spatialite"]
        else:
            print("serve-datasette: SpatiaLite not found; serving without it", file=sys.stderr)
    command += ["--setting", "sql_time_limit_ms", str(sql_time_limit_ms)]
    if plugins_dir and os.path.isdir(plugins_dir):
        command += ["--plugins-dir", plugins_dir]
    command += list(extra)
    return command
