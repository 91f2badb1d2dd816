"""lookup.csv by the blocks a resource reads it in, in memory or from a per-collection sqlite index.

A collection's lookup.csv holds every entity number it ever gave (tens of thousands of rows); one
resource's transform needs only a few blocks of it: the rows scoped to that resource, and the
general rows of a (prefix, organisation) block, organisation "" for the rows of no organisation (see
config.ResourceConfig). Parsing the whole file for each of a collection's hundreds of transforms
was most of a small resource's transform time, so bin/lookup-index writes the rows once per change
of lookup.csv into var/<collection>/lookup-index.sqlite3, keyed by block and by resource, and a
transform reads only its blocks from it.

The index is only a faster way to read the same rows: it records the sha256 of the lookup.csv it
was built from and of the code that builds and reads it, and one that does not match (lookup.csv
edited since, new code) is not used: the rows are read from lookup.csv, as without an index.
Configuration errors keep naming lookup.csv and the line of the row.
"""
import json
import os
import sqlite3

from ..files import sha256_file, temporary_path
from .keys import key_part, organisation_key

ENVIRONMENT = "PLANNING_LOOKUP_INDEX"  # set by makerules/transform.mk for bin/config-stamps and bin/transform
FORMAT = "1"


def code_digest():
    """The sha256 of the code that decides what an index holds (this module, config.py's loading,
    keys.py's normal forms): an index built by other code is not used."""
    import hashlib

    digest = hashlib.sha256(FORMAT.encode())
    here = os.path.dirname(os.path.abspath(__file__))
    for name in ("lookup_index.py", "config.py", "keys.py"):
        with open(os.path.join(here, name), "rb") as f:
            digest.update(f.read())
    return digest.hexdigest()


def source_digest(lookup_path):
    return sha256_file(lookup_path) if os.path.exists(lookup_path) else "missing"


def block_of(row, prefix_keys, organisation_keys):
    prefix, organisation = row.get("prefix", ""), row.get("organisation", "")
    p = prefix_keys.get(prefix)
    if p is None:
        p = prefix_keys[prefix] = key_part(prefix)
    o = organisation_keys.get(organisation)
    if o is None:
        o = organisation_keys[organisation] = organisation_key(organisation)
    return p, o


class MemoryLookups:
    """Every row of lookup.csv, read from the file."""

    def __init__(self, rows):
        self.by_resource, self.blocks = {}, {}
        prefix_keys, organisation_keys = {}, {}
        for row in rows:
            if row.get("resource"):
                self.by_resource.setdefault(row["resource"], []).append(row)
            else:
                self.blocks.setdefault(block_of(row, prefix_keys, organisation_keys), []).append(row)
        self.prefixes = frozenset(prefix for prefix, _ in self.blocks)

    def block(self, key):
        return self.blocks.get(key, ())

    def organisation_blocks(self, organisations):
        """[(block, rows)] of every block of these organisation keys, in block order."""
        return [(key, self.blocks[key]) for key in sorted(self.blocks) if key[1] in organisations]

    def resource_rows(self, resource):
        return self.by_resource.get(resource, ())


class IndexedLookups:
    """The rows of lookup.csv read from its index, a block at a time (each read once)."""

    def __init__(self, conn, path, keys, row_class):
        self.conn, self.path, self.keys, self.row_class = conn, path, keys, row_class
        self.prefixes = frozenset(p for (p,) in conn.execute("SELECT DISTINCT prefix FROM block"))
        self._blocks = {}
        self._organisations = None

    def _rows(self, cursor):
        rows, keys, row_class, path = [], self.keys, self.row_class, self.path
        loads = json.loads
        for line, values in cursor:
            values = loads(values)
            row = row_class(zip(keys, values) if isinstance(values, list) else values)
            row.path, row.line = path, line
            rows.append(row)
        return rows

    def block(self, key):
        rows = self._blocks.get(key)
        if rows is None:
            rows = self._blocks[key] = self._rows(self.conn.execute(
                "SELECT line, row_values FROM block WHERE prefix = ? AND organisation = ? ORDER BY line", key))
        return rows

    def organisation_blocks(self, organisations):
        if self._organisations is None:
            self._organisations = sorted(self.conn.execute("SELECT DISTINCT prefix, organisation FROM block"))
        return [(key, self.block(key)) for key in self._organisations if key[1] in organisations
                and self.block(key)]

    def resource_rows(self, resource):
        return self._rows(self.conn.execute(
            "SELECT line, row_values FROM scoped WHERE resource = ? ORDER BY line", (resource,)))


def open_index(index_path, lookup_path, row_class):
    """(IndexedLookups, columns) from index_path if it was built from lookup_path as it is now by this
    code, else None."""
    if not index_path or not os.path.isfile(index_path):
        return None
    try:
        conn = sqlite3.connect(f"file:{os.path.abspath(index_path)}?mode=ro", uri=True)
        meta = dict(conn.execute("SELECT name, value FROM meta"))
        if meta.get("code") != code_digest() or meta.get("source") != source_digest(lookup_path):
            conn.close()
            return None
        return IndexedLookups(conn, lookup_path, json.loads(meta["keys"]), row_class), json.loads(meta["columns"])
    except (sqlite3.Error, KeyError, ValueError):
        return None


def build_index(rows, columns, lookup_path, output):
    """Write the index of rows (lookup.csv's, as config._load reads them) to output; returns the row count."""
    digest = source_digest(lookup_path)  # before reading: a file changing meanwhile is never taken as this one
    prefix_keys, organisation_keys = {}, {}
    with temporary_path(output) as tmp:
        conn = sqlite3.connect(tmp)
        try:
            conn.executescript("""
                PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;
                CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT);
                CREATE TABLE block (prefix TEXT, organisation TEXT, line INTEGER, row_values TEXT);
                CREATE TABLE scoped (resource TEXT, line INTEGER, row_values TEXT);
            """)
            # every row of one file has the same keys in the same order: stored once, and each row's values
            # as a list (a row that differs, if one ever did, is stored whole)
            keys = list(rows[0]) if rows else []
            general, scoped = [], []
            for row in rows:
                values = json.dumps(list(row.values()) if list(row) == keys else row, ensure_ascii=False,
                                    separators=(",", ":"))
                if row.get("resource"):
                    scoped.append((row["resource"], row.line, values))
                else:
                    general.append((*block_of(row, prefix_keys, organisation_keys), row.line, values))
            conn.executemany("INSERT INTO block VALUES (?, ?, ?, ?)", general)
            conn.executemany("INSERT INTO scoped VALUES (?, ?, ?)", scoped)
            conn.executescript("""
                CREATE INDEX block_key ON block (prefix, organisation, line);
                CREATE INDEX scoped_key ON scoped (resource, line);
            """)
            conn.executemany("INSERT INTO meta VALUES (?, ?)", [
                ("source", digest), ("code", code_digest()), ("columns", json.dumps(columns)), ("keys", json.dumps(keys)),
                ("rows", str(len(general) + len(scoped)))])
            conn.commit()
        finally:
            conn.close()
    return len(general) + len(scoped)
