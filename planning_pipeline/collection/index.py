"""Rebuild a collection's log.csv and resource.csv from its daily log JSON files, incrementally.

log.csv is the index of every fetch; a night's run only reads the log files of days on or after
the last day already indexed (that day is re-read, so a --refill of today's logs is picked up),
and copies the older rows across without parsing any old JSON. resource.csv is recomputed from
log.csv in the same pass, so a resource no longer seen gets its end-date closed (upstream leaves
it open), while start-dates and endpoints already recorded in resource.csv are kept (log.csv may
hold a shorter history than the resource index).
"""
import csv
import json
import os
import sys

from ..csvio import csv_text, read_csv
from ..files import atomic_write, write_if_changed
from . import LOG_FIELDS, RESOURCE_FIELDS, endpoint_hash, join, split


def log_row(path, log):
    """One log.csv row from one log JSON, migrating the older key names."""
    headers = log.get("response-headers") or {}
    url = log.get("endpoint-url") or log.get("url", "")
    return {
        "bytes": str(log.get("bytes", headers.get("Content-Length", ""))),
        "content-type": log.get("content-type", headers.get("Content-Type", "")),
        "elapsed": str(log.get("elapsed", "")),
        "endpoint": endpoint_hash(url) if url else os.path.basename(path)[:-5],
        "resource": log.get("resource", ""),
        "status": str(log.get("status", "")),
        "entry-date": log.get("entry-date") or log.get("datetime", ""),
        "start-date": "",
        "end-date": "",
        "exception": log.get("exception", ""),
    }


def read_logs(log_dir, from_day):
    """log.csv rows for every log JSON in day folders on or after from_day, sorted."""
    rows = []
    if not os.path.isdir(log_dir):
        return rows
    for day in sorted(os.listdir(log_dir)):
        if from_day and day < from_day:
            continue
        folder = os.path.join(log_dir, day)
        for name in sorted(os.listdir(folder)) if os.path.isdir(folder) else []:
            if not name.endswith(".json"):
                continue
            path = os.path.join(folder, name)
            try:
                with open(path, encoding="utf-8") as f:
                    log = json.load(f)
            except (OSError, ValueError) as error:
                print(f"index: skipping unreadable log {path}: {error}", file=sys.stderr)
                continue
            row = log_row(path, log)
            if row["endpoint"] != name[:-5]:
                print(f"index: {path}: endpoint-url does not hash to the file name", file=sys.stderr)
            rows.append(row)
    rows.sort(key=lambda r: (r["entry-date"], r["endpoint"]))
    return rows


def index_collection(collection_dir, today):
    """Rewrite log.csv with the new logs; rewrite resource.csv only if its content changes.

    Returns (number of log rows read from JSON, whether resource.csv changed).
    """
    log_csv = os.path.join(collection_dir, "log.csv")
    resource_csv = os.path.join(collection_dir, "resource.csv")
    resources = {}

    def seen(row):
        if not row["resource"]:
            return
        r = resources.setdefault(row["resource"], {"endpoints": set(), "start": "9999", "end": "", "bytes": row["bytes"]})
        r["endpoints"].add(row["endpoint"])
        day = row["entry-date"][:10]
        r["start"] = min(r["start"], day)
        r["end"] = max(r["end"], day)

    with atomic_write(log_csv) as f:
        writer = csv.DictWriter(f, LOG_FIELDS, extrasaction="ignore", lineterminator="\r\n")
        writer.writeheader()
        # One pass over the old index: rows of its last day are held back, since that day is
        # re-read from its JSON files; every earlier row is copied across.
        from_day, last_day_rows = "", []
        for row in read_csv(log_csv):
            day = row.get("entry-date", "")[:10]
            if day > from_day:
                old_rows, from_day, last_day_rows = last_day_rows, day, [row]
            elif day == from_day:
                old_rows = ()
                last_day_rows.append(row)
            else:
                old_rows = (row,)
            for old in old_rows:
                writer.writerow(old)
                seen(old)
        log_dir = os.path.join(collection_dir, "log")
        if from_day and not os.path.isdir(os.path.join(log_dir, from_day)):
            for old in last_day_rows:  # no log files to re-read that day from: keep its rows
                writer.writerow(old)
                seen(old)
        new_rows = read_logs(log_dir, from_day)
        for row in new_rows:
            writer.writerow(row)
            seen(row)

    for row in read_csv(resource_csv):
        r = resources.get(row["resource"])
        if r is not None:
            r["endpoints"].update(split(row.get("endpoints")))
            if row.get("start-date"):
                r["start"] = min(r["start"], row["start-date"])
        else:
            # a resource indexed before the history log.csv now holds: keep it as it was
            resources[row["resource"]] = {"row": row}

    endpoint_sources = {}
    for source in read_csv(os.path.join(collection_dir, "source.csv")):
        endpoint_sources.setdefault(source["endpoint"], []).append(source)

    lines = []
    for resource in sorted(resources):
        r = resources[resource]
        if "row" in r:
            lines.append(r["row"])
            continue
        organisations, datasets = [], []
        for endpoint in r["endpoints"]:
            sources = endpoint_sources.get(endpoint)
            if not sources:
                print(f"index: endpoint {endpoint} of resource {resource} is not in source.csv", file=sys.stderr)
            for source in sources or []:
                organisations.append(source.get("organisation", ""))
                datasets.extend(split(source.get("pipelines") or source.get("datasets")))
        path = os.path.join(collection_dir, "resource", resource)
        lines.append({
            "resource": resource,
            "bytes": str(os.path.getsize(path)) if os.path.exists(path) else r["bytes"],
            "organisations": join(organisations),
            "datasets": join(datasets),
            "endpoints": join(r["endpoints"]),
            "start-date": r["start"],
            "end-date": "" if r["end"] >= today else r["end"],
        })

    changed = write_if_changed(resource_csv, csv_text(RESOURCE_FIELDS, lines))
    return len(new_rows), changed
