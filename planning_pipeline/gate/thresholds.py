"""The regression gate's thresholds: defaults, overridden per dataset by pipeline/<c>/threshold.csv.

threshold.csv has the columns dataset, check, field, threshold (notes, entry-date and others are ignored).
A blank dataset applies to every dataset of the collection; a row naming the dataset wins over it. A
threshold is a percentage ("10%" or "10") for shrink, removed and blank, a count for organisation-lost, or
"none" to switch the check off. See docs/publication.md.
"""
import os

from ..csvio import read_csv
from ..errors import UserError

DOCS = "see docs/publication.md#thresholds"

# check -> default threshold; the gate holds a build that exceeds one of them
DEFAULTS = {
    "shrink": 10.0,            # % fewer entities than published, not counting intended removals
    "removed": 10.0,           # % of published entities removed, not counting intended removals
    "blank": 10.0,             # % of published entities whose key field had a value and lost it
    "organisation-lost": 0,    # organisations that lose all their entities
}
PERCENT_CHECKS = ("shrink", "removed", "blank")
KEY_FIELDS = ("reference", "name", "geometry", "point")


class Thresholds:
    """check -> threshold (None when switched off); blank per key field."""

    def __init__(self, checks=None, blank_fields=None):
        self.checks = dict(DEFAULTS, **(checks or {}))
        self.blank_fields = dict.fromkeys(KEY_FIELDS, self.checks["blank"])
        self.blank_fields.update(blank_fields or {})

    def as_dict(self):
        return {"checks": self.checks, "blank-fields": self.blank_fields}


def _value(check, text, path, line):
    text = text.strip()
    if text.lower() in ("none", "off"):
        return None
    number = text[:-1] if text.endswith("%") else text
    try:
        value = float(number) if check in PERCENT_CHECKS else int(number)
    except ValueError:
        kind = "a percentage such as 10%" if check in PERCENT_CHECKS else "a whole number"
        raise UserError(f"threshold {text!r} for {check} is not {kind} or none ({DOCS})", path, line) from None
    if value < 0:
        raise UserError(f"threshold {text!r} for {check} is negative ({DOCS})", path, line)
    return value


def read_threshold_row(row, path, line):
    """(check, field, threshold) of one threshold.csv row; a bad row is a UserError naming its line."""
    check, field = row.get("check", "").strip(), (row.get("field") or "").strip()
    if check not in DEFAULTS:
        raise UserError(f"unknown check {check!r}: expected one of {', '.join(DEFAULTS)} ({DOCS})", path, line)
    if field and check != "blank":
        raise UserError(f"a field is only given for the blank check, not {check} ({DOCS})", path, line)
    return check, field, _value(check, row.get("threshold") or "", path, line)


def read_thresholds(path, dataset):
    """The thresholds for dataset: defaults, then the file's rows for every dataset, then its own."""
    general, own = ({}, {}), ({}, {})
    if path and os.path.exists(path):
        for line, row in enumerate(read_csv(path, ("check", "threshold")), 2):
            check, field, value = read_threshold_row(row, path, line)
            target = own if row.get("dataset", "").strip() == dataset else general
            if row.get("dataset", "").strip() not in ("", dataset):
                continue
            if field:
                target[1][field] = value
            else:
                target[0][check] = value
    checks = {**general[0], **own[0]}
    blank = dict.fromkeys(KEY_FIELDS, checks.get("blank", DEFAULTS["blank"]))
    blank.update({**general[1], **own[1]})
    return Thresholds(checks, blank)
