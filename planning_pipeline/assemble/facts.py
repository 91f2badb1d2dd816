"""The transformed fact files: their header, their resources' end-dates, and reading the odd file by hand.

Most files are imported by the sqlite3 tool (stage.py). A file with an older or reordered header, or a file
the tool complained about, is read here instead, with each row checked.
"""
import csv
import os

from ..errors import UserError
from ..transform.facts import FACT_FIELDS, fact_hash

FACT_HEADER = FACT_FIELDS  # what transform writes
CURRENT = "2999-12-31"


def resource_end_dates(path):
    """{resource: end-date} from collection/<c>/resource.csv; blank end-dates are the current '2999-12-31'."""
    ends = {}
    if not path:
        return ends
    if not os.path.exists(path):
        raise UserError("resource file not found", path)
    with open(path, encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f)
        if "resource" not in (reader.fieldnames or []):
            raise UserError("missing column resource", path, 1)
        for row in reader:
            ends[row["resource"]] = (row.get("end-date") or "").strip() or CURRENT
    return ends


def header_of(path):
    """The first row of a CSV file (None when empty)."""
    with open(path, encoding="utf-8-sig", newline="") as f:
        return next(csv.reader(f), None)


def rows(path):
    """The fact rows of one transformed file in FACT_HEADER column order, each row checked.

    A file with the standard header must have eleven cells in every non-blank row. Any other header is mapped
    by name; a missing fact hash is computed and a missing resource taken from the file name."""
    with open(path, encoding="utf-8-sig", newline="") as f:
        reader = csv.reader(f)
        header = next(reader, None)
        if header is None:
            return
        if header == FACT_HEADER:
            width = len(FACT_HEADER)
            for line, row in enumerate(reader, 2):
                if len(row) != width:
                    if not row:
                        continue
                    raise UserError(f"row has {len(row)} cells, expected {width}", path, line)
                yield row
            return
        missing = [h for h in ("entity", "field", "value") if h not in header]
        if missing:
            raise UserError(f"missing column(s) {', '.join(missing)}", path, 1)
        position = [header.index(h) if h in header else None for h in FACT_HEADER]
        resource = os.path.basename(path)[: -len(".csv")]
        for row in reader:
            if not row:
                continue
            row = row + [""] * (len(header) - len(row))
            out = [row[i] if i is not None else "" for i in position]
            if not out[4]:
                out[4] = fact_hash(out[1], out[5], out[10])
            if not out[8]:
                out[8] = resource
            yield out
