#!/usr/bin/env python3
"""Benchmark whole collections through the real Makefile and bin/ scripts, at the shape of a night.

  .venv/bin/python bench/collection_bench.py [--quick] [--workload big|typical|both] [--jobs N]
                                             [--work DIR] [--keep] [--database-url URL]

Builds synthetic workspaces in a temporary directory (a copy of Makefile, makerules/, bin/,
planning_pipeline/, specification/ with the project's .venv linked; file: endpoints; no network, no
upstream code) and runs `make collection/NAME` in them:
  big      one collection, 4 CSV resources of 25,000 OSGB points + 2 of 10,000 OSGB 40-vertex
           polygons (120,000 entities)
  typical  300 resources of 300 rows (every other one points, the rest 20-vertex polygons), one
           endpoint and one organisation each, endpoint-scoped column.csv rows
For each: cold (everything), no-op rerun, add one new small resource (a second endpoint of an
organisation that already has one; bin/assign-entities gives its references entity numbers in
lookup.csv first, as a user does), edit one endpoint's column.csv row. Each prints wall time, the
stage split (every recipe line is run through a timing SHELL, so each line's wall time, exit status
and peak RSS are logged: the split sums the lines, "make" is the wall time no recipe line covers,
i.e. Make's own parsing, re-reading the plan and stat-ing targets), the peak RSS of the largest
process and which resources were transformed, with the ratio against upstream's stored figures.
Never asserts anything: figures are printed (noisy machine: compare ratios within one run).
"""
import argparse
import csv
import hashlib
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from transform_bench import messy_date, polygon, write_config  # noqa: E402  (the transform bench's generators)

DATASET = "conservation-area"
COLLECTION = "conservation-area"
FIRST_ENTITY = 44000000
PROJECT = ("Makefile", "makerules", "bin", "planning_pipeline", "specification", "requirements.txt", "plugins")
GOAL = 10

# Upstream's figures, from issue 13's table (measured there on this kind of 2-core machine, the same
# synthetic inputs, the upstream digital-land commands for the same stages; tiles are built in a
# separate upstream repository and were not timed). Incremental cases: upstream re-transforms every
# resource when any pipeline CSV changes (its config-hash is a hash of the whole pipeline directory),
# so the table counts "(all)": its cold figure is used for them.
UPSTREAM = {
    "big": {"all": 318.0, "transform": 239.0, "assemble": 22.0, "bake": 45.0, "peak-rss-mb": 1100.0},
    # The typical collection was "still being measured" in the issue: ~1.3 s of start-up per upstream
    # command. The figure used here is an ESTIMATE made from the issue's own figures: per resource
    # 1.3 s start-up + 300 rows at upstream's transform rate on the big workload (239 s / 120,000 rows),
    # and assemble + bake scaled from the big workload by entities (90,000 / 120,000).
    "typical": {"transform": 300 * (1.3 + 300 * 239.0 / 120000), "assemble": 22.0 * 0.75, "bake": 45.0 * 0.75},
}
UPSTREAM["typical"]["all"] = sum(UPSTREAM["typical"].values())

# the issue's figures for this project before issue 13's work, printed beside ours
BEFORE = {
    ("big", "cold"): "92 s (transform 12.9, assemble 15.1, bake 6.4, tiles + publish 53.6)",
    ("big", "add"): "67 s, all 3 transforms rerun",
    ("typical", "cold"): "231 s (~0.77 s per resource)",
    ("typical", "edit"): "30 s (1 of 300 transforms)",
    ("big", "noop"): "0.02 s", ("typical", "noop"): "0.02 s",
}

# the timing SHELL: runs each recipe line with bash under GNU time (peak RSS of the line's process
# tree) and appends "start end status maxrss-KiB command" to $BENCH_TIMING_LOG
TIMESHELL = r"""#!/bin/bash
start=$EPOCHREALTIME
out=$(mktemp "${TMPDIR:-/tmp}/timeshell.XXXXXX")
if [ -x /usr/bin/time ]; then
  /usr/bin/time -q -f '%M' -o "$out" /bin/bash "$@"; status=$?
else
  /bin/bash "$@"; status=$?
fi
end=$EPOCHREALTIME
rss=$(tail -n 1 "$out" 2>/dev/null); rm -f "$out"
cmd="${@: -1}"; cmd="${cmd//$'\n'/ }"; cmd="${cmd//$'\t'/ }"
printf '%s\t%s\t%s\t%s\t%s\n' "$start" "$end" "$status" "${rss:-0}" "${cmd:0:2000}" >> "${BENCH_TIMING_LOG:-/dev/null}"
exit $status
"""

# stage of a recipe line, by the first script it names (the order matters: a nested make first)
STAGES = [
    ("nested", re.compile(r"(^|[;&|(\s])(\S*/)?make\s")),
    ("collect", re.compile(r"bin/collect-endpoint|bin/plan --collection \S+ --collect|bin/clean-temporaries")),
    ("index", re.compile(r"bin/index|bin/collect-summary")),
    ("plan", re.compile(r"bin/plan")),
    ("transform", re.compile(r"bin/transform|bin/config-stamps|bin/lookup-index")),
    ("assemble", re.compile(r"bin/assemble")),
    ("gate", re.compile(r"bin/gate")),
    ("bake", re.compile(r"bin/bake|bin/expectations")),
    ("tiles", re.compile(r"bin/build-tiles")),
    ("publish", re.compile(r"bin/publish-datasette|datasette inspect")),
    ("postgis", re.compile(r"bin/load-postgis")),
    ("other", re.compile(r"")),
]
REPORTED = ("collect", "index", "plan", "transform", "assemble", "gate", "bake", "tiles", "publish", "postgis", "other",
            "make")
DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "")  # --database-url: the runs also load PostGIS


# --- the synthetic collection ------------------------------------------------------------------------
def organisations(n):
    with open(os.path.join(ROOT, "example", "organisation.csv"), newline="", encoding="utf-8") as f:
        rows = [r["organisation"] for r in csv.DictReader(f)
                if r["organisation"].startswith("local-authority-eng:") and not r.get("end-date")]
    if n > len(rows):
        sys.exit(f"only {len(rows)} live local authorities in example/organisation.csv")
    return rows[:n]


def point_wkt(rng):
    return f"POINT ({rng.uniform(300000, 600000):.2f} {rng.uniform(100000, 500000):.2f})"


class Resource:
    """One endpoint's file: its rows, the endpoint's column names and its lookup rows."""

    def __init__(self, number, organisation, kind, rows, first_reference, vertices=40, seed=None):
        self.number, self.organisation, self.kind, self.rows = number, organisation, kind, rows
        self.first_reference = first_reference
        self.vertices = vertices
        self.seed = seed if seed is not None else number
        self.url = f"file:sources/{kind}-{number:04d}.csv"
        self.endpoint = hashlib.sha256(self.url.encode()).hexdigest()
        # each endpoint names its columns its own way: endpoint-scoped column.csv rows map them
        self.columns = {"reference": f"REF_{number}", "name": f"NAME_{number}",
                        "designation-date": f"DESIGNATED_{number}", "notes": f"NOTES_{number}",
                        ("point" if kind == "points" else "geometry"): f"WKT_{number}"}

    def references(self):
        return [f"R{self.first_reference + i:07d}" for i in range(self.rows)]

    def write(self, workspace):
        rng = random.Random(self.seed)
        path = os.path.join(workspace, self.url[len("file:"):])
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fields = list(self.columns)
        with open(path, "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow([self.columns[c] for c in fields])
            for i, reference in enumerate(self.references()):
                values = {"reference": reference, "name": f"Area {reference}", "designation-date": messy_date(rng),
                          "notes": f"note {i}" if i % 3 == 0 else "",
                          "point": point_wkt(rng) if self.kind == "points" else None,
                          "geometry": polygon(rng, self.vertices) if self.kind == "polygons" else None}
                w.writerow([values[c] for c in fields])
        with open(path, "rb") as f:
            self.sha256 = hashlib.sha256(f.read()).hexdigest()
        return path

    def endpoint_row(self):
        return [self.endpoint, self.url, "", "", "2026-01-01T00:00:00Z", "2026-01-01", ""]

    def source_row(self):
        source = hashlib.md5(self.url.encode()).hexdigest()
        return [source, "", COLLECTION, f"https://example.org/{self.number}", self.endpoint, "ogl3",
                self.organisation, DATASET, "2026-01-01T00:00:00Z", "2026-01-01", ""]

    def column_rows(self):
        return [[DATASET, "", self.endpoint, column, field] for field, column in self.columns.items()]


def workload(name, quick):
    """The resources of a workload: (resources, entity count)."""
    if name == "big":
        scale = 50 if quick else 1
        points, polygons = 25000 // scale, 10000 // scale
        orgs = organisations(6)
        resources = [Resource(i, orgs[i], "points", points, i * 100000) for i in range(4)]
        resources += [Resource(4 + i, orgs[4 + i], "polygons", polygons, (4 + i) * 100000) for i in range(2)]
    else:
        count, rows = (20, 30) if quick else (300, 300)
        orgs = organisations(count)
        resources = [Resource(i, orgs[i], "points" if i % 2 else "polygons", rows, i * 1000, vertices=20)
                     for i in range(count)]
    return resources


def new_resource(resources):
    """A new small resource: a second endpoint of the first resource's organisation, new references."""
    last = resources[-1]
    return Resource(9000, resources[0].organisation, "points", 30, last.first_reference + 500000, seed=9000)


def build_workspace(target, resources):
    os.makedirs(target)
    for name in PROJECT:
        source = os.path.join(ROOT, name)
        if os.path.isdir(source):
            shutil.copytree(source, os.path.join(target, name), ignore=shutil.ignore_patterns("__pycache__"))
        elif os.path.exists(source):  # copy2: mtimes kept, so the shared .venv's .ready stays newer
            shutil.copy2(source, os.path.join(target, name))
    os.makedirs(os.path.join(target, "example"))
    shutil.copy(os.path.join(ROOT, "example", "organisation.csv"), os.path.join(target, "example", "organisation.csv"))
    os.symlink(os.path.join(ROOT, ".venv"), os.path.join(target, ".venv"))
    os.makedirs(os.path.join(target, "dataset"))
    shutil.copy(os.path.join(ROOT, "example", "organisation.csv"), os.path.join(target, "dataset", "organisation.csv"))

    collection = os.path.join(target, "collection", COLLECTION)
    os.makedirs(os.path.join(collection, "log"))
    with open(os.path.join(collection, "endpoint.csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["endpoint", "endpoint-url", "parameters", "plugin", "entry-date", "start-date", "end-date"])
        w.writerows(r.endpoint_row() for r in resources)
    with open(os.path.join(collection, "source.csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["source", "attribution", "collection", "documentation-url", "endpoint", "licence", "organisation",
                    "pipelines", "entry-date", "start-date", "end-date"])
        w.writerows(r.source_row() for r in resources)
    lookup, entity = [], FIRST_ENTITY
    for r in resources:
        r.write(target)
        for reference in r.references():
            lookup.append([DATASET, "", "", r.organisation, reference, entity])
            entity += 1
    pipeline = os.path.join(target, "pipeline", COLLECTION)
    write_config(pipeline, {"column": [row for r in resources for row in r.column_rows()], "lookup": lookup})
    return target


def add_resource(workspace, resource):
    """A user adding an endpoint: its rows in endpoint.csv and source.csv, its file served, and
    bin/assign-entities run on it (lookup.csv gains its references). Returns assign-entities' seconds."""
    resource.write(workspace)
    collection = os.path.join(workspace, "collection", COLLECTION)
    for name, row in (("endpoint.csv", resource.endpoint_row()), ("source.csv", resource.source_row())):
        with open(os.path.join(collection, name), "a", newline="") as f:
            csv.writer(f, lineterminator="\n").writerow(row)
    with open(os.path.join(workspace, "pipeline", COLLECTION, "column.csv"), "a", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(resource.column_rows())
    staged = os.path.join(workspace, "var", "bench-new", resource.sha256)
    os.makedirs(os.path.dirname(staged), exist_ok=True)
    shutil.copy(os.path.join(workspace, resource.url[len("file:"):]), staged)
    start = time.perf_counter()
    result = subprocess.run([os.path.join(workspace, ".venv", "bin", "python"), "bin/assign-entities",
                             "--dataset", DATASET, "--pipeline-dir", f"pipeline/{COLLECTION}",
                             "--organisation-path", "dataset/organisation.csv", "--endpoints", resource.endpoint,
                             "--organisations", resource.organisation, staged],
                            cwd=workspace, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if result.returncode:
        sys.exit("bin/assign-entities failed:\n" + result.stdout + result.stderr)
    return elapsed, result.stdout.strip()


def edit_column(workspace, resource):
    """Edit one endpoint's column.csv row: its notes column now maps to the name field's... no: to
    `notes` it stays, but its designation-date column becomes the start-date."""
    path = os.path.join(workspace, "pipeline", COLLECTION, "column.csv")
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    column = resource.columns["designation-date"]
    edited = 0
    for row in rows:
        if row[2] == resource.endpoint and row[3] == column:
            row[4] = "start-date"
            edited += 1
    assert edited == 1
    with open(path, "w", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)


# --- running and timing ---------------------------------------------------------------------------------
def run_make(workspace, jobs, label):
    log = os.path.join(workspace, "var", f"bench-timing-{label}.tsv")
    os.makedirs(os.path.dirname(log), exist_ok=True)
    shell = os.path.join(workspace, "timeshell")
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "MAKEFLAGS", "MAKELEVEL", "MFLAGS", "PIPELINE_PARALLEL")}
    env["BENCH_TIMING_LOG"] = log
    if DATABASE_URL:
        env["DATABASE_URL"] = DATABASE_URL
    command = ["make", "V=1", f"SHELL={shell}", f"JOBS={jobs}", f"collection/{COLLECTION}"]
    start = time.perf_counter()
    child = subprocess.Popen(command, cwd=workspace, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             text=True)
    output = child.communicate()[0]
    wall = time.perf_counter() - start
    if child.returncode:
        sys.exit(f"make {label} failed ({child.returncode}):\n{output[-4000:]}")
    return wall, output, timing(log)


def timing(path):
    lines = []
    if os.path.exists(path):
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                parts = line.rstrip("\n").split("\t", 4)
                if len(parts) == 5:
                    start, end, status, rss, command = parts
                    stage = next(s for s, pattern in STAGES if pattern.search(command))
                    lines.append((float(start), float(end), int(rss or 0), stage, command))
    return lines


def split(wall, lines):
    """{stage: seconds} summed over recipe lines; "make" = the wall time of the run that no leaf line covers."""
    stages = dict.fromkeys(REPORTED, 0.0)
    covered = []
    for start, end, _, stage, _ in lines:
        if stage == "nested":
            continue
        stages[stage] += end - start
        covered.append((start, end))
    covered.sort()
    union, last = 0.0, None
    for start, end in covered:
        if last is None or start > last:
            union += end - start
            last = end
        elif end > last:
            union += end - last
            last = end
    stages["make"] = max(0.0, wall - union)
    return stages


def transformed(output):
    return sorted(set(re.findall(r"transform: [\w-]+: ([0-9a-f]{12}): ", output)))


def peak(lines):
    leaves = [(rss, stage) for _, _, rss, stage, _ in lines if stage != "nested"]
    return max(leaves) if leaves else (0, "-")


def fmt_split(stages):
    return ", ".join(f"{s} {stages[s]:.1f}" for s in REPORTED if stages[s] >= 0.05)


def report(name, case, wall, output, lines, resources, names):
    up = UPSTREAM[name]
    stages = split(wall, lines)
    rss, where = peak(lines)
    done = transformed(output)
    which = ", ".join(names.get(r, r) for r in done[:6]) + (" ..." if len(done) > 6 else "")
    ratio = up["all"] / wall if wall else float("inf")
    print(f"  {case:34} {wall:7.1f} s   {ratio:6.1f}x upstream ({up['all']:.0f} s)   peak RSS {rss / 1024:4.0f} MiB "
          f"({where})")
    print(f"      stages (s): {fmt_split(stages)}")
    print(f"      transformed {len(done)} of {len(resources)}: {which or 'none'};"
          f" {sum(1 for _ in lines if _[3] != 'nested')} recipe lines")
    return stages, rss, done


def bench_workload(name, quick, jobs, work):
    resources = workload(name, quick)
    entities = sum(r.rows for r in resources)
    workspace = os.path.join(work, name)
    t = time.perf_counter()
    build_workspace(workspace, resources)
    with open(os.path.join(workspace, "timeshell"), "w") as f:
        f.write(TIMESHELL)
    os.chmod(os.path.join(workspace, "timeshell"), 0o755)
    print(f"\n{name}: {len(resources)} resources, {entities} rows/entities, make -j{jobs} "
          f"(workspace generated in {time.perf_counter() - t:.1f} s: {workspace})")
    names = {r.sha256[:12]: f"#{r.number} ({r.organisation})" for r in resources}
    results = {}

    wall, output, lines = run_make(workspace, jobs, "cold")
    stages, rss, _ = report(name, "cold: make collection/" + COLLECTION, wall, output, lines, resources, names)
    results["cold"] = (wall, stages, rss)
    up = UPSTREAM[name]
    for stage in ("transform", "assemble", "bake"):
        ours = stages[stage] + (stages["gate"] if stage == "assemble" else 0.0)
        print(f"      {stage:9} {ours:6.1f} s  upstream {up[stage]:6.1f} s  {up[stage] / max(ours, 1e-9):6.1f}x"
              + ("  (with the gate)" if stage == "assemble" else ""))
    print(f"      tiles + publish {stages['tiles'] + stages['publish']:.1f} s (upstream: not timed);"
          f" goal {GOAL}x: at most {up['all'] / GOAL:.1f} s in all")
    if name == "big":
        print(f"      peak RSS goal: at most {up['peak-rss-mb'] / 3:.0f} MB (a third of upstream's "
              f"{up['peak-rss-mb'] / 1000:.1f} GB): {rss / 1024:.0f} MiB")
    per = wall / len(resources)
    print(f"      {per:.2f} s per resource")
    if (name, "cold") in BEFORE:
        print(f"      before issue 13: {BEFORE[(name, 'cold')]}")

    wall, output, lines = run_make(workspace, jobs, "noop")
    report(name, "no-op rerun", wall, output, lines, resources, names)

    extra = new_resource(resources)
    assign_seconds, assign_output = add_resource(workspace, extra)
    names[extra.sha256[:12]] = f"the new #{extra.number} ({extra.organisation})"
    wall, output, lines = run_make(workspace, jobs, "add")
    print(f"  (bin/assign-entities for the new resource: {assign_seconds:.1f} s: {assign_output})")
    _, _, done = report(name, "add one new small resource", wall, output, lines, resources + [extra], names)
    if (name, "add") in BEFORE:
        print(f"      before issue 13: {BEFORE[(name, 'add')]}")

    edit_column(workspace, resources[len(resources) // 2])
    wall, output, lines = run_make(workspace, jobs, "edit")
    report(name, "edit one endpoint's column row", wall, output, lines, resources + [extra], names)
    if (name, "edit") in BEFORE:
        print(f"      before issue 13: {BEFORE[(name, 'edit')]}")
    return workspace


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="small sizes: a smoke run of every case")
    p.add_argument("--workload", choices=("big", "typical", "both"), default="both")
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                   help="make's JOBS (default: one per core, as make collection/NAME runs; 1: one step at a time)")
    p.add_argument("--work", help="working directory (default: a temporary one, removed afterwards)")
    p.add_argument("--keep", action="store_true", help="keep the working directory")
    p.add_argument("--database-url", default=DATABASE_URL,
                   help="also load each build into this PostGIS database, as a night with DATABASE_URL does"
                        " (default: $BENCH_DATABASE_URL; none: no PostGIS load)")
    args = p.parse_args()
    globals()["DATABASE_URL"] = args.database_url
    if shutil.which("make") is None:
        sys.exit("make not found")
    work = args.work or tempfile.mkdtemp(prefix="collection-bench-")
    os.makedirs(work, exist_ok=True)
    print(f"collection bench: upstream figures from issue 13's table"
          " (typical: estimated, see UPSTREAM in bench/collection_bench.py)")
    print(f"PostGIS: {'loaded, as DATABASE_URL makes a night do' if args.database_url else 'not loaded (no --database-url)'}")
    if args.quick:
        print("QUICK: sizes are scaled down, so the ratios against upstream's full-size figures mean nothing")
    try:
        for name in (("big", "typical") if args.workload == "both" else (args.workload,)):
            bench_workload(name, args.quick, args.jobs, work)
    finally:
        if not args.keep and not args.work:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
