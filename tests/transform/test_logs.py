"""The per-resource logs, conversion failures, the converted-CSV cache and the bin/transform command."""
import os
import subprocess
import sys

from planning_pipeline.transform.logs import code_version

from .conftest import ORGANISATIONS, ROOT, SPECIFICATION, header_of, read_rows, write_pipeline

HEADERS = {
    "output": "end-date,entity,entry-date,entry-number,fact,field,priority,reference-entity,resource,start-date,value",
    "issue": "dataset,resource,line-number,entry-number,field,entity,issue-type,value,message",
    "column-field": "dataset,resource,column,field",
    "dataset-resource": "dataset,resource,entity-count,entry-count,line-count,mime-type,internal-path,"
                        "internal-mime-type,code-version,config-hash,specification-hash",
    "converted-resource": "dataset,resource,elapsed,status,exception",
}


def test_every_output_has_its_upstream_header(transform_csv):
    result = transform_csv("reference,name\nA1,x\n", config={"lookup": "conservation-area,,,,A1,44000001"})
    for name, header in HEADERS.items():
        assert ",".join(header_of(result.paths[name])) == header, name


def test_the_dataset_resource_log_records_counts_formats_and_hashes(transform_csv, specification):
    result = transform_csv("reference,name\nA1,x\nA2,y\n", config={"lookup": "conservation-area,,,,A1,44000001"},
                           resource="res")
    [row] = result.dataset_resource
    assert (row["dataset"], row["resource"], row["entity-count"], row["entry-count"], row["line-count"]) == (
        "conservation-area", "res", "1", "1", "3")
    assert row["mime-type"].startswith("text/csv")
    assert row["code-version"] == code_version() and len(row["code-version"]) == 64
    assert row["specification-hash"] == specification.digest
    assert len(row["config-hash"]) == 64
    [converted] = result.converted_resource
    assert converted["status"] == "success" and converted["exception"] == ""


def test_a_resource_that_cannot_be_converted_gets_a_header_only_output_and_all_its_logs(transform_csv):
    result = transform_csv(b"<!doctype html><html><body>not data</body></html>\n", resource="bad")
    assert result.facts == [] and result.issues == [] and result.column_field == []
    for name, header in HEADERS.items():
        assert ",".join(header_of(result.paths[name])) == header, name
    [converted] = result.converted_resource
    assert converted["status"] == "failed" and converted["exception"]
    [row] = result.dataset_resource
    assert (row["entity-count"], row["entry-count"], row["line-count"]) == ("0", "0", "0")


def run_cli(tmp_path, *extra, resource_text="reference,name\nA1,x\n", dataset="conservation-area"):
    pipeline = write_pipeline(str(tmp_path / "pipeline"), {"lookup": "conservation-area,,,,A1,44000001"})
    resource = tmp_path / "collection" / "abc123"
    resource.parent.mkdir(parents=True, exist_ok=True)
    if not resource.exists():
        resource.write_text(resource_text)
    var = tmp_path / "var"
    args = [sys.executable, os.path.join(ROOT, "bin", "transform"), "--dataset", dataset, "--pipeline-dir", pipeline,
            "--specification-dir", SPECIFICATION, "--organisation-path", ORGANISATIONS,
            "--endpoints", "e1 e2", "--organisations", "local-authority-eng:SWK", "--entry-date", "2022-02-02",
            "--issue-dir", str(var / "issue"), "--column-field-dir", str(var / "column-field"),
            "--dataset-resource-dir", str(var / "dataset-resource"),
            "--converted-resource-dir", str(var / "converted-resource"), *extra,
            str(resource), str(var / "transformed" / "out.csv")]
    return subprocess.run(args, capture_output=True, text=True, cwd=str(tmp_path)), var


def test_bin_transform_writes_the_outputs_and_caches_the_converted_csv(tmp_path):
    done, var = run_cli(tmp_path, "--converted-dir", str(tmp_path / "var" / "converted"), "--resource", "old-id")
    assert done.returncode == 0, done.stderr
    assert "success" in done.stdout
    facts = read_rows(var / "transformed" / "out.csv")
    assert {f["resource"] for f in facts} == {"old-id"}
    assert os.path.exists(var / "issue" / "old-id.csv")
    cached = var / "converted" / "abc123.csv"
    assert cached.exists()
    before = os.stat(cached).st_mtime_ns
    again, _ = run_cli(tmp_path, "--converted-dir", str(tmp_path / "var" / "converted"), "--resource", "old-id")
    assert again.returncode == 0 and os.stat(cached).st_mtime_ns == before
    assert read_rows(var / "transformed" / "out.csv") == facts


def test_bin_transform_reports_a_bad_dataset_in_one_line(tmp_path):
    done, _ = run_cli(tmp_path, dataset="no-such-dataset")
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "no-such-dataset" in done.stderr and "Traceback" not in done.stderr


def test_bin_transform_has_help():
    done = subprocess.run([sys.executable, os.path.join(ROOT, "bin", "transform"), "--help"], capture_output=True,
                          text=True)
    assert done.returncode == 0 and "--pipeline-dir" in done.stdout
