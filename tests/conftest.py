import os
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
