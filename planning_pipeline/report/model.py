"""What the data-quality report shows, read from what the pipeline already wrote.

- dataset/performance.sqlite3 (its latest run date): endpoints and their latest status per collection
  and organisation, resources, entities, issues by type and severity, failed expectations;
- the regression gate's summaries dataset/D-changes.json and dataset/held/D-changes.json: what it did to
  each dataset (published, first publication, accepted, held, unchanged), read as performance.sqlite3
  reads them;
- dataset/digital-land.sqlite3: which collection each dataset belongs to, resources per collection,
  the expectation results (passed and failed);
- dataset/D.sqlite3: the entities that have issues (to highlight them on the map);
- dataset/D.mbtiles: the tile layer, zooms and bounds of each geography dataset's map;
- dataset/D-changes.csv (or dataset/held/D-changes.csv): the changelog's first rows;
  dataset/held/D-report.md: why a build was held back.

Everything is sorted, so the same outputs give the same report.
"""
import csv
import json
import os
import sqlite3

from ..digital_land.performance import TABLES, change_rows
from ..errors import UserError
from ..load.tiles import mbtiles_metadata

SEVERITIES = ["error", "warning", "notice", "info"]
CHANGES_SHOWN = 20
GATE_COLUMNS = TABLES["dataset_change_summary"]


def _connect(path):
    if not os.path.exists(path):
        raise UserError("not found: build it first (make, or make digital-land)", path)
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.Error as error:
        raise UserError(f"not a readable sqlite database ({error})", path) from None
    conn.row_factory = sqlite3.Row
    return conn


def _rows(conn, sql, params=()):
    try:
        return [dict(r) for r in conn.execute(sql, params)]
    except sqlite3.Error as error:
        path = conn.execute("PRAGMA database_list").fetchone()[2]
        raise UserError(f"cannot read the report's figures ({error})", path or None) from None


def _has_table(conn, name):
    return conn.execute("SELECT 1 FROM sqlite_master WHERE type IN ('table', 'view') AND name = ?", (name,)).fetchone() is not None


def _severity_counts(rows, key="count"):
    counts = {s: 0 for s in SEVERITIES}
    for r in rows:
        counts[r["severity"] if r["severity"] in counts else "info"] += r[key]
    return counts


def _entity_issues(path, severity_of):
    """{entity: {"severity": the worst of its issues, "issues": {issue type: count}}} for the entities of a
    dataset that have issues."""
    found = {}
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            for entity, issue_type, count in conn.execute(
                    "SELECT entity, issue_type, count(*) FROM issue WHERE coalesce(entity, '') != '' "
                    "GROUP BY entity, issue_type ORDER BY CAST(entity AS INTEGER), issue_type"):
                try:
                    entry = found.setdefault(int(entity), {"severity": "info", "issues": {}})
                except (TypeError, ValueError):
                    continue
                entry["issues"][issue_type] = count
                severity = severity_of.get(issue_type, "info")
                if SEVERITIES.index(severity) < SEVERITIES.index(entry["severity"]):
                    entry["severity"] = severity
        finally:
            conn.close()
    except sqlite3.Error:
        return {}
    return found


def _entity_count(path):
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            return conn.execute("SELECT count(*) FROM entity").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.Error:
        return None


def _tiles(path):
    """The map settings of an mbtiles file: layer, zooms, bounds, feature count; None without one."""
    meta = mbtiles_metadata(path)
    if meta is None:
        return None
    try:
        described = json.loads(meta.get("json", "{}"))
        layers = described.get("vector_layers", [])
        stats = described.get("tilestats", {}).get("layers", [])
    except (ValueError, AttributeError):
        layers, stats = [], []
    try:
        bounds = [float(v) for v in meta.get("bounds", "").split(",")]
    except ValueError:
        bounds = []
    return {
        "layer": layers[0]["id"] if layers else meta.get("name", ""),
        "minzoom": int(meta["minzoom"]) if str(meta.get("minzoom", "")).isdigit() else 0,
        "maxzoom": int(meta["maxzoom"]) if str(meta.get("maxzoom", "")).isdigit() else 14,
        "bounds": bounds if len(bounds) == 4 else None,
        "features": stats[0].get("count") if stats else None,
        "geometry": stats[0].get("geometry", "") if stats else "",
    }


def _changes(dataset_dir, dataset, held):
    path = os.path.join(dataset_dir, "held", f"{dataset}-changes.csv") if held else \
        os.path.join(dataset_dir, f"{dataset}-changes.csv")
    if not os.path.exists(path):
        return {"path": "", "rows": [], "total": 0}
    rows, total = [], 0
    with open(path, encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            total += 1
            if len(rows) < CHANGES_SHOWN:
                rows.append(row)
    return {"path": os.path.relpath(path, os.path.dirname(dataset_dir)), "rows": rows, "total": total}


def _held_report(dataset_dir, dataset):
    path = os.path.join(dataset_dir, "held", f"{dataset}-report.md")
    if not os.path.exists(path):
        return ""
    with open(path, encoding="utf-8", errors="replace") as f:
        return f.read()


def build(root):
    """The report's figures for the workspace at root, as one JSON-able dict."""
    dataset_dir = os.path.join(root, "dataset")
    perf = _connect(os.path.join(dataset_dir, "performance.sqlite3"))
    dl = _connect(os.path.join(dataset_dir, "digital-land.sqlite3"))
    latest = _rows(perf, "SELECT max(run_date) AS run_date FROM organisation_dataset_summary")[0]["run_date"]
    if latest is None:
        raise UserError("no run recorded yet", os.path.join(dataset_dir, "performance.sqlite3"))
    at = {"run_date": latest}
    org_rows = _rows(perf, "SELECT * FROM organisation_dataset_summary WHERE run_date = :run_date "
                           "ORDER BY dataset, organisation", at)
    endpoints = _rows(perf, "SELECT * FROM endpoint_summary WHERE run_date = :run_date "
                            "ORDER BY collection, organisation, dataset, endpoint", at)
    issue_types = _rows(perf, "SELECT * FROM issue_type_summary WHERE run_date = :run_date "
                              "ORDER BY dataset, organisation, issue_type", at)
    # what the gate did, from its own summaries (a held build's first), as performance.sqlite3 records it
    gate = {r[1]: dict(zip(GATE_COLUMNS, r)) for r in change_rows(dataset_dir, latest)}
    collection_of = {r["dataset"]: r["collection"] for r in _rows(dl, "SELECT dataset, collection FROM dataset")}
    resources = {r["collection"]: r["count"] for r in _rows(
        dl, "SELECT collection, count(DISTINCT resource) AS count FROM resource GROUP BY collection")}
    severity_of = {r["issue_type"]: r["severity"] for r in _rows(dl, "SELECT issue_type, severity FROM issue_type")
                   if r["severity"] in SEVERITIES} if _has_table(dl, "issue_type") else {}
    expectations = _rows(dl, "SELECT dataset, organisation, name, operation, passed, severity, message "
                             "FROM expectation ORDER BY dataset, organisation, name") if _has_table(dl, "expectation") else []
    perf.close()
    dl.close()

    names = set(gate) | {r["dataset"] for r in org_rows}
    for name in os.listdir(dataset_dir) if os.path.isdir(dataset_dir) else ():
        if name.endswith(".sqlite3") and name[: -len(".sqlite3")] not in ("digital-land", "performance"):
            names.add(name[: -len(".sqlite3")])
    held_dir = os.path.join(dataset_dir, "held")
    for name in os.listdir(held_dir) if os.path.isdir(held_dir) else ():
        if name.endswith(".sqlite3"):
            names.add(name[: -len(".sqlite3")])

    datasets = []
    for name in sorted(names):
        change = gate.get(name, {})
        held = (change.get("decision") or "").lower() == "held" or os.path.exists(os.path.join(held_dir, f"{name}.sqlite3"))
        its_issues = [r for r in issue_types if r["dataset"] == name]
        by_type = {}
        for r in its_issues:
            key = (r["issue_type"], r["severity"])
            by_type[key] = by_type.get(key, 0) + r["count"]
        passed = [e for e in expectations if e["dataset"] == name]
        failed = [e for e in passed if str(e["passed"]).lower() in ("false", "0", "no", "f")]
        published = os.path.join(dataset_dir, f"{name}.sqlite3")
        tiles = _tiles(os.path.join(dataset_dir, f"{name}.mbtiles"))
        datasets.append({
            "dataset": name,
            "collection": collection_of.get(name, ""),
            "entities": _entity_count(published) if os.path.exists(published) else change.get("entity_count"),
            "decision": change.get("decision", ""),
            "held": held,
            "held_report": _held_report(dataset_dir, name) if held else "",
            "gate": {k: change.get(k) for k in ("entity_count", "published_entity_count", "added_count", "removed_count",
                                                 "removed_intended_count", "changed_count", "reasons")},
            "changes": _changes(dataset_dir, name, held),
            "issues": _severity_counts(its_issues),
            "issue_types": [{"issue_type": t, "severity": s, "count": c} for (t, s), c in sorted(by_type.items())],
            "expectations": {"count": len(passed), "failed": len(failed), "rows": passed},
            "organisations": [r for r in org_rows if r["dataset"] == name],
            "map": tiles,
            "entity_issues": _entity_issues(published, severity_of) if tiles and os.path.exists(published) else {},
        })

    collections = []
    for collection in sorted({d["collection"] for d in datasets if d["collection"]} | {e["collection"] for e in endpoints}):
        its = [d for d in datasets if d["collection"] == collection]
        its_endpoints = [e for e in endpoints if e["collection"] == collection]
        distinct = {e["endpoint"]: e for e in its_endpoints}
        collections.append({
            "collection": collection,
            "datasets": [d["dataset"] for d in its],
            "endpoints": its_endpoints,
            "endpoint_count": len(distinct),
            "active_endpoint_count": sum(1 for e in distinct.values() if e["active"]),
            "error_endpoint_count": sum(1 for e in distinct.values() if e["active"] and str(e["latest_status"]) != "200"),
            "resources": resources.get(collection, 0),
            "entities": sum(d["entities"] or 0 for d in its),
            "issues": {s: sum(d["issues"][s] for d in its) for s in SEVERITIES},
            "expectations_failed": sum(d["expectations"]["failed"] for d in its),
            "held": [d["dataset"] for d in its if d["held"]],
        })

    organisations = {}
    for r in org_rows:
        if not r["organisation"]:
            continue
        o = organisations.setdefault(r["organisation"], {"organisation": r["organisation"], "name": r["organisation_name"],
                                                         "datasets": []})
        o["datasets"].append(r)
    return {
        "run_date": latest,
        "collections": collections,
        "organisations": [organisations[k] for k in sorted(organisations)],
        "datasets": datasets,
        "held": [d["dataset"] for d in datasets if d["held"]],
    }
