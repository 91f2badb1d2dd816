"""Temporary files left by an interrupted run (kill -9, a lost machine), removed by the next run.

Every step writes under a hidden temporary name beside its output and renames it into place
(files.temporary_path: `.NAME.RANDOM.tmp`; assemble's scratch databases `.NAME.RANDOM.scratchN`; tiles'
`.NAME.RANDOM.tmp/` directories; conversions' `.RESOURCE.RANDOM/`; collect's `.collect-RANDOM.part`).
A step that is killed leaves them behind, some the size of a database. The next run of the collection
holds the collection's lock, so none of the collection's own temporaries can still be in use: those are
removed. Directories that several collections share (the code stamps, the workspace root) only lose
temporaries older than a day.
"""
import contextlib
import os
import shutil
import time

from .csvio import read_csv

SHARED_AGE = 24 * 3600  # seconds: older temporaries in shared directories are surely abandoned
OWN_DIRS = ("var/transformed", "var/issue", "var/column-field", "var/dataset-resource", "var/converted-resource")
DATASET_DIRS = ("dataset", "dataset/flattened", "dataset/held", "var/assembled")


def _remove(path):
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)


def _hidden(directory, keep=lambda name: True):
    try:
        names = os.listdir(directory)
    except (FileNotFoundError, NotADirectoryError):
        return []
    return [os.path.join(directory, n) for n in sorted(names) if n.startswith(".") and n not in (".", "..") and keep(n)]


def _is_temporary(name):
    return name.endswith((".tmp", ".part")) or ".scratch" in name or name.startswith(".collect-")


def stale_temporaries(root, collection, datasets, datasette_dir=None, now=None):
    """The paths of the collection's abandoned temporaries, and old ones in shared directories."""
    now = now or time.time()
    join = lambda *parts: os.path.join(root, *parts)  # noqa: E731
    found = []
    for d in datasets:
        mine = lambda n, d=d: n.startswith((f".{d}.", f".{d}-")) and _is_temporary(n)  # noqa: E731
        for directory in DATASET_DIRS + ((datasette_dir,) if datasette_dir else ()):
            found += _hidden(join(directory), mine)
        for directory in OWN_DIRS:
            found += _hidden(join(directory, d))
    found += _hidden(join("collection", collection, "resource"), lambda n: n.startswith(".collect-"))
    found += _hidden(join("var", collection), _is_temporary)
    with contextlib.suppress(FileNotFoundError):  # the steps log of a killed run (bin/step)
        found += [join("var", "run", n) for n in os.listdir(join("var", "run"))
                  if n.startswith(f"{collection}.") and n.endswith(".steps")]
    resources = {r["resource"] for r in read_csv(join("collection", collection, "resource.csv"), ("resource",))}
    found += _hidden(join("var", "converted"), lambda n: n[1:].split(".", 1)[0] in resources)

    def old(path):
        with contextlib.suppress(FileNotFoundError):
            return now - os.lstat(path).st_mtime > SHARED_AGE
        return False

    found += [p for p in _hidden(join("var", "code"), _is_temporary) if old(p)]
    found += [p for p in _hidden(join(), lambda n: n.startswith(".datastore-")) if old(p)]
    return sorted(set(found))


def clean(root, collection, datasets, datasette_dir=None, log=print):
    """Remove the stale temporaries; returns how many bytes were freed."""
    freed = 0
    for path in stale_temporaries(root, collection, datasets, datasette_dir):
        freed += _size(path)
        _remove(path)
        log(f"clean: removed {os.path.relpath(path, root)}, left by an interrupted run")
    return freed


def _size(path):
    if os.path.isdir(path) and not os.path.islink(path):
        return sum(os.path.getsize(os.path.join(d, f)) for d, _, files in os.walk(path) for f in files
                   if os.path.exists(os.path.join(d, f)))
    with contextlib.suppress(OSError):
        return os.lstat(path).st_size
    return 0
