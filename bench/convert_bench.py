#!/usr/bin/env python3
"""Benchmark the convert stage: rows per second and peak memory (RSS) per conversion.

Generates, under a temporary folder:
  - a CSV of N rows (default 100,000) with OSGB eastings/northings and messy dates;
  - a GeoJSON of M polygons (default 20,000) of 40 vertices each, in OSGB coordinates.
Each conversion runs in a fresh child process, which reports its own peak RSS
(resource.getrusage ru_maxrss); a child that only imports the library gives the baseline.

  .venv/bin/python bench/convert_bench.py [--rows N] [--polygons M] [--scale K] [--keep DIR]

--scale K also converts inputs K times larger, to show memory stays flat as files grow.
"""
import argparse
import csv
import json
import math
import os
import random
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

CHILD = """
import json, resource, sys, time
sys.path.insert(0, {root!r})
from planning_pipeline.convert import convert
import osgeo.ogr, charset_normalizer, openpyxl  # what a conversion may import, for a fair baseline
start = time.perf_counter()
result = convert(sys.argv[1], sys.argv[2]) if len(sys.argv) > 2 else {{"status": "baseline", "line_count": 0}}
result["wall"] = time.perf_counter() - start
result["maxrss_kib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps(result))
"""

DATE_STYLES = ("{d:02d}/{m:02d}/{y}", "{y}-{m:02d}-{d:02d}", "{d} {mon} {y}", "{y}{m:02d}{d:02d}",
               "{y}/{m:02d}/{d:02d} 00:00:00", "", "  {d}/{m}/{y} ", "{mon} {d}, {y}")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def make_csv(path, rows, seed=1):
    rng = random.Random(seed)
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["reference", "name", "GeoX", "GeoY", "start-date", "notes", "hectares"])
        for i in range(rows):
            y, m, d = rng.randint(1950, 2024), rng.randint(1, 12), rng.randint(1, 28)
            style = DATE_STYLES[i % len(DATE_STYLES)]
            writer.writerow([
                f"SITE-{i:07d}", f"Site {i} off Hîgh Street, Town £{i % 97}",
                f"{rng.uniform(82000, 655000):.2f}", f"{rng.uniform(5000, 1215000):.2f}",
                style.format(y=y, m=m, d=d, mon=MONTHS[m - 1]),
                "multi-line\nnote, with comma" if i % 50 == 0 else "", f"{rng.uniform(0.01, 30):.3f}",
            ])


def make_geojson(path, polygons, vertices=40, seed=2):
    rng = random.Random(seed)
    with open(path, "w", encoding="utf-8") as f:
        f.write('{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::27700"}},'
                '"features":[\n')
        for i in range(polygons):
            cx, cy = rng.uniform(82000, 655000), rng.uniform(5000, 1215000)
            ring = []
            for k in range(vertices - 1):
                angle = 2 * math.pi * k / (vertices - 1)
                radius = rng.uniform(50, 400)
                ring.append([round(cx + radius * math.cos(angle), 3), round(cy + radius * math.sin(angle), 3)])
            ring.append(ring[0])
            feature = {"type": "Feature", "properties": {"reference": f"CA{i:06d}", "name": f"Area {i}",
                                                         "designation-date": f"{1960 + i % 60}-0{1 + i % 9}-1{i % 10}"},
                       "geometry": {"type": "Polygon", "coordinates": [ring]}}
            f.write(("," if i else "") + json.dumps(feature, separators=(",", ":")) + "\n")
        f.write("]}\n")


def run_child(*args):
    code = CHILD.format(root=ROOT)
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def report(label, size_bytes, result, baseline_kib):
    rows = max(result["line_count"] - 1, 0)
    rate = rows / result["wall"] if result["wall"] else 0
    print(f"{label:<34} {size_bytes / 1e6:8.1f} MB {rows:>9} rows {result['wall']:7.2f} s {rate:>10,.0f} rows/s "
          f"peak RSS {result['maxrss_kib'] / 1024:7.1f} MiB (+{(result['maxrss_kib'] - baseline_kib) / 1024:.1f} over baseline)"
          f"  [{result['status']}]")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--polygons", type=int, default=20_000)
    parser.add_argument("--scale", type=int, default=0, help="also run inputs this many times larger")
    parser.add_argument("--keep", help="generate into this folder and keep it")
    args = parser.parse_args()

    folder = args.keep or tempfile.mkdtemp(prefix="convert-bench-")
    os.makedirs(folder, exist_ok=True)
    cases = [("CSV", args.rows, make_csv), ("GeoJSON polygons (40 vertices)", args.polygons, make_geojson)]
    if args.scale > 1:
        cases += [(f"CSV x{args.scale}", args.rows * args.scale, make_csv),
                  (f"GeoJSON polygons x{args.scale}", args.polygons * args.scale, make_geojson)]
    baseline = run_child()
    print(f"baseline (python + imports): peak RSS {baseline['maxrss_kib'] / 1024:.1f} MiB")
    try:
        for label, count, make in cases:
            source = os.path.join(folder, f"{label.split()[0].lower()}-{count}.resource")
            start = time.perf_counter()
            make(source, count)
            generated = time.perf_counter() - start
            result = run_child(source, source + ".csv")
            report(label, os.path.getsize(source), result, baseline["maxrss_kib"])
            if result["status"] != "success":
                print("   ", result["exception"])
            print(f"{'':<34} (generated in {generated:.1f} s)")
            if not args.keep:
                os.unlink(source)
                if os.path.exists(source + ".csv"):
                    os.unlink(source + ".csv")
    finally:
        if not args.keep:
            import shutil
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
