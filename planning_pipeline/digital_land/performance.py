"""performance.sqlite3: how each organisation's data is doing, per dataset, dated so history builds up.

Read from digital-land.sqlite3 (source, endpoint, log, resource joins, organisation, issue_summary,
expectation) and from the entity tables of dataset/<ds>.sqlite3. Every row carries the run date; when
the output already exists, its rows for other run dates are kept (a re-run on the same date replaces
that date's rows), so the file holds the summaries over time.

Tables:
- endpoint_summary: per organisation, dataset and endpoint: the endpoint's dates, whether it is active,
  the status, exception and date of its latest log entry, its latest resource and resource count;
- organisation_dataset_summary: per organisation and dataset: endpoint counts (all, active, active
  whose latest status is not 200), resources, entities, issues (all and by severity), failed expectations;
- issue_type_summary: issues per organisation, dataset and issue type, with severity and responsibility;
- expectation_summary: failed expectations per organisation, dataset and severity;
- dataset_change_summary: per dataset, what the regression gate did (dataset/D-changes.json, or
  dataset/held/D-changes.json for a build held back): built that day (published, first publication,
  accepted, held) or unchanged, entities, and entities added, removed (intended) and changed.
"""
import os
import sqlite3
import sys

from ..errors import UserError
from . import building
from .builder import dataset_files

SEVERITIES = ["error", "warning", "notice", "info"]

TABLES = {
    "endpoint_summary": [
        "run_date", "organisation", "organisation_name", "collection", "dataset", "endpoint", "endpoint_url",
        "endpoint_entry_date", "endpoint_end_date", "active", "latest_status", "latest_exception",
        "latest_log_entry_date", "latest_resource", "resource_count",
    ],
    "organisation_dataset_summary": [
        "run_date", "organisation", "organisation_name", "dataset", "endpoint_count", "active_endpoint_count",
        "error_endpoint_count", "resource_count", "entity_count", "issue_count",
    ] + [f"issue_{s}_count" for s in SEVERITIES] + ["expectation_failure_count"],
    "issue_type_summary": ["run_date", "organisation", "dataset", "issue_type", "severity", "responsibility", "count"],
    "expectation_summary": ["run_date", "organisation", "dataset", "severity", "count"],
    "dataset_change_summary": [
        "run_date", "dataset", "decision", "build_date", "entity_count", "published_entity_count", "added_count",
        "removed_count", "removed_intended_count", "changed_count", "reasons",
    ],
}
INTEGER_COLUMNS = {"active", "resource_count", "entity_count", "count"} | {
    c for t in ("organisation_dataset_summary", "dataset_change_summary") for c in TABLES[t] if c.endswith("_count")}

ENDPOINT_SQL = """
WITH latest_log AS (
    SELECT endpoint, status, exception, entry_date FROM (
        SELECT endpoint, status, exception, entry_date,
               row_number() OVER (PARTITION BY endpoint ORDER BY entry_date DESC, resource DESC) AS rn
        FROM dl.log
    ) WHERE rn = 1
),
endpoint_resource AS (
    SELECT re.endpoint, count(DISTINCT re.resource) AS resource_count,
           (SELECT r2.resource FROM dl.resource_endpoint re2 JOIN dl.resource r2 ON r2.resource = re2.resource
             WHERE re2.endpoint = re.endpoint ORDER BY r2.start_date DESC, r2.resource DESC LIMIT 1) AS latest_resource
    FROM dl.resource_endpoint re GROUP BY re.endpoint
)
SELECT DISTINCT :run_date, s.organisation, coalesce(o.name, ''), coalesce(e.collection, s.collection), sp.pipeline,
       s.endpoint, coalesce(e.endpoint_url, ''), coalesce(e.entry_date, ''), coalesce(e.end_date, ''),
       CASE WHEN coalesce(e.end_date, '') = '' OR e.end_date > :run_date THEN 1 ELSE 0 END,
       coalesce(ll.status, ''), coalesce(ll.exception, ''), coalesce(ll.entry_date, ''),
       coalesce(er.latest_resource, ''), coalesce(er.resource_count, 0)
FROM dl.source s
JOIN dl.source_pipeline sp ON sp.source = s.source
LEFT JOIN dl.endpoint e ON e.endpoint = s.endpoint
LEFT JOIN dl.organisation o ON o.organisation = s.organisation
LEFT JOIN latest_log ll ON ll.endpoint = s.endpoint
LEFT JOIN endpoint_resource er ON er.endpoint = s.endpoint
WHERE coalesce(s.endpoint, '') != ''
ORDER BY 2, 5, 6
"""

ISSUE_SQL = """
SELECT :run_date, ro.organisation, i.dataset, i.issue_type, i.severity, i.responsibility, sum(i.count)
FROM dl.issue_summary i JOIN dl.resource_organisation ro ON ro.resource = i.resource
GROUP BY ro.organisation, i.dataset, i.issue_type, i.severity, i.responsibility
ORDER BY 2, 3, 4
"""

EXPECTATION_SQL = """
SELECT :run_date, organisation, dataset, coalesce(severity, ''), count(*)
FROM dl.expectation WHERE lower(coalesce(passed, '')) IN ('false', '0', 'no', 'f')
GROUP BY organisation, dataset, severity ORDER BY 2, 3, 4
"""


def _entity_counts(conn, dataset_dir, warn):
    """(organisation, dataset) -> entity count, from the datasets' entity tables."""
    organisation_of = dict(conn.execute("SELECT CAST(entity AS TEXT), organisation FROM dl.organisation WHERE coalesce(entity, '') != ''"))
    counts = {}
    for path in dataset_files(dataset_dir):
        name = os.path.basename(path)[: -len(".sqlite3")]
        try:
            src = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            try:
                found = src.execute(
                    "SELECT coalesce(nullif(dataset, ''), ?), CAST(organisation_entity AS TEXT), count(*) FROM entity GROUP BY 1, 2",
                    (name,),
                ).fetchall()
            finally:
                src.close()
        except sqlite3.Error as error:
            warn(f"performance-sqlite: warning: {path}: no entity table read ({error})")
            continue
        for dataset, organisation_entity, count in found:
            organisation = organisation_of.get(organisation_entity or "", "")
            counts[(organisation, dataset)] = counts.get((organisation, dataset), 0) + count
    return counts


def change_rows(dataset_dir, run_date):
    """dataset_change_summary rows from the gate's summaries (a held build's, else the published one's)."""
    import glob
    import json

    found = {}
    for held, pattern in ((False, "*-changes.json"), (True, os.path.join("held", "*-changes.json"))):
        for path in sorted(glob.glob(os.path.join(glob.escape(dataset_dir), pattern))):
            try:
                with open(path, encoding="utf-8") as f:
                    summary = json.load(f)
                found[summary["dataset"]] = summary  # a held build wins over the published one
            except (OSError, ValueError, KeyError, TypeError):
                continue
    rows = []
    for dataset in sorted(found):
        s = found[dataset]
        today = s.get("date") == run_date or s.get("decision") == "held"
        counts = [s.get(k, 0) if today else 0 for k in ("added", "removed", "removed-intended", "changed")]
        rows.append([run_date, dataset, s.get("decision", "") if today else "unchanged", s.get("date", ""),
                     s.get("candidate-entities", 0), s.get("published-entities"), *counts,
                     "; ".join(s.get("reasons", [])) if today else ""])
    return rows


def _create(conn, table, prefix=""):
    columns = ", ".join(f"{c} {'INTEGER' if c in INTEGER_COLUMNS else 'TEXT'}" for c in TABLES[table])
    conn.execute(f"CREATE TABLE {prefix}{table} ({columns})")


def _insert(conn, table, rows):
    placeholders = ", ".join("?" for _ in TABLES[table])
    conn.executemany(f"INSERT INTO {table} VALUES ({placeholders})", rows)


def build_performance(digital_land, dataset_dir, output, run_date, warn=None):
    """Build performance.sqlite3 for run_date, keeping other dates' rows from an existing output."""
    warn = warn or (lambda message: print(message, file=sys.stderr))
    if not os.path.exists(digital_land):
        raise UserError("no such file (build it with bin/digital-land-sqlite)", digital_land)
    with building(output) as conn:
        conn.execute("ATTACH DATABASE ? AS dl", (digital_land,))
        for table in TABLES:
            _create(conn, table)
        if os.path.exists(output):
            conn.execute("ATTACH DATABASE ? AS old", (output,))
            for table in TABLES:
                exists = conn.execute("SELECT 1 FROM old.sqlite_master WHERE type='table' AND name=?", (table,)).fetchone()
                if not exists:
                    continue
                old_columns = [r[1] for r in conn.execute(f"PRAGMA old.table_info({table})")]
                columns = [c for c in TABLES[table] if c in old_columns]
                conn.execute(
                    f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(columns)} FROM old.{table} "
                    "WHERE run_date != ? ORDER BY rowid", (run_date,)
                )
            conn.commit()
            conn.execute("DETACH DATABASE old")
        params = {"run_date": run_date}
        endpoints = conn.execute(ENDPOINT_SQL, params).fetchall()
        _insert(conn, "endpoint_summary", endpoints)
        issues = conn.execute(ISSUE_SQL, params).fetchall()
        _insert(conn, "issue_type_summary", issues)
        expectations = conn.execute(EXPECTATION_SQL, params).fetchall()
        _insert(conn, "expectation_summary", expectations)
        entities = _entity_counts(conn, dataset_dir, warn) if dataset_dir and os.path.isdir(dataset_dir) else {}

        names = dict(conn.execute("SELECT organisation, name FROM dl.organisation"))
        summary = {}

        def entry(organisation, dataset):
            key = (organisation, dataset)
            if key not in summary:
                summary[key] = {
                    "run_date": run_date, "organisation": organisation, "organisation_name": names.get(organisation, "") or "",
                    "dataset": dataset, **{c: 0 for c in TABLES["organisation_dataset_summary"] if c.endswith("_count")},
                }
            return summary[key]

        for row in endpoints:
            record = dict(zip(TABLES["endpoint_summary"], row))
            s = entry(record["organisation"], record["dataset"])
            s["endpoint_count"] += 1
            if record["active"]:
                s["active_endpoint_count"] += 1
                if record["latest_status"] != "200":
                    s["error_endpoint_count"] += 1
        resources = conn.execute(
            "SELECT ro.organisation, rd.dataset, count(DISTINCT ro.resource) FROM dl.resource_organisation ro "
            "JOIN dl.resource_dataset rd ON rd.resource = ro.resource GROUP BY 1, 2"
        ).fetchall()
        for organisation, dataset, count in resources:
            entry(organisation, dataset)["resource_count"] = count
        for (organisation, dataset), count in entities.items():
            entry(organisation, dataset)["entity_count"] = count
        for _, organisation, dataset, _, severity, _, count in issues:
            s = entry(organisation, dataset)
            s["issue_count"] += count
            if severity in SEVERITIES:
                s[f"issue_{severity}_count"] += count
        for _, organisation, dataset, _, count in expectations:
            entry(organisation, dataset)["expectation_failure_count"] += count
        columns = TABLES["organisation_dataset_summary"]
        _insert(conn, "organisation_dataset_summary", ([summary[k][c] for c in columns] for k in sorted(summary)))
        if dataset_dir and os.path.isdir(dataset_dir):
            _insert(conn, "dataset_change_summary", change_rows(dataset_dir, run_date))
        conn.commit()
        conn.execute("DETACH DATABASE dl")
    return {"endpoints": len(endpoints), "organisation_datasets": len(summary)}
