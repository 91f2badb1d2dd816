"""Rebuild a collection's log.csv and resource.csv from its daily log JSON files, incrementally.

log.csv is the index of every fetch; a night's run only reads the log files of days on or after
the last day already indexed (that day is re-read, so a --refill of today's logs is picked up),
and copies the older rows across without parsing any old JSON. resource.csv is recomputed from
log.csv in the same pass, so a resource no longer seen gets its end-date closed (upstream leaves
it open), while start-dates and endpoints already recorded in resource.csv are kept (log.csv may
hold a shorter history than the resource index).
"""
import json
import os
import sys

from ..csvio import read_csv
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


def last_indexed_day(log_csv):
    latest = ""
    for row in read_csv(log_csv):
        latest = max(latest, row.get("entry-date", ""))
    return latest[:10]


def index_collection(collection_dir, today):
    """Rewrite log.csv with the new logs; rewrite resource.csv only if its content changes.

    Returns (number of log rows read from JSON, whether resource.csv changed).
    """
    log_csv = os.path.join(collection_dir, "log.csv")
    resource_csv = os.path.join(collection_dir, "resource.csv")
    from_day = last_indexed_day(log_csv)
    new_rows = read_logs(os.path.join(collection_dir, "log"), from_day)

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
        import csv

        writer = csv.DictWriter(f, LOG_FIELDS, extrasaction="ignore", lineterminator="\r\n")
        writer.writeheader()
        for row in read_csv(log_csv):
            if from_day and row.get("entry-date", "")[:10] >= from_day:
                continue  # that day is re-read from its JSON files
            writer.writerow(row)
            seen(row)
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

    import csv
    import io

    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, RESOURCE_FIELDS, extrasaction="ignore", lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(lines)
    changed = write_if_changed(resource_csv, buffer.getvalue())
    return len(new_rows), changed
