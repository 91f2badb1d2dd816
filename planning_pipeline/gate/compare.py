"""Compare a newly assembled dataset with its published version: what was added, removed and changed.

Both are sqlite files with an `entity` table; the comparison is SQL over the two attached read-only, in
entity order, in chunks, so memory stays flat whatever the size. Each change is written as a row of the
changes CSV (entity, change, field, old-value, new-value, resource, reason), and counted for the gate:

- added / removed entities, and removals that configuration intends: an entity the build redirects or
  retires through old-entity.csv, or whose every resource was retired in old-resource.csv (410, or no
  replacement);
- changed entities, by field (json fields compared key by key);
- key fields that lost their value (a value published, blank now), of the published entities that had one;
- organisations whose entities all went, other than by intended removals;
- issues by severity, published and new.
"""
import heapq
import json
import os
import sqlite3
import urllib.parse

from ..csvio import read_csv
from ..errors import UserError
from ..files import atomic_write

CHANGES_HEADER = ["entity", "change", "field", "old-value", "new-value", "resource", "reason"]
CHUNK = 500
LONG = 500  # a value longer than this (a geometry) is written shortened
SKIPPED_COLUMNS = ("entity", "geojson")  # the key, and a copy of geometry


def field_name(column):
    return "default" if column == "_default" else column.replace("_", "-")


def short(value):
    value = "" if value is None else str(value)
    return value if len(value) <= LONG else f"{value[:200]}... ({len(value):,} characters)"


def retired_resources(old_resource_path):
    """{resource: reason} of the resources old-resource.csv retires (410, or no replacement)."""
    retired = {}
    for line, row in enumerate(read_csv(old_resource_path or "", ("old-resource",)), 2):
        if row.get("status", "") == "410" or not row.get("resource", ""):
            retired[row["old-resource"]] = f"old-resource.csv line {line}: retired ({row.get('status') or 'no replacement'})"
    return retired


def _uri(path):
    return "file:" + urllib.parse.quote(os.path.abspath(path)) + "?mode=ro"


class Comparison:
    """The counts of one comparison; `summary()` is what the gate decides on and reports."""

    def __init__(self, dataset, published_path, candidate_path):
        self.dataset = dataset
        self.published_path = published_path
        self.candidate_path = candidate_path
        self.published = 0
        self.candidate = 0
        self.added = 0
        self.removed = 0
        self.removed_intended = 0
        self.changed = 0
        self.changed_fields = {}
        self.had_value = {}
        self.blanked = {}
        self.organisations_lost = []
        self.issues = {}

    def summary(self, key_fields):
        blanked = {}
        for field in key_fields:
            had = self.had_value.get(field, 0)
            lost = self.blanked.get(field, 0)
            if had:
                blanked[field] = {"count": lost, "of": had, "percent": round(100.0 * lost / had, 2)}
        return {
            "dataset": self.dataset,
            "published-entities": self.published if self.published_path else None,
            "candidate-entities": self.candidate,
            "added": self.added,
            "removed": self.removed,
            "removed-intended": self.removed_intended,
            "changed": self.changed,
            "changed-fields": dict(sorted(self.changed_fields.items())),
            "blanked": blanked,
            "organisations-lost": self.organisations_lost,
            "issues": self.issues,
        }


def compare(dataset, candidate_path, published_path, changes_csv, old_resource_path=None, severity=None,
            organisation_names=None):
    """Compare candidate_path with published_path (None or missing: a first publication), writing
    changes_csv. Returns a Comparison."""
    if published_path and not os.path.exists(published_path):
        published_path = None
    result = Comparison(dataset, published_path, candidate_path)
    conn = sqlite3.connect(_uri(candidate_path), uri=True)
    # provenance reads facts by entity all over both files: read them through the page cache (mmap),
    # not sqlite's own 2 MB cache, which re-read the same pages for every chunk (12 s for 120,000 entities)
    conn.execute(f"PRAGMA mmap_size = {MMAP_BYTES}")
    try:
        if published_path:
            try:
                conn.execute("ATTACH DATABASE ? AS old", (_uri(published_path),))
                conn.execute(f"PRAGMA old.mmap_size = {MMAP_BYTES}")
                conn.execute("SELECT count(*) FROM old.entity").fetchone()
            except sqlite3.DatabaseError as error:
                raise UserError(f"the published dataset cannot be read: {error}", published_path) from None
        with atomic_write(changes_csv) as f:
            import csv

            writer = csv.writer(f, lineterminator="\r\n")
            writer.writerow(CHANGES_HEADER)
            _Run(conn, result, retired_resources(old_resource_path), organisation_names or {}).write(writer)
        result.issues = _issues(conn, bool(published_path), severity or (lambda issue_type: ""))
    except sqlite3.DatabaseError as error:
        raise UserError(f"cannot compare: {error}", candidate_path) from None
    finally:
        conn.close()
    return result


def _columns(conn, schema):
    return [r[1] for r in conn.execute(f"PRAGMA {schema}.table_info(entity)")]


def _issues(conn, with_old, severity):
    counts = {}
    for schema, key in (("main", "candidate"), ("old", "published")):
        if schema == "old" and not with_old:
            continue
        tables = {r[0] for r in conn.execute(f"SELECT name FROM {schema}.sqlite_master WHERE type = 'table'")}
        if "issue" not in tables:
            continue
        for issue_type, n in conn.execute(f"SELECT issue_type, count(*) FROM {schema}.issue GROUP BY 1"):
            level = severity(issue_type or "") or "unknown"
            counts.setdefault(level, {"published": 0, "candidate": 0})[key] += n
    return dict(sorted(counts.items()))


class _Run:
    """One comparison's passes over the two databases."""

    def __init__(self, conn, result, retired, organisation_names):
        self.conn = conn
        self.result = result
        self.retired = retired
        self.organisation_names = organisation_names
        self.with_old = result.published_path is not None
        new_columns = _columns(conn, "main")
        if "entity" not in new_columns:
            raise UserError("no entity table", result.candidate_path)
        old_columns = _columns(conn, "old") if self.with_old else []
        self.columns = [c for c in new_columns if c in old_columns and c not in SKIPPED_COLUMNS]
        self.old_entity = self._old_entities()

    def _old_entities(self):
        tables = {r[0] for r in self.conn.execute("SELECT name FROM main.sqlite_master WHERE type = 'table'")}
        if "old_entity" not in tables:
            return {}
        return {str(old): (status, entity) for old, status, entity in
                self.conn.execute("SELECT old_entity, status, entity FROM main.old_entity")}

    def write(self, writer):
        self.result.candidate = self.conn.execute("SELECT count(*) FROM main.entity").fetchone()[0]
        streams = [self._added()]
        if self.with_old:
            self.result.published = self.conn.execute("SELECT count(*) FROM old.entity").fetchone()[0]
            for column in self.columns:
                field = field_name(column)
                self.result.had_value[field] = self.conn.execute(
                    f'SELECT count(*) FROM old.entity WHERE COALESCE("{column}", \'\') != \'\'').fetchone()[0]
            streams += [self._removed(), self._changed()]
        for _, rows in heapq.merge(*streams, key=lambda item: item[0]):
            writer.writerows(rows)
        if self.with_old:
            self._organisations_lost()

    # ---- added -----------------------------------------------------------------------------
    def _added(self):
        missing = "NOT EXISTS (SELECT 1 FROM old.entity o WHERE o.entity = n.entity)" if self.with_old else "1"
        sql = f"SELECT n.entity FROM main.entity n WHERE {missing} ORDER BY n.entity"
        for chunk in _chunks(self.conn.execute(sql)):
            entities = [e for e, in chunk]
            latest = self._latest_resources("main", entities)
            for entity in entities:
                self.result.added += 1
                yield entity, [[entity, "added", "", "", "", latest.get(entity, ""), ""]]

    # ---- removed ---------------------------------------------------------------------------
    def _removed(self):
        self.lost_by_organisation = {}
        sql = ("SELECT o.entity, o.organisation_entity FROM old.entity o"
               " WHERE NOT EXISTS (SELECT 1 FROM main.entity n WHERE n.entity = o.entity) ORDER BY o.entity")
        has_organisation = "organisation_entity" in _columns(self.conn, "old")
        if not has_organisation:
            sql = sql.replace("o.organisation_entity", "NULL")
        for chunk in _chunks(self.conn.execute(sql)):
            resources = self._resources("old", [e for e, _ in chunk])
            for entity, organisation in chunk:
                self.result.removed += 1
                reason = self._intended(entity, resources.get(entity, []))
                if reason:
                    self.result.removed_intended += 1
                elif organisation not in (None, ""):
                    key = str(organisation)
                    self.lost_by_organisation[key] = self.lost_by_organisation.get(key, 0) + 1
                yield entity, [[entity, "removed", "", "", "", _latest(resources.get(entity, [])), reason]]

    def _intended(self, entity, resources):
        redirect = self.old_entity.get(str(entity))
        if redirect:
            status, target = redirect
            return f"old-entity.csv: {status}" + (f" to {target}" if target not in (None, "") else "")
        names = {r[0] for r in resources}
        if names and all(r in self.retired for r in names):
            return "; ".join(sorted({self.retired[r] for r in names}))
        return ""

    def _organisations_lost(self):
        if not self.lost_by_organisation:
            return
        remaining = {str(o): n for o, n in self.conn.execute(
            "SELECT organisation_entity, count(*) FROM main.entity GROUP BY 1")}
        for organisation in sorted(self.lost_by_organisation, key=lambda o: (len(o), o)):
            if remaining.get(organisation, 0) == 0:
                self.result.organisations_lost.append({
                    "organisation-entity": organisation,
                    "name": self.organisation_names.get(organisation, ""),
                    "entities": self.lost_by_organisation[organisation],
                })

    # ---- changed ---------------------------------------------------------------------------
    def _changed(self):
        differs = " OR ".join(f'COALESCE(n."{c}", \'\') != COALESCE(o."{c}", \'\')' for c in self.columns) or "0"
        select = ", ".join(f'n."{c}", o."{c}"' for c in self.columns)
        sql = (f"SELECT n.entity, {select} FROM main.entity n JOIN old.entity o ON o.entity = n.entity"
               f" WHERE {differs} ORDER BY n.entity")
        for chunk in _chunks(self.conn.execute(sql)):
            resources = self._resources("main", [r[0] for r in chunk])
            for row in chunk:
                changes = self._field_changes(row)
                if not changes:
                    continue  # only json key order differed
                self.result.changed += 1
                entity = row[0]
                out = []
                for field, old, new in changes:
                    self.result.changed_fields[field] = self.result.changed_fields.get(field, 0) + 1
                    if old not in (None, "") and new in (None, ""):
                        self.result.blanked[field] = self.result.blanked.get(field, 0) + 1
                    resource = _latest(resources.get(entity, []), field, new)
                    out.append([entity, "changed", field, short(old), short(new), resource, ""])
                yield entity, out

    def _field_changes(self, row):
        changes = []
        for i, column in enumerate(self.columns):
            new, old = row[1 + 2 * i], row[2 + 2 * i]
            if (new or "") == (old or ""):
                continue
            if column == "json":
                changes += _json_changes(old, new)
            else:
                changes.append((field_name(column), old, new))
        return sorted(changes, key=lambda c: c[0])

    # ---- provenance --------------------------------------------------------------------------
    def _latest_resources(self, schema, entities):
        """{entity: the resource of its latest fact}, as _latest(facts) picks it (entry date, entry number,
        resource), chosen by sqlite: a first publication adds every entity, and moving all their facts
        into Python took most of its time."""
        if not entities:
            return {}
        marks = ",".join("?" * len(entities))
        sql = (f"SELECT f.entity, fr.resource, max(COALESCE(fr.entry_date, '') || printf('%020d', COALESCE(fr.entry_number, 0))"
               f" || COALESCE(fr.resource, '')) FROM {schema}.fact f JOIN {schema}.fact_resource fr ON fr.fact = f.fact"
               f" WHERE f.entity IN ({marks}) GROUP BY f.entity")
        try:
            return {entity: resource or "" for entity, resource, _ in self.conn.execute(sql, entities)}
        except sqlite3.OperationalError:
            return {}  # a dataset without fact tables: no provenance

    def _resources(self, schema, entities):
        """{entity: [(resource, field, value, entry_date, entry_number)]} from a database's facts."""
        found = {}
        if not entities:
            return found
        marks = ",".join("?" * len(entities))
        sql = (f"SELECT f.entity, fr.resource, f.field, f.value, fr.entry_date, fr.entry_number"
               f" FROM {schema}.fact f JOIN {schema}.fact_resource fr ON fr.fact = f.fact WHERE f.entity IN ({marks})")
        try:
            for entity, resource, field, value, entry_date, entry_number in self.conn.execute(sql, entities):
                found.setdefault(entity, []).append((resource or "", field or "", value, entry_date or "", entry_number or 0))
        except sqlite3.OperationalError:
            return {}  # a dataset without fact tables: no provenance
        return found


def _json_changes(old, new):
    def parse(text):
        try:
            value = json.loads(text) if text else {}
        except ValueError:
            return {"json": text}
        return value if isinstance(value, dict) else {"json": text}

    before, after = parse(old), parse(new)
    return [(key, before.get(key), after.get(key)) for key in sorted(set(before) | set(after))
            if _text(before.get(key)) != _text(after.get(key))]


def _text(value):
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def _latest(facts, field=None, value=None):
    """The resource behind a value: a fact of that field with that value, else of that field, else any;
    the latest entry first."""
    if not facts:
        return ""
    def rank(fact):
        resource, f_field, f_value, entry_date, entry_number = fact
        return (field is not None and f_field == field and _text(f_value) == _text(value),
                field is not None and f_field == field, entry_date, entry_number, resource)
    return max(facts, key=rank)[0]


MMAP_BYTES = 1 << 34


def _chunks(cursor):
    while True:
        rows = cursor.fetchmany(CHUNK)
        if not rows:
            return
        yield rows
