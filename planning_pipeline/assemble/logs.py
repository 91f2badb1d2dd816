"""Load the per-resource logs (issue, column-field, dataset-resource) and old-entity.csv into their tables.

Each log file's rows take consecutive rowids, in file order. A Reuse records, per file, its size, mtime, sha256,
rowid range and the byte range its rows took in the issue CSV; given the previous build's records, its tables
(renamed aside) and its issue CSV, the rows of a file whose content has not changed are copied from the old
table and the old CSV as they are instead of being parsed again: the same rows, rowids and bytes.
"""
import contextlib
import csv
import os

from ..errors import UserError
from ..files import atomic_write, sha256_file
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


class Reuse:
    """What one build records of its log files, and what it may reuse of the previous build's."""

    def __init__(self, previous=None, old_tables=None, old_csv=None):
        self.previous = previous or {}  # {kind: {path: entry}}
        self.old_tables = old_tables or {}  # {kind: name of the previous build's table}
        self.old_csv = old_csv  # the previous issue CSV, when it is the one the previous records describe
        self.entries = {}

    def fingerprint(self, kind, path):
        st = os.stat(path)
        old = self.previous.get(kind, {}).get(path)
        if old and old[0] == st.st_size and old[1] == st.st_mtime_ns:
            return [st.st_size, st.st_mtime_ns, old[2]], old
        sha = sha256_file(path)
        return [st.st_size, st.st_mtime_ns, sha], (old if old and old[2] == sha else None)


def _last_rowid(conn, table):
    return conn.execute(f'SELECT coalesce(max(rowid), 0) FROM "{table.sql_name}"').fetchone()[0]


def _load_files(conn, table, kind, paths, reuse, load, out=None):
    """For each path: copy its unchanged rows (and issue CSV bytes) from the previous build, or load(path)."""
    reuse = reuse or Reuse()
    entries = reuse.entries.setdefault(kind, {})
    old_table = reuse.old_tables.get(kind)
    old_csv = open(reuse.old_csv, "rb") if out is not None and reuse.old_csv else None
    try:
        for path in paths:
            fingerprint, old = reuse.fingerprint(kind, path)
            first = _last_rowid(conn, table) + 1
            start = _tell(out)
            if old is not None and old_table and (out is None or (old_csv is not None and old[5] is not None)):
                conn.execute(f'INSERT INTO "{table.sql_name}" SELECT * FROM "{old_table}" '
                             "WHERE rowid BETWEEN ? AND ? ORDER BY rowid", (old[3], old[4]))
                if out is not None:
                    old_csv.seek(old[5])
                    out.buffer.write(old_csv.read(old[6] - old[5]))
            else:
                load(path)
            entries[path] = fingerprint + [first, _last_rowid(conn, table), start, _tell(out)]
    finally:
        if old_csv is not None:
            old_csv.close()


def _tell(out):
    if out is None:
        return None
    out.flush()
    return out.buffer.tell()


def load_resource_logs(conn, table, directory, dataset, force_resource=True, kind=None, reuse=None):
    """Load every <resource>.csv of directory, with dataset (and resource, from the file name) forced."""
    def load(path):
        resource = os.path.basename(path)[: -len(".csv")]
        header, rows = read_rows(path)
        forced = {"dataset": dataset}
        if force_resource:
            forced["resource"] = resource
        convert = _values(table, header, forced)
        _insert(conn, table, (convert(r) for r in rows))

    _load_files(conn, table, kind or table.name, csv_files(directory), reuse, load)


def load_issues(conn, table, directory, issue_csv=None, extra_paths=(), reuse=None):
    """Load every issue CSV of directory, then each of extra_paths that exists (the plan's issues);
    also write them all to issue_csv (one header) when given."""
    with (atomic_write(issue_csv) if issue_csv else contextlib.nullcontext()) as out:
        writer = None
        if out is not None:
            writer = csv.writer(out, lineterminator="\n")
            writer.writerow(ISSUE_HEADER)

        def load(path):
            header, rows = read_rows(path)
            convert = _values(table, header, {})
            position = [header.index(h) if h in header else None for h in ISSUE_HEADER]

            def both():
                for r in rows:
                    if writer is not None:
                        writer.writerow([r[i] if i is not None else "" for i in position])
                    yield convert(r)

            _insert(conn, table, both())

        paths = csv_files(directory) + [p for p in extra_paths if p and os.path.exists(p)]
        _load_files(conn, table, "issue", paths, reuse, load, out)


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
