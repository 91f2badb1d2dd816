"""Defaults (default.csv, default-value.csv, the resource's organisation and entry-date) and the
migration of old field names to new ones (transform.csv), keeping only the dataset's fields."""
from ..specification import ENTITY_KEY_FIELDS

QUIET_DEFAULTS = ("organisation", "entry-date")


class Default:
    """An empty field takes another field's value (default-field issue, value = that field's name),
    else a constant (default-value issue; none for the resource's own organisation and entry-date)."""

    def __init__(self, default_fields, default_values, issues, organisations=(), entry_date=""):
        self.fields = [(f, source) for f, source in default_fields.items() if source]
        values = {f: v for f, v in default_values.items() if v}
        if len(organisations) == 1:
            values["organisation"] = organisations[0]
        if entry_date:
            values["entry-date"] = entry_date
        self.values = list(values.items())
        self.issues = issues

    def process(self, entries):
        log = self.issues.log
        for entry in entries:
            row = entry.row
            for field, source in self.fields:
                if not row.get(field) and row.get(source):
                    row[field] = row[source]
                    log(entry.line, entry.number, field, "default-field", source, f"{field} taken from {source}")
            for field, value in self.values:
                if not row.get(field):
                    row[field] = value
                    if field not in QUIET_DEFAULTS:
                        log(entry.line, entry.number, field, "default-value", value, f"{field} defaulted")
        return entries


class Migrate:
    """Only the dataset's current fields and entity, organisation, prefix, reference survive; an old
    field named in transform.csv moves to its replacement; GeoX/GeoY become `POINT (x y)`.

    The field prune that upstream runs after the organisation phase is folded in here: that phase
    reads and writes only `organisation`, which is always kept.
    """

    def __init__(self, specification, dataset, migrations):
        current = list(specification.current_fields(dataset))
        self.keep = list(dict.fromkeys(current + list(ENTITY_KEY_FIELDS)))
        keep = set(self.keep)
        self.migrations = [(old, new) for old, new in migrations.items() if new in keep]
        self.point = "point" in keep
        self.kept = {}

    def kept_fields(self, fields):
        """The kept fields of a row with these fields, in keep's order (rows share their fields, so
        this is worked out once per set of fields rather than per row)."""
        if len(self.kept) >= 1000:
            self.kept.clear()
        present = set(fields)
        kept = self.kept[fields] = [f for f in self.keep if f in present]
        return kept

    def process(self, entries):
        migrations, point, kept = self.migrations, self.point, self.kept
        for entry in entries:
            row = entry.row
            fields = tuple(row)
            out = {f: row[f] for f in kept.get(fields) or self.kept_fields(fields)}
            for old, new in migrations:
                if old in row and (row[old] or new not in out):
                    out[new] = row[old]
            if point and row.get("GeoX") and row.get("GeoY"):
                out["point"] = f"POINT ({row['GeoX']} {row['GeoY']})"
            entry.row = out
        return entries
