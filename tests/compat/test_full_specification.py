"""Compatibility with the full current specification (tests/data/compat/specification: every collection
and dataset): each collection gets a plan that Make reads, and a generated DAG that parses (and imports
into a real Airflow DagBag when .venv-airflow is there)."""
import ast
import csv
import hashlib
import json
import os
import subprocess
import sys

import pytest

from orchestration.generate import collections_for_env, generate
from planning_pipeline.collection.plan import variable, write_plan
from planning_pipeline.specification import Specification

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SPECIFICATION_DIR = os.path.join(ROOT, "tests", "data", "compat", "specification")
AIRFLOW_PYTHON = os.path.join(ROOT, ".venv-airflow", "bin", "python")
SPEC = Specification(SPECIFICATION_DIR)
COLLECTIONS = sorted(SPEC.collection)


def print_mk(datasets):
    """A makefile that prints the plan's DATASETS and each dataset's transformed files, as Make read them."""
    lines = ["print:", "\t@echo 'DATASETS=$(strip $(DATASETS))'"]
    lines += [f"\t@echo '{d}=$(strip $({variable(d)}_TRANSFORMED_FILES))'" for d in datasets]
    return "\n".join(lines) + "\n"


def test_the_pinned_specification_is_the_full_one():
    # every collection of collection.csv feeds datasets, and every dataset's collection is listed
    assert len(COLLECTIONS) >= 55 and len(SPEC.dataset) >= 280
    fed = {r["collection"] for r in SPEC.dataset.values() if r.get("collection")}
    assert fed == set(COLLECTIONS)


def tiny_collection(directory, collection, datasets):
    """One endpoint, one source naming every dataset of the collection, one small collected resource."""
    os.makedirs(os.path.join(directory, "resource"))
    content = f"reference,name\n{collection}-1,one\n".encode()
    resource = hashlib.sha256(content).hexdigest()
    endpoint = hashlib.sha256(f"https://example.org/{collection}.csv".encode()).hexdigest()
    with open(os.path.join(directory, "resource", resource), "wb") as f:
        f.write(content)
    rows = {
        "endpoint.csv": [["endpoint", "endpoint-url", "entry-date", "start-date", "end-date"],
                         [endpoint, f"https://example.org/{collection}.csv", "2026-01-01", "", ""]],
        "source.csv": [["source", "collection", "organisation", "endpoint", "pipelines", "entry-date", "start-date", "end-date"],
                       ["s1", collection, "local-authority:SWK", endpoint, ";".join(datasets), "2026-01-01", "", ""]],
        "resource.csv": [["resource", "bytes", "organisations", "datasets", "endpoints", "start-date", "end-date"],
                         [resource, str(len(content)), "local-authority:SWK", ";".join(datasets), endpoint, "2026-01-02", ""]],
        "old-resource.csv": [["old-resource", "status", "resource", "notes"]],
    }
    for name, table in rows.items():
        with open(os.path.join(directory, name), "w", newline="") as f:
            csv.writer(f).writerows(table)
    return resource


@pytest.mark.parametrize("collection", COLLECTIONS)
def test_every_collection_gets_a_plan_that_make_reads(collection, tmp_path):
    datasets = SPEC.collection_datasets(collection)
    assert datasets, f"{collection} feeds no dataset"
    resource = tiny_collection(str(tmp_path / "collection"), collection, datasets)
    plan_mk, plan_csv = tmp_path / "var" / "plan.mk", tmp_path / "var" / "plan.csv"
    rows = write_plan(str(tmp_path / "collection"), collection, SPEC, str(plan_mk), str(plan_csv))
    assert sorted(r["dataset"] for r in rows) == datasets
    assert len({variable(d) for d in datasets}) == len(datasets)  # no two datasets share a Make variable
    (tmp_path / "print.mk").write_text(print_mk(datasets))
    result = subprocess.run(["make", "--no-print-directory", "-f", str(plan_mk), "-f", str(tmp_path / "print.mk"),
                             "print", "TRANSFORMED_DIR=t/", f"PLAN_MK={plan_mk}"],
                            capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    printed = dict(line.split("=", 1) for line in result.stdout.splitlines())
    assert printed.pop("DATASETS").split() == datasets
    assert printed == {d: f"t/{d}/{resource}.csv" for d in datasets}


def test_an_empty_collection_plans_nothing_and_make_reads_it(tmp_path):
    for collection in COLLECTIONS:
        directory = tmp_path / collection
        directory.mkdir()
        (directory / "endpoint.csv").write_text("endpoint,endpoint-url\n")
        plan_mk = tmp_path / f"{collection}.mk"
        assert list(write_plan(str(directory), collection, SPEC, str(plan_mk), str(tmp_path / f"{collection}.csv"))) == []
        result = subprocess.run(["make", "-f", str(plan_mk), "-f", "/dev/null", "-p", "-q", "nothing-here"],
                                capture_output=True, text=True, cwd=tmp_path)
        assert "No rule to make target 'nothing-here'" in result.stderr, (collection, result.stderr)


def dags_for_all(tmp_path, env="development"):
    config = json.load(open(os.path.join(ROOT, "orchestration", "config.json")))
    config.update({"collection_selection": "all", "env": env})
    (tmp_path / "config.json").write_text(json.dumps(config))
    names = generate(SPECIFICATION_DIR, str(tmp_path / "config.json"), str(tmp_path / "dags"))
    return names, tmp_path / "dags"


def test_every_collection_with_a_live_dataset_gets_a_dag_that_parses(tmp_path):
    names, dags = dags_for_all(tmp_path)
    expected = collections_for_env(SPECIFICATION_DIR, "development")
    # every collection of the specification has a dataset some environment runs
    assert set(expected) == set(COLLECTIONS)
    assert {n for n in names if n.endswith("_collection.py")} == {c.replace("-", "_") + "_collection.py" for c in COLLECTIONS}
    for name in names:
        source = (dags / name).read_text()
        compile(source, name, "exec")
        if name.endswith("_collection.py"):
            collection = name[: -len("_collection.py")].replace("_", "-")
            assert f"dag_id='{collection}-collection'" in source
    master = [n for n in names if "dag_id=\"nightly\"" in (dags / n).read_text()]
    assert len(master) == 1
    tree = ast.parse((dags / master[0]).read_text())
    listed = [n for n in ast.walk(tree) if isinstance(n, ast.Assign) and getattr(n.targets[0], "id", "") == "COLLECTIONS"]
    assert sorted(ast.literal_eval(listed[0].value)) == sorted(c for c in COLLECTIONS if c != "organisation")


BAG = """
import json, sys
from airflow.dag_processing.dagbag import DagBag
bag = DagBag(dag_folder=sys.argv[1])
print("@@" + json.dumps({"errors": {k: str(v) for k, v in bag.import_errors.items()},
                         "dags": {d: sorted(t.task_id for t in dag.tasks) for d, dag in bag.dags.items()}}))
"""


@pytest.mark.skipif(not os.path.exists(AIRFLOW_PYTHON), reason="no .venv-airflow (see orchestration/requirements-airflow.txt)")
def test_every_generated_dag_imports_into_an_airflow_dagbag(tmp_path):
    names, dags = dags_for_all(tmp_path)
    home = tmp_path / "airflow-home"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env.update({"AIRFLOW_HOME": str(home), "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db", "PYTHONDONTWRITEBYTECODE": "1"})
    result = subprocess.run([AIRFLOW_PYTHON, "-c", BAG, str(dags)], env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    bag = json.loads([x for x in result.stdout.splitlines() if x.startswith("@@")][0][2:])
    assert bag["errors"] == {}
    assert set(bag["dags"]) == {f"{c}-collection" for c in COLLECTIONS} | {"nightly"}
    for collection in COLLECTIONS:
        assert bag["dags"][f"{collection}-collection"] == sorted(["collect", "transform", "dataset", "load"])
