"""The summary of a run over its collections: what each dataset's gate did today, what was collected,
what failed, and which datasets are held back.

Read from the files the run leaves: dataset/D-changes.json (a published build) and dataset/held/D-changes.json
(a held one), each with its date; and the day's collection logs (collection/C/log/DATE/).
"""
import json
import os

from ..collect.summary import summarise
from .publish import paths

HEADER = ("collection", "dataset", "today", "entities", "added", "removed", "changed", "new issues")


def _read(path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def dataset_row(collection, dataset, dataset_dir, date):
    """(row, held summary or None) of one dataset for the table."""
    held = _read(paths(dataset_dir, dataset, held=True)["summary"])
    published = _read(paths(dataset_dir, dataset)["summary"])
    summary = held or published
    if summary is None:
        return None, None  # not built by this project yet (no resources, or built before the gate)
    built_today = summary.get("date") == date
    state = summary.get("decision", "") if built_today or held else "unchanged"
    if not built_today and not held:
        return [collection, dataset, state, f"{summary.get('candidate-entities', 0):,}", "", "", "", ""], None
    new_issues = []
    for level, counts in sorted(summary.get("issues", {}).items()):
        delta = counts.get("candidate", 0) - counts.get("published", 0)
        if delta:
            new_issues.append(f"{level} {delta:+,}")
    row = [collection, dataset, state.upper() if held else state, f"{summary.get('candidate-entities', 0):,}",
           f"{summary.get('added', 0):,}", f"{summary.get('removed', 0):,}", f"{summary.get('changed', 0):,}",
           ", ".join(new_issues)]
    return row, (summary if held else None)


def run_summary(collections, datasets_of, dataset_dir, collection_root, date):
    """(markdown text, [held summaries]) for the collections (with datasets_of(collection) -> datasets)."""
    rows, held, collected = [], [], []
    for collection in collections:
        for dataset in datasets_of(collection):
            row, holding = dataset_row(collection, dataset, dataset_dir, date)
            if row:
                rows.append(row)
            if holding:
                held.append(holding)
        directory = os.path.join(collection_root, collection)
        if os.path.isdir(os.path.join(directory, "log", date)):
            day = summarise(directory, date)
            failed = sum(len(v) for v in day.failed.values())
            reasons = ", ".join(f"{reason} {len(urls)}" for reason, urls in sorted(day.failed.items()))
            collected.append([collection, str(day.fetched), str(len(day.new)), str(failed), reasons])
    lines = [f"# Run of {date}", "", _table(HEADER, rows)]
    if collected:
        lines += ["", "## Collected today", "",
                  _table(("collection", "endpoints fetched", "new resources", "failed", "failures"), collected)]
    if held:
        lines += ["", "## Held back, not published", ""]
        for summary in held:
            lines.append(f"- **{summary['dataset']}**: " + "; ".join(summary.get("reasons", [])))
            report = paths(dataset_dir, summary["dataset"], held=True)["report"]
            lines.append(f"  (report: `{report}`; publish anyway: `make collection/{summary.get('collection', '<collection>')} "
                         f"ACCEPT={summary['dataset']}`)")
    return "\n".join(lines) + "\n", held


def _table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(out)
