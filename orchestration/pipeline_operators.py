"""Operators for the generated pipeline DAGs: one pipeline stage = one `make` target in the workspace.

bin/generate-dags copies this file beside the DAG files (it is listed in .airflowignore, so Airflow
imports it only through the DAG files). How a stage runs is chosen by the configuration's "executor";
every executor runs the same make command line (`make <target> COLLECTION=<c> [VAR=value ...]`), with
the same ENVIRONMENT and COLLECTION environment variables:

- "local":      BashOperator running `make -C $PIPELINE_WORKSPACE <target> COLLECTION=<c>`; the workspace
                is the Airflow Variable `pipeline_workspace`, else the PIPELINE_WORKSPACE environment
                variable of the scheduler, else the repository holding this DAG folder;
- "kubernetes": KubernetesPodOperator running `make <target> COLLECTION=<c>` in the configured image
                (apache-airflow-providers-cncf-kubernetes): "namespace", "image", optional "resources"
                ({"requests": {...}, "limits": {...}}), "service_account", and "workspace_claim" (a
                PersistentVolumeClaim shared by the tasks, mounted at "workspace_path");
- "ecs":        EcsRunTaskOperator running the same command in the configured task definition
                (apache-airflow-providers-amazon): "cluster", "task_definition", "container" (the
                container of the task definition that runs it), "launch_type", the awsvpc "subnets",
                "security_groups" and "assign_public_ip", optional "awslogs_group" and
                "awslogs_stream_prefix"; the shared workspace is a volume of the task definition.

With "workspace_path" set for a container executor, the command is `make -C <workspace_path> ...`
(the path inside the container); otherwise make runs in the image's working directory.

The provider packages are imported only when their executor is configured, so the default DAGs import
with nothing but core Airflow (and its standard provider) installed.
"""
import datetime
import os
import shlex

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


def make_command(target, collection=None, variables=None, directory=None):
    """The make command line of a stage, as an argument vector (no shell)."""
    words = ["make"] + (["-C", directory] if directory else []) + [target]
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

        # the words are shell-quoted: bash must see the argument vector the container executors pass
        command = 'make -C "$PIPELINE_WORKSPACE" ' + " ".join(shlex.quote(word) for word in words[1:])
        return BashOperator(
            task_id=task_id,
            bash_command=command,
            env={**environment, "PIPELINE_WORKSPACE": WORKSPACE_TEMPLATE},
            append_env=True,
            **kwargs,
        )

    if executor == "kubernetes":
        from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
        from kubernetes.client import models as k8s_models

        k8s = settings.get("kubernetes", {})
        workspace = k8s.get("workspace_path")
        words = make_command(target, collection, settings.get("make_variables"), workspace)
        resources = k8s.get("resources")
        volumes, mounts = [], []
        if k8s.get("workspace_claim"):
            volumes.append(k8s_models.V1Volume(
                name="workspace",
                persistent_volume_claim=k8s_models.V1PersistentVolumeClaimVolumeSource(claim_name=k8s["workspace_claim"]),
            ))
            mounts.append(k8s_models.V1VolumeMount(name="workspace", mount_path=workspace))
        return KubernetesPodOperator(
            task_id=task_id,
            name=task_id,
            namespace=k8s.get("namespace", "default"),
            image=k8s["image"],
            cmds=words[:1],
            arguments=words[1:],
            env_vars=environment,
            container_resources=k8s_models.V1ResourceRequirements(
                requests=resources.get("requests"), limits=resources.get("limits")) if resources else None,
            service_account_name=k8s.get("service_account"),
            volumes=volumes,
            volume_mounts=mounts,
            get_logs=True,
            on_finish_action="delete_pod",
            **kwargs,
        )

    if executor == "ecs":
        from airflow.providers.amazon.aws.operators.ecs import EcsRunTaskOperator

        ecs = settings.get("ecs", {})
        words = make_command(target, collection, settings.get("make_variables"), ecs.get("workspace_path"))
        container = ecs.get("container", ecs["task_definition"])
        network = None
        if ecs.get("subnets"):  # awsvpc networking (always so on FARGATE); other network modes take none
            network = {"awsvpcConfiguration": {
                "subnets": list(ecs["subnets"]),
                "securityGroups": list(ecs.get("security_groups", [])),
                "assignPublicIp": ecs.get("assign_public_ip", "ENABLED"),
            }}
        return EcsRunTaskOperator(
            task_id=task_id,
            cluster=ecs["cluster"],
            task_definition=ecs["task_definition"],
            launch_type=ecs.get("launch_type", "FARGATE"),
            overrides={
                "containerOverrides": [{
                    "name": container,
                    "command": words,
                    "environment": [{"name": k, "value": v} for k, v in sorted(environment.items())],
                }]
            },
            network_configuration=network,
            container_name=container,
            awslogs_group=ecs.get("awslogs_group"),
            awslogs_stream_prefix=ecs.get("awslogs_stream_prefix"),
            **kwargs,
        )

    raise ValueError(f"unknown executor {executor!r}: use local, kubernetes or ecs")
