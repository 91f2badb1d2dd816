"""CSV reading and writing in the formats the upstream files use."""
import csv
import io
import os
import sys

from .errors import UserError
from .files import atomic_write

csv.field_size_limit(sys.maxsize)  # geometries in real files run to megabytes


def read_csv(path, required=()):
    """Yield each row of a UTF-8 (optionally BOM-prefixed) CSV file as a dict.

    A missing file yields nothing; a missing required column is a UserError naming the file.
    """
    if not os.path.exists(path):
        return
    with open(path, encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f)
        missing = [c for c in required if c not in (reader.fieldnames or [])]
        if missing:
            raise UserError(f"missing column(s) {', '.join(missing)}", path, 1)
        for row in reader:
            # short rows give None values; treat them as empty cells
            yield {k: (v if v is not None else "") for k, v in row.items() if k is not None}


def header(path):
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8-sig", newline="") as f:
        return next(csv.reader(f), [])


def csv_text(fieldnames, rows, lineterminator="\r\n"):
    """rows (dicts) as CSV text with the given header; extra keys are ignored."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames, extrasaction="ignore", lineterminator=lineterminator)
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def write_csv(path, fieldnames, rows, lineterminator="\r\n"):
    """Write rows (dicts) atomically with the given header; extra keys are ignored."""
    with atomic_write(path) as f:
        writer = csv.DictWriter(f, fieldnames, extrasaction="ignore", lineterminator=lineterminator)
        writer.writeheader()
        for row in rows:
            writer.writerow(row)
