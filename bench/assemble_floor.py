#!/usr/bin/env python3
"""How close assemble is to the floor: the time to write the same tables with nothing to compute.

  .venv/bin/python bench/assemble_floor.py [--entities N] [--keep]

Generates assemble_bench.py's synthetic dataset (default 120,000 entities, about 1,000,000 facts), runs
bin/assemble on it (timed), then dumps every table of the result to CSV in rowid order (not timed) and times
the floor: one sqlite3 process that creates the same tables with the same page size, imports each CSV
(`.import`, rows already in their final order, journal and sync off) and then creates the same indexes.
That writes the same rows, pages and indexes assemble writes, without reading the transformed files,
ranking facts or choosing winners, so assemble / floor is what assemble's own work costs on top of the file.
The floor imports blanks as '' where assemble writes NULL; the file sizes are printed to show it is the
same amount of data. Figures are printed, never asserted (a noisy machine: compare the ratio).
"""
import argparse
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from assemble_bench import DATASET, generate  # noqa: E402  (the same synthetic dataset as the assemble bench)

GOAL = 1.5  # issue 13: assemble within 1.5x of the floor


def assemble(work):
    var = os.path.join(work, "var")
    output = os.path.join(work, "dataset", DATASET + ".sqlite3")
    argv = [sys.executable, "bin/assemble", "--dataset", DATASET, "--specification-dir", "specification",
            "--organisation-path", "example/organisation.csv", "--resource-path", os.path.join(work, "resource.csv"),
            "--old-entity-path", os.path.join(work, "old-entity.csv"),
            "--transformed-dir", os.path.join(var, "transformed", DATASET), "--issue-dir", os.path.join(var, "issue", DATASET),
            "--column-field-dir", os.path.join(var, "column-field", DATASET),
            "--dataset-resource-dir", os.path.join(var, "dataset-resource", DATASET),
            "--issue-csv", os.path.join(work, "dataset", DATASET + "-issue.csv"), "--output", output]
    start = time.perf_counter()
    subprocess.run(argv, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start, output


def dump(sqlite_path, into):
    """Each table's rows as CSV in rowid order; returns (page_size, table statements, index statements, csvs)."""
    conn = sqlite3.connect(sqlite_path)
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    tables = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
                          " ORDER BY rowid").fetchall()
    indexes = [sql for sql, in conn.execute("SELECT sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
                                            " ORDER BY rowid")]
    conn.close()
    csvs = []
    for name, _ in tables:
        path = os.path.join(into, name + ".csv")
        with open(path, "wb") as out:
            subprocess.run(["sqlite3", "-csv", sqlite_path, f'SELECT * FROM "{name}" ORDER BY rowid'], stdout=out, check=True)
        csvs.append((name, path))
    return page_size, [sql for _, sql in tables], indexes, csvs


def floor(page_size, table_sql, index_sql, csvs, output):
    script = [f"PRAGMA page_size = {page_size};", "PRAGMA journal_mode = OFF;", "PRAGMA synchronous = OFF;",
              "PRAGMA cache_size = -131072;"]
    script += [sql + ";" for sql in table_sql]
    script += ["BEGIN;"] + [f'.import --csv "{path}" "{name}"' for name, path in csvs] + ["COMMIT;"]
    script += [sql + ";" for sql in index_sql]
    start = time.perf_counter()
    subprocess.run(["sqlite3", output], input="\n".join(script) + "\n", text=True, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--entities", type=int, default=120000)
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="assemble-floor-")
    try:
        facts = generate(work, args.entities)
        seconds, output = assemble(work)
        dumped = os.path.join(work, "dump")
        os.makedirs(dumped)
        page_size, table_sql, index_sql, csvs = dump(output, dumped)
        floor_path = os.path.join(work, "floor.sqlite3")
        floor_seconds = floor(page_size, table_sql, index_sql, csvs, floor_path)
        ratio = seconds / floor_seconds
        print(f"assemble floor: {args.entities:,} entities, {facts:,} facts ({work if args.keep else 'removed after'})")
        print(f"  assemble  {seconds:6.2f} s   {os.path.getsize(output) / 1e6:7.1f} MB")
        print(f"  floor     {floor_seconds:6.2f} s   {os.path.getsize(floor_path) / 1e6:7.1f} MB"
              f"   (sqlite3 .import of the final rows in order, then the same indexes)")
        print(f"  assemble / floor = {ratio:.2f}x  (goal: at most {GOAL}x) {'met' if ratio <= GOAL else 'NOT met'}")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
