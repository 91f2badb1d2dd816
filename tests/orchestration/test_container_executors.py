"""The container executors of orchestration/config.json ("executor": "kubernetes" | "ecs") run the same commands
as the local one.

For each executor the real generator writes the DAGs of a configuration into a temporary directory, a real
Airflow DagBag (.venv-airflow, with apache-airflow-providers-cncf-kubernetes and -amazon) loads them, and every
task of every collection DAG and of the nightly master DAG is compared with the local executor's task of the
same name: the local BashOperator's command is run through bash (with `make` a shell function printing its
arguments), and the argument vector bash hands to make must be the one the container is given, with the same
environment variables, retries and timeouts.

- Kubernetes: the pod each KubernetesPodOperator would submit is built by the provider itself
  (`build_pod_request_obj(dry_run=True)`, no cluster needed) and checked (image, namespace, command and
  arguments, environment, resources, the shared workspace volume). No cluster runs here: submitting the pod
  and following it are not exercised.
- ECS: each EcsRunTaskOperator's request (cluster, task definition, launch type, network configuration,
  container overrides) is checked as built; then the collection DAG is run with `dag.test()` against moto's
  ECS emulator (moto_server on loopback, the aws_default connection's endpoint_url pointing at it), and what
  moto recorded (describe_tasks) is checked. moto starts no container and never reports one as stopped, so
  the run sets the operators' own `wait_for_completion=False`: run_task is exercised, the wait for the ECS
  task to stop and the exit-code check only in the second ECS run test, which shows how far they get.
"""
import json
import os
import subprocess
import textwrap
import urllib.request

import pytest

from local_servers import moto_server
from orchestration.generate import generate

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
AIRFLOW_BIN = os.path.join(ROOT, ".venv-airflow", "bin")
AIRFLOW_PYTHON = os.path.join(AIRFLOW_BIN, "python")
CONFIG = os.path.join(ROOT, "orchestration", "config.json")
SPECIFICATION = os.path.join(ROOT, "specification")
COLLECTIONS = ["organisation", "conservation-area", "central-activities-zone"]
STAGES = ["collect", "transform", "dataset", "load"]
WORKSPACE = "/srv/planning-pipeline"  # the shared workspace inside the containers
MAKE_VARIABLES = {"DATASTORE_BUCKET": "planning data"}  # a value with a space: the words must survive the shell
REGION = "eu-west-2"

needs_airflow = pytest.mark.skipif(not os.path.exists(AIRFLOW_PYTHON),
                                   reason="no .venv-airflow (see orchestration/requirements-airflow.txt)")
pytestmark = needs_airflow

# Every task of every DAG in a folder, as the provider would submit it (no cluster, no AWS).
DESCRIBE = textwrap.dedent('''
    import json, sys
    from airflow.dag_processing.dagbag import DagBag
    bag = DagBag(dag_folder=sys.argv[1])
    out = {"errors": {k: str(v) for k, v in bag.import_errors.items()}, "dags": {}}
    for dag_id, dag in sorted(bag.dags.items()):
        tasks = out["dags"][dag_id] = {}
        for t in dag.tasks:
            task = tasks[t.task_id] = {
                "type": type(t).__name__, "module": type(t).__module__, "upstream": sorted(t.upstream_task_ids),
                "retries": t.retries, "backoff": float(t.retry_exponential_backoff or 0),
                "timeout": t.execution_timeout.total_seconds() if t.execution_timeout else None,
                "trigger_rule": str(getattr(t.trigger_rule, "value", t.trigger_rule)),
                "priority_weight": t.priority_weight}
            if task["type"] == "BashOperator":
                task.update(bash_command=t.bash_command, env=t.env, append_env=t.append_env)
            elif task["type"] == "KubernetesPodOperator":
                from kubernetes.client import ApiClient
                pod = t.build_pod_request_obj(dry_run=True)
                task.update(pod=ApiClient().sanitize_for_serialization(pod), on_finish_action=str(t.on_finish_action.value),
                            get_logs=t.get_logs)
            elif task["type"] == "EcsRunTaskOperator":
                task.update(cluster=t.cluster, task_definition=t.task_definition, launch_type=t.launch_type,
                            overrides=t.overrides, network_configuration=t.network_configuration,
                            container_name=t.container_name, wait_for_completion=t.wait_for_completion)
            elif task["type"] == "TriggerDagRunOperator":
                task.update(trigger_dag_id=t.trigger_dag_id, wait_for_completion=t.wait_for_completion)
    print("@@" + json.dumps(out))
''')

# Run one DAG of a folder with dag.test(), the operators left as generated except for wait_for_completion.
RUN = textwrap.dedent('''
    import json, sys
    from airflow.dag_processing.dagbag import DagBag
    bag = DagBag(dag_folder=sys.argv[1])
    assert not bag.import_errors, bag.import_errors
    dag = bag.get_dag(sys.argv[2])
    for task in dag.tasks:
        task.wait_for_completion = json.loads(sys.argv[3])
    run = dag.test()
    print("@@" + json.dumps({ti.task_id: str(ti.state) for ti in run.get_task_instances()}))
''')


@pytest.fixture(scope="module")
def airflow_env(tmp_path_factory):
    home = tmp_path_factory.mktemp("airflow-home")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "AWS_"))}
    env.update({"AIRFLOW_HOME": str(home), "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db", "PYTHONDONTWRITEBYTECODE": "1"})
    subprocess.run([os.path.join(AIRFLOW_BIN, "airflow"), "db", "migrate"], env=env, check=True, capture_output=True)
    return env


def write_config(directory, executor, **sections):
    config = json.load(open(CONFIG))
    config.update({"executor": executor, "collection_selection": "explicit", "collections": COLLECTIONS,
                   "make_variables": MAKE_VARIABLES, **sections})
    path = directory / f"config-{executor}.json"
    path.write_text(json.dumps(config))
    return str(path)


KUBERNETES = {"namespace": "planning-pipeline", "image": "registry.example/planning-pipeline:2026-11-27",
              "service_account": "planning-pipeline",
              "resources": {"requests": {"cpu": "1", "memory": "2Gi"}, "limits": {"memory": "4Gi"}},
              "workspace_claim": "planning-pipeline-workspace", "workspace_path": WORKSPACE}
ECS = {"cluster": "planning-cluster", "task_definition": "planning-pipeline", "container": "pipeline",
       "launch_type": "FARGATE", "subnets": ["subnet-0a1b2c3d"], "security_groups": ["sg-0a1b2c3d"],
       "assign_public_ip": "DISABLED", "workspace_path": WORKSPACE}


def generate_dags(tmp_path, executor, **sections):
    folder = tmp_path / f"dags-{executor}"
    generate(SPECIFICATION, write_config(tmp_path, executor, **sections), str(folder))
    return str(folder)


def describe(folder, env):
    result = subprocess.run([AIRFLOW_PYTHON, "-c", DESCRIBE, folder], env={**env, "AIRFLOW__CORE__DAGS_FOLDER": folder},
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads([x for x in result.stdout.splitlines() if x.startswith("@@")][0][2:])


def local_make_argv(task):
    """The arguments bash hands to make for a local task, its workspace being the containers' one."""
    script = 'make() { printf "%s\\0" "$@"; }\n' + task["bash_command"]
    env = {"PATH": os.environ["PATH"], **task["env"], "PIPELINE_WORKSPACE": WORKSPACE}
    result = subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True, check=True)
    return ["make"] + result.stdout.split("\0")[:-1]


def local_environment(task):
    return {k: v for k, v in task["env"].items() if k != "PIPELINE_WORKSPACE"}


@pytest.fixture(scope="module")
def local_bag(tmp_path_factory, airflow_env):
    bag = describe(generate_dags(tmp_path_factory.mktemp("local"), "local"), airflow_env)
    assert bag["errors"] == {}
    return bag


def expected_dags():
    return {f"{c}-collection" for c in COLLECTIONS} | {"nightly"}


def make_tasks(bag):
    """(dag_id, task_id, task) of every task that runs a make target."""
    return [(d, t, task) for d, tasks in sorted(bag["dags"].items()) for t, task in sorted(tasks.items())
            if not t.startswith("trigger-")]


def assert_same_graph_and_policies(bag, local_bag, container_type):
    assert bag["errors"] == {}
    assert set(bag["dags"]) == set(local_bag["dags"]) == expected_dags()
    for dag_id, tasks in bag["dags"].items():
        local_tasks = local_bag["dags"][dag_id]
        assert set(tasks) == set(local_tasks)
        for task_id, task in tasks.items():
            local = local_tasks[task_id]
            for key in ("upstream", "retries", "backoff", "timeout", "trigger_rule", "priority_weight"):
                assert task[key] == local[key], (dag_id, task_id, key)
            if task_id.startswith("trigger-"):
                assert task == local  # the master DAG triggers the collection DAGs the same way
            else:
                assert local["type"] == "BashOperator" and task["type"] == container_type
    assert len(make_tasks(bag)) == len(COLLECTIONS) * len(STAGES) + 3  # + organisation-package, digital-land, load-reference


def test_kubernetes_pods_run_the_local_make_command_in_the_configured_image(tmp_path, airflow_env, local_bag):
    bag = describe(generate_dags(tmp_path, "kubernetes", kubernetes=KUBERNETES), airflow_env)
    assert_same_graph_and_policies(bag, local_bag, "KubernetesPodOperator")
    for dag_id, task_id, task in make_tasks(bag):
        local = local_bag["dags"][dag_id][task_id]
        assert task["module"] == "airflow.providers.cncf.kubernetes.operators.pod"
        assert task["on_finish_action"] == "delete_pod" and task["get_logs"] is True
        pod = task["pod"]
        assert pod["kind"] == "Pod" and pod["metadata"]["namespace"] == KUBERNETES["namespace"]
        assert pod["metadata"]["name"].startswith(task_id + "-")
        spec = pod["spec"]
        assert spec["restartPolicy"] == "Never" and spec["serviceAccountName"] == KUBERNETES["service_account"]
        assert spec["volumes"] == [{"name": "workspace",
                                    "persistentVolumeClaim": {"claimName": KUBERNETES["workspace_claim"]}}]
        [container] = spec["containers"]
        assert container["image"] == KUBERNETES["image"]
        assert container["volumeMounts"] == [{"name": "workspace", "mountPath": WORKSPACE}]
        assert container["resources"] == KUBERNETES["resources"]
        argv = container["command"] + container["args"]
        assert argv == local_make_argv(local), (dag_id, task_id)
        assert {e["name"]: e["value"] for e in container["env"]} == local_environment(local)
    collect = bag["dags"]["conservation-area-collection"]["collect"]["pod"]["spec"]["containers"][0]
    assert collect["command"] + collect["args"] == ["make", "-C", WORKSPACE, "collect", "COLLECTION=conservation-area",
                                                    "DATASTORE_BUCKET=planning data"]
    assert {e["name"]: e["value"] for e in collect["env"]} == {"COLLECTION": "conservation-area", "ENVIRONMENT": "production"}


def test_ecs_tasks_run_the_local_make_command_in_the_configured_task_definition(tmp_path, airflow_env, local_bag):
    bag = describe(generate_dags(tmp_path, "ecs", ecs=ECS), airflow_env)
    assert_same_graph_and_policies(bag, local_bag, "EcsRunTaskOperator")
    for dag_id, task_id, task in make_tasks(bag):
        local = local_bag["dags"][dag_id][task_id]
        assert task["module"] == "airflow.providers.amazon.aws.operators.ecs"
        assert (task["cluster"], task["task_definition"], task["launch_type"]) == ("planning-cluster", "planning-pipeline", "FARGATE")
        assert task["wait_for_completion"] is True
        assert task["network_configuration"] == {"awsvpcConfiguration": {
            "subnets": ECS["subnets"], "securityGroups": ECS["security_groups"], "assignPublicIp": "DISABLED"}}
        assert task["container_name"] == "pipeline"
        [override] = task["overrides"]["containerOverrides"]
        assert override["name"] == "pipeline"
        assert override["command"] == local_make_argv(local), (dag_id, task_id)
        assert {e["name"]: e["value"] for e in override["environment"]} == local_environment(local)


def test_the_configuration_refuses_container_settings_that_could_not_run(tmp_path):
    from planning_pipeline.errors import UserError

    with pytest.raises(UserError, match="FARGATE needs ecs.subnets"):
        generate(SPECIFICATION, write_config(tmp_path, "ecs", ecs={**ECS, "subnets": []}), str(tmp_path / "dags"))
    with pytest.raises(UserError, match="workspace_claim needs kubernetes.workspace_path"):
        generate(SPECIFICATION, write_config(tmp_path, "kubernetes", kubernetes={**KUBERNETES, "workspace_path": ""}),
                 str(tmp_path / "dags"))
    # the EC2 launch type with bridge networking takes no awsvpc configuration
    folder = generate_dags(tmp_path, "ecs", ecs={**ECS, "launch_type": "EC2", "subnets": []})
    assert os.path.exists(os.path.join(folder, "nightly.py"))


# --- ECS against moto's emulator ------------------------------------------------------------------------------


@pytest.fixture
def moto_ecs(tmp_path):
    """moto_server on loopback with an ECS cluster, a FARGATE task definition and a VPC subnet for it."""
    import boto3

    credentials = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": REGION}
    with moto_server(credentials) as url:
        session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION)
        ec2, ecs = session.client("ec2", endpoint_url=url), session.client("ecs", endpoint_url=url)
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})  # moto's awsvpc tasks need it
        subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
        group = ec2.create_security_group(GroupName="planning-pipeline", Description="tasks", VpcId=vpc)["GroupId"]
        ecs.create_cluster(clusterName="planning-cluster")
        definition = ecs.register_task_definition(
            family="planning-pipeline", networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="1024",
            memory="4096", containerDefinitions=[{"name": "pipeline", "image": "registry.example/planning-pipeline:2026-11-27",
                                                  "essential": True, "workingDirectory": WORKSPACE,
                                                  "cpu": 1024, "memory": 4096}],  # moto needs the container's
        )["taskDefinition"]["taskDefinitionArn"]
        connection = {"conn_type": "aws", "login": "testing", "password": "testing",
                      "extra": {"region_name": REGION, "endpoint_url": url}}
        yield {"url": url, "ecs": ecs, "subnet": subnet, "group": group, "definition": definition,
               "env": {"AIRFLOW_CONN_AWS_DEFAULT": json.dumps(connection)}}


def moto_tasks(moto):
    arns = moto["ecs"].list_tasks(cluster="planning-cluster")["taskArns"]
    return moto["ecs"].describe_tasks(cluster="planning-cluster", tasks=arns)["tasks"] if arns else []


def run_dag(folder, dag_id, env, wait_for_completion):
    result = subprocess.run([AIRFLOW_PYTHON, "-c", RUN, folder, dag_id, json.dumps(wait_for_completion)],
                            env={**env, "AIRFLOW__CORE__DAGS_FOLDER": folder}, capture_output=True, text=True, timeout=600)
    lines = [x for x in result.stdout.splitlines() if x.startswith("@@")]
    assert lines, result.stdout[-3000:] + result.stderr[-3000:]
    return json.loads(lines[0][2:]), result.stdout + result.stderr


def test_ecs_collection_dag_runs_its_make_commands_as_ecs_tasks_on_moto(tmp_path, airflow_env, local_bag, moto_ecs):
    ecs = {**ECS, "subnets": [moto_ecs["subnet"]], "security_groups": [moto_ecs["group"]]}
    folder = generate_dags(tmp_path, "ecs", ecs=ecs, retries=0)  # no retry: dag.test() would wait for it
    states, log = run_dag(folder, "central-activities-zone-collection", {**airflow_env, **moto_ecs["env"]}, False)
    assert states == {stage: "success" for stage in STAGES}, log[-3000:]

    tasks = moto_tasks(moto_ecs)
    assert len(tasks) == len(STAGES)
    local = local_bag["dags"]["central-activities-zone-collection"]
    recorded = {}
    for task in tasks:
        assert task["clusterArn"].endswith(":cluster/planning-cluster")
        assert task["taskDefinitionArn"] == moto_ecs["definition"] and task["launchType"] == "FARGATE"
        assert task["startedBy"] == "planning-pipeline"  # the DAG's owner
        [attachment] = task["attachments"]
        assert {"name": "subnetId", "value": moto_ecs["subnet"]} in attachment["details"]
        [override] = task["overrides"]["containerOverrides"]
        assert override["name"] == "pipeline"
        recorded[override["command"][3]] = override
    assert sorted(recorded) == sorted(STAGES)
    for stage in STAGES:
        assert recorded[stage]["command"] == local_make_argv(local[stage])
        assert {e["name"]: e["value"] for e in recorded[stage]["environment"]} == local_environment(local[stage])


def test_ecs_task_as_generated_waits_for_the_ecs_task_to_stop_then_checks_its_container(tmp_path, airflow_env, moto_ecs):
    """As generated (wait_for_completion=True) the operator runs the task, waits with the tasks_stopped waiter until
    moto reports it STOPPED (moto's ECS task states advance one step per describe_tasks; "immediate" makes it stop at
    once), then checks the container's exit status. moto never starts a container, so its container stays PENDING
    and the operator's check refuses it: a success needs a real ECS."""
    request = urllib.request.Request(moto_ecs["url"] + "/moto-api/state-manager/set-transition", method="POST",
                                     data=json.dumps({"model_name": "ecs::task", "transition": {"progression": "immediate"}}).encode())
    urllib.request.urlopen(request).close()
    ecs = {**ECS, "subnets": [moto_ecs["subnet"]], "security_groups": [moto_ecs["group"]]}
    folder = generate_dags(tmp_path, "ecs", ecs=ecs, retries=0)  # no retry: dag.test() would wait for it
    states, log = run_dag(folder, "organisation-collection", {**airflow_env, **moto_ecs["env"]}, True)
    assert states["collect"] == "failed", log[-3000:]
    assert "This task is still pending" in log
    [task] = moto_tasks(moto_ecs)
    assert task["lastStatus"] == "STOPPED"
    assert task["overrides"]["containerOverrides"][0]["command"] == [
        "make", "-C", WORKSPACE, "collect", "COLLECTION=organisation", "DATASTORE_BUCKET=planning data"]
