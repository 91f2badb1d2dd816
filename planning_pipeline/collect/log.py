"""The per-endpoint, per-day log: collection/<c>/log/<YYYY-MM-DD>/<endpoint>.json, canonical JSON."""
import datetime
import json
import os

from ..files import atomic_write


def log_path(collection_dir, date, endpoint):
    return os.path.join(collection_dir, "log", date, endpoint + ".json")


def entry_date(now=None):
    """Naive UTC ISO 8601 with microseconds, e.g. 2021-12-08T00:45:14.095210."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    return now.replace(tzinfo=None).isoformat(timespec="microseconds")


def encode(log):
    """Canonical JSON: sorted keys, compact separators, UTF-8 without ASCII escapes."""
    return json.dumps(log, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def write_log(path, log):
    with atomic_write(path, "wb") as f:
        f.write(encode(log))


def read_log(path):
    with open(path, "rb") as f:
        return json.loads(f.read())


def failure_reason(log):
    """Why a logged fetch kept no resource ('' when it kept one)."""
    if log.get("resource"):
        return ""
    if log.get("exception"):
        return str(log["exception"])
    if log.get("status"):
        return f"status {log['status']}"
    return "no resource"
