"""bin/config-stamps: a stamp per planned resource, rewritten only when its effective configuration changes."""
import json
import os
import subprocess
import sys

from .conftest import ORGANISATIONS, ROOT, SPECIFICATION, write_pipeline

PLAN = """dataset,resource,path,endpoints,organisations,entry-date\r
conservation-area,r1,collection/resource/r1,e1,local-authority-eng:SWK,2020-01-01\r
conservation-area,r2,collection/resource/r2,e2,local-authority-eng:CMD,2020-01-02\r
conservation-area,r3,collection/resource/r3,e1;e3,local-authority-eng:SWK,2020-01-03\r
"""


def stamps(tmp_path, pipeline, plan_text=PLAN):
    plan = tmp_path / "plan.csv"
    plan.write_text(plan_text)
    done = subprocess.run([sys.executable, os.path.join(ROOT, "bin", "config-stamps"), "--pipeline-dir", pipeline,
                           "--plan", str(plan), "--stamp-dir", str(tmp_path / "stamp"),
                           "--specification-dir", SPECIFICATION, "--organisation-path", ORGANISATIONS],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    directory = tmp_path / "stamp" / "conservation-area"
    return {p[:-5]: os.stat(directory / p).st_mtime_ns for p in sorted(os.listdir(directory))}, done.stdout


def touch_back(tmp_path):
    """Age every stamp so a rewrite shows as a new mtime."""
    for directory, _, files in os.walk(tmp_path / "stamp"):
        for name in files:
            os.utime(os.path.join(directory, name), ns=(10**9, 10**9))


def test_stamps_change_only_for_resources_whose_configuration_changed(tmp_path):
    pipeline = write_pipeline(str(tmp_path / "pipeline"), {
        "column": "conservation-area,,,Name,name",
        "lookup": "conservation-area,,,local-authority-eng:SWK,A1,44000001\n"
                  "conservation-area,,,local-authority-eng:CMD,C1,44000002"})
    first, out = stamps(tmp_path, pipeline)
    assert sorted(first) == ["r1", "r2", "r3"] and "3 written" in out
    stamp = json.loads((tmp_path / "stamp" / "conservation-area" / "r3.json").read_text())
    assert stamp["endpoints"] == ["e1", "e3"] and len(stamp["config-hash"]) == 64 and stamp["organisation-hash"]

    touch_back(tmp_path)
    unchanged, out = stamps(tmp_path, pipeline)
    assert set(unchanged.values()) == {10**9} and "3 unchanged" in out

    # an endpoint-scoped edit: only that endpoint's resources
    with open(os.path.join(pipeline, "column.csv"), "a") as f:
        f.write("conservation-area,,e1,Title,name\n")
    changed, _ = stamps(tmp_path, pipeline)
    assert [r for r in changed if changed[r] != 10**9] == ["r1", "r3"]

    # an organisation's lookup: only that organisation's resources
    touch_back(tmp_path)
    with open(os.path.join(pipeline, "lookup.csv"), "a") as f:
        f.write("conservation-area,,,local-authority-eng:CMD,C2,44000003\n")
    changed, _ = stamps(tmp_path, pipeline)
    assert [r for r in changed if changed[r] != 10**9] == ["r2"]

    # a general edit: every resource
    touch_back(tmp_path)
    with open(os.path.join(pipeline, "patch.csv"), "a") as f:
        f.write("conservation-area,,,name,^x,y\n")
    changed, _ = stamps(tmp_path, pipeline)
    assert all(changed[r] != 10**9 for r in changed)


def test_stamps_of_resources_no_longer_planned_are_deleted(tmp_path):
    pipeline = write_pipeline(str(tmp_path / "pipeline"))
    stamps(tmp_path, pipeline)
    remaining, out = stamps(tmp_path, pipeline, PLAN.replace("conservation-area,r2,collection/resource/r2,e2,"
                                                             "local-authority-eng:CMD,2020-01-02\r\n", ""))
    assert sorted(remaining) == ["r1", "r3"] and "1 deleted" in out


def test_the_stamp_config_hash_is_the_transforms_config_hash(tmp_path, transform_csv):
    pipeline = write_pipeline(str(tmp_path / "pipeline"), {"lookup": "conservation-area,,,,A1,44000001"})
    stamps(tmp_path, pipeline)
    stamp = json.loads((tmp_path / "stamp" / "conservation-area" / "r1.json").read_text())
    result = transform_csv("reference\nA1\n", pipeline_dir=pipeline, resource="r1", endpoints=["e1"],
                           organisations=["local-authority-eng:SWK"])
    assert result.dataset_resource[0]["config-hash"] == stamp["config-hash"]
