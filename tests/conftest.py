import os
import pathlib
import shutil
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


@pytest.fixture
def copy_collection(tmp_path):
    """A copy of a bundled collection's configuration and history (not what local runs collected since)."""

    def copy(name):
        target = tmp_path / name
        shutil.copytree(os.path.join(ROOT, "collection", name), target)
        for generated in ("log.csv", "resource.csv"):
            if (target / generated).exists():
                (target / generated).unlink()
        for day in (target / "log").iterdir():
            if day.name >= "2026-11-01":
                shutil.rmtree(day)
        return target

    return copy


@pytest.fixture
def make_workspace(tmp_path):
    """A copy of the project with some of its collections (their bundled history only), sharing the
    venv, with the organisation package in place: for running the real Makefile without touching
    the repository's own workspace."""

    def build(*collections):
        for name in ("Makefile", "makerules", "bin", "planning_pipeline", "specification", "example",
                     "requirements.txt", "plugins", "orchestration"):
            source = os.path.join(ROOT, name)
            (shutil.copytree if os.path.isdir(source) else shutil.copy)(source, tmp_path / name)
        for collection in collections:
            for kind in ("collection", "pipeline"):
                shutil.copytree(os.path.join(ROOT, kind, collection), tmp_path / kind / collection)
            log = tmp_path / "collection" / collection / "log"
            for day in log.iterdir() if log.exists() else ():
                if day.name >= "2026-11-01":
                    shutil.rmtree(day)
            for generated in ("log.csv", "resource.csv"):
                path = tmp_path / "collection" / collection / generated
                if path.exists():
                    path.unlink()
        os.symlink(os.path.join(ROOT, ".venv"), tmp_path / ".venv")
        (tmp_path / "dataset").mkdir()
        shutil.copy(os.path.join(ROOT, "example", "organisation.csv"), tmp_path / "dataset" / "organisation.csv")
        return tmp_path

    return build


@pytest.fixture(scope="session")
def workspace_at():
    """make_workspace into a given directory: a workspace built once for a module (tmp_path_factory),
    or a second fresh clone beside it."""

    def build(target, *collections):
        target = pathlib.Path(target)
        target.mkdir(parents=True, exist_ok=True)
        for name in ("Makefile", "makerules", "bin", "planning_pipeline", "specification", "example",
                     "requirements.txt", "plugins", "orchestration"):
            source = os.path.join(ROOT, name)
            if os.path.isdir(source):
                shutil.copytree(source, target / name, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                shutil.copy(source, target / name)
        for collection in collections:
            for kind in ("collection", "pipeline"):
                shutil.copytree(os.path.join(ROOT, kind, collection), target / kind / collection)
            log = target / "collection" / collection / "log"
            for day in log.iterdir() if log.exists() else ():
                if day.name >= "2026-11-01":
                    shutil.rmtree(day)
            for generated in ("log.csv", "resource.csv"):
                path = target / "collection" / collection / generated
                if path.exists():
                    path.unlink()
        os.symlink(os.path.join(ROOT, ".venv"), target / ".venv")
        (target / "dataset").mkdir()
        shutil.copy(os.path.join(ROOT, "example", "organisation.csv"), target / "dataset" / "organisation.csv")
        return target

    return build
