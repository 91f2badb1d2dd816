#!/usr/bin/env python3
"""Benchmark vector tiles: full builds against incremental ones, with the real tippecanoe.

  .venv/bin/python bench/tiles_bench.py [--quick] [--work DIR] [--keep]

Generates a dataset sqlite file of the collection bench's typical workload (300 resources of 300
entities, every other one points, the rest 20-vertex polygons of 50-800 m, as WGS84; each resource's
features within 20 km of its organisation's centre somewhere in England; --quick: 30 resources) and
builds its tiles with upstream's options (zoom 4-15) through planning_pipeline.load.tiles.build_tiles:
  full        no previous file
  no change   the same features (the file is kept)
  resource    one resource's 300 features moved by ~30 m and renamed (a small area)
  spread      300 features changed, one in each resource (all over England)
  one         one feature renamed
  moved       one feature moved by ~1 km
  removed     one feature removed
then a full build of the last state, compared tile by tile (zoom, column, row, bytes) and metadata
with the incremental result. Prints wall time and its split (features: generating, hashing and
writing the GeoJSON; plan: affected tiles and each feature's maximum zoom; tippecanoe; patch: copy
of the published file, its tiles replaced, or a full build's metadata and feature index). Never
asserts anything: figures are printed (noisy machine: compare within one run).
"""
import argparse
import math
import os
import random
import shutil
import sqlite3
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)
os.environ["PATH"] = os.path.join(ROOT, ".venv", "bin") + os.pathsep + os.environ.get("PATH", "")

from planning_pipeline.load.tiles import build_tiles  # noqa: E402

DATASET = "conservation-area"
FIRST_ENTITY = 44000000
COLUMNS = ("entity", "name", "reference", "dataset", "prefix", "organisation_entity", "entry_date", "start_date",
           "end_date", "geometry", "point", "json")


def polygon(rng, lon, lat, vertices=20):
    r = rng.uniform(50, 800)
    points = []
    for k in range(vertices - 1):
        a = 2 * math.pi * k / (vertices - 1)
        rr = r * rng.uniform(0.8, 1.0)
        points.append(f"{lon + rr * math.cos(a) / (111320 * math.cos(math.radians(lat))):.6f} "
                      f"{lat + rr * math.sin(a) / 110540:.6f}")
    points.append(points[0])
    return "POLYGON ((" + ", ".join(points) + "))"


def entities(resources):
    """{entity: row dict} of the typical workload."""
    rows = {}
    for number in range(resources):
        rng = random.Random(number)
        clon, clat = rng.uniform(-3.0, 0.8), rng.uniform(50.9, 54.2)
        kind = "points" if number % 2 else "polygons"
        for i in range(300):
            entity = FIRST_ENTITY + number * 300 + i
            lon = clon + rng.uniform(-0.15, 0.15)
            lat = clat + rng.uniform(-0.09, 0.09)
            row = {"entity": entity, "name": f"Area R{entity}", "reference": f"R{entity}", "dataset": DATASET,
                   "prefix": DATASET, "organisation_entity": str(100 + number), "entry_date": "2026-01-01",
                   "start_date": "", "end_date": "", "geometry": "", "point": f"POINT ({lon:.6f} {lat:.6f})",
                   "json": f'{{"designation-date": "20{number % 25:02d}-01-01", "notes": "note {i}"}}'}
            if kind == "polygons":
                row["geometry"] = polygon(rng, lon, lat)
            rows[entity] = row
    return rows


def write(path, rows):
    if os.path.exists(path):
        os.unlink(path)
    conn = sqlite3.connect(path)
    conn.execute(f"CREATE TABLE entity ({', '.join(COLUMNS)})")
    conn.executemany(f"INSERT INTO entity VALUES ({', '.join('?' * len(COLUMNS))})",
                     ([row[c] for c in COLUMNS] for _, row in sorted(rows.items())))
    conn.commit()
    conn.close()


def shift(row, dlon, dlat):
    """The row's geometry and point moved by (dlon, dlat) degrees."""
    def move(wkt):
        import shapely.affinity
        import shapely.wkt
        return shapely.wkt.dumps(shapely.affinity.translate(shapely.wkt.loads(wkt), dlon, dlat), rounding_precision=6)
    row = dict(row)
    row["geometry"] = move(row["geometry"]) if row["geometry"] else ""
    row["point"] = move(row["point"])
    return row


def content(path):
    conn = sqlite3.connect(path)
    try:
        tiles = conn.execute("SELECT zoom_level, tile_column, tile_row, tile_data FROM tiles ORDER BY 1, 2, 3").fetchall()
        metadata = conn.execute("SELECT name, value FROM metadata ORDER BY 1").fetchall()
        return tiles, metadata
    finally:
        conn.close()


def run(label, sqlite_path, mbtiles, messages, incremental=True):
    timings = {}
    began = time.monotonic()
    build_tiles(DATASET, sqlite_path, mbtiles, 4, 15, log=messages.append, incremental=incremental, timings=timings)
    wall = time.monotonic() - began
    split = " ".join(f"{k} {timings[k]:.1f}" for k in ("features", "plan", "tippecanoe", "patch") if k in timings)
    print(f"{label:<10} {wall:6.1f} s  {timings.get('build', ''):<11}  {split}   {messages[-1].split(': ', 2)[-1]}",
          flush=True)
    return wall


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="30 resources (9,000 features) instead of 300")
    p.add_argument("--work", help="the directory to work in (default: a temporary one)")
    p.add_argument("--keep", action="store_true", help="keep the work directory")
    args = p.parse_args()
    work = args.work or tempfile.mkdtemp(prefix="tiles-bench.")
    os.makedirs(work, exist_ok=True)
    resources = 30 if args.quick else 300
    try:
        sqlite_path = os.path.join(work, f"{DATASET}.sqlite3")
        mbtiles = os.path.join(work, "dataset", f"{DATASET}.mbtiles")
        fresh = os.path.join(work, "fresh", f"{DATASET}.mbtiles")
        for directory in (os.path.dirname(mbtiles), os.path.dirname(fresh)):
            shutil.rmtree(directory, ignore_errors=True)  # a reused --work directory starts afresh
        began = time.monotonic()
        rows = entities(resources)
        write(sqlite_path, rows)
        print(f"{len(rows)} entities generated in {time.monotonic() - began:.1f} s; {os.cpu_count()} cores", flush=True)
        messages = []
        run("full", sqlite_path, mbtiles, messages)
        print(f"{'':<10} {os.path.getsize(mbtiles) / 1e6:.0f} MB", flush=True)
        run("no change", sqlite_path, mbtiles, messages)
        rng = random.Random(7)
        chosen = resources // 3
        for entity in range(FIRST_ENTITY + chosen * 300, FIRST_ENTITY + chosen * 300 + 300):
            rows[entity] = dict(shift(rows[entity], 0.0004, 0.0002), name=rows[entity]["name"] + " (renamed)")
        write(sqlite_path, rows)
        run("resource", sqlite_path, mbtiles, messages)
        for number in range(0, resources, max(1, resources // 300)):
            entity = FIRST_ENTITY + number * 300 + rng.randrange(300)
            rows[entity] = dict(rows[entity], name=rows[entity]["name"] + " (spread)")
        write(sqlite_path, rows)
        run("spread", sqlite_path, mbtiles, messages)
        entity = FIRST_ENTITY + 1234 % len(rows)
        rows[entity] = dict(rows[entity], name="One renamed")
        write(sqlite_path, rows)
        run("one", sqlite_path, mbtiles, messages)
        entity = FIRST_ENTITY + 4321 % len(rows)
        rows[entity] = shift(rows[entity], 0.012, 0.004)
        write(sqlite_path, rows)
        run("moved", sqlite_path, mbtiles, messages)
        del rows[FIRST_ENTITY + 2345 % len(rows)]
        write(sqlite_path, rows)
        run("removed", sqlite_path, mbtiles, messages)
        run("full again", sqlite_path, fresh, messages, incremental=False)
        incremental, full = content(mbtiles), content(fresh)
        same_tiles = incremental[0] == full[0]
        same_metadata = incremental[1] == full[1]
        print(f"incremental against a full build of the last state: {len(full[0])} tiles, tiles "
              f"{'identical' if same_tiles else 'DIFFERENT'}, metadata {'identical' if same_metadata else 'DIFFERENT'}")
        if not same_tiles:
            a, b = set(incremental[0]), set(full[0])
            print(f"  {len(a - b)} tiles only in the incremental file, {len(b - a)} only in the full build")
    finally:
        if args.keep or args.work:
            print(f"work directory: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
