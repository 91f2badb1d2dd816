#!/usr/bin/env python3
"""Benchmark bin/transform on synthetic resources, each run in a child process.

  .venv/bin/python bench/transform_bench.py [--points 100000] [--polygons 20000] [--work DIR] [--keep]

Cases (upstream digital-land-python takes about 75 s and 27 s for them):
  points    brownfield-land CSV: SiteReference, SiteNameAddress, OSGB GeoX/GeoY, Hectares and two date
            columns in a dozen messy formats; transform.csv migrates the old names; every site is in lookup.csv
  polygons  conservation-area CSV: reference, name, designation date, OSGB 40-vertex polygon WKT
Each case runs twice: "cold" converts the resource, "warm" reuses the converted CSV (--converted-dir).
Prints wall time, rows/second, the child's CPU time (user+sys: steadier on a shared machine) and peak
RSS (os.wait4 per child; getrusage(RUSAGE_CHILDREN) over all the runs).
Uses the real specification and example/organisation.csv; writes only under --work (a temporary dir).
"""
import argparse
import csv
import datetime
import math
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ORGANISATION = "local-authority-eng:SWK"
GOAL = 20  # issue #3: at least 20 times upstream's speed

DATE_FORMATS = ["%Y-%m-%d", "%d/%m/%Y", "%d-%b-%Y", "%Y/%m/%d", "%d.%m.%Y", "%Y%m%d", "%d %B %Y",
                "%Y-%m-%dT%H:%M:%SZ", "%d/%m/%y", "%b %d, %Y", "%Y-%m-%d %H:%M:%S", " %d/%m/%Y "]


def messy_date(rng):
    day = datetime.date(2000, 1, 1) + datetime.timedelta(days=rng.randrange(8000))
    return day.strftime(rng.choice(DATE_FORMATS))


def write_config(directory, files):
    os.makedirs(directory, exist_ok=True)
    headers = {
        "column": "dataset,resource,endpoint,column,field", "combine": "dataset,endpoint,field,separator",
        "concat": "dataset,resource,endpoint,field,fields,separator", "default": "dataset,resource,field,default-field",
        "default-value": "dataset,endpoint,field,value", "filter": "dataset,resource,endpoint,field,pattern",
        "lookup": "prefix,resource,entry-number,organisation,reference,entity", "old-entity": "old-entity,status,entity",
        "patch": "dataset,resource,endpoint,field,pattern,value", "skip": "dataset,resource,endpoint,pattern",
        "transform": "dataset,field,replacement-field", "entity-organisation": "dataset,entity-minimum,entity-maximum,organisation",
        "expect": "datasets,organisations,operation,parameters,name",
    }
    for name, header in headers.items():
        with open(os.path.join(directory, name + ".csv"), "w", newline="") as f:
            f.write(header + "\n")
            if name in files:
                csv.writer(f, lineterminator="\n").writerows(files[name])


def make_points(work, n, seed=1):
    rng = random.Random(seed)
    path = os.path.join(work, "points-resource")
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["SiteReference", "SiteNameAddress", "GeoX", "GeoY", "Hectares", "FirstAddedDate", "LastUpdatedDate"])
        for i in range(n):
            w.writerow([f"BF{i:06d}", f"{rng.randrange(1, 300)} {rng.choice(['High', 'Mill', 'Church', 'Station'])} "
                        f"Street,  Town {i % 97}", f"{rng.uniform(300000, 600000):.2f}", f"{rng.uniform(100000, 500000):.2f}",
                        f"{rng.uniform(0.1, 20):.3f}", messy_date(rng), messy_date(rng)])
    config = os.path.join(work, "points-pipeline")
    write_config(config, {
        "transform": [["brownfield-land", old, new] for old, new in (
            ("SiteReference", "reference"), ("SiteNameAddress", "site-address"), ("Hectares", "hectares"),
            ("FirstAddedDate", "start-date"), ("LastUpdatedDate", "entry-date"))],
        "lookup": [["brownfield-land", "", "", ORGANISATION, f"BF{i:06d}", 1700000 + i] for i in range(n)],
    })
    return "brownfield-land", path, config, n


def polygon(rng, vertices=40):
    x0, y0, r = rng.uniform(300000, 600000), rng.uniform(100000, 500000), rng.uniform(50, 800)
    points = []
    for k in range(vertices - 1):
        a = 2 * math.pi * k / (vertices - 1)
        rr = r * rng.uniform(0.8, 1.0)
        points.append(f"{x0 + rr * math.cos(a):.3f} {y0 + rr * math.sin(a):.3f}")
    points.append(points[0])
    return "POLYGON ((" + ", ".join(points) + "))"


def make_polygons(work, n, seed=2):
    rng = random.Random(seed)
    path = os.path.join(work, "polygons-resource")
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["reference", "name", "designation-date", "geometry"])
        for i in range(n):
            w.writerow([f"CA{i:05d}", f"Conservation area {i}", messy_date(rng), polygon(rng)])
    config = os.path.join(work, "polygons-pipeline")
    write_config(config, {"lookup": [["conservation-area", "", "", ORGANISATION, f"CA{i:05d}", 44000000 + i]
                                     for i in range(n)]})
    return "conservation-area", path, config, n


def run_case(work, name, dataset, path, config, rows, warm, label=None):
    var = os.path.join(work, "var-" + name)
    args = [sys.executable, os.path.join(ROOT, "bin", "transform"), "--dataset", dataset, "--pipeline-dir", config,
            "--specification-dir", os.path.join(ROOT, "specification"),
            "--organisation-path", os.path.join(ROOT, "example", "organisation.csv"),
            "--endpoints", "e1", "--organisations", ORGANISATION, "--entry-date", "2024-01-01",
            "--issue-dir", os.path.join(var, "issue"), "--column-field-dir", os.path.join(var, "column-field"),
            "--dataset-resource-dir", os.path.join(var, "dataset-resource"),
            "--converted-resource-dir", os.path.join(var, "converted-resource"),
            path, os.path.join(var, "transformed.csv")]
    if warm:
        args[-2:-2] = ["--converted-dir", os.path.join(work, "converted")]
    start = time.perf_counter()
    child = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(child.pid, 0)
    elapsed = time.perf_counter() - start
    out, err = child.stdout.read(), child.stderr.read()
    if status != 0:
        sys.exit(f"{name}: bin/transform failed:\n{err}")
    with open(os.path.join(var, "transformed.csv"), "rb") as f:
        facts = sum(1 for _ in f) - 1
    label = f"{name} ({label or ('warm: converted CSV reused' if warm else 'cold: with conversion')})"
    cpu = usage.ru_utime + usage.ru_stime
    print(f"{label:44} {rows:7d} rows {elapsed:6.2f} s {rows / elapsed:7.0f} rows/s (cpu {cpu:5.2f} s) "
          f"peak RSS {usage.ru_maxrss / 1024:4.0f} MiB  {facts} facts")
    print("    " + out.strip())
    return elapsed


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--points", type=int, default=100000)
    p.add_argument("--polygons", type=int, default=20000)
    p.add_argument("--work", help="working directory (default: a temporary one, removed afterwards)")
    p.add_argument("--keep", action="store_true", help="keep the working directory")
    args = p.parse_args()
    work = args.work or tempfile.mkdtemp(prefix="transform-bench-")
    os.makedirs(work, exist_ok=True)
    try:
        t = time.perf_counter()
        cases = [("points", *make_points(work, args.points)), ("polygons", *make_polygons(work, args.polygons))]
        print(f"generated the data in {time.perf_counter() - t:.1f} s under {work}")
        upstream = {"points": 75.0, "polygons": 27.0}
        for name, dataset, path, config, rows in cases:
            cold = run_case(work, name, dataset, path, config, rows, warm=False)
            run_case(work, name, dataset, path, config, rows, warm=True, label="converting into the cache")
            warm = run_case(work, name, dataset, path, config, rows, warm=True)
            scale = rows / (100000 if name == "points" else 20000)
            print(f"    speed-up over upstream's ~{upstream[name]:.0f} s (scaled to {rows} rows): "
                  f"cold {upstream[name] * scale / cold:.1f}x, warm {upstream[name] * scale / warm:.1f}x "
                  f"(goal {GOAL}x: at most {upstream[name] * scale / GOAL:.2f} s)")
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        print(f"getrusage(RUSAGE_CHILDREN).ru_maxrss over all runs: {children.ru_maxrss / 1024:.0f} MiB")
    finally:
        if not args.keep and not args.work:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
