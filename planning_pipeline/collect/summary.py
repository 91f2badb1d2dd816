"""A day's collection logs summarised: fetched, new resources, unchanged, failed by reason."""
import collections
import dataclasses
import glob
import json
import os

from ..csvio import read_csv
from .endpoint import not_live
from .log import failure_reason


@dataclasses.dataclass
class Summary:
    collection: str
    date: str
    fetched: int = 0
    ok: int = 0
    unchanged: int = 0  # endpoints whose resource an earlier log already had
    new: list = dataclasses.field(default_factory=list)  # [(resource, endpoint-url)], first seen this day
    failed: dict = dataclasses.field(default_factory=dict)  # reason -> [endpoint-url]
    not_fetched: list = dataclasses.field(default_factory=list)  # live endpoints without a log this day

    def lines(self, detail=False):
        failed = sum(len(v) for v in self.failed.values())
        text = f"collect {self.collection} {self.date}: {self.fetched} endpoints fetched, {self.ok} ok"
        text += f" ({len(self.new)} new resources, {self.unchanged} unchanged), {failed} failed"
        if self.not_fetched:
            text += f", {len(self.not_fetched)} live endpoints not fetched"
        yield text
        for reason, urls in sorted(self.failed.items(), key=lambda item: (-len(item[1]), item[0])):
            yield f"  failed {reason}: {len(urls)}"
            if detail:
                yield from (f"    {url}" for url in sorted(urls))
        if detail:
            yield from (f"  new {resource} {url}" for resource, url in self.new)
            yield from (f"  not fetched {url}" for url in self.not_fetched)


def _logs(directory):
    for path in sorted(glob.glob(os.path.join(glob.escape(directory), "*.json"))):
        try:
            with open(path, "rb") as f:
                log = json.loads(f.read())
        except (OSError, ValueError):
            log = {"exception": "unreadable log"}
        yield os.path.basename(path)[: -len(".json")], log


def earlier_resources(collection_dir, date, wanted):
    """Those of wanted that a log dated before date already referenced.

    resource.csv (when present) answers for the days it covers; log directories from its last date
    (or all of them, without it) up to the day before date are read.
    """
    seen, covered = set(), ""
    for row in read_csv(os.path.join(collection_dir, "resource.csv"), required=("resource", "start-date")):
        start = row["start-date"][:10]
        covered = max(covered, start, row.get("end-date", "")[:10])
        if row["resource"] in wanted and start and start < date:
            seen.add(row["resource"])
    days = sorted(os.path.basename(d) for d in glob.glob(os.path.join(glob.escape(collection_dir), "log", "*-*-*")))
    for day in days:
        if seen >= wanted:
            break
        if covered <= day < date:
            seen.update(log.get("resource") for _, log in _logs(os.path.join(collection_dir, "log", day)) if log.get("resource") in wanted)
    return seen


def summarise(collection_dir, date):
    summary = Summary(os.path.basename(os.path.normpath(collection_dir)), date)
    logs = list(_logs(os.path.join(collection_dir, "log", date)))
    resources = {log["resource"] for _, log in logs if log.get("resource")}
    earlier = earlier_resources(collection_dir, date, resources)
    new = {}
    failed = collections.defaultdict(list)
    for _, log in logs:
        summary.fetched += 1
        url = log.get("endpoint-url", "")
        resource = log.get("resource")
        if not resource:
            failed[failure_reason(log)].append(url)
        else:
            summary.ok += 1
            if resource in earlier:
                summary.unchanged += 1
            else:
                new.setdefault(resource, url)
    summary.new = sorted(new.items())
    summary.failed = dict(failed)
    logged = {endpoint for endpoint, _ in logs}
    for row in read_csv(os.path.join(collection_dir, "endpoint.csv")):
        try:
            live = row.get("endpoint-url") and not not_live(row, date)
        except ValueError:
            live = False
        if live and row.get("endpoint") not in logged and row["endpoint-url"] not in summary.not_fetched:
            summary.not_fetched.append(row["endpoint-url"])
    return summary
