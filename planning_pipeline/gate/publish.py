"""The regression gate: publish a newly assembled dataset, or hold it back beside the published one.

The candidate (var/assembled/D.sqlite3, with D-issue.csv) is compared with the published dataset
(dataset/D.sqlite3). It is published when it is the first, when nothing exceeds the thresholds, or when
the user accepts it (ACCEPT=D): dataset/D.sqlite3 and dataset/D-issue.csv become hard links to the
candidate's files (renamed into place: the old file is served until the rename), with the changes CSV
and JSON summary beside them. Otherwise it is held: the published files stay as they are, the candidate
is linked into dataset/held/ with its changes and a report that says why, and everything downstream of
dataset/D.sqlite3 (bake, tiles, datasette, PostGIS, the S3 datastore) keeps the last good version.
"""
import contextlib
import json
import os
import shutil

from ..files import atomic_write, temporary_path
from . import compare as comparing
from .thresholds import DOCS, KEY_FIELDS

HELD_DIR = "held"


def paths(dataset_dir, dataset, held=False):
    directory = os.path.join(dataset_dir, HELD_DIR) if held else dataset_dir
    return {
        "sqlite": os.path.join(directory, f"{dataset}.sqlite3"),
        "issue": os.path.join(directory, f"{dataset}-issue.csv"),
        "changes": os.path.join(directory, f"{dataset}-changes.csv"),
        "summary": os.path.join(directory, f"{dataset}-changes.json"),
        "report": os.path.join(directory, f"{dataset}-report.md"),
    }


def reasons_to_hold(summary, thresholds):
    """The thresholds this build exceeds, as sentences; none for a first publication."""
    published = summary["published-entities"]
    if not published:
        return []
    reasons = []
    checks = thresholds.checks
    unintended = summary["removed"] - summary["removed-intended"]
    shrink = 100.0 * (published - summary["removed-intended"] - summary["candidate-entities"]) / published
    if checks["shrink"] is not None and shrink > checks["shrink"]:
        reasons.append(f"the dataset shrinks from {published:,} to {summary['candidate-entities']:,} entities "
                       f"({shrink:.1f}% not explained by retired resources or old entities; limit {checks['shrink']:g}%)")
    removed = 100.0 * unintended / published
    if checks["removed"] is not None and removed > checks["removed"]:
        reasons.append(f"{unintended:,} of {published:,} published entities are removed ({removed:.1f}%; "
                       f"limit {checks['removed']:g}%)")
    for field, blank in summary["blanked"].items():
        limit = thresholds.blank_fields.get(field)
        if limit is not None and blank["percent"] > limit:
            reasons.append(f"{field} becomes blank for {blank['count']:,} of the {blank['of']:,} entities that had one "
                           f"({blank['percent']:.1f}%; limit {limit:g}%)")
    lost = summary["organisations-lost"]
    allowed = checks["organisation-lost"]
    if allowed is not None and len(lost) > allowed:
        names = ", ".join(f"{o['name'] or 'organisation'} ({o['organisation-entity']}, {o['entities']:,} entities)" for o in lost[:5])
        more = f" and {len(lost) - 5} more" if len(lost) > 5 else ""
        reasons.append(f"{len(lost)} organisation(s) lose all their entities: {names}{more} (limit {allowed})")
    return reasons


def gate(dataset, candidate, issue_csv, dataset_dir, thresholds, accept=False, old_resource_path=None,
         severity=None, organisation_names=None, date="", collection="<collection>", scratch_dir=None, log=print):
    """Publish or hold the candidate; returns the summary (with "decision" and "reasons")."""
    published = paths(dataset_dir, dataset)
    held = paths(dataset_dir, dataset, held=True)
    if os.path.exists(published["sqlite"]) and os.path.samefile(candidate, published["sqlite"]):
        return {"dataset": dataset, "decision": "unchanged", "reasons": []}  # already published
    scratch_dir = scratch_dir or os.path.dirname(candidate)
    changes = os.path.join(scratch_dir, f"{dataset}-changes.csv")
    result = comparing.compare(dataset, candidate, published["sqlite"], changes, old_resource_path, severity,
                               organisation_names)
    summary = result.summary(KEY_FIELDS)
    summary["date"] = date
    summary["reasons"] = reasons_to_hold(summary, thresholds)
    summary["thresholds"] = thresholds.as_dict()
    if summary["published-entities"] is None:
        summary["decision"] = "first publication"
    elif not summary["reasons"]:
        summary["decision"] = "published"
    else:
        summary["decision"] = "accepted" if accept else "held"
    summary["collection"] = collection
    if summary["decision"] == "held":
        _hold(summary, candidate, issue_csv, changes, held, published, dataset, log)
    else:
        _publish(summary, candidate, issue_csv, changes, published, held, log)
    return summary


def _publish(summary, candidate, issue_csv, changes, published, held, log):
    _write_json(published["summary"], summary)
    link(changes, published["changes"])
    if issue_csv and os.path.exists(issue_csv):
        link(issue_csv, published["issue"])
    link(candidate, published["sqlite"])  # last: the dataset file is what Make and the loaders look at
    for path in held.values():
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
    with contextlib.suppress(OSError):
        os.rmdir(os.path.dirname(held["sqlite"]))
    if summary["decision"] == "accepted":
        log(f"gate: {summary['dataset']}: accepted and published despite: " + "; ".join(summary["reasons"]))


def _hold(summary, candidate, issue_csv, changes, held, published, dataset, log):
    os.makedirs(os.path.dirname(held["sqlite"]), exist_ok=True)
    link(candidate, held["sqlite"])
    if issue_csv and os.path.exists(issue_csv):
        link(issue_csv, held["issue"])
    link(changes, held["changes"])
    _write_json(held["summary"], summary)
    with atomic_write(held["report"]) as f:
        f.write(report(summary, published, held))
    log(f"gate: {dataset}: HELD, not published: " + "; ".join(summary["reasons"]))
    log(f"gate: {dataset}: the published version is kept; see {held['report']}; "
        f"to publish this build anyway: make collection/{summary['collection']} ACCEPT={dataset}")


def report(summary, published, held):
    """A short Markdown report of a held build."""
    d = summary["dataset"]
    lines = [f"# {d}: held, not published", ""]
    if summary.get("date"):
        lines += [f"Built on {summary['date']}.", ""]
    lines += ["The new build was not published because:", ""]
    lines += [f"- {r}" for r in summary["reasons"]]
    lines += ["", f"The last good version (`{published['sqlite']}`) is still what is served: the datasette directory, "
              "the vector tiles, PostGIS and the S3 datastore were not changed.", "",
              "| | published | new build |", "|---|---|---|",
              f"| entities | {summary['published-entities']:,} | {summary['candidate-entities']:,} |",
              f"| added | | {summary['added']:,} |",
              f"| removed | | {summary['removed']:,} ({summary['removed-intended']:,} intended) |",
              f"| changed | | {summary['changed']:,} |"]
    for level, counts in summary["issues"].items():
        lines.append(f"| issues: {level} | {counts['published']:,} | {counts['candidate']:,} |")
    if summary["blanked"]:
        lines += ["", "Key fields that lost their value:", ""]
        lines += [f"- {f}: {b['count']:,} of {b['of']:,} ({b['percent']:g}%)" for f, b in summary["blanked"].items() if b["count"]]
    if summary["organisations-lost"]:
        lines += ["", "Organisations that lose all their entities:", ""]
        lines += [f"- {o['name'] or 'organisation'} ({o['organisation-entity']}): {o['entities']:,} entities"
                  for o in summary["organisations-lost"]]
    lines += ["", f"Every change, entity by entity: `{held['changes']}`. The new build itself: `{held['sqlite']}`.", "",
              "If the change is intended (for example a provider really withdrew its data), publish it with",
              f"`make collection/{summary.get('collection', '<collection>')} ACCEPT={d}`; if a configuration change caused it, fix the configuration",
              f"and run again. Thresholds are set per dataset in `pipeline/{summary.get('collection', '<collection>')}/threshold.csv` ({DOCS}).", ""]
    return "\n".join(lines)


def link(source, target):
    """target becomes source's file, renamed into place; a hard link where possible, else a copy."""
    with temporary_path(target) as tmp:
        try:
            os.link(source, tmp)
        except OSError:
            shutil.copy2(source, tmp)


def _write_json(path, data):
    with atomic_write(path) as f:
        json.dump(data, f, indent=1, sort_keys=True)
        f.write("\n")
