"""Plan a collection: which resource feeds which dataset, written as a makefile Make re-reads.

For every dataset the collection feeds (specification/dataset.csv `collection`) and every resource
in resource.csv whose endpoints' sources name that dataset, declare the transformed-file target
with the resource's endpoints, organisations and first-collected date. Every collected resource is
planned (history is kept, as upstream); old-resource.csv retires a resource (410, or no
replacement) or redirects it (301: the old resource's target is built from the new file).

A planned resource whose file is not in the collection's resource/ folder (a redirect to a file never
collected, a partial restore, a deleted file) is left out of the plan, reported as one line naming
the old-resource.csv or resource.csv line, and recorded as a "missing resource" issue of each of its
datasets (var/<c>/plan-issue/<dataset>.csv, read by assemble), so the rest of the collection builds.
The plan names the resource files it found and those it missed, and asks Make to plan again when
that set changes (a missing file appears, a planned one disappears).
"""
import csv
import io
import os
import sys

from ..collect.endpoint import not_live
from ..csvio import csv_text, read_csv, write_csv
from ..errors import UserError
from ..files import atomic_write, write_if_changed
from . import split

PLAN_FIELDS = ["dataset", "resource", "path", "endpoints", "organisations", "entry-date"]
ISSUE_FIELDS = ["dataset", "resource", "line-number", "entry-number", "field", "entity", "issue-type", "value", "message"]
MISSING_RESOURCE = "missing resource"


def variable(dataset):
    return dataset.upper().replace("-", "_")


def _numbered_rows(path, required):
    """(line, row) for each row of a CSV file, line being the row's first line; none if it is missing."""
    if not os.path.exists(path):
        return
    with open(path, encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f)
        if reader.fieldnames is None:
            return  # an empty file
        missing = [c for c in required if c not in reader.fieldnames]
        if missing:
            raise UserError(f"missing column(s) {', '.join(missing)}", path, 1)
        last = reader.line_num
        for row in reader:
            yield last + 1, {k: (v if v is not None else "") for k, v in row.items() if k is not None}
            last = reader.line_num


def _on_disk(resource_dir):
    """The names in the resource folder, as Make's $(wildcard) sees them (directory entries, so a
    broken link too)."""
    try:
        return set(os.listdir(resource_dir))
    except (FileNotFoundError, NotADirectoryError):
        return set()


class Plan(list):
    """The planned rows, and what was left out: .missing (one dict per missing resource file and
    dataset: the issue rows), .messages (one line per missing file), .present (the resource
    files the plan reads), .absent (the missing files it would read) and .unreadable (those of
    .absent that are in the folder all the same: a broken link, a directory)."""

    def __init__(self):
        super().__init__()
        self.missing, self.messages, self.present, self.absent, self.unreadable = [], [], set(), set(), set()
        self.retired = set()  # datasets fed by a retired resource: still planned, so one left with none is emptied

    def datasets(self):
        return sorted({r["dataset"] for r in self} | {r["dataset"] for r in self.missing} | self.retired)


def plan_rows(collection_dir, collection, specification):
    """(dataset, resource, path, endpoints, organisations, entry-date) for every planned target."""
    feeds = set(specification.collection_datasets(collection))
    old_resource_csv = os.path.join(collection_dir, "old-resource.csv")
    resource_csv = os.path.join(collection_dir, "resource.csv")
    resource_dir = os.path.join(collection_dir, "resource")
    folder = resource_dir.rstrip("/") + "/"
    redirects = {}
    for line, row in _numbered_rows(old_resource_csv, ("old-resource",)):
        redirects[row["old-resource"]] = (row.get("status", ""), row.get("resource", ""), line)

    resources = {}
    for line, row in _numbered_rows(resource_csv, ("resource",)):
        resources[row["resource"]] = (line, row)
    on_disk = _on_disk(resource_dir)
    rows = Plan()
    for resource in sorted(resources):
        line, row = resources[resource]
        source = resource
        if resource in redirects:
            status, target, redirect_line = redirects[resource]
            if status == "410" or not target:
                rows.retired.update(d for d in split(row.get("datasets")) if d in feeds)
                continue
            source = target
        datasets = []
        for dataset in split(row.get("datasets")):
            if dataset not in feeds:
                print(f"plan: {collection}: resource {resource[:12]} names dataset {dataset!r}, "
                      "which the specification does not put in this collection; skipped", file=sys.stderr)
                continue
            datasets.append(dataset)
        if not datasets:
            continue
        path = os.path.join(resource_dir, source)
        if not (source in on_disk and os.path.isfile(path)):
            if source != resource:
                message = (f"{old_resource_csv}:{redirect_line}: resource {resource} is redirected to {source}, "
                           f"which is not in {folder}")
            else:
                message = f"{resource_csv}:{line}: resource {resource} is not in {folder}"
            rows.messages.append(message)
            rows.absent.add(path)
            if source in on_disk:
                rows.unreadable.add(path)
            for dataset in datasets:
                rows.missing.append({"dataset": dataset, "resource": resource, "issue-type": MISSING_RESOURCE,
                                     "value": source, "message": message})
            continue
        rows.present.add(path)
        for dataset in datasets:
            rows.append({
                "dataset": dataset,
                "resource": resource,
                "path": path,
                "endpoints": row.get("endpoints", ""),
                "organisations": row.get("organisations", ""),
                "entry-date": row.get("start-date", ""),
                "redirected": source != resource,
            })
    rows.sort(key=lambda r: (r["dataset"], r["resource"]))
    rows.missing.sort(key=lambda r: (r["dataset"], r["resource"]))
    return rows


def _words(variable_name, words):
    return f"{variable_name} :=" + "".join(f" \\\n    {w}" for w in sorted(words)) + "\n"


def makefile(rows, collection, geography=(), issue_dir=None):
    """The plan as Make text: one transform target per (dataset, resource), one target per dataset.
    With issue_dir, each dataset's target also reads its plan issues, issue_dir/DATASET.csv."""
    out = io.StringIO()
    out.write(f"# The plan for collection {collection}, generated by bin/plan: do not edit.\n\n")
    datasets = rows.datasets() if isinstance(rows, Plan) else sorted({r["dataset"] for r in rows})
    for dataset in datasets:
        var = variable(dataset)
        mine = [r for r in rows if r["dataset"] == dataset]
        out.write(f"{var}_TRANSFORMED_FILES :=")
        for r in mine:
            out.write(f" \\\n    $(TRANSFORMED_DIR){dataset}/{r['resource']}.csv")
        out.write("\n\n")
        for r in mine:
            options = (f"--endpoints '{' '.join(split(r['endpoints']))}' "
                       f"--organisations '{' '.join(split(r['organisations']))}' --entry-date '{r['entry-date']}'")
            if r["redirected"]:
                options += f" --resource '{r['resource']}'"
            out.write(f"$(TRANSFORMED_DIR){dataset}/{r['resource']}.csv: {r['path']} "
                      f"$(CONFIG_STAMP_DIR){dataset}/{r['resource']}.json $(TRANSFORM_DEPENDENCIES)\n")
            out.write(f"\t$(call run-transform,{dataset},{options})\n\n")
        plan_issue = f" {os.path.join(issue_dir, dataset + '.csv')}" if issue_dir else ""
        out.write(f"$(ASSEMBLED_DIR){dataset}.sqlite3: $({var}_TRANSFORMED_FILES) $(VAR_C)resources/{dataset}.txt"
                  f"{plan_issue} $(ASSEMBLE_DEPENDENCIES)\n")
        out.write(f"\t$(call build-dataset,{dataset},$({var}_TRANSFORMED_FILES))\n\n")
        out.write(f"transformed:: $({var}_TRANSFORMED_FILES)\n\n")
        out.write(f"dataset:: $(DATASET_DIR){dataset}.sqlite3\n\n\n")
    out.write("DATASETS :=" + "".join(f" \\\n\t{d}" for d in datasets) + "\n")
    out.write("GEOGRAPHY_DATASETS :=" + "".join(f" \\\n\t{d}" for d in datasets if d in geography) + "\n")
    if issue_dir:
        # the plan issue files are written with the plan (an empty rule: a deleted one is not an error)
        out.write("".join(f"\n{os.path.join(issue_dir, d + '.csv')}: ;" for d in datasets) + "\n")
    out.write("\n# The resource files the plan reads, and those it found missing: plan again when that set\n"
              "# changes (a missing file restored, a planned one deleted). Checked on Make's first reads only.\n")
    out.write(_words("PLAN_RESOURCE_FILES", getattr(rows, "present", {r["path"] for r in rows})))
    out.write(_words("PLAN_MISSING_FILES", getattr(rows, "absent", ())))
    out.write(_words("PLAN_UNREADABLE_FILES", getattr(rows, "unreadable", ())))
    out.write("ifeq ($(filter-out 1 2,$(MAKE_RESTARTS)),)\n"
              "ifneq ($(sort $(wildcard $(PLAN_RESOURCE_FILES) $(PLAN_MISSING_FILES))),"
              "$(sort $(PLAN_RESOURCE_FILES) $(PLAN_UNREADABLE_FILES)))\n"
              "$(PLAN_MK): plan-resource-files-changed\n"
              ".PHONY: plan-resource-files-changed\n"
              "endif\nendif\n")
    return out.getvalue()


def write_plan(collection_dir, collection, specification, plan_mk, plan_csv, issue_dir=None):
    """Write the plan (plan_mk, plan_csv), each planned dataset's resource list (resources/DATASET.txt
    beside plan_mk) and its plan issues (issue_dir/DATASET.csv, default plan-issue/ beside plan_mk),
    those two rewritten only when they change; report each missing resource file on stderr.
    Returns the rows (a Plan)."""
    rows = plan_rows(collection_dir, collection, specification)
    issue_dir = issue_dir or os.path.join(os.path.dirname(plan_mk), "plan-issue")
    geography = {d for d in specification.dataset if specification.dataset_typology(d) == "geography"}
    for message in rows.messages:
        print(message, file=sys.stderr)
    datasets = rows.datasets()
    with atomic_write(plan_mk) as f:
        f.write(makefile(rows, collection, geography, issue_dir))
    # each dataset's planned resources, rewritten only when they change: a retired resource (no longer a
    # prerequisite, which Make cannot see) re-assembles its dataset, and nothing else does
    for dataset in datasets:
        listed = "".join(r["resource"] + "\n" for r in rows if r["dataset"] == dataset)
        write_if_changed(os.path.join(os.path.dirname(plan_mk), "resources", dataset + ".txt"), listed)
        issues = [r for r in rows.missing if r["dataset"] == dataset]
        write_if_changed(os.path.join(issue_dir, dataset + ".csv"), csv_text(ISSUE_FIELDS, issues))
    write_csv(plan_csv, PLAN_FIELDS, rows)
    return rows


def collect_makefile(collection_dir, collection, today):
    """Make text naming today's log target of every endpoint live today (the collector's own rule)."""
    path = os.path.join(collection_dir, "endpoint.csv")
    live = []
    for line, row in enumerate(read_csv(path, ("endpoint", "endpoint-url")), 2):
        try:
            if row["endpoint-url"] and not not_live(row, today):
                live.append(row["endpoint"])
        except ValueError as error:
            raise UserError(f"endpoint {row['endpoint']}: bad date {error}", path, line) from None
    out = io.StringIO()
    out.write(f"# Endpoints of {collection} live on {today}, generated by bin/plan: do not edit.\n")
    out.write("ENDPOINT_LOGS :=" + "".join(f" \\\n    $(LOG_DIR){today}/{e}.json" for e in live) + "\n\n")
    for n, endpoint in enumerate(live, 1):
        out.write(f"$(LOG_DIR){today}/{endpoint}.json:\n\t$(call collect-endpoint,{endpoint},{n}/{len(live)})\n\n")
    return out.getvalue()
