"""Concatenating columns, filtering rows, and mapping the resource's columns to specification fields."""
import re

from .keys import column_key


class Concat:
    """concat.csv: field = prepend + separator.join(non-empty existing value and listed columns) + append."""

    def __init__(self, concatenations):
        self.rules = []
        for field, row in concatenations.items():
            fields = [f for f in (row.get("fields") or "").split(";") if f]
            self.rules.append((field, fields, row.get("separator", ""), row.get("prepend", ""), row.get("append", "")))

    def column_fields(self):
        """(column, field) rows for the column-field log."""
        return [(prepend + separator.join(fields) + append, field)
                for field, fields, separator, prepend, append in self.rules]

    def columns(self, header):
        """The header once the concatenated fields are added."""
        return list(header) + [rule[0] for rule in self.rules if rule[0] not in header]

    def process(self, entries):
        if not self.rules:
            return entries
        for entry in entries:
            row = entry.row
            for field, fields, separator, prepend, append in self.rules:
                parts = [row[field]] if row.get(field) else []
                parts.extend(row[f] for f in fields if row.get(f, "").strip())
                # nothing to join: leave the field empty rather than a bare prepend/append
                row[field] = prepend + separator.join(parts) + append if parts else ""
        return entries


class Filter:
    """filter.csv: keep a row only if, for every filtered field it has, the pattern matches its value.

    (Upstream lets the last filtered field decide alone; here all of them must match.)
    """

    def __init__(self, filters):
        self.filters = []
        for field, (pattern, row) in filters.items():
            try:
                self.filters.append((field, re.compile(pattern)))
            except re.error as e:
                raise row.error(f"filter pattern {pattern!r} is not a valid regular expression: {e}")

    def process(self, entries):
        if not self.filters:
            return entries
        kept = []
        for entry in entries:
            row = entry.row
            for field, pattern in self.filters:
                if field in row and not pattern.match(row[field]):
                    break
            else:
                kept.append(entry)
        return kept


def map_headers(header, columns, fieldnames):
    """[(column, field)] in the order they are applied (a later one wins for the same field).

    column.csv mappings first, then columns whose normalised name is a field not already a target;
    GeoX/GeoY go last when Easting/Northing are also present. Columns mapped to IGNORE are dropped.
    """
    normalised = {column_key(f): f for f in fieldnames}
    explicit = []
    for column in sorted(set(header)):
        field = columns.get(column_key(column))
        if field:
            explicit.append((column, field))
    targets = {f for _, f in explicit}
    mapped = {c for c, _ in explicit}
    implicit = []
    for column in sorted(set(header)):
        if column in mapped:
            continue
        key = column_key(column)
        field = normalised.get(key)
        # as upstream: the normalised column name (not the field) is compared with the targets, so a
        # GeoX column still maps when Easting was mapped to GeoX; the reordering below lets it win
        if field and key not in targets:
            implicit.append((column, field))
    pairs = explicit + implicit
    present = {c for c, _ in pairs}
    for late, other in (("GeoX", "Easting"), ("GeoY", "Northing")):
        if late in present and other in present:
            pairs = [p for p in pairs if p[0] != late] + [p for p in pairs if p[0] == late]
    return [(c, f) for c, f in pairs if f != "IGNORE"]


class Map:
    def __init__(self, columns, fieldnames):
        self.columns = columns
        self.fieldnames = fieldnames
        self.pairs = None

    def plan(self, header):
        self.pairs = map_headers(header, self.columns, self.fieldnames)
        return self.pairs

    def process(self, entries):
        pairs = self.pairs
        for entry in entries:
            row = entry.row
            entry.row = {f: row.get(c, "") for c, f in pairs}
        return entries
