"""Explain a value: for each field of an entity, the winning fact and every competing fact, with where
each came from and what changed it on the way.

    explain(root, dataset, entity, field=None) -> dict (JSON-able)

Read from the outputs of the last run under root, through indexes and filtered streams only:
  dataset/D.sqlite3             entity, fact (by entity), fact_resource (by fact), issue and column_field (by resource)
  specification/dataset.csv     the dataset's collection
  collection/C/resource.csv     the resource's endpoints, organisations, start and end dates
  collection/C/endpoint.csv, source.csv, log.csv   the endpoints' URLs and organisations, when each fetch got it
  var/converted/R.csv           the resource's line each entry came from (read up to that line)
  pipeline/C/*.csv              the configuration rows that changed the value: column (mapping), patch, default,
                                default-value, lookup (the entity's row), each named by file and line

Candidates are ranked as assemble ranks them: priority, entry-date, entry-number, the resource's end-date
(current first), resource, fact (planning_pipeline.assemble.queries.RANK).
"""
import csv
import os
import re
import sqlite3

from ..errors import UserError

CURRENT = "2999-12-31"
LINE_WIDE_FIELDS = ("", "entity", "reference", "organisation", "prefix")  # issues that concern the whole line


def explain(root, dataset, entity, field=None):
    """The explanation of one entity (and one field of it, or every field) of dataset under root."""
    root = os.fspath(root)
    path = os.path.join(root, "dataset", f"{dataset}.sqlite3")
    collection = _collection(root, dataset)
    if not os.path.isfile(path):
        raise UserError(f"no dataset {dataset!r} built (no {path})")
    conn = sqlite3.connect(f"file:{os.path.abspath(path)}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    try:
        return _explain(conn, root, dataset, collection, str(entity).strip(), field)
    except sqlite3.DatabaseError as e:
        raise UserError(f"cannot read the dataset: {e}", path)
    finally:
        conn.close()


def _explain(conn, root, dataset, collection, entity, field):
    result = {"dataset": dataset, "collection": collection, "entity": entity}
    row = _entity_row(conn, entity)
    if row is None:
        redirect = _old_entity(conn, entity)
        if redirect is None:
            raise UserError(f"{dataset}: no entity {entity}")
        if redirect["status"] != "301" or not redirect["entity"]:
            raise UserError(f"{dataset}: entity {entity} is retired (old-entity status {redirect['status']})")
        result["redirected-from"] = entity
        entity = result["entity"] = str(redirect["entity"])
        row = _entity_row(conn, entity)
        if row is None:
            raise UserError(f"{dataset}: entity {result['redirected-from']} redirects to {entity}, which is not in it")
    result["record"] = {k: row[k] for k in row.keys() if k not in ("geojson", "json", "geometry")}

    candidates = _candidates(conn, entity, field)
    if field and not candidates:
        fields = sorted({r["field"] for r in conn.execute("SELECT field FROM fact WHERE entity = ?", (entity,))})
        raise UserError(f"{dataset}: entity {entity} has no field {field!r} (it has {', '.join(fields) or 'no facts'})")

    resources = sorted({c["resource"] for c in candidates})
    collection_dir = os.path.join(root, "collection", collection)
    resource_rows = _resource_rows(os.path.join(collection_dir, "resource.csv"), resources)
    for c in candidates:
        end = (resource_rows.get(c["resource"], {}).get("end-date") or "").strip()
        c["_end"] = end or CURRENT
    candidates.sort(key=_rank_key)

    config = _Configuration(conn, root, dataset, collection, resource_rows)
    lines = _lines(conn, root, config, candidates)

    by_field = {}
    for c in candidates:
        by_field.setdefault(c["field"], []).append(c)
    result["fields"] = []
    for name in sorted(by_field):
        facts = {}
        for c in by_field[name]:
            fact = facts.setdefault(c["fact"], {"fact": c["fact"], "value": c["value"], "entries": []})
            fact["entries"].append(_entry(c, lines, config))
        ordered = list(facts.values())  # best-ranked first: a fact is placed by its best entry
        result["fields"].append({"field": name, "value": ordered[0]["value"], "winner": ordered[0],
                                 "competitors": ordered[1:]})
    result["resources"] = [_resource(collection_dir, r, resource_rows.get(r, {})) for r in resources]
    result["lookup"] = config.lookup_row(entity, result["record"])
    result["lines"] = [lines[k] for k in sorted(lines)]
    return result


def _collection(root, dataset):
    path = os.path.join(root, "specification", "dataset.csv")
    for number, row in _rows_mentioning(path, [dataset]):
        if row.get("dataset") == dataset:
            return row.get("collection") or dataset
    raise UserError(f"unknown dataset {dataset!r} (not in {path})")


def _entity_row(conn, entity):
    try:
        return conn.execute("SELECT * FROM entity WHERE entity = ?", (int(entity),)).fetchone()
    except (ValueError, OverflowError):
        raise UserError(f"entity {entity!r} is not a number")


def _old_entity(conn, entity):
    try:
        return conn.execute("SELECT status, entity FROM old_entity WHERE old_entity = ?", (entity,)).fetchone()
    except sqlite3.OperationalError:
        return None


def _candidates(conn, entity, field):
    sql = """SELECT f.fact, f.field, f.value, fr.resource, fr.entry_number, fr.entry_date, fr.priority,
                    fr.start_date, fr.end_date
             FROM fact f JOIN fact_resource fr ON fr.fact = f.fact WHERE f.entity = ?"""
    params = [int(entity)]
    if field:
        sql += " AND f.field = ?"
        params.append(field)
    return [dict(r) for r in conn.execute(sql, params)]


def _number(value, default):
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


class _Desc(str):
    """A string that sorts in reverse."""

    def __lt__(self, other):
        return str.__gt__(self, other)


def _rank_key(c):
    return (-_number(c["priority"], 1), _Desc(c["entry_date"] or ""), -_number(c["entry_number"], -1),
            _Desc(c["_end"]), c["resource"], c["fact"])


def _entry(c, lines, config):
    line = lines.get((c["resource"], _number(c["entry_number"], 0)), {})
    field = c["field"]
    column = config.column_for(c["resource"], field)
    issues = [i for i in line.get("issues", ()) if i["field"] == field]
    entry = {"resource": c["resource"], "entry-number": _number(c["entry_number"], None),
             "line-number": line.get("line-number"), "entry-date": c["entry_date"] or "",
             "start-date": c["start_date"] or "", "end-date": c["end_date"] or "",
             "priority": _number(c["priority"], 1), "resource-end-date": "" if c["_end"] == CURRENT else c["_end"],
             "column": column["column"] if column else None,
             "original": line.get("row", {}).get(column["column"]) if column else None,
             "changes": [], "issues": issues}
    if column and column.get("row"):
        entry["changes"].append({"kind": "column mapping", **column["row"]})
    for issue in issues:
        if issue["issue-type"] == "patch":
            entry["changes"].append({"kind": "patch", "original": issue["value"], "message": issue["message"],
                                     **(config.patch_row(c["resource"], field, issue["value"]) or {})})
        elif issue["issue-type"] == "default-field":
            entry["changes"].append({"kind": "default", "from-field": issue["value"],
                                     **(config.scoped_row("default", c["resource"], field) or {})})
        elif issue["issue-type"] == "default-value":
            entry["changes"].append({"kind": "default value", "value": issue["value"],
                                     **(config.scoped_row("default-value", c["resource"], field) or {})})
    quiet = config.resource_default(c["resource"], field)
    if quiet and quiet["value"] == c["value"] and (column is None or not entry["original"] or any(
            i["issue-type"] not in ("patch", "default-field", "default-value") for i in issues)):
        entry["changes"].append(quiet)  # the transform's own defaults, which log no issue
    return entry


def _lines(conn, root, config, candidates):
    """{(resource, entry-number): {resource, entry-number, line-number, row, issues}} for every entry the
    candidates came from: the converted resource read up to its last needed entry, and the issues of
    those lines."""
    wanted = {}
    for c in candidates:
        number = _number(c["entry_number"], None)
        if number is not None:
            wanted.setdefault(c["resource"], set()).add(number)
    lines = {}
    for resource, numbers in wanted.items():
        for number in numbers:
            lines[(resource, number)] = {"resource": resource, "entry-number": number, "line-number": None,
                                         "row": {}, "issues": []}
        for number, line, row in config.converted_entries(resource, numbers):
            lines[(resource, number)].update({"line-number": line, "row": row})
        marks = ",".join("?" * len(numbers))
        for issue in conn.execute(
                f"""SELECT entry_number, line_number, field, issue_type, value, message FROM issue
                    WHERE resource = ? AND entry_number IN ({marks}) ORDER BY line_number, field, issue_type""",
                [resource] + sorted(numbers)):
            target = lines[(resource, int(issue["entry_number"]))]
            if target["line-number"] is None and issue["line_number"] not in (None, ""):
                target["line-number"] = int(issue["line_number"])
            target["issues"].append({"field": issue["field"] or "", "issue-type": issue["issue_type"],
                                     "value": issue["value"] or "", "message": issue["message"] or ""})
    return lines


def _resource(collection_dir, resource, row):
    endpoints = _split(row.get("endpoints"))
    found = {e: {"endpoint": e, "url": "", "entry-date": "", "start-date": "", "end-date": "",
                 "organisations": [], "fetches": 0, "first-fetched": None, "last-fetched": None, "latest": None}
             for e in endpoints}
    for number, r in _rows_mentioning(os.path.join(collection_dir, "endpoint.csv"), endpoints):
        if r.get("endpoint") in found:
            found[r["endpoint"]].update({"url": r.get("endpoint-url", ""), "entry-date": r.get("entry-date", ""),
                                         "start-date": r.get("start-date", ""), "end-date": r.get("end-date", ""),
                                         "line": number})
    for number, r in _rows_mentioning(os.path.join(collection_dir, "source.csv"), endpoints):
        if r.get("endpoint") in found and r.get("organisation"):
            found[r["endpoint"]]["organisations"].append(r["organisation"])
    for number, r in _rows_mentioning(os.path.join(collection_dir, "log.csv"), endpoints):
        e = found.get(r.get("endpoint"))
        if e is None:
            continue
        fetch = {"entry-date": r.get("entry-date", ""), "status": r.get("status", ""),
                 "resource": r.get("resource", ""), "exception": r.get("exception", ""), "line": number}
        if e["latest"] is None or fetch["entry-date"] >= e["latest"]["entry-date"]:
            e["latest"] = fetch
        if r.get("resource") == resource:
            e["fetches"] += 1
            if e["first-fetched"] is None or fetch["entry-date"] < e["first-fetched"]["entry-date"]:
                e["first-fetched"] = fetch
            if e["last-fetched"] is None or fetch["entry-date"] >= e["last-fetched"]["entry-date"]:
                e["last-fetched"] = fetch
    return {"resource": resource, "line": row.get("_line"), "organisations": _split(row.get("organisations")),
            "start-date": row.get("start-date", ""), "end-date": row.get("end-date", ""),
            "endpoints": [found[e] for e in endpoints]}


def _split(value):
    return [v for v in (value or "").replace(";", " ").split() if v]


def _rows_mentioning(path, needles):
    """(line number, row) of the rows of a CSV file whose line contains one of needles, parsing no other
    line: collection logs grow by thousands of lines, and one entity needs a few."""
    if not os.path.isfile(path):
        return
    needles = [n for n in needles if n]
    with open(path, encoding="utf-8-sig", newline="") as f:
        header = next(csv.reader([f.readline()]), None)
        if not header:
            return
        for number, text in enumerate(f, start=2):
            if any(n in text for n in needles):
                for cells in csv.reader([text]):
                    yield number, dict(zip(header, cells))


class _Configuration:
    """The configuration rows that applied to the resources of one entity, through the transform's own index."""

    def __init__(self, conn, root, dataset, collection, resource_rows):
        from ..transform.config import ConfigIndex

        self.conn, self.root, self.dataset, self.resource_rows = conn, root, dataset, resource_rows
        self.pipeline_dir = os.path.join(root, "pipeline", collection)
        self.collection_dir = os.path.join(root, "collection", collection)
        index = os.path.join(root, "var", collection, "lookup-index.sqlite3")
        self.index = ConfigIndex(self.pipeline_dir, lookup_index=index) if os.path.isdir(self.pipeline_dir) else None
        self._configs = {}
        self._column_fields = {}

    def config(self, resource):
        if self.index is None:
            return None
        if resource not in self._configs:
            row = self.resource_rows.get(resource, {})
            self._configs[resource] = self.index.resource_config(self.dataset, resource, row.get("endpoints", ""),
                                                                 row.get("organisations", ""))
        return self._configs[resource]

    def _where(self, row):
        return {"file": row.path and os.path.relpath(row.path, self.root), "line": row.line, "row": dict(row)}

    def resource_default(self, resource, field):
        """The resource's own default for organisation (its one organisation) and entry-date (its start-date)."""
        row = self.resource_rows.get(resource, {})
        organisations = _split(row.get("organisations"))
        value = {"organisation": organisations[0] if len(organisations) == 1 else None,
                 "entry-date": row.get("start-date") or None}.get(field)
        if not value:
            return None
        what = "organisation" if field == "organisation" else "start-date (first collected)"
        return {"kind": "resource default", "value": value, "message": f"the resource's {what}",
                "file": os.path.relpath(os.path.join(self.collection_dir, "resource.csv"), self.root),
                "line": row.get("_line"), "row": {k: v for k, v in row.items() if k != "_line"}}

    def column_fields(self, resource):
        """{field: column} from the dataset's column_field log of the resource."""
        if resource not in self._column_fields:
            self._column_fields[resource] = {r[0]: r[1] for r in self.conn.execute(
                'SELECT field, "column" FROM column_field WHERE resource = ? ORDER BY rowid DESC', (resource,))}
        return self._column_fields[resource]

    def column_for(self, resource, field):
        """{column, row}: the resource's column that gave the field and the column.csv row that mapped it
        (row None when the column is named as the field)."""
        column = self.column_fields(resource).get(field)
        if column is None:
            return None
        from ..transform.keys import column_key

        config = self.config(resource)
        found = None
        if config is not None:
            general, endpoint_rows, resource_rows = config.rows["column"]
            key = column_key(column)
            specific = [r for r in endpoint_rows + resource_rows if column_key(r.get("column")) == key
                        and r.get("field") == field]
            plain = [r for r in general if column_key(r.get("column")) == key and r.get("field") == field]
            chosen = (specific or plain)
            if chosen:
                found = self._where(chosen[-1])
        return {"column": column, "row": found}

    def patch_row(self, resource, field, original):
        """The patch.csv row whose pattern changed original, tried in the transform's order."""
        config = self.config(resource)
        if config is None:
            return None
        patches = config.patches()
        for pattern, _, row in (patches.get(field, []) if field else []) + patches.get("", []):
            if original == pattern:
                return self._where(row)
            try:
                if re.match(pattern, original, re.IGNORECASE):
                    return self._where(row)
            except re.error:
                continue
        return None

    def scoped_row(self, name, resource, field):
        """The default.csv / default-value.csv row for field that applies to resource (the most specific)."""
        config = self.config(resource)
        if config is None:
            return None
        general, endpoint_rows, resource_rows = config.rows[name]
        chosen = None
        for row in general + endpoint_rows + resource_rows:
            if row.get("field") == field:
                chosen = row
        return self._where(chosen) if chosen is not None else None

    def lookup_row(self, entity, record):
        """The lookup.csv row that gives the entity its number, from the rows its resources could read."""
        best = None
        for resource in self.resource_rows:
            config = self.config(resource)
            if config is None:
                continue
            for row in config.lookup_rows():
                if (row.get("entity") or "").strip() == entity:
                    if best is None or (row.get("reference") == record.get("reference")
                                        and best.get("reference") != record.get("reference")):
                        best = row
        return self._where(best) if best is not None else None

    def converted_entries(self, resource, numbers):
        """(entry number, line number, {column: value}) of the wanted entries of the converted resource, read
        as the transform reads it (skip.csv patterns, blank lines) and no further than the last one."""
        from ..transform.normalise import Reader, compile_skips

        path = os.path.join(self.root, "var", "converted", f"{resource}.csv")
        if not os.path.isfile(path):
            return
        config = self.config(resource)
        skips = compile_skips(config.skip_patterns()) if config is not None else []
        last = max(numbers)
        with open(path, encoding="utf-8", errors="replace", newline="") as f:
            for entry in Reader(f, skips).entries():
                if entry.number in numbers:
                    yield entry.number, entry.line, dict(entry.row)
                if entry.number >= last:
                    break


def _resource_rows(path, resources):
    if not os.path.isfile(path):
        raise UserError("resource file not found", path)
    return {r["resource"]: dict(r, _line=number) for number, r in _rows_mentioning(path, resources)
            if r.get("resource") in resources}
