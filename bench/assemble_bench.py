#!/usr/bin/env python3
"""Benchmark assemble and bake on a synthetic dataset.

Generates a transformed dataset of --entities entities (default 120,000; about 1,000,000 facts) spread over
several resources with both priorities, duplicate facts (the same fact in two resources), later corrections
and polygon geometries for some entities, then runs bin/assemble and bin/bake as child processes and prints
seconds, CPU seconds (all its processes: assemble runs sqlite3 jobs beside itself, bake a second process) and
the peak RSS of its largest process for each stage, beside the upstream system's figures on this machine.

    .venv/bin/python bench/assemble_bench.py [--entities N] [--work-dir DIR] [--keep]
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
    dirs = {name: os.path.join(work, "var", name, DATASET) for name in ("transformed", "issue", "column-field", "dataset-resource")}
    for d in dirs.values():
        os.makedirs(d, exist_ok=True)
    resources = [hashlib.sha256(f"resource-{r}".encode()).hexdigest() for r in range(n_resources)]
    facts = 0
    per = n_entities // n_resources
    with open(os.path.join(work, "resource.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["resource", "bytes", "organisations", "datasets", "endpoints", "start-date", "end-date"])
        for r, res in enumerate(resources):
            w.writerow([res, 1000, ORGANISATIONS[r % 4], DATASET, "e" * 64, f"2020-01-{r + 1:02d}", "2023-01-01" if r == 0 else ""])
    for r, res in enumerate(resources):
        priority = 2 if r % 2 else 1
        entry_date = f"2022-{r + 1:02d}-01"
        # each resource carries its own slice, and a second (corrected or duplicated) copy of 5% of the previous one
        own = range(r * per, (r + 1) * per if r < n_resources - 1 else n_entities)
        prev = range(((r - 1) % n_resources) * per, ((r - 1) % n_resources) * per + per // 20)
        with open(os.path.join(dirs["transformed"], res + ".csv"), "w", newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(FACT_HEADER)
            entry_number = 0
            for i, version in [(i, 0) for i in own] + [(i, r + 1 if i % 2 else 0) for i in prev]:
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
    with open(os.path.join(work, "old-entity.csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["old-entity", "status", "entity", "notes", "end-date", "entry-date", "start-date"])
        w.writerow([FIRST_ENTITY + n_entities + 5, "301", FIRST_ENTITY, "", "", "", ""])
        w.writerow([1, "410", "", "out of range", "", "", ""])
    return facts


MEASURE = """import resource, subprocess, sys
subprocess.run(sys.argv[1:], check=True)
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(usage.ru_maxrss, usage.ru_utime + usage.ru_stime)"""
UPSTREAM = {"assemble": (11, 900), "bake": (16, 700)}  # seconds, MB for 120,000 entities on these machines


def run_stage(name, argv, full_size):
    """Run one stage as a grandchild, through a tiny parent that reports that stage's own peak RSS
    (getrusage RUSAGE_CHILDREN ru_maxrss: its largest process) and CPU time, so stages are measured separately."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", MEASURE] + argv, check=True, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    seconds = time.perf_counter() - start
    rss, cpu = done.stdout.strip().splitlines()[-1].split()
    peak_mb = int(rss) / 1024
    upstream_s, upstream_mb = UPSTREAM[name]
    versus = f"   upstream ~{upstream_s} s / {upstream_mb} MB: {upstream_s / seconds:.1f}x faster" if full_size else ""
    print(f"{name:10s} {seconds:7.2f} s  (cpu {float(cpu):6.2f} s)  peak RSS {peak_mb:5.0f} MB{versus}", flush=True)
    return seconds, peak_mb


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--entities", type=int, default=120000)
    ap.add_argument("--work-dir", default=None, help="generate into this directory (default: a temporary one)")
    ap.add_argument("--keep", action="store_true", help="keep the generated and built files")
    args = ap.parse_args()

    work = args.work_dir or tempfile.mkdtemp(prefix="assemble-bench-")
    os.makedirs(work, exist_ok=True)
    try:
        start = time.perf_counter()
        facts = generate(work, args.entities)
        print(f"generated  {args.entities} entities, {facts} facts in {time.perf_counter() - start:.1f} s ({work})", flush=True)
        py = sys.executable
        var = os.path.join(work, "var")
        out = os.path.join(work, "dataset")
        sqlite = os.path.join(out, DATASET + ".sqlite3")
        full_size = args.entities == 120000  # the size upstream was measured at
        run_stage("assemble", [py, "bin/assemble", "--dataset", DATASET, "--specification-dir", "specification",
                               "--organisation-path", "example/organisation.csv",
                               "--resource-path", os.path.join(work, "resource.csv"),
                               "--old-entity-path", os.path.join(work, "old-entity.csv"),
                               "--transformed-dir", os.path.join(var, "transformed", DATASET),
                               "--issue-dir", os.path.join(var, "issue", DATASET),
                               "--column-field-dir", os.path.join(var, "column-field", DATASET),
                               "--dataset-resource-dir", os.path.join(var, "dataset-resource", DATASET),
                               "--issue-csv", os.path.join(out, DATASET + "-issue.csv"),
                               "--output", sqlite], full_size)
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
