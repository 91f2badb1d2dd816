"""Generate the Airflow DAG files from the specification and orchestration/config.json.

- one DAG per selected collection, `<collection>-collection`: collect >> transform >> dataset >> load,
  each a `make` target of the workspace (see pipeline_operators.py);
- the nightly master DAG, `nightly`: the organisation collection, then the organisation package, then
  every other collection (triggered and waited for, at most max_active_tasks at once, in priority
  order, each running whatever the others did: ALL_DONE), then the digital-land pipeline and the
  reference-table load.

Collections come from dataset.csv: datasets grouped by a non-empty `collection`, kept when their
`environment` admits the configured env (a production dataset runs in every env, a staging one in staging
and development, a development one in development only; an empty environment in none). "collection_selection": "all" keeps every such
collection; "explicit" keeps those listed in "collections".

Output is deterministic: the same specification and configuration give byte-identical files.
"""
import json
import os
import pprint
import shutil

from planning_pipeline.csvio import read_csv
from planning_pipeline.errors import UserError
from planning_pipeline.files import write_if_changed

# env -> the dataset.csv `environment` values it runs: a production dataset runs everywhere, a staging one in
# staging and development, a development one only in development; an empty value runs nowhere
ENVIRONMENTS = {"production": ("production",), "staging": ("production", "staging"),
                "development": ("production", "staging", "development")}
STAGES = ["collect", "transform", "dataset", "load"]
DEFAULT_TIMEOUTS = {"collect": 180, "transform": 360, "dataset": 360, "load": 180, "organisation": 60,
                    "digital-land": 120, "load-reference": 30, "collection": 1440}
HELPER = "pipeline_operators.py"
HERE = os.path.dirname(os.path.abspath(__file__))


def load_config(path):
    try:
        with open(path, encoding="utf-8") as f:
            config = json.load(f)
    except FileNotFoundError:
        raise UserError("no such file", path)
    except ValueError as error:
        raise UserError(f"not valid JSON: {error}", path)
    env = config.get("env")
    if env not in ENVIRONMENTS:
        raise UserError(f"env must be one of {', '.join(ENVIRONMENTS)}, not {env!r}", path)
    if config.get("executor", "local") not in ("local", "kubernetes", "ecs"):
        raise UserError(f"executor must be local, kubernetes or ecs, not {config.get('executor')!r}", path)
    if config.get("collection_selection", "all") not in ("all", "explicit"):
        raise UserError("collection_selection must be all or explicit", path)
    if config.get("executor") == "kubernetes" and not config.get("kubernetes", {}).get("image"):
        raise UserError("executor kubernetes needs kubernetes.image", path)
    if config.get("executor") == "kubernetes" and config["kubernetes"].get("workspace_claim") \
            and not config["kubernetes"].get("workspace_path"):
        raise UserError("kubernetes.workspace_claim needs kubernetes.workspace_path (where the tasks mount it)", path)
    if config.get("executor") == "ecs" and not all(config.get("ecs", {}).get(k) for k in ("cluster", "task_definition")):
        raise UserError("executor ecs needs ecs.cluster and ecs.task_definition", path)
    if config.get("executor") == "ecs" and config["ecs"].get("launch_type", "FARGATE") == "FARGATE" \
            and not config["ecs"].get("subnets"):
        raise UserError("executor ecs with launch_type FARGATE needs ecs.subnets (FARGATE tasks use awsvpc networking)", path)
    return config


def collections_for_env(specification_dir, env):
    """{collection: [datasets]} for the datasets whose environment admits env."""
    found = {}
    for row in read_csv(os.path.join(specification_dir, "dataset.csv"), required=("dataset", "collection")):
        collection = row.get("collection", "")
        if not collection:
            continue
        if row.get("environment", "") not in ENVIRONMENTS[env] or not row.get("environment"):
            continue
        found.setdefault(collection, []).append(row["dataset"])
    return {c: sorted(d) for c, d in sorted(found.items())}


def selected_collections(specification_dir, config):
    available = collections_for_env(specification_dir, config["env"])
    if config.get("collection_selection", "all") == "all":
        return available
    missing = [c for c in config.get("collections", []) if c not in available]
    if missing:
        raise UserError(f"collection(s) not in the specification for env {config['env']}: {', '.join(missing)}")
    return {c: available[c] for c in sorted(config.get("collections", []))}


def dag_id(collection):
    return f"{collection}-collection"


def module_name(collection):
    return collection.replace("-", "_") + "_collection.py"


def _settings(config):
    keys = ("env", "executor", "retries", "retry_delay_minutes", "retry_exponential_backoff",
            "max_retry_delay_minutes", "make_variables", "kubernetes", "ecs")
    return {k: config[k] for k in keys if k in config}


def _literal(value):
    return pprint.pformat(value, sort_dicts=True, width=100)


HEADER = '''"""{doc}

Generated by bin/generate-dags from the specification and orchestration/config.json: do not edit.
"""
import datetime
import os
import sys

from airflow.sdk import DAG

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # the helper lives beside the DAG files
from pipeline_operators import default_args, stage  # noqa: E402

SETTINGS = {settings}
'''

COLLECTION_TEMPLATE = HEADER + '''TIMEOUTS = {timeouts}

with DAG(
    dag_id={dag_id!r},
    description={description!r},
    schedule=None,
    start_date=datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc),
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=datetime.timedelta(minutes={dagrun_timeout}),
    default_args=default_args(SETTINGS),
    tags=["collection", {collection!r}],
) as dag:
    tasks = [stage(name, name, SETTINGS, collection={collection!r}, timeout_minutes=TIMEOUTS[name]) for name in {stages!r}]
    for upstream, downstream in zip(tasks, tasks[1:]):
        upstream >> downstream
'''

MASTER_TEMPLATE = HEADER + '''TIMEOUTS = {timeouts}
ORGANISATION = {organisation!r}
COLLECTIONS = {collections}
PRIORITY = {priority}

with DAG(
    dag_id="nightly",
    description="Nightly: organisation collection, organisation package, every collection, digital-land",
    schedule={schedule!r},
    start_date=datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc),
    catchup=False,
    max_active_runs=1,
    max_active_tasks={max_active_tasks},
    default_args=default_args(SETTINGS),
    tags=["nightly"],
) as dag:
    from airflow.providers.standard.operators.trigger_dagrun import TriggerDagRunOperator

    def trigger(collection, **kwargs):
        return TriggerDagRunOperator(
            task_id=f"trigger-{{collection}}-collection",
            trigger_dag_id=f"{{collection}}-collection",
            wait_for_completion=True,
            poke_interval=30,
            reset_dag_run=True,
            execution_timeout=datetime.timedelta(minutes=TIMEOUTS["collection"]),
            priority_weight=PRIORITY.get(collection, 10),
            **kwargs,
        )

    package = stage("organisation-package", "organisation", SETTINGS, timeout_minutes=TIMEOUTS["organisation"],
                    trigger_rule="all_done")
    if ORGANISATION:
        trigger("organisation") >> package
    collections = [trigger(c, trigger_rule="all_done") for c in COLLECTIONS]
    package >> collections
    digital_land = stage("digital-land", "digital-land", SETTINGS, timeout_minutes=TIMEOUTS["digital-land"],
                         trigger_rule="all_done")
    collections >> digital_land
    digital_land >> stage("load-reference", "load-reference", SETTINGS, timeout_minutes=TIMEOUTS["load-reference"])
'''


def generate(specification_dir, config_path, output_dir):
    """Write the DAG files (only those whose content changed); remove stale generated ones; return names."""
    config = load_config(config_path)
    selected = selected_collections(specification_dir, config)
    timeouts = {**DEFAULT_TIMEOUTS, **config.get("timeouts", {})}
    settings = _literal(_settings(config))
    os.makedirs(output_dir, exist_ok=True)
    files = {}
    for collection, datasets in selected.items():
        files[module_name(collection)] = COLLECTION_TEMPLATE.format(
            doc=f"The {collection} collection: {', '.join(STAGES)} (datasets: {', '.join(datasets)}).",
            settings=settings, timeouts=_literal({s: timeouts[s] for s in STAGES}), dag_id=dag_id(collection),
            description=f"{collection} collection: {' >> '.join(STAGES)}", collection=collection, stages=STAGES,
            dagrun_timeout=int(timeouts["collection"]),
        )
    priority = config.get("priority", {})
    others = [c for c in selected if c != "organisation"]
    others.sort(key=lambda c: (-int(priority.get(c, 10)), c))
    files["nightly.py"] = MASTER_TEMPLATE.format(
        doc="The nightly master DAG: organisation, organisation package, every collection, digital-land.",
        settings=settings, timeouts=_literal({k: timeouts[k] for k in ("organisation", "digital-land", "load-reference", "collection")}),
        organisation="organisation" in selected, collections=_literal(others),
        priority=_literal({c: int(priority[c]) for c in sorted(priority) if c in selected}),
        schedule=config.get("schedule", "0 0 * * *"), max_active_tasks=int(config.get("max_active_tasks", 12)),
    )
    with open(os.path.join(HERE, HELPER), encoding="utf-8") as f:
        files[HELPER] = f.read()
    files[".airflowignore"] = HELPER + "\n"
    for name in os.listdir(output_dir):
        if name.endswith("_collection.py") and name not in files:
            os.unlink(os.path.join(output_dir, name))
    for name, text in sorted(files.items()):
        write_if_changed(os.path.join(output_dir, name), text)
    shutil.rmtree(os.path.join(output_dir, "__pycache__"), ignore_errors=True)
    return sorted(files)
