"""From entities to facts: pivot, combine, fact hash, reference-entity, fact prune, and the output.

The pivot and the fact phases are one loop (FactWriter.write_entries) writing CSV lines directly;
a held or combined fact is a tuple (entity, field, value, entry-date, entry-number, priority, line,
organisation).
"""
import hashlib

from .keys import PLAN_PREFIXES, reference_typology, referenced_prefix

FACT_FIELDS = ["end-date", "entity", "entry-date", "entry-number", "fact", "field", "priority",
               "reference-entity", "resource", "start-date", "value"]
MEMO_LIMIT = 50000


def fact_hash(entity, field, value):
    return hashlib.sha256(f"{entity}:{field}:{value}".encode("utf-8")).hexdigest()


class Combine:
    """combine.csv: an entity's values of a field, from all its entries, become one value.

    Only the facts of combined fields are held (per entity) until the end of the resource; each is
    then emitted with the combined value: the sorted distinct non-empty values joined by the
    separator, or for geometry their union as one MultiPolygon.
    """

    def __init__(self, fields, issues):
        self.fields = dict(fields)
        self.issues = issues
        self.buffer = {}

    def hold(self, fact):
        self.buffer.setdefault(fact[0], []).append(fact)

    def combined_value(self, field, values):
        values = sorted({v for v in values if v})
        if field == "geometry" and len(values) > 1:
            return union(values)
        return self.fields[field].join(values)

    def finish(self):
        out = []
        for entity, facts in self.buffer.items():
            by_field = {}
            for fact in facts:
                by_field.setdefault(fact[1], []).append(fact)
            combined = {}
            for field, group in by_field.items():
                combined[field] = self.combined_value(field, [f[2] for f in group])
                if len(group) > 1:
                    first = group[0]
                    self.issues.log(first[6], first[4], field, "combined-value", entity,
                                    f"{field} combined from {len(group)} entries", entity=entity)
            for fact in facts:
                out.append((fact[0], fact[1], combined[fact[1]]) + fact[3:])
        self.buffer = {}
        return out


def union(wkts):
    """The union of WKT geometries, as the datatype's canonical WGS84 MultiPolygon text."""
    import shapely

    from .. import datatype
    from .issues import Recorder

    geometries = [g for g in shapely.from_wkt(wkts, on_invalid="ignore") if g is not None]
    if not geometries:
        return ""
    merged = shapely.union_all(shapely.make_valid(geometries))
    return datatype.normalise_geometries([shapely.to_wkt(merged)], "multipolygon", [Recorder()])[0] or ""


def quote(value):
    """A CSV field as csv.writer would write it with minimal quoting (and always quoting a CR)."""
    if '"' in value:
        return '"' + value.replace('"', '""') + '"'
    if "," in value or "\n" in value or "\r" in value:
        return '"' + value + '"'
    return value


class FactWriter:
    """Pivot entries into facts, hash them, find their reference-entity, prune them and write them.

    Facts of combined fields are handed to the Combine phase instead. Also counts the entities
    written and checks that no reference is given twice for one entity and entry-date.
    """

    def __init__(self, out, resource, specification, dataset, lookups, issues, fieldnames, combine,
                 odp_prefixes=(), check_duplicates=True):
        self.out = out
        self.resource = quote(resource)
        self.lookups = lookups
        self.issues = issues
        self.combine = combine
        self.odp_prefixes = set(odp_prefixes)
        self.reference_fields = {}
        for field in fieldnames:
            if reference_typology(specification, field):
                self.reference_fields[field] = referenced_prefix(specification, field)
        self.memo = {}
        self.orders = {}
        self.entities = set()
        self.count = 0
        self.check_duplicates = check_duplicates
        self.references = {}

    def header(self):
        self.out.write(",".join(FACT_FIELDS) + "\n")

    def reference_entity(self, field, value, organisation, line, number):
        key = (field, value, organisation)
        hit = self.memo.get(key)
        if hit is None:
            prefix, _, reference = value.partition(":")
            if not reference:
                prefix, reference = self.reference_fields[field], value
            entity = self._find(prefix, reference, organisation)
            if not entity and prefix == "plan":
                for candidate in PLAN_PREFIXES:
                    entity = self._find(candidate, reference, organisation)
                    if entity:
                        break
            missing = not entity and (prefix in self.odp_prefixes or prefix == "plan")
            hit = (entity, missing)
            if len(self.memo) >= MEMO_LIMIT:
                self.memo.clear()
            self.memo[key] = hit
        entity, missing = hit
        if missing:
            self.issues.log(line, number, field, "missing associated entity", value, f"no entity for {value}")
        return entity

    def _find(self, prefix, reference, organisation):
        entity = self.lookups.find(prefix, reference, organisation)
        return self.lookups.redirected(entity) if entity else ""

    def write_entries(self, entries):
        """Pivot: one fact per field of each entry but entity, fields in sorted order."""
        lines = []
        append = lines.append
        resource = self.resource
        reference_fields = self.reference_fields
        combined = self.combine.fields
        special = {"entity", "reference", "end-date"} | set(combined) | set(reference_fields)
        check = self.check_duplicates
        sha256 = hashlib.sha256
        orders = self.orders
        written = 0
        for entry in entries:
            row = entry.row
            entity = row["entity"]
            entry_date = row.get("entry-date", "")
            number, priority = entry.number, entry.priority
            head = f",{entity},{quote(entry_date)},{number},"
            tail = f",{priority},,{resource},,"
            key = f"{entity}:"
            before = written
            fields = tuple(row)
            for field, plain in orders.get(fields) or self.order(fields, special):
                value = row[field]
                if plain:
                    if value:
                        # the common case: no reference-entity, no combining, no checks
                        fact = sha256(f"{key}{field}:{value}".encode()).hexdigest()
                        if '"' in value or "," in value or "\n" in value or "\r" in value:
                            value = quote(value)  # (inlined test: most values need no quoting)
                        append(f"{head}{fact},{field}{tail}{value}\n")
                        written += 1
                    continue
                if field == "entity":
                    continue
                if field in combined:
                    self.combine.hold((entity, field, value, entry_date, number, priority, entry.line,
                                       entry.organisation))
                    continue
                if not value and field != "end-date":
                    continue
                reference_entity = ""
                if value and field in reference_fields:
                    reference_entity = self.reference_entity(field, value, entry.organisation, entry.line, number)
                if check and field == "reference":
                    self.duplicate(entity, entry_date, value, entry.line, number)
                fact = sha256(f"{key}{field}:{value}".encode("utf-8")).hexdigest()
                append(f"{head}{fact},{field},{priority},{reference_entity},{resource},,{quote(value)}\n")
                written += 1
            if written != before:
                self.entities.add(entity)
        self.count += written
        self.out.write("".join(lines))

    def order(self, fields, special):
        """A row's fields sorted, each with whether it makes a plain fact (worked out once per set of
        fields: rows share theirs)."""
        if len(self.orders) >= 1000:
            self.orders.clear()
        order = self.orders[fields] = tuple((f, f not in special) for f in sorted(fields))
        return order

    def write(self, facts):
        """Write fact tuples (entity, field, value, entry-date, entry-number, priority, line, organisation)."""
        lines = []
        resource = self.resource
        for entity, field, value, entry_date, number, priority, line, organisation in facts:
            if not value and field != "end-date":
                continue
            reference_entity = ""
            if value and field in self.reference_fields:
                reference_entity = self.reference_entity(field, value, organisation, line, number)
            if self.check_duplicates and field == "reference":
                self.duplicate(entity, entry_date, value, line, number)
            fact = fact_hash(entity, field, value)
            lines.append(f",{entity},{quote(entry_date)},{number},{fact},{field},{priority},{reference_entity},"
                         f"{resource},,{quote(value)}\n")
            self.entities.add(entity)
        self.count += len(lines)
        self.out.write("".join(lines))

    def duplicate(self, entity, entry_date, value, line, number):
        """Log entries of one entity and entry-date: the same reference twice, or references that
        resolve to one entity (8/75 and 875 share the lookup key 875). The later entry's facts win
        (entry-number breaks the tie in assemble), and both lines are named. One small key each."""
        key = f"{entity}\t{entry_date}"
        first = self.references.get(key)
        if first is None:
            self.references[key] = (line, number, value, False)
            return
        first_line, first_number, first_value, reported = first
        if first_value == value:
            message = (f"reference {value} is given by more than one entry with entry-date {entry_date} "
                       f"(lines {first_line} and {line}): the later entry's facts win")
        else:
            message = (f"references {first_value} (line {first_line}) and {value} (line {line}) are one entity, "
                       f"{entity}, with entry-date {entry_date}: the later entry's facts win")
        log = self.issues.log
        if not reported:
            self.references[key] = (first_line, first_number, first_value, True)  # the first entry is reported once
            log(first_line, first_number, "reference", "reference values are not unique", first_value, message,
                entity=entity)
        log(line, number, "reference", "reference values are not unique", value, message, entity=entity)
