#!/usr/bin/env python3
"""Benchmark the datatype normalisers: values per second for messy dates, decimals, OSGB points
(WKT and GeoX/GeoY) and OSGB polygons.

    .venv/bin/python bench/datatype_bench.py [--polygons 20000] [--vertices 40] [--points 100000]

Inputs are generated (seeded, so every run sees the same values). Dates and decimals are mostly
distinct values, so the per-value caches do not flatter the figures; a second figure shows a
realistic repeated-values case.
"""
import argparse
import os
import random
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from planning_pipeline.datatype import (  # noqa: E402
    normalise_geometries,
    normalise_geometry,
    normalise_points_xy,
    normaliser,
)
from planning_pipeline.datatype import date as date_module  # noqa: E402


class Count:
    __slots__ = ("n",)

    def __init__(self):
        self.n = 0

    def log(self, issue_type, value, message=""):
        self.n += 1


def messy_dates(n, rng):
    def one():
        y, m, d = rng.randint(1900, 2030), rng.randint(1, 12), rng.randint(1, 28)
        h, mi, s = rng.randint(0, 23), rng.randint(0, 59), rng.randint(0, 59)
        month = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"][m - 1]
        kind = rng.random()
        if kind < 0.35:
            return f"{y:04d}-{m:02d}-{d:02d}"
        if kind < 0.55:
            return f"{d:02d}/{m:02d}/{y:04d}"
        if kind < 0.65:
            return f"{y:04d}-{m:02d}-{d:02d}T{h:02d}:{mi:02d}:{s:02d}Z"
        if kind < 0.70:
            return f"{d}-{month}-{y % 100:02d}"
        if kind < 0.75:
            return f"{d:02d}.{m:02d}.{y}"
        if kind < 0.80:
            return f"{y}{m:02d}{d:02d}"
        if kind < 0.85:
            return f"{month} {d:02d}, {y}"
        if kind < 0.90:
            return f' "{y}/{m:02d}/{d:02d} {h:02d}:{mi:02d}", '
        if kind < 0.95:
            return f"{y}-{d + 12 if d < 13 else d}-{m:02d}"  # day-month order, some invalid
        return rng.choice(["n/a", "unknown", "31/02/2020", "1700-01-01", "TBC", f"{y}"])

    return [one() for _ in range(n)]


def polygons(n, vertices, rng):
    import math

    out = []
    for _ in range(n):
        cx, cy = rng.uniform(300000, 600000), rng.uniform(100000, 600000)
        pts = []
        for k in range(vertices):
            a = 2 * math.pi * k / vertices
            r = rng.uniform(20, 200)
            pts.append(f"{cx + r * math.cos(a):.3f} {cy + r * math.sin(a):.3f}")
        pts.append(pts[0])
        out.append("POLYGON ((" + ", ".join(pts) + "))")
    return out


def timed(label, n, fn, repeat=3):
    """Best wall-clock time of `repeat` runs (and the CPU time of that run: convertbng uses threads)."""
    best = cpu = None
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        elapsed, used = time.perf_counter() - start, time.process_time() - start_cpu
        if best is None or elapsed < best:
            best, cpu = elapsed, used
    print(f"{label:<50} {n:>7} values {best:7.3f} s (cpu {cpu:6.3f} s) {n / best:>11,.0f} values/s")
    return best


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dates", type=int, default=100000)
    parser.add_argument("--decimals", type=int, default=100000)
    parser.add_argument("--points", type=int, default=100000)
    parser.add_argument("--polygons", type=int, default=20000)
    parser.add_argument("--vertices", type=int, default=40)
    args = parser.parse_args()
    rng = random.Random(20240607)
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cpus")

    dates = messy_dates(args.dates, rng)
    date_fn = normaliser("datetime", "start-date")
    sink = Count()

    def run_dates():
        date_module._parsed.cache_clear()
        for v in dates:
            date_fn(v, sink)

    print(f"distinct dates: {len(set(dates))} of {len(dates)}")
    timed("datetime (messy, cache cleared)", len(dates), run_dates)
    repeated = [dates[i % 2000] for i in range(len(dates))]
    timed("datetime (2,000 distinct values repeated)", len(repeated), lambda: [date_fn(v, sink) for v in repeated])

    decimals = [rng.choice(["{:.3f}", "£{:,.2f}", "{:.0f}", "{:.8f}", "-{:.1f}"]).format(rng.uniform(0, 1e6))
                for _ in range(args.decimals)]
    decimal_fn = normaliser("decimal", "hectares")
    timed("decimal", len(decimals), lambda: [decimal_fn(v, sink) for v in decimals])
    integers = [str(rng.randint(-10 ** 6, 10 ** 6)) + rng.choice(["", ".0"]) for _ in range(args.decimals)]
    integer_fn = normaliser("integer", "count")
    timed("integer", len(integers), lambda: [integer_fn(v, sink) for v in integers])

    xs = [f"{rng.uniform(300000, 600000):.2f}" for _ in range(args.points)]
    ys = [f"{rng.uniform(100000, 600000):.2f}" for _ in range(args.points)]
    wkt_points = [f"POINT ({x} {y})" for x, y in zip(xs, ys)]
    sinks = [None] * args.points
    timed("point WKT, OSGB (batch)", len(wkt_points), lambda: normalise_geometries(wkt_points, "point", sinks))
    timed("GeoX/GeoY, OSGB (batch)", len(xs), lambda: normalise_points_xy(xs, ys, sinks))
    few = wkt_points[:5000]
    timed("point WKT, OSGB (scalar, one call per value)", len(few),
          lambda: [normalise_geometry(v, "point", None) for v in few], repeat=1)

    polys = polygons(args.polygons, args.vertices, rng)
    psinks = [None] * len(polys)
    timed(f"multipolygon, OSGB, {args.vertices} vertices (batch)", len(polys),
          lambda: normalise_geometries(polys, "multipolygon", psinks))
    few = polys[:2000]
    timed(f"multipolygon, OSGB, {args.vertices} vertices (scalar)", len(few),
          lambda: [normalise_geometry(v, "multipolygon", None) for v in few], repeat=1)


if __name__ == "__main__":
    main()
