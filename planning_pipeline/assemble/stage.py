"""Stage the transformed facts in scratch sqlite files, at C speed.

Reading CSV with Python's csv module and inserting with executemany costs microseconds a row; the sqlite3
tool's `.import` does both in C. The files are split into parts of about equal size and each part is imported
by its own sqlite3 process into its own scratch file, so both cores work. Each scratch file holds `fact_row`,
the eleven columns of the transformed files as written, in reading order: (part, rowid) is a row's place.

A file whose header is not the standard one is read row by row in Python (facts.rows) and added to part 0.
A file the tool complained about (a short, long or blank row) is read again in Python: a bad row is a
one-line error naming its line; blank lines, which the tool imports as empty rows, are dropped.
"""
import os
import re
import subprocess

from ..errors import UserError
from . import facts

RAW_COLUMNS = [h.replace("-", "_") for h in facts.FACT_HEADER]
RAW_TYPES = {"entity": "INTEGER", "entry_number": "INTEGER", "priority": "INTEGER"}
COMPLAINT = re.compile(r"^(.*):(\d+): (.*)$")


def pragmas(cache_kib):
    return ["PRAGMA page_size = 65536;", "PRAGMA journal_mode = OFF;", "PRAGMA synchronous = OFF;",
            f"PRAGMA cache_size = -{cache_kib};", "PRAGMA temp_store = FILE;"]


def create_sql(schema):
    columns = ", ".join(f"{c} {RAW_TYPES.get(c, 'TEXT')}" for c in RAW_COLUMNS)
    return f"CREATE TABLE {schema}.fact_row ({columns});"


def split(paths, parts):
    """paths in `parts` groups of about equal total size; each group in name order."""
    groups = [[] for _ in range(parts)]
    sizes = [0] * parts
    for path in sorted(paths, key=lambda p: (-os.path.getsize(p), p)):
        lightest = sizes.index(min(sizes))
        groups[lightest].append(path)
        sizes[lightest] += os.path.getsize(path)
    return [sorted(g) for g in groups]


def _importable(path):
    """The tool takes a double-quoted file name, and reads from a command when it starts with '|'."""
    return not any(c in path for c in '"\\\n') and facts.header_of(path) == facts.FACT_HEADER


def sqlite3_tool(database, script):
    """Start the sqlite3 tool on database running script (a list of lines); stop at the first error."""
    try:
        proc = subprocess.Popen(["sqlite3", "-bail", database], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True)
    except FileNotFoundError:
        raise UserError("the sqlite3 command is not installed (bin/setup-system installs it)") from None
    proc.stdin.write("\n".join(script) + "\n")
    proc.stdin.close()
    return proc


def finish(proc, database, what):
    """Wait for a sqlite3 tool process; its complaints (lines on stderr); a failure is a one-line error."""
    complaints = proc.stderr.read().splitlines()
    proc.stderr.close()
    if proc.wait() != 0:
        last = complaints[-1] if complaints else f"exit status {proc.returncode}"
        raise UserError(f"sqlite3 failed {what}: {last}", database)
    return complaints


def import_files(paths, scratches, cache_kib):
    """Import the transformed files into the scratch files (created here); returns (by_hand, complained):
    the files to read in Python instead, and the files the tool complained about."""
    paths = [os.path.abspath(p) for p in paths]
    importable = [_importable(p) for p in paths]
    standard = [p for p, ok in zip(paths, importable) if ok]
    by_hand = [p for p, ok in zip(paths, importable) if not ok]
    procs = []
    try:
        for scratch, group in zip(scratches, split(standard, len(scratches))):
            script = pragmas(cache_kib) + [create_sql("main"), "BEGIN;"]
            script += [f'.import --csv --skip 1 "{p}" fact_row' for p in group] + ["COMMIT;"]
            procs.append((sqlite3_tool(scratch, script), scratch))
        complained = set()
        for proc, scratch in procs:
            for line in finish(proc, scratch, "importing the transformed files"):
                match = COMPLAINT.match(line)
                if match:
                    complained.add(match.group(1))
    finally:
        for proc, _ in procs:
            if proc.poll() is None:
                proc.kill()
    return by_hand, sorted(complained)


def check_complained(conn, complained, parts):
    """Read again each file the tool complained about (a bad row raises its one-line error); drop the empty
    rows its blank lines became from the parts (attached as s0, s1, ...)."""
    for path in complained:
        for _ in facts.rows(path):
            pass
    if complained:
        for i in range(parts):
            conn.execute(f"DELETE FROM s{i}.fact_row WHERE value IS NULL")


def add_by_hand(conn, paths):
    sql = f"INSERT INTO s0.fact_row VALUES ({','.join('?' * len(RAW_COLUMNS))})"
    for path in paths:
        conn.executemany(sql, facts.rows(path))


def write_lookups(conn, ends, organisations):
    """The resource end-dates and organisation entities the queries join with, in part 0."""
    conn.execute("CREATE TABLE s0.resource_end (resource TEXT PRIMARY KEY, end_date TEXT)")
    conn.executemany("INSERT INTO s0.resource_end VALUES (?, ?)", sorted(ends.items()))
    conn.execute("CREATE TABLE s0.organisation (organisation TEXT PRIMARY KEY, entity TEXT)")
    conn.executemany("INSERT INTO s0.organisation VALUES (?, ?)", sorted(organisations.items()))
