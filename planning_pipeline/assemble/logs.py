"""Load the per-resource logs (issue, column-field, dataset-resource) and old-entity.csv into their tables."""
import contextlib
import csv
import os

from ..errors import UserError
from ..files import atomic_write
from .schema import column_name

ISSUE_HEADER = ["dataset", "resource", "line-number", "entry-number", "field", "entity", "issue-type", "value", "message"]
BATCH = 10000


def csv_files(directory):
    """The *.csv files of a directory in name order; a missing directory has none."""
    if not directory or not os.path.isdir(directory):
        return []
    return [os.path.join(directory, n) for n in sorted(os.listdir(directory)) if n.endswith(".csv")]


def read_rows(path):
    """(header, rows) of a CSV file; rows are lists padded or cut to the header's length."""
    f = open(path, encoding="utf-8-sig", newline="")
    reader = csv.reader(f)
    header = next(reader, None)
    if header is None:
        f.close()
        return [], iter(())
    width = len(header)

    def rows():
        with f:
            for row in reader:
                if not row:
                    continue
                if len(row) != width:
                    row = (row + [""] * width)[:width]
                yield row

    return header, rows()


def _values(table, header, forced):
    """A row of the table's columns from a CSV row with the given header (kebab or snake names)."""
    position = {column_name(h): i for i, h in enumerate(header)}
    integers = table.integer_columns()

    def convert(r):
        values = []
        for column in table.columns:
            if column in forced:
                values.append(forced[column])
                continue
            i = position.get(column)
            value = r[i] if i is not None else ""
            if column in integers:
                value = int(value) if value.strip().lstrip("-").isdigit() else (value or None)
            values.append(value)
        return values

    return convert


def _insert(conn, table, rows):
    sql = f'INSERT INTO "{table.sql_name}" VALUES ({",".join("?" * len(table.columns))})'
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) >= BATCH:
            conn.executemany(sql, batch)
            batch.clear()
    if batch:
        conn.executemany(sql, batch)


def load_resource_logs(conn, table, directory, dataset, force_resource=True):
    """Load every <resource>.csv of directory, with dataset (and resource, from the file name) forced."""
    for path in csv_files(directory):
        resource = os.path.basename(path)[: -len(".csv")]
        header, rows = read_rows(path)
        forced = {"dataset": dataset}
        if force_resource:
            forced["resource"] = resource
        convert = _values(table, header, forced)
        _insert(conn, table, (convert(r) for r in rows))


def load_issues(conn, table, directory, issue_csv=None, extra_paths=()):
    """Load every issue CSV of directory, then each of extra_paths that exists (the plan's issues);
    also write them all to issue_csv (one header) when given."""
    with (atomic_write(issue_csv) if issue_csv else contextlib.nullcontext()) as out:
        writer = None
        if out is not None:
            writer = csv.writer(out, lineterminator="\n")
            writer.writerow(ISSUE_HEADER)
        for path in csv_files(directory) + [p for p in extra_paths if p and os.path.exists(p)]:
            header, rows = read_rows(path)
            convert = _values(table, header, {})
            position = [header.index(h) if h in header else None for h in ISSUE_HEADER]

            def both(rows=rows, convert=convert, position=position):
                for r in rows:
                    if writer is not None:
                        writer.writerow([r[i] if i is not None else "" for i in position])
                    yield convert(r)

            _insert(conn, table, both())


def load_old_entities(conn, table, path, entity_range):
    """Load old-entity.csv rows whose old-entity lies in the dataset's entity range (inclusive)."""
    if not path or not os.path.exists(path):
        return
    header, rows = read_rows(path)
    if header and "old-entity" not in header:
        raise UserError("missing column old-entity", path, 1)
    low, high = entity_range
    convert = _values(table, header, {})
    at = header.index("old-entity") if header else 0

    def in_range():
        for r in rows:
            number = r[at].strip()
            if not number.isdigit():
                continue
            if low is not None and not (low <= int(number) <= high):
                continue
            yield convert(r)

    sql = f'INSERT OR IGNORE INTO "{table.sql_name}" VALUES ({",".join("?" * len(table.columns))})'
    conn.executemany(sql, in_range())
