"""A large resource's per-row phases run on two cores (parallel.py) with exactly the serial outputs.

Each transform runs in a fresh Python process: a process that has already started other threads
(convertbng's pool, once used, as in this test session) never forks its worker and runs serially.
The runner reports how many workers it forked, so each test proves which path it took.
"""
import json
import os
import random
import subprocess
import sys
import time

from .conftest import ORGANISATIONS, ROOT, SPECIFICATION, write_pipeline

RUNNER = r"""
import json, os, sys
sys.path.insert(0, sys.argv[1])
args = json.loads(sys.argv[2])
import planning_pipeline.transform.parallel as parallel
from planning_pipeline.transform import harmonise
from planning_pipeline.transform.run import transform

workers, forked = [], []
start, fork = parallel.Worker.__init__, parallel.Forked.__init__
def counted(self, *a, **k):
    workers.append(1)
    start(self, *a, **k)
def forked_counted(self, *a, **k):
    forked.append(1)
    fork(self, *a, **k)
parallel.Worker.__init__, parallel.Forked.__init__ = counted, forked_counted
taken, take_back = [], parallel.Worker.take_back
def counted_take_back(self):
    k = take_back(self)
    taken.extend([k] if k is not None else [])
    return k
parallel.Worker.take_back = counted_take_back

fault, parent = args.pop("fault", None), os.getpid()
parallel.PIECE_BYTES = args.pop("piece_bytes", parallel.PIECE_BYTES)
if fault == "conversion dies":  # the background conversion only
    import planning_pipeline.transform.run as run_module
    convert = run_module.convert_resource
    def dying(*a, **k):
        if os.getpid() != parent:
            os._exit(3)
        return convert(*a, **k)
    run_module.convert_resource = dying
    fault = None
elif fault == "slow worker":  # so that the parent takes pieces back at the end
    import time
    process = harmonise.Harmonise.process
    def slow(self, entries):
        if os.getpid() != parent:
            time.sleep(0.05)
        return process(self, entries)
    harmonise.Harmonise.process = slow
    fault = None
elif fault == "conversion hangs":  # inside convert_resource, its temporary directory made
    import time
    import planning_pipeline.transform.run as run_module
    convert = run_module._convert
    def hanging(*a, **k):
        if os.getpid() != parent:
            time.sleep(60)
        return convert(*a, **k)
    run_module._convert = hanging
    fault = None
if fault:  # a failure inside the worker only, at its second chunk
    process, seen = harmonise.Harmonise.process, []
    def failing(self, entries):
        if os.getpid() != parent:
            seen.append(1)
            if len(seen) == 2:
                if fault == "die":
                    os._exit(3)
                raise ValueError("a bad value the worker cannot handle")
        return process(self, entries)
    harmonise.Harmonise.process = failing
import multiprocessing
def counts():
    return {"workers": len(workers), "forked": len(forked), "taken": len(taken),
            "children": len(multiprocessing.active_children())}
try:
    summary = transform(args.pop("resource"), args.pop("output"), **args)
    print(json.dumps({**counts(), "summary": {k: v for k, v in summary.items() if k != "issues"}}))
except Exception as e:
    print(json.dumps({**counts(), "error": type(e).__name__, "message": str(e)}))
"""


def run(tmp_path, name, resource, dataset, pipeline_dir, organisations, parallel_bytes, chunk_size, fault=None,
        endpoints=("e1",), converted_dir=None, piece_bytes=None):
    var = tmp_path / name
    dirs = {k: str(var / k) for k in ("issue", "column-field", "dataset-resource", "converted-resource")}
    args = {"resource": resource, "output": str(var / "transformed.csv"), "dataset": dataset,
            "pipeline_dir": pipeline_dir, "organisation_path": ORGANISATIONS, "specification_dir": SPECIFICATION,
            "endpoints": list(endpoints), "organisations": organisations, "entry_date": "2024-01-01",
            "issue_dir": dirs["issue"], "column_field_dir": dirs["column-field"],
            "dataset_resource_dir": dirs["dataset-resource"], "converted_resource_dir": dirs["converted-resource"],
            "cache_dir": None, "chunk_size": chunk_size, "parallel_bytes": parallel_bytes,
            "converted_dir": converted_dir}
    if fault:
        args["fault"] = fault
    if piece_bytes:
        args["piece_bytes"] = piece_bytes
    done = subprocess.run([sys.executable, "-c", RUNNER, ROOT, json.dumps(args)], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1]), var


def outputs(var):
    """Every output file's bytes, but the volatile columns (elapsed, code-version)."""
    found = {}
    for directory, _, files in os.walk(var):
        for f in files:
            path = os.path.join(directory, f)
            with open(path, encoding="utf-8") as handle:
                lines = handle.read().splitlines()
            rel = os.path.relpath(path, var)
            if rel.startswith(("converted-resource", "dataset-resource")):
                header = lines[0].split(",")
                column = header.index("elapsed" if rel.startswith("converted-resource") else "code-version")
                lines = [",".join("*" if i == column else v for i, v in enumerate(line.split(",")))
                         for line in lines[1:]]
            found[rel] = lines
    return found


def assert_same(serial, parallel):
    (serial_result, serial_var), (parallel_result, parallel_var) = serial, parallel
    assert serial_result["workers"] == 0 and parallel_result["workers"] == 1
    assert serial_result["summary"] == parallel_result["summary"]
    assert outputs(serial_var) == outputs(parallel_var)


def test_a_real_resource_transforms_the_same_on_two_cores(tmp_path):
    resource = os.path.join(ROOT, "collection", "conservation-area", "resource",
                            "b9503f86a1e0c5e02c1fa5b42b8d84c63b1cca421813dfc44c0f1bf7b59e5d74")
    config = dict(resource=resource, dataset="conservation-area",
                  pipeline_dir=os.path.join(ROOT, "pipeline", "conservation-area"),
                  organisations=["local-authority-eng:SWK"],
                  endpoints=["c8a5bd5df5a14bd9ffbb3667ced1a9e3c080422af1702bf4e5c93903c9962568"])
    serial = run(tmp_path, "serial", parallel_bytes=-1, chunk_size=5, **config)
    parallel = run(tmp_path, "parallel", parallel_bytes=0, chunk_size=5, **config)
    assert serial[0]["summary"]["entity-count"] > 20
    assert_same(serial, parallel)


def messy(tmp_path, rows=3000):
    """brownfield-land rows with an issue of some kind on most lines, and lookups for some of them."""
    rng = random.Random(3)
    path = tmp_path / "messy"
    lookups = []
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write("SiteReference,SiteNameAddress,GeoX,GeoY,Hectares,FirstAddedDate,OrganisationURI,Notes\n")
        for i in range(rows):
            reference = f"BF{i % 2500:05d}"  # repeated references: duplicate-reference issues late in the file
            if i % 3:
                lookups.append(f"brownfield-land,,,local-authority-eng:SWK,{reference},{1700000 + i % 2500}")
            x = rng.choice([f"{rng.uniform(300000, 600000):.2f}", "-0.1", "bad", "", "51.5"])
            y = rng.choice([f"{rng.uniform(100000, 500000):.2f}", "0.2", "", "N/A"])
            date = rng.choice(["2020-02-30", "31/12/2019", "2019-01-01", "tomorrow", "", "2099-01-01"])
            hectares = rng.choice(["1.5", "x", "", "-3", "12,000"])
            org = rng.choice(["", "local-authority-eng:SWK", "nowhere", "local-authority-eng:CMD"])
            f.write(f'{reference},"{i} High Street",{x},{y},{hectares},{date},{org},note {i}\n')
    pipeline = write_pipeline(str(tmp_path / "pipeline"), {
        "lookup": "\n".join(dict.fromkeys(lookups)),
        "patch": "brownfield-land,,,SiteNameAddress,^1(\\d) High,Upper \\1\n",
        "default": "brownfield-land,,,entry-date,FirstAddedDate\n",
        "transform": "brownfield-land,SiteReference,reference\nbrownfield-land,SiteNameAddress,site-address\n"
                     "brownfield-land,Hectares,hectares\nbrownfield-land,FirstAddedDate,start-date\n",
    })
    return str(path), pipeline


def test_a_file_with_issues_in_every_chunk_transforms_the_same_on_two_cores(tmp_path):
    resource, pipeline = messy(tmp_path)
    for chunk_size in (1, 37):
        for organisations in (["local-authority-eng:SWK"], ["local-authority-eng:SWK", "local-authority-eng:CMD"]):
            name = f"{chunk_size}-{len(organisations)}"
            config = dict(resource=resource, dataset="brownfield-land", pipeline_dir=pipeline,
                          organisations=organisations, chunk_size=chunk_size)
            serial = run(tmp_path, "serial-" + name, parallel_bytes=-1, **config)
            parallel = run(tmp_path, "parallel-" + name, parallel_bytes=0, **config)
            issues = outputs(serial[1])[os.path.join("issue", "messy.csv")]
            assert len(issues) > 3000
            assert_same(serial, parallel)


def test_a_resource_below_the_threshold_is_not_forked(tmp_path):
    resource, pipeline = messy(tmp_path, rows=50)
    result, _ = run(tmp_path, "small", resource, "brownfield-land", pipeline, ["local-authority-eng:SWK"],
                    parallel_bytes=None, chunk_size=10)
    assert result["workers"] == 0 and result["summary"]["status"] == "success"


def test_a_worker_that_fails_is_a_clear_error_and_writes_nothing(tmp_path):
    resource, pipeline = messy(tmp_path, rows=400)
    for fault, message in (("raise", "ValueError: a bad value the worker cannot handle"),
                           ("die", "the transform worker process died (exit code 3)")):
        result, var = run(tmp_path, fault, resource, "brownfield-land", pipeline, ["local-authority-eng:SWK"],
                          parallel_bytes=0, chunk_size=10, fault=fault)
        assert result["workers"] == 1
        assert result["error"] == "WorkerError"
        assert message in result["message"]
        # no output at all, not even a temporary file: the previous outputs would be left alone
        assert not os.path.exists(var) or not [f for _, _, files in os.walk(var) for f in files]


def test_a_large_resource_is_converted_in_a_forked_process_with_the_same_outcome(tmp_path):
    resource, pipeline = messy(tmp_path, rows=400)
    config = dict(resource=resource, dataset="brownfield-land", pipeline_dir=pipeline,
                  organisations=["local-authority-eng:SWK"], chunk_size=50)
    serial = run(tmp_path, "serial", parallel_bytes=-1, **config)
    parallel = run(tmp_path, "parallel", parallel_bytes=0, **config)
    assert serial[0]["forked"] == 0 and parallel[0]["forked"] == 1
    assert_same(serial, parallel)
    # a forked conversion that dies is done again here, to the same outcome
    again = run(tmp_path, "conversion-dies", parallel_bytes=0, fault="conversion dies", **config)
    assert again[0]["forked"] == 1 and again[0]["children"] == 0
    assert_same(serial, again)
    # and one already kept in --converted-dir is not done again
    converted = str(tmp_path / "converted")
    run(tmp_path, "cache", parallel_bytes=0, converted_dir=converted, **config)
    cached = run(tmp_path, "cached", parallel_bytes=0, converted_dir=converted, **config)
    assert cached[0]["forked"] == 0
    assert_same(serial, cached)


def test_a_configuration_error_stops_the_forked_conversion_and_leaves_nothing(tmp_path):
    resource, _ = messy(tmp_path, rows=2000)
    pipeline = write_pipeline(str(tmp_path / "bad-pipeline"), {"skip": "brownfield-land,,,(unclosed\n"})
    converted = tmp_path / "converted"
    started = time.monotonic()
    result, var = run(tmp_path, "bad", resource, "brownfield-land", pipeline, ["local-authority-eng:SWK"],
                      parallel_bytes=0, chunk_size=50, converted_dir=str(converted), fault="conversion hangs")
    assert time.monotonic() - started < 30  # not waiting for the conversion
    assert result["error"] == "UserError" and "skip pattern" in result["message"]
    assert result["forked"] == 1 and result["children"] == 0
    assert not [f for _, _, files in os.walk(var) for f in files]
    assert list(converted.iterdir()) == []  # its temporary directory removed as it stopped


def test_chunks_run_in_pieces_and_taken_back_transform_the_same(tmp_path):
    resource, pipeline = messy(tmp_path, rows=600)
    config = dict(resource=resource, dataset="brownfield-land", pipeline_dir=pipeline,
                  organisations=["local-authority-eng:SWK", "local-authority-eng:CMD"], chunk_size=40)
    serial = run(tmp_path, "serial", parallel_bytes=-1, **config)
    # chunks of 40 rows (~3 kB of values) in pieces of ~1 kB, and the worker slow enough that the
    # parent takes pieces back at the end
    for name, fault in (("pieces", None), ("taken-back", "slow worker")):
        parallel = run(tmp_path, name, parallel_bytes=0, fault=fault, piece_bytes=1000, **config)
        assert parallel[0]["taken"] > 0 or not fault
        assert_same(serial, parallel)


def test_a_claim_gives_the_parent_only_pieces_the_worker_has_not_started():
    import multiprocessing

    from planning_pipeline.transform.parallel import Claim

    claim = Claim(multiprocessing.get_context("fork"))
    assert claim.start(0)
    assert claim.take_back(3) == 2 and claim.take_back(3) == 1
    assert claim.take_back(3) is None  # piece 0 is started
    assert not claim.start(1) and not claim.start(2)
