"""Expectation operations, run against a dataset's entity table.

A field is an entity column (kebab or snake case) or a key of the entity's json column. Every operation also
takes an optional `organisation_entity` parameter limiting it to that organisation's entities. Each returns
(passed, message, details); passed is True, False or "skipped" (the check can't be run here).
"""
import csv
import json
import os
import re

COMPARISONS = {
    "equals_to": lambda a, e: a == e,
    "not_equal_to": lambda a, e: a != e,
    "greater_than": lambda a, e: a > e,
    "greater_than_or_equal_to": lambda a, e: a >= e,
    "less_than": lambda a, e: a < e,
    "less_than_or_equal_to": lambda a, e: a <= e,
}
LIMIT = 100  # invalid rows listed in details


class Context:
    def __init__(self, conn, sqlite_path, boundary_paths=()):
        self.conn = conn
        self.sqlite_path = sqlite_path
        self.boundary_paths = boundary_paths
        self.columns = [r[1] for r in conn.execute('PRAGMA table_info("entity")')]

    def expression(self, field):
        column = field.replace("-", "_")
        if column in self.columns:
            return f'"{column}"'
        key = field.replace("_", "-").replace('"', "")
        return f"json_extract(json, '$.\"{key}\"')"

    def values(self, field, organisation_entity=None):
        """(entity, value as trimmed text) for every entity row."""
        where, args = self.where(organisation_entity)
        sql = f"SELECT entity, trim(coalesce({self.expression(field)}, '')) FROM entity{where} ORDER BY entity"
        return self.conn.execute(sql, args)

    def where(self, organisation_entity, extra=""):
        clauses, args = [], []
        if organisation_entity not in (None, ""):
            clauses.append("organisation_entity = ?")
            args.append(str(organisation_entity))
        if extra:
            clauses.append(extra)
        return (" WHERE " + " AND ".join(clauses) if clauses else ""), args


def _compare(actual, expected, rule):
    if rule not in COMPARISONS:
        raise ValueError(f"comparison_rule {rule!r} is not one of {', '.join(COMPARISONS)}")
    return COMPARISONS[rule](actual, int(expected))


def _invalid(rows, field, datatype=None):
    invalid = []
    for entity, value in rows:
        item = {"entity": entity, "field": field, "value": value}
        if datatype:
            item["datatype"] = datatype
        invalid.append(item)
    return invalid


def _report(invalid, field, ok, bad):
    details = {"invalid_rows": invalid[:LIMIT], "invalid_count": len(invalid)}
    return (not invalid), (ok if not invalid else bad.format(n=len(invalid))), details


def count_rows(ctx, expected, comparison_rule="greater_than", organisation_entity=None):
    where, args = ctx.where(organisation_entity)
    actual = ctx.conn.execute(f"SELECT count(*) FROM entity{where}", args).fetchone()[0]
    return _compare(actual, expected, comparison_rule), f"there were {actual} rows found", {"actual": actual, "expected": int(expected)}


def check_unique(ctx, field, organisation_entity=None):
    where, args = ctx.where(organisation_entity, f"trim(coalesce({ctx.expression(field)}, '')) != ''")
    sql = f"SELECT {ctx.expression(field)} v, count(*) FROM entity{where} GROUP BY v HAVING count(*) > 1 ORDER BY v"
    duplicates = [{"value": v, "count": n} for v, n in ctx.conn.execute(sql, args)]
    if duplicates:
        return False, f"there were {len(duplicates)} duplicate values in '{field}'", {"field": field, "duplicates": duplicates[:LIMIT]}
    return True, f"all values in '{field}' are unique", {"field": field, "duplicates": []}


def check_allowed_values(ctx, field, allowed_values, organisation_entity=None):
    allowed = {str(v).strip() for v in allowed_values}
    bad = [(e, v) for e, v in ctx.values(field, organisation_entity) if v not in allowed]
    passed, message, details = _report(_invalid(bad, field), field, f"all values in '{field}' are allowed",
                                       f"there were {{n}} invalid values in '{field}'")
    details.update(field=field, allowed_values=sorted(allowed), invalid_values=sorted({v for _, v in bad}))
    return passed, message, details


BLANK_IGNORED = {"entity", "dataset", "typology", "prefix", "quality", "entry_date", "organisation_entity"}


def check_no_blank_rows(ctx, organisation_entity=None):
    checked = [c for c in ctx.columns if c not in BLANK_IGNORED]
    blank = " AND ".join(f"trim(coalesce(\"{c}\", '')) = ''" for c in checked) or "0"
    where, args = ctx.where(organisation_entity, blank)
    rows = [{"entity": e} for (e,) in ctx.conn.execute(f"SELECT entity FROM entity{where} ORDER BY entity", args)]
    if rows:
        return False, f"there were {len(rows)} blank rows found", {"invalid_rows": rows[:LIMIT], "invalid_count": len(rows)}
    return True, "no blank rows found", {"invalid_rows": []}


def check_no_shared_values(ctx, field_1, field_2, organisation_entity=None):
    first = {v for _, v in ctx.values(field_1, organisation_entity) if v}
    shared = sorted(first & {v for _, v in ctx.values(field_2, organisation_entity) if v})
    details = {"field_1": field_1, "field_2": field_2, "shared_values": shared[:LIMIT]}
    if shared:
        return False, f"there were {len(shared)} shared values between '{field_1}' and '{field_2}'", details
    return True, f"no shared values between '{field_1}' and '{field_2}'", details


def check_no_overlapping_ranges(ctx, min_field, max_field, organisation_entity=None):
    where, args = ctx.where(organisation_entity)
    sql = f"SELECT {ctx.expression(min_field)}, {ctx.expression(max_field)} FROM entity{where}"
    ranges = sorted((int(a), int(b)) for a, b in ctx.conn.execute(sql, args) if _is_int(a) and _is_int(b))
    overlaps = []
    for (a_min, a_max), (b_min, b_max) in zip(ranges, ranges[1:]):
        if b_min <= a_max:
            overlaps.append({"range_1": [a_min, a_max], "range_2": [b_min, b_max]})
    details = {"min_field": min_field, "max_field": max_field, "overlaps": overlaps[:LIMIT]}
    if overlaps:
        return False, f"there were {len(overlaps)} overlapping ranges found", details
    return True, f"no overlapping ranges found between '{min_field}' and '{max_field}'", details


def _is_int(value):
    return re.fullmatch(r"\s*-?\d+\s*", str(value if value is not None else "")) is not None


def _matches(value, spec):
    if isinstance(spec, dict):
        op, expected = str(spec.get("op", spec.get("operation", "="))).lower(), spec.get("value")
    else:
        op, expected = "=", spec
    if op in ("=", "=="):
        return value == str(expected)
    if op in ("!=", "<>"):
        return value != str(expected)
    if op in ("in", "not in"):
        found = value in {str(e) for e in expected}
        return found if op == "in" else not found
    raise ValueError(f"unsupported operator {op!r}")


def check_fields_are_within_range(ctx, field, external_file, min_field, max_field, rules=None, organisation_entity=None):
    ranges = []
    with open(external_file, encoding="utf-8-sig", newline="") as f:
        for row in csv.DictReader(f):
            if _is_int(row.get(min_field)) and _is_int(row.get(max_field)):
                ranges.append((int(row[min_field]), int(row[max_field])))
    groups = (rules or {}).get("lookup_rules") or []
    groups = [groups] if isinstance(groups, dict) else groups
    fields = [f.strip() for f in field.split(",") if f.strip()] if isinstance(field, str) else list(field)
    invalid = []
    for name in fields:
        conditions = [(k, ctx.expression(k)) for g in groups for k in g]
        extra = "".join(f", trim(coalesce({e}, ''))" for _, e in conditions)
        where, args = ctx.where(organisation_entity)
        for row in ctx.conn.execute(f"SELECT entity, {ctx.expression(name)}{extra} FROM entity{where} ORDER BY entity", args):
            entity, value, rest = row[0], row[1], dict(zip([k for k, _ in conditions], row[2:]))
            if groups and not any(all(_matches(rest[k], s) for k, s in g.items()) for g in groups):
                continue
            if not _is_int(value):
                continue
            number = int(value)
            if not any(low <= number <= high for low, high in ranges):
                invalid.append({"entity": entity, "field": name, "value": number})
    if invalid:
        return False, f"there were {len(invalid)} out-of-range rows found", {"invalid_rows": invalid[:LIMIT], "invalid_count": len(invalid)}
    return True, f"all values in '{field}' are within allowed ranges", {"invalid_rows": []}


# datatype checks: a value is checked only when not blank
def _float_between(low, high):
    def check(value):
        try:
            return low <= float(value) <= high
        except ValueError:
            return False
    return check


def _integer(value):
    try:
        return float(value) == int(float(value))
    except (ValueError, OverflowError):
        return False


def _decimal(value):
    try:
        float(value)
        return value.lower() not in ("nan", "inf", "-inf", "infinity")
    except ValueError:
        return False


def _json(value):
    try:
        json.loads(value)
        return True
    except ValueError:
        return False


def _regex(value):
    try:
        re.compile(value)
        return True
    except re.error:
        return False


def _date(value):
    import datetime
    try:
        datetime.date.fromisoformat(value)
        return True
    except ValueError:
        return False


def _datetime(value):
    import datetime
    try:
        datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
        return True
    except ValueError:
        return False


def _geometry(kinds):
    def check(value):
        import shapely
        geometry = shapely.from_wkt(value, on_invalid="ignore")
        return geometry is not None and geometry.geom_type in kinds and geometry.is_valid
    return check


CURIE = r"[a-z0-9-]+:[^\s:][^\s]*"
DATATYPES = {
    "integer": _integer,
    "decimal": _decimal,
    "flag": lambda v: v.lower() in ("yes", "no", "true", "false"),
    "latitude": _float_between(-90, 90),
    "longitude": _float_between(-180, 180),
    "hash": lambda v: re.fullmatch(r"([a-z]+:)?[0-9a-fA-F]+", v) is not None,
    "curie": lambda v: re.fullmatch(CURIE, v) is not None,
    "curie_list": lambda v: re.fullmatch(f"({CURIE}(;{CURIE})*)?", v) is not None,
    "json": _json,
    "url": lambda v: re.fullmatch(r"[a-zA-Z][a-zA-Z0-9+.-]*://[^\s/:?#]+(:[0-9]+)?([/?#]\S*)?", v) is not None,
    "date": _date,
    "datetime": _datetime,
    "pattern": _regex,
    "multipolygon": _geometry({"Polygon", "MultiPolygon", "GeometryCollection"}),
    "point": _geometry({"Point"}),
}


def _datatype_check(datatype):
    valid = DATATYPES[datatype]

    def check(ctx, field, organisation_entity=None):
        bad = [(e, v) for e, v in ctx.values(field, organisation_entity) if v and not valid(v)]
        name = datatype.replace("_", "-")
        return _report(_invalid(bad, field, name), field, f"all values in '{field}' have datatype '{name}'",
                       f"there were {{n}} invalid '{name}' value(s) in '{field}'")

    check.__name__ = f"expect_column_to_be_{datatype}"
    return check


def expect_column_to_match_pattern(ctx, field, pattern, organisation_entity=None):
    compiled = re.compile(pattern)
    bad = [(e, v) for e, v in ctx.values(field, organisation_entity) if v and not compiled.fullmatch(v)]
    passed, message, details = _report(_invalid(bad, field), field, f"all values in '{field}' match the pattern",
                                       f"there were {{n}} value(s) in '{field}' not matching the pattern")
    details["pattern"] = pattern
    return passed, message, details


def duplicate_geometry_check(ctx, spatial_field="geometry", organisation_entity=None, overlap=0.95):
    """Points are duplicates when equal; polygons when each covers more than `overlap` of the other."""
    import shapely

    rows = [(e, v) for e, v in ctx.values(spatial_field, organisation_entity) if v]
    geometries = shapely.from_wkt([v for _, v in rows], on_invalid="ignore")
    keep = [i for i, g in enumerate(geometries) if g is not None and not g.is_empty]
    entities = [rows[i][0] for i in keep]
    geometries = geometries[keep] if len(keep) else geometries[:0]
    pairs = []
    if spatial_field == "point":
        seen = {}
        for entity, geometry in zip(entities, geometries):
            key = (round(geometry.x, 6), round(geometry.y, 6))
            if key in seen:
                pairs.append({"entity_a": seen[key], "entity_b": entity})
            else:
                seen[key] = entity
    else:
        geometries = shapely.make_valid(geometries)
        areas = shapely.area(geometries)
        tree = shapely.STRtree(geometries)
        left, right = tree.query(geometries, predicate="intersects")
        mask = left < right
        left, right = left[mask], right[mask]
        if len(left):
            shared = shapely.area(shapely.intersection(geometries[left], geometries[right]))
            for a, b, s in zip(left, right, shared):
                if areas[a] > 0 and areas[b] > 0 and s / areas[a] > overlap and s / areas[b] > overlap:
                    pairs.append({"entity_a": entities[a], "entity_b": entities[b],
                                  "overlap_a": round(float(s / areas[a]), 4), "overlap_b": round(float(s / areas[b]), 4)})
    details = {"field": spatial_field, "duplicates": pairs[:LIMIT], "duplicate_count": len(pairs)}
    if pairs:
        return False, f"there were {len(pairs)} duplicate {spatial_field} pairs", details
    return True, f"no duplicate {spatial_field} values", details


RELATIONS = {"within", "intersects", "not_intersects", "centroid_within"}


def _boundary(ctx, lpa):
    """The WKT boundary of statistical geography `lpa` from a local dataset, and where it was found."""
    import sqlite3

    for path in ctx.boundary_paths:
        if not os.path.exists(path):
            continue
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            row = conn.execute("SELECT geometry FROM entity WHERE reference = ? AND geometry != '' LIMIT 1", (lpa,)).fetchone()
        except sqlite3.Error:
            row = None
        finally:
            conn.close()
        if row:
            return row[0], path
    return None, None


def count_lpa_boundary(ctx, lpa, expected, organisation_entity=None, comparison_rule="equals_to", geometric_relation="within"):
    import shapely

    if geometric_relation not in RELATIONS:
        raise ValueError(f"geometric_relation {geometric_relation!r} is not one of {', '.join(sorted(RELATIONS))}")
    wkt, source = _boundary(ctx, lpa)
    if wkt is None:
        searched = ", ".join(ctx.boundary_paths) or "none given"
        return "skipped", (f"boundary statistical-geography:{lpa} not found in a local dataset (searched: {searched}); "
                           "the boundary is not fetched over the network"), {"lpa": lpa}
    boundary = shapely.make_valid(shapely.from_wkt(wkt))
    where, args = ctx.where(organisation_entity)
    sql = f"SELECT entity, coalesce(nullif(geometry, ''), point) FROM entity{where} ORDER BY entity"
    rows = [(e, g) for e, g in ctx.conn.execute(sql, args) if g]
    geometries = shapely.from_wkt([g for _, g in rows], on_invalid="ignore")
    if geometric_relation == "within":
        hits = shapely.within(geometries, boundary)
    elif geometric_relation == "intersects":
        hits = shapely.intersects(geometries, boundary)
    elif geometric_relation == "not_intersects":
        hits = ~shapely.intersects(geometries, boundary)
    else:
        hits = shapely.within(shapely.centroid(geometries), boundary)
    hits = hits & ~shapely.is_missing(geometries)
    actual = int(hits.sum())
    passed = _compare(actual, expected, comparison_rule)
    return passed, f"there were {actual} entities {geometric_relation.replace('_', ' ')} the boundary of {lpa}", {
        "actual": actual, "expected": int(expected), "boundary": source}


def _skipped(reason):
    def operation(ctx, **parameters):
        return "skipped", reason, {}
    return operation


OPERATIONS = {
    "count_rows": count_rows,
    "check_unique": check_unique,
    "check_allowed_values": check_allowed_values,
    "check_no_blank_rows": check_no_blank_rows,
    "check_no_shared_values": check_no_shared_values,
    "check_no_overlapping_ranges": check_no_overlapping_ranges,
    "check_fields_are_within_range": check_fields_are_within_range,
    "expect_column_to_match_pattern": expect_column_to_match_pattern,
    "duplicate_geometry_check": duplicate_geometry_check,
    "count_lpa_boundary": count_lpa_boundary,
    "count_deleted_entities": _skipped("needs the platform's live endpoint report; not run offline"),
    "check_fields_required_after_plan_event": _skipped("needs a plan timetable; not run here"),
    "check_field_is_within_range_by_dataset_org": _skipped("not implemented here"),
}
OPERATIONS.update({f"expect_column_to_be_{d}": _datatype_check(d) for d in DATATYPES})
