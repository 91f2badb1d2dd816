#!/usr/bin/env python3
"""Benchmark assemble and bake on a synthetic dataset.

Generates a transformed dataset of --entities entities (default 120,000; about 1,000,000 facts) spread over
several resources with both priorities, duplicate facts (the same fact in two resources), later corrections
and polygon geometries for some entities, then runs bin/assemble and bin/bake as child processes and prints
seconds, CPU seconds (all its processes: assemble runs sqlite3 jobs beside itself, bake a second process) and
the peak RSS of its largest process for each stage, beside the upstream system's figures on this machine.

    .venv/bin/python bench/assemble_bench.py [--entities N] [--resources N] [--incremental] [--work-dir DIR] [--keep]
"""
import argparse
import csv
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATASET = "conservation-area"
FIRST_ENTITY = 44000000
FACT_HEADER = "end-date,entity,entry-date,entry-number,fact,field,priority,reference-entity,resource,start-date,value".split(",")
ORGANISATIONS = ["local-authority:SWK", "local-authority:LBH", "local-authority:GLA", "local-authority:BRC"]


def fact_hash(entity, field, value):
    return hashlib.sha256(f"{entity}:{field}:{value}".encode()).hexdigest()


def polygon(i):
    """A small 13-vertex ring near London, different for each entity."""
    x0 = -0.5 + (i % 1000) * 0.001
    y0 = 51.3 + (i // 1000) * 0.001
    ring = [(x0 + 0.0004 * dx, y0 + 0.0004 * dy) for dx, dy in
            [(0, 0), (1, 0), (2, 0), (2.5, 0.5), (3, 1), (3, 2), (2.5, 2.5), (2, 3), (1, 3), (0, 3), (-0.5, 2), (-0.5, 1), (0, 0)]]
    return "MULTIPOLYGON (((" + ",".join(f"{x:.6f} {y:.6f}" for x, y in ring) + ")))"


def entity_fields(i, version):
    entity = FIRST_ENTITY + i
    fields = {
        "reference": f"CA{i:06d}",
        "name": f"Conservation area {i}" + (f" (revised {version})" if version else ""),
        "prefix": DATASET,
        "organisation": ORGANISATIONS[i % len(ORGANISATIONS)],
        "start-date": f"{1970 + i % 50}-01-01",
        "end-date": "",
        "documentation-url": f"https://example.org/ca/{i}",
    }
    if i % 3 == 0:
        fields["geometry"] = polygon(i)
    elif i % 3 == 1:
        fields["point"] = f"POINT ({-0.5 + (i % 1000) * 0.001:.6f} {51.3 + (i // 1000) * 0.001:.6f})"
    if i % 4 == 0:
        fields["notes"] = f"note {i}"
    return entity, fields


def generate(work, n_entities, n_resources=8):
    """Write var/transformed, var/issue, ... and collection/resource.csv for a synthetic dataset."""
    dirs = log_dirs(work)
    for d in dirs.values():
        os.makedirs(d, exist_ok=True)
    resources = [resource_name(r) for r in range(n_resources)]
    per = n_entities // n_resources
    with open(os.path.join(work, "resource.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["resource", "bytes", "organisations", "datasets", "endpoints", "start-date", "end-date"])
        for r, res in enumerate(resources):
            w.writerow([res, 1000, ORGANISATIONS[r % 4], DATASET, "e" * 64, f"2020-01-{r % 28 + 1:02d}", "2023-01-01" if r == 0 else ""])
    facts = 0
    for r in range(n_resources):
        own = range(r * per, (r + 1) * per if r < n_resources - 1 else n_entities)
        facts += write_resource(dirs, r, own, ((r - 1) % n_resources) * per, per)
    with open(os.path.join(work, "old-entity.csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["old-entity", "status", "entity", "notes", "end-date", "entry-date", "start-date"])
        w.writerow([FIRST_ENTITY + n_entities + 5, "301", FIRST_ENTITY, "", "", "", ""])
        w.writerow([1, "410", "", "out of range", "", "", ""])
    return facts


def log_dirs(work):
    return {name: os.path.join(work, "var", name, DATASET) for name in ("transformed", "issue", "column-field", "dataset-resource")}


def resource_name(r):
    return hashlib.sha256(f"resource-{r}".encode()).hexdigest()


def write_resource(dirs, r, own, previous_start, per, revision=0):
    """Resource r's transformed file and logs: its own slice of entities, and a second (corrected or duplicated)
    copy of 5% of the previous resource's; revision > 0 renames a tenth of its own entities. Returns its facts."""
    res = resource_name(r)
    priority = 2 if r % 2 else 1
    entry_date = f"2022-{r % 12 + 1:02d}-01"
    prev = range(previous_start, previous_start + per // 20)
    facts = 0
    with open(os.path.join(dirs["transformed"], res + ".csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(FACT_HEADER)
        entry_number = 0
        for i, version in [(i, 100 + revision if revision and i % 10 == 0 else 0) for i in own] + \
                          [(i, r + 1 if i % 2 else 0) for i in prev]:
            entry_number += 1
            entity, fields = entity_fields(i, version)
            fields["entry-date"] = entry_date
            for field in sorted(fields):
                value = fields[field]
                w.writerow(["", entity, entry_date, entry_number, fact_hash(entity, field, value), field, priority, "", res, "", value])
                facts += 1
    with open(os.path.join(dirs["issue"], res + ".csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["dataset", "resource", "line-number", "entry-number", "field", "entity", "issue-type", "value", "message"])
        for n in range(1, 200):
            w.writerow([DATASET, res, n + 1, n, "start-date", FIRST_ENTITY + n, "invalid date", "not a date", ""])
    with open(os.path.join(dirs["column-field"], res + ".csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["dataset", "resource", "column", "field"])
        for field in ("reference", "name", "geometry"):
            w.writerow([DATASET, res, field.upper(), field])
    with open(os.path.join(dirs["dataset-resource"], res + ".csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["dataset", "resource", "entity-count", "entry-count", "line-count", "mime-type", "internal-path",
                    "internal-mime-type", "code-version", "config-hash", "specification-hash"])
        w.writerow([DATASET, res, len(own), entry_number, entry_number + 1, "text/csv", "", "", "bench", "", ""])
    return facts


MEASURE = """import resource, subprocess, sys
subprocess.run(sys.argv[1:], check=True)
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(usage.ru_maxrss, usage.ru_utime + usage.ru_stime)"""
UPSTREAM = {"assemble": (11, 900), "bake": (16, 700)}  # seconds, MB for 120,000 entities on these machines


def run_stage(name, argv, full_size, label=None):
    """Run one stage as a grandchild, through a tiny parent that reports that stage's own peak RSS
    (getrusage RUSAGE_CHILDREN ru_maxrss: its largest process) and CPU time, so stages are measured separately."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", MEASURE] + argv, check=True, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    seconds = time.perf_counter() - start
    rss, cpu = done.stdout.strip().splitlines()[-1].split()
    peak_mb = int(rss) / 1024
    upstream_s, upstream_mb = UPSTREAM[name]
    versus = f"   upstream ~{upstream_s} s / {upstream_mb} MB: {upstream_s / seconds:.1f}x faster" if full_size else ""
    print(f"{label or name:{max(10, len(label or name))}s} {seconds:7.2f} s  (cpu {float(cpu):6.2f} s)  peak RSS {peak_mb:5.0f} MB{versus}", flush=True)
    return seconds, peak_mb


def incremental_runs(work, args, assemble):
    """Change the inputs as a collection run does and time each incremental assemble."""
    dirs = log_dirs(work)
    per = args.entities // args.resources
    k = args.resources // 2
    changed = os.path.join(dirs["transformed"], resource_name(k) + ".csv")
    run_stage("assemble", assemble, False, "assemble, nothing changed")
    content = open(changed, "rb").read()
    os.unlink(changed)
    with open(changed, "wb") as f:
        f.write(content)
    run_stage("assemble", assemble, False, "assemble, one file rewritten with the same bytes")
    write_resource(dirs, k, range(k * per, (k + 1) * per), (k - 1) * per, per, revision=1)
    run_stage("assemble", assemble, False, f"assemble, one resource changed ({per // 10} of its {per} entities renamed)")
    added = args.resources
    with open(os.path.join(work, "resource.csv"), "a", newline="") as f:
        csv.writer(f).writerow([resource_name(added), 1000, ORGANISATIONS[0], DATASET, "e" * 64, "2020-02-01", ""])
    write_resource(dirs, added, range(args.entities, args.entities + per), (added - 1) * per, per)
    run_stage("assemble", assemble, False, f"assemble, one resource added ({per} entities)")
    for d in dirs.values():
        os.unlink(os.path.join(d, resource_name(added) + ".csv"))
    run_stage("assemble", assemble, False, "assemble, that resource removed")
    run_stage("assemble", assemble + ["--full"], False, "assemble (full), same inputs")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--entities", type=int, default=120000)
    ap.add_argument("--resources", type=int, default=8)
    ap.add_argument("--incremental", action="store_true",
                    help="after the full build, time assemble again after one resource is rewritten unchanged, "
                         "changed, added and removed, and nothing changed (an incremental update of the candidate)")
    ap.add_argument("--work-dir", default=None, help="generate into this directory (default: a temporary one)")
    ap.add_argument("--keep", action="store_true", help="keep the generated and built files")
    args = ap.parse_args()

    work = args.work_dir or tempfile.mkdtemp(prefix="assemble-bench-")
    os.makedirs(work, exist_ok=True)
    try:
        start = time.perf_counter()
        facts = generate(work, args.entities, args.resources)
        print(f"generated  {args.entities} entities, {facts} facts in {time.perf_counter() - start:.1f} s ({work})", flush=True)
        py = sys.executable
        var = os.path.join(work, "var")
        out = os.path.join(work, "dataset")
        sqlite = os.path.join(out, DATASET + ".sqlite3")
        full_size = args.entities == 120000 and args.resources == 8  # the size upstream was measured at
        assemble = [py, "bin/assemble", "--dataset", DATASET, "--specification-dir", "specification",
                               "--organisation-path", "example/organisation.csv",
                               "--resource-path", os.path.join(work, "resource.csv"),
                               "--old-entity-path", os.path.join(work, "old-entity.csv"),
                               "--transformed-dir", os.path.join(var, "transformed", DATASET),
                               "--issue-dir", os.path.join(var, "issue", DATASET),
                               "--column-field-dir", os.path.join(var, "column-field", DATASET),
                               "--dataset-resource-dir", os.path.join(var, "dataset-resource", DATASET),
                               "--issue-csv", os.path.join(out, DATASET + "-issue.csv"),
                               "--output", sqlite]
        run_stage("assemble", assemble + ["--full"], full_size, "assemble (full)" if args.incremental else None)
        if args.incremental:
            incremental_runs(work, args, assemble)
        run_stage("bake", [py, "bin/bake", "--dataset", DATASET, "--specification-dir", "specification", sqlite, "--output-dir", out], full_size)
        for dirpath, _, names in sorted(os.walk(out)):
            for name in sorted(names):
                path = os.path.join(dirpath, name)
                print(f"  {os.path.relpath(path, work):45s} {os.path.getsize(path) / 1e6:8.1f} MB")
    finally:
        if not args.keep and not args.work_dir:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
