"""The bundled conservation-area example built once by the real Makefile, and copies of it to change."""
import os
import shutil
import subprocess

import pytest

EXAMPLE = "conservation-area"
SETTINGS = ("DATABASE_URL", "MAKEFLAGS", "MAKELEVEL", "COLLECTION", "DATASTORE_BUCKET", "DATASTORE_ENDPOINT",
            "COLLECTION_DATASET_BUCKET_NAME", "DATASETTE_DIR")


def run_make(workspace, *args):
    """The real Makefile in a workspace, offline, without the caller's pipeline settings."""
    env = {k: v for k, v in os.environ.items() if k not in SETTINGS}
    result = subprocess.run(["make", *args], cwd=workspace, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


@pytest.fixture(scope="session")
def built_example(tmp_path_factory, workspace_at):
    root = workspace_at(tmp_path_factory.mktemp("explain") / "workspace", EXAMPLE)
    run_make(root, f"collection/{EXAMPLE}")
    return root


@pytest.fixture
def example_copy(built_example, tmp_path):
    """A copy of the built example (mtimes kept, so make sees it built) for a test that changes it."""
    target = tmp_path / "workspace"
    shutil.copytree(built_example, target, symlinks=True)
    return target
