"""The generated DAGs: deterministic, importable into a real Airflow DagBag, runnable with `airflow dags test`.

Airflow lives in its own virtual environment (.venv-airflow; see orchestration/requirements-airflow.txt):
these tests drive it through subprocesses and skip when it is missing.
"""
import json
import os
import sqlite3
import subprocess
import textwrap

import pytest

from orchestration.generate import generate, load_config

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
AIRFLOW_PYTHON = os.path.join(ROOT, ".venv-airflow", "bin", "python")
DAGS = os.path.join(ROOT, "orchestration", "dags")
CONFIG = os.path.join(ROOT, "orchestration", "config.json")
STAGES = ["collect", "transform", "dataset", "load"]

BAG = textwrap.dedent('''
    import json, sys
    from airflow.dag_processing.dagbag import DagBag
    bag = DagBag(dag_folder=sys.argv[1])
    out = {"errors": {k: str(v) for k, v in bag.import_errors.items()}, "dags": {}}
    for dag_id, dag in sorted(bag.dags.items()):
        out["dags"][dag_id] = {"max_active_tasks": dag.max_active_tasks, "schedule": str(dag.schedule), "tasks": {
            t.task_id: {"upstream": sorted(t.upstream_task_ids), "downstream": sorted(t.downstream_task_ids),
                        "retries": t.retries, "backoff": float(t.retry_exponential_backoff or 0),
                        "timeout": t.execution_timeout.total_seconds() if t.execution_timeout else None,
                        "type": type(t).__name__, "trigger_rule": str(getattr(t.trigger_rule, "value", t.trigger_rule)),
                        "command": getattr(t, "bash_command", None), "wait": getattr(t, "wait_for_completion", None)}
            for t in dag.tasks}}
    print("@@" + json.dumps(out))
''')

needs_airflow = pytest.mark.skipif(not os.path.exists(AIRFLOW_PYTHON), reason="no .venv-airflow (see orchestration/requirements-airflow.txt)")


@pytest.fixture(scope="module")
def airflow_env(tmp_path_factory):
    home = tmp_path_factory.mktemp("airflow-home")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env.update({"AIRFLOW_HOME": str(home), "AIRFLOW__CORE__LOAD_EXAMPLES": "False", "AIRFLOW__CORE__DAGS_FOLDER": DAGS,
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db", "PYTHONDONTWRITEBYTECODE": "1"})
    subprocess.run([os.path.join(ROOT, ".venv-airflow", "bin", "airflow"), "db", "migrate"], env=env, check=True, capture_output=True)
    return env


def dagbag(folder, env):
    result = subprocess.run([AIRFLOW_PYTHON, "-c", BAG, folder], env=env, capture_output=True, text=True, check=True)
    line = [x for x in result.stdout.splitlines() if x.startswith("@@")][0]
    return json.loads(line[2:])


def test_committed_dags_are_what_the_generator_writes(tmp_path):
    generate(os.path.join(ROOT, "specification"), CONFIG, str(tmp_path))
    names = sorted(os.listdir(tmp_path))
    assert names == sorted(n for n in os.listdir(DAGS) if n != "__pycache__")
    for name in names:
        with open(tmp_path / name, "rb") as a, open(os.path.join(DAGS, name), "rb") as b:
            assert a.read() == b.read(), f"orchestration/dags/{name} is stale: run bin/generate-dags"


def test_environment_filter_and_selection(tmp_path):
    config = json.load(open(CONFIG))
    config.update({"collection_selection": "all", "env": "development"})
    (tmp_path / "config.json").write_text(json.dumps(config))
    names = generate(os.path.join(ROOT, "specification"), str(tmp_path / "config.json"), str(tmp_path / "dags"))
    dev = {n for n in names if n.endswith("_collection.py")}
    assert "conservation_area_collection.py" in dev and len(dev) > 40
    config["env"] = "production"
    (tmp_path / "config.json").write_text(json.dumps(config))
    generate(os.path.join(ROOT, "specification"), str(tmp_path / "config.json"), str(tmp_path / "dags"))
    assert {n for n in os.listdir(tmp_path / "dags") if n.endswith("_collection.py")} <= dev


@needs_airflow
def test_dags_import_into_a_dagbag_with_the_expected_graph(airflow_env):
    bag = dagbag(DAGS, airflow_env)
    assert bag["errors"] == {}
    config = load_config(CONFIG)
    collections = set(config["collections"])
    assert set(bag["dags"]) == {f"{c}-collection" for c in collections} | {"nightly"}
    for collection in collections:
        tasks = bag["dags"][f"{collection}-collection"]["tasks"]
        assert sorted(tasks) == sorted(STAGES)
        for upstream, downstream in zip(STAGES, STAGES[1:]):
            assert tasks[upstream]["downstream"] == [downstream] and tasks[downstream]["upstream"] == [upstream]
        for name, task in tasks.items():
            assert task["type"] == "BashOperator"
            assert task["retries"] == config["retries"] and task["backoff"] == 2.0
            assert task["timeout"] == config["timeouts"][name] * 60
            assert task["command"] == f'make -C "$PIPELINE_WORKSPACE" {name} COLLECTION={collection}'
    nightly = bag["dags"]["nightly"]
    assert nightly["max_active_tasks"] == config["max_active_tasks"]
    tasks = nightly["tasks"]
    assert tasks["trigger-organisation-collection"]["downstream"] == ["organisation-package"]
    others = sorted(f"trigger-{c}-collection" for c in collections - {"organisation"})
    assert tasks["organisation-package"]["downstream"] == others
    assert tasks["digital-land"]["upstream"] == others
    assert tasks["digital-land"]["downstream"] == ["load-reference"]
    for name in others:
        assert tasks[name]["type"] == "TriggerDagRunOperator" and tasks[name]["wait"] is True
        assert tasks[name]["trigger_rule"] == "all_done"
    for task in tasks.values():
        assert task["retries"] == config["retries"] and task["timeout"]


@needs_airflow
def test_container_executors_import_their_provider_only_when_configured(tmp_path, airflow_env):
    config = json.load(open(CONFIG))
    config["executor"] = "kubernetes"
    (tmp_path / "config.json").write_text(json.dumps(config))
    generate(os.path.join(ROOT, "specification"), str(tmp_path / "config.json"), str(tmp_path / "dags"))
    bag = dagbag(str(tmp_path / "dags"), airflow_env)
    have_provider = subprocess.run([AIRFLOW_PYTHON, "-c", "import airflow.providers.cncf.kubernetes"], capture_output=True).returncode == 0
    if have_provider:
        assert bag["errors"] == {}
        assert {t["type"] for t in bag["dags"]["conservation-area-collection"]["tasks"].values()} == {"KubernetesPodOperator"}
    else:
        assert bag["errors"] and all("cncf" in e for e in bag["errors"].values())


@needs_airflow
def test_airflow_dags_test_runs_the_collection_dag(tmp_path, airflow_env):
    """With a workspace whose Makefile records the calls; PIPELINE_DAG_E2E=1 runs the real pipeline here instead."""
    env = dict(airflow_env)
    if os.environ.get("PIPELINE_DAG_E2E") == "1":
        workspace = ROOT
    else:
        workspace = str(tmp_path)
        (tmp_path / "Makefile").write_text('%:\n\t@echo "$@ $(COLLECTION)" >> calls.log\n')
    env["PIPELINE_WORKSPACE"] = workspace
    result = subprocess.run([os.path.join(ROOT, ".venv-airflow", "bin", "airflow"), "dags", "test", "central-activities-zone-collection"],
                            env=env, capture_output=True, text=True, timeout=1800)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "state=success" in result.stdout + result.stderr
    if workspace != ROOT:
        assert (tmp_path / "calls.log").read_text().splitlines() == [f"{s} central-activities-zone" for s in STAGES]


@needs_airflow
def test_airflow_dags_test_builds_the_collection_dataset_with_the_real_makefile(make_workspace, airflow_env):
    workspace = make_workspace("central-activities-zone")
    env = {**airflow_env, "PIPELINE_WORKSPACE": str(workspace)}
    env.pop("DATABASE_URL", None)
    result = subprocess.run([os.path.join(ROOT, ".venv-airflow", "bin", "airflow"), "dags", "test", "central-activities-zone-collection"],
                            env=env, capture_output=True, text=True, timeout=1800)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "state=success" in result.stdout + result.stderr
    database = workspace / "dataset" / "central-activities-zone.sqlite3"
    with sqlite3.connect(database) as conn:
        assert conn.execute("SELECT count(*) FROM entity").fetchone()[0] == 10
    assert len(list((workspace / "var" / "transformed" / "central-activities-zone").iterdir())) == 3


def test_the_makefile_has_the_targets_the_dags_run(make_workspace):
    # a copy of the workspace: even `make -n` collects and plans, since those make the makefiles it reads
    workspace = make_workspace("central-activities-zone", "organisation")
    for target in STAGES:
        result = subprocess.run(["make", "-n", "-C", workspace, target, "COLLECTION=central-activities-zone"],
                                capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
    for target in ("organisation", "digital-land", "load-reference"):
        result = subprocess.run(["make", "-n", "-C", workspace, target], capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
