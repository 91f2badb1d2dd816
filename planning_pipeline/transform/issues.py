"""The issue log: every problem found in a resource's values, one row each, streamed to a CSV.

Issues are collected per chunk of rows (so the entity each entry was given can be filled in once
the chunk has been looked up), sorted by line within the chunk and appended to the open log file.
The issue type's severity comes from specification/issue-type.csv; the log counts issues by severity.
"""
import collections
import csv

ISSUE_FIELDS = ["dataset", "resource", "line-number", "entry-number", "field", "entity", "issue-type", "value",
                "message"]


# a pending issue is a tuple (line, entry, field, issue-type, value, message, entity)


class Sink:
    """Where a datatype normaliser logs (issue_type, value, message) for one value or one cursor position."""

    __slots__ = ("issues", "line", "entry", "field")

    def __init__(self, issues, line="", entry="", field=""):
        self.issues, self.line, self.entry, self.field = issues, line, entry, field

    def log(self, issue_type, value, message=""):
        self.issues.append((self.line, self.entry, self.field, issue_type, value or "", message or "", ""))


class Recorder:
    """A sink that only remembers what was logged, to replay it for a repeated value."""

    __slots__ = ("logged",)

    def __init__(self):
        self.logged = []

    def log(self, issue_type, value, message=""):
        self.logged.append((issue_type, value, message or ""))


def _line(issue):
    return issue[0] if isinstance(issue[0], int) else 0


class IssueLog:
    """Issues of one resource: a pending list for the current chunk, flushed to a CSV writer."""

    def __init__(self, dataset, resource, severity=None):
        self.dataset = dataset
        self.resource = resource
        self.pending = []
        self.severity = severity or {}
        self.counts = {}
        self.writer = None

    def open(self, f):
        self.writer = csv.writer(f, lineterminator="\n")
        self.writer.writerow(ISSUE_FIELDS)

    def log(self, line, entry, field, issue_type, value, message="", entity=""):
        self.pending.append((line, entry, field, issue_type, value, message, entity))

    def sink(self, line="", entry="", field=""):
        return Sink(self.pending, line, entry, field)

    def flush(self, entities=None):
        """Write the pending issues, sorted by line, filling each entry's entity from entities."""
        pending, self.pending = self.pending, []
        if not pending:
            return
        pending.sort(key=_line)
        dataset, resource, severity, counts = self.dataset, self.resource, self.severity, self.counts
        for issue_type, n in collections.Counter(issue[3] for issue in pending).items():
            level = severity.get(issue_type, "")
            counts[level] = counts.get(level, 0) + n
        if self.writer is None:
            return
        if entities:
            get = entities.get
            rows = [(dataset, resource, line, entry, field, entity or get(entry, ""), issue_type, value, message)
                    for line, entry, field, issue_type, value, message, entity in pending]
        else:
            rows = [(dataset, resource, line, entry, field, entity, issue_type, value, message)
                    for line, entry, field, issue_type, value, message, entity in pending]
        self.writer.writerows(rows)

    def summary(self):
        return ", ".join(f"{n} {s or 'unclassified'}" for s, n in sorted(self.counts.items()))
