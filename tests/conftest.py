import os
import pathlib
import shutil
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # tests/local_servers.py

# Every make a test runs prints its command lines (V=1), as the tests of the graph read them to see which
# steps ran; tests/test_output.py runs make without it, as a user does, for the short step lines.
os.environ["V"] = "1"
os.environ.pop("PIPELINE_PARALLEL", None)  # each make a test runs chooses its own jobs, as a user's make does


PROJECT = ("Makefile", "makerules", "bin", "planning_pipeline", "specification", "example", "requirements.txt",
           "plugins", "orchestration")
BUNDLED_UNTIL = "2026-11-01"  # later days in collection/*/log/ are what local runs collected


def bundled_history(collection_dir):
    """Reduce a copied collection directory to its bundled history: no log days collected since, and no
    log.csv/resource.csv (the index builds them)."""
    collection_dir = pathlib.Path(collection_dir)
    log = collection_dir / "log"
    for day in log.iterdir() if log.exists() else ():
        if day.name >= BUNDLED_UNTIL:
            shutil.rmtree(day)
    for generated in ("log.csv", "resource.csv"):
        if (collection_dir / generated).exists():
            (collection_dir / generated).unlink()


def build_workspace(target, *collections):
    """A copy of the project in target with some of its collections (their bundled history only),
    sharing the venv, with the organisation package in place: for running the real Makefile without
    touching the repository's own workspace."""
    target = pathlib.Path(target)
    target.mkdir(parents=True, exist_ok=True)
    for name in PROJECT:
        source = os.path.join(ROOT, name)
        if os.path.isdir(source):
            shutil.copytree(source, target / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, target / name)
    for collection in collections:
        for kind in ("collection", "pipeline"):
            shutil.copytree(os.path.join(ROOT, kind, collection), target / kind / collection)
        bundled_history(target / "collection" / collection)
    os.symlink(os.path.join(ROOT, ".venv"), target / ".venv")
    (target / "dataset").mkdir()
    shutil.copy(os.path.join(ROOT, "example", "organisation.csv"), target / "dataset" / "organisation.csv")
    return target


@pytest.fixture
def copy_collection(tmp_path):
    """A copy of a bundled collection's configuration and history (not what local runs collected since)."""

    def copy(name):
        target = tmp_path / name
        shutil.copytree(os.path.join(ROOT, "collection", name), target)
        bundled_history(target)
        return target

    return copy


@pytest.fixture
def make_workspace(tmp_path):
    """build_workspace in this test's tmp_path."""
    return lambda *collections: build_workspace(tmp_path, *collections)


@pytest.fixture(scope="session")
def workspace_at():
    """build_workspace into a given directory: a workspace built once for a module (tmp_path_factory),
    or a second fresh clone beside it."""
    return build_workspace
