"""Operators for the generated pipeline DAGs: one pipeline stage = one `make` target in the workspace.

bin/generate-dags copies this file beside the DAG files (it is listed in .airflowignore, so Airflow
imports it only through the DAG files). How a stage runs is chosen by the configuration's "executor":

- "local":      BashOperator running `make -C $PIPELINE_WORKSPACE <target> COLLECTION=<c>`; the workspace
                is the Airflow Variable `pipeline_workspace`, else the PIPELINE_WORKSPACE environment
                variable of the scheduler, else the repository holding this DAG folder;
- "kubernetes": KubernetesPodOperator running `make <target> COLLECTION=<c>` in the configured image
                (apache-airflow-providers-cncf-kubernetes);
- "ecs":        EcsRunTaskOperator running the same command in the configured task definition
                (apache-airflow-providers-amazon).

The provider packages are imported only when their executor is configured, so the default DAGs import
with nothing but core Airflow (and its standard provider) installed.
"""
import datetime
import os

DEFAULT_WORKSPACE = os.environ.get("PIPELINE_WORKSPACE") or os.path.dirname(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
)
WORKSPACE_TEMPLATE = "{{ var.value.get('pipeline_workspace', '%s') }}" % DEFAULT_WORKSPACE.replace("'", "")


def default_args(settings, timeout_minutes=None):
    """Retries with exponential backoff and an execution timeout for every task."""
    args = {
        "owner": "planning-pipeline",
        "depends_on_past": False,
        "retries": int(settings.get("retries", 2)),
        "retry_delay": datetime.timedelta(minutes=float(settings.get("retry_delay_minutes", 5))),
        "retry_exponential_backoff": float(settings.get("retry_exponential_backoff", 2.0)),
        "max_retry_delay": datetime.timedelta(minutes=float(settings.get("max_retry_delay_minutes", 60))),
    }
    if timeout_minutes:
        args["execution_timeout"] = datetime.timedelta(minutes=float(timeout_minutes))
    return args


def make_command(target, collection=None, variables=None):
    words = ["make", target]
    if collection:
        words.append(f"COLLECTION={collection}")
    for key, value in sorted((variables or {}).items()):
        words.append(f"{key}={value}")
    return words


def stage(task_id, target, settings, collection=None, timeout_minutes=None, **kwargs):
    """The operator running one make target, for the configured executor."""
    executor = settings.get("executor", "local")
    words = make_command(target, collection, settings.get("make_variables"))
    if timeout_minutes:
        kwargs["execution_timeout"] = datetime.timedelta(minutes=float(timeout_minutes))
    environment = {"ENVIRONMENT": settings.get("env", "")}
    if collection:
        environment["COLLECTION"] = collection

    if executor == "local":
        from airflow.providers.standard.operators.bash import BashOperator

        command = 'make -C "$PIPELINE_WORKSPACE" ' + " ".join(words[1:])
        return BashOperator(
            task_id=task_id,
            bash_command=command,
            env={**environment, "PIPELINE_WORKSPACE": WORKSPACE_TEMPLATE},
            append_env=True,
            **kwargs,
        )

    if executor == "kubernetes":
        from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator

        k8s = settings.get("kubernetes", {})
        return KubernetesPodOperator(
            task_id=task_id,
            name=task_id,
            namespace=k8s.get("namespace", "default"),
            image=k8s["image"],
            cmds=words[:1],
            arguments=words[1:],
            env_vars=environment,
            container_resources=None,
            get_logs=True,
            on_finish_action="delete_pod",
            **kwargs,
        )

    if executor == "ecs":
        from airflow.providers.amazon.aws.operators.ecs import EcsRunTaskOperator

        ecs = settings.get("ecs", {})
        return EcsRunTaskOperator(
            task_id=task_id,
            cluster=ecs["cluster"],
            task_definition=ecs["task_definition"],
            launch_type=ecs.get("launch_type", "FARGATE"),
            overrides={
                "containerOverrides": [{
                    "name": ecs.get("container", ecs["task_definition"]),
                    "command": words,
                    "environment": [{"name": k, "value": v} for k, v in sorted(environment.items())],
                }]
            },
            network_configuration={
                "awsvpcConfiguration": {
                    "subnets": list(ecs.get("subnets", [])),
                    "securityGroups": list(ecs.get("security_groups", [])),
                    "assignPublicIp": "ENABLED",
                }
            },
            awslogs_group=ecs.get("awslogs_group"),
            awslogs_stream_prefix=ecs.get("awslogs_stream_prefix"),
            **kwargs,
        )

    raise ValueError(f"unknown executor {executor!r}: use local, kubernetes or ecs")
