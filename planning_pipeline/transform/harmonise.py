"""Harmonise: make every value conform to its field's datatype, logging what was wrong.

Per chunk of entries: category values are checked against their dataset's references (when
var/cache/dataset/<dataset>.csv is there), every non-empty value goes through its datatype's
normaliser (memoised per field while its values repeat: a repeated clean value costs a dict look-up),
geometries and points go through the batch datatype API, and GeoX/GeoY pairs are normalised
together. Then, per row: future entry-dates are blanked, organisation/geography/document values
without a prefix get the dataset's, missing mandatory values are logged, and Wikipedia URLs lose
their prefix.
"""
import csv
import datetime
import os

from .issues import Sink

# Fields that must have a value when the resource has the column. geometry and point are handled
# together (either will do). Reconstructed from the upstream list; extend as the specification grows.
MANDATORY_FIELDS = {
    "article-4-direction": ["reference", "name", "document-url", "documentation-url"],
    "article-4-direction-area": ["reference", "geometry", "name", "permitted-development-rights"],
    "conservation-area": ["reference", "geometry", "name"],
    "conservation-area-document": ["reference", "name", "conservation-area", "document-url", "document-type"],
    "tree-preservation-order": ["reference", "document-url"],
    "tree-preservation-zone": ["reference", "geometry"],
    "listed-building-outline": ["reference", "geometry", "name", "listed-building"],
    "tree": ["reference", "point", "geometry"],
    "brownfield-land": ["OrganisationURI", "SiteReference", "SiteNameAddress", "GeoX", "GeoY"],
    "developer-agreement": ["reference", "developer-agreement-type", "document-url"],
    "developer-agreement-contribution": ["reference", "developer-agreement", "contribution-purpose"],
    "developer-agreement-transaction": ["reference", "developer-agreement-contribution"],
    "infrastructure-funding-statement": ["reference", "document-url"],
    "plan-timetable": ["reference", "name", "development-plan", "development-plan-event", "event-date"],
    "local-plan": ["reference", "name", "period-start-date", "period-end-date", "documentation-url"],
    "supplementary-plan": ["reference", "name", "documentation-url"],
    "minerals-plan": ["reference", "name", "period-start-date", "period-end-date", "documentation-url"],
    "waste-plan": ["reference", "name", "period-start-date", "period-end-date", "documentation-url"],
}
SPATIAL = ("geometry", "point")
FUTURE_DATE_FIELDS = ("entry-date", "LastUpdatedDate")
CURIE_FIELDS = ("organisation", "geography", "document")
BATCH_DATATYPES = ("multipolygon", "point")
WIKIPEDIA_PREFIX = "https://en.wikipedia.org/wiki/"
MEMO_LIMIT = 50000      # values remembered per field (then forgotten, to keep memory flat)
MEMO_MAX_LENGTH = 256   # longer values are never remembered
MEMO_TRIAL = 4000       # after this many misses, a field whose values hardly repeat stops remembering


def category_dataset(specification, field):
    """The dataset whose references are the valid values of a category field, or None."""
    row = specification.field.get(field, {})
    for candidate in (row.get("dataset"), field, row.get("parent-field")):
        if candidate and candidate != "category" and candidate in specification.dataset:
            return candidate
    return None


def load_category_values(specification, fields, cache_dir):
    """{field: {lower-cased reference: reference}} for category fields whose dataset CSV is cached."""
    values = {}
    if not cache_dir:
        return values
    for field in fields:
        if specification.field.get(field, {}).get("typology") != "category":
            continue
        dataset = category_dataset(specification, field)
        path = os.path.join(cache_dir, "dataset", f"{dataset}.csv") if dataset else None
        if not path or not os.path.isfile(path):
            continue
        references = {}
        with open(path, encoding="utf-8-sig", newline="") as f:
            for row in csv.DictReader(f):
                reference = (row.get("reference") or "").strip()
                if reference:
                    references.setdefault(reference.lower(), reference)
        if references:
            values[field] = references
    return values


class FieldPlan:
    __slots__ = ("field", "datatype", "normalise", "memo", "hits", "misses", "categories", "multiple", "batch")


class Harmonise:
    def __init__(self, specification, dataset, issues, category_values=None, today=None):
        from .. import datatype

        self.datatype = datatype
        self.specification = specification
        self.dataset = dataset
        self.issues = issues
        self.category_values = category_values or {}
        self.today = today or datetime.date.today().isoformat()
        self.plans = {}
        mandatory = MANDATORY_FIELDS.get(dataset, [])
        self.mandatory = [f for f in mandatory if f not in SPATIAL]

    def plan(self, field):
        plan = self.plans.get(field)
        if plan is not None:
            return plan
        plan = FieldPlan()
        plan.field = field
        spec = self.specification.field.get(field, {})
        plan.datatype = spec.get("datatype", "")
        plan.multiple = spec.get("cardinality") == "n"
        plan.categories = self.category_values.get(field)
        plan.batch = plan.datatype in BATCH_DATATYPES
        plan.normalise = None
        if plan.datatype and not plan.batch:
            try:
                plan.normalise = self.datatype.normaliser(plan.datatype, field)
            except (ValueError, KeyError, LookupError):
                plan.normalise = None  # wkt, json, hash, pattern, reference, blob: kept as given
        plan.memo = {}
        plan.hits = plan.misses = 0
        self.plans[field] = plan
        return plan

    def modules(self, fields):
        """The modules that normalising these fields imports, slowest first (see parallel.preload): the
        geometry module and what it uses for a point, multipolygon or GeoX/GeoY value."""
        if "GeoX" in fields or any(self.plan(field).batch for field in fields):
            return ["numpy", "shapely", self.datatype.__name__ + ".geometry", "convertbng.cutil"]
        return []

    def _category(self, plan, value, entry):
        parts = value.split(";") if plan.multiple else [value]
        out, bad = [], []
        for part in parts:
            part = part.strip()
            if not part:
                continue
            canonical = plan.categories.get(part.replace(" ", "-").lower())
            if canonical is None:
                bad.append(part)
                out.append(part)
            else:
                out.append(canonical)
        for part in bad:
            self.issues.log(entry.line, entry.number, plan.field, "invalid category value", part,
                            f"{part!r} is not a {plan.field} reference")
        return ";".join(out)

    def process(self, entries):
        plans = self.plans
        batches = {}
        points = []
        pending = self.issues.pending
        cursor = Sink(pending)
        for entry in entries:
            row = entry.row
            cursor.line, cursor.entry = entry.line, entry.number
            pair = "GeoX" in row and "GeoY" in row
            for field, value in row.items():
                if not value:
                    continue
                if pair and (field == "GeoX" or field == "GeoY"):
                    continue  # normalised together as a point below (the point normaliser reports bad numbers)
                plan = plans.get(field) or self.plan(field)
                if plan.categories is not None:
                    value = row[field] = self._category(plan, value, entry)
                normalise = plan.normalise
                if normalise is not None:
                    memo = plan.memo
                    if memo is not None:
                        result = memo.get(value)
                        if result is not None:
                            plan.hits += 1
                            row[field] = result
                            continue
                    cursor.field = field
                    logged = len(pending)
                    result = normalise(value, cursor)
                    row[field] = result = result if result is not None else ""
                    if memo is not None and len(pending) == logged and len(value) <= MEMO_MAX_LENGTH:
                        # only values without issues are remembered: a hit needs no issue replayed
                        plan.misses += 1
                        if plan.misses == MEMO_TRIAL and plan.hits < plan.misses // 3:
                            plan.memo = None  # values of this field hardly repeat: stop remembering
                        elif len(memo) >= MEMO_LIMIT:
                            memo.clear()
                        else:
                            memo[value] = result
                elif plan.batch:
                    batches.setdefault(field, []).append(entry)
            if pair and (row["GeoX"] or row["GeoY"]):
                points.append(entry)

        pending = self.issues.pending
        for field, batch in batches.items():
            datatype = plans[field].datatype
            sinks = [Sink(pending, e.line, e.number, field) for e in batch]
            values = self.datatype.normalise_geometries([e.row[field] for e in batch], datatype, sinks)
            for entry, value in zip(batch, values):
                entry.row[field] = value or ""
        if points:
            sinks = [Sink(pending, e.line, e.number, "GeoX,GeoY") for e in points]
            xs, ys = [e.row["GeoX"] for e in points], [e.row["GeoY"] for e in points]
            xys = self.datatype.normalise_points_xy(xs, ys, sinks)
            for entry, xy in zip(points, xys):
                if xy:
                    entry.row["GeoX"], entry.row["GeoY"] = xy[0], xy[1]
                else:
                    del entry.row["GeoX"], entry.row["GeoY"]

        log = self.issues.log
        today, dataset, mandatory = self.today, self.dataset, self.mandatory
        for entry in entries:
            row = entry.row
            for field in FUTURE_DATE_FIELDS:
                value = row.get(field)
                if value and value > today:
                    log(entry.line, entry.number, field, "future entry-date", value,
                        f"{field} {value} is in the future")
                    row[field] = ""
            for field in CURIE_FIELDS:
                value = row.get(field)
                if value and ":" not in value:
                    row[field] = f"{dataset}:{value}"
            if ("geometry" in row or "point" in row) and not row.get("geometry") and not row.get("point"):
                field = "geometry" if "geometry" in row else "point"
                log(entry.line, entry.number, field, "missing value", "", "no geometry or point")
            for field in mandatory:
                if field in row and not row[field]:
                    log(entry.line, entry.number, field, "missing value", "", f"{field} is required")
            value = row.get("wikipedia")
            if value and value.startswith("http"):
                log(entry.line, entry.number, "wikipedia", "removed URI prefix", value, "kept only the page name")
                row["wikipedia"] = value[len(WIKIPEDIA_PREFIX):] if value.startswith(WIKIPEDIA_PREFIX) else value
        return entries
