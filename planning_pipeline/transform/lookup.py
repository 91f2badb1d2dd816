"""Entity lookups: lookup.csv keys to entity numbers, old-entity redirections, and new entity numbers.

A key is (entry-number, prefix, reference, organisation), each part normalised (keys.key_part;
organisation also with local-authority-eng = local-authority). An entity is found, in order, by
  1. prefix + entry-number (rows with an entry-number and no reference or organisation),
  2. prefix + organisation + reference,
  3. prefix + reference (rows with no organisation).
Rows scoped to the resource take precedence over general rows; among equals the later row wins.
"""
import bisect

from .keys import key_part, organisation_key


def _entity(value):
    value = (value or "").strip()
    return value if value.isdigit() else ""


class Lookups:
    def __init__(self, rows, old_entity_rows=()):
        self.by_entry = {}
        self.by_organisation = {}
        self.by_reference = {}
        self.prefix_keys, self.organisation_keys = {}, {}
        general, scoped = [], []
        for row in rows:
            (scoped if row.get("resource") else general).append(row)
        by_entry, by_organisation, by_reference = self.by_entry, self.by_organisation, self.by_reference
        prefix_keys, organisation_keys = self.prefix_keys, self.organisation_keys
        for row in general + scoped:
            entity = _entity(row.get("entity"))
            if not entity:
                continue
            prefix, organisation = row.get("prefix", ""), row.get("organisation", "")
            prefix = prefix_keys.get(prefix) or self.prefix_key(prefix)  # (the caches, inlined)
            organisation = organisation_keys.get(organisation) or self.organisation_key(organisation)
            reference = key_part(row.get("reference"))
            entry = (row.get("entry-number") or "").strip()
            if entry and not reference and not organisation:
                by_entry[(prefix, entry)] = entity
            elif reference:
                if organisation:
                    by_organisation[(prefix, organisation, reference)] = entity
                else:
                    by_reference[(prefix, reference)] = entity
        self.redirect = {}
        for row in old_entity_rows:
            old = _entity(row.get("old-entity"))
            if not old:
                continue
            status = (row.get("status") or "").strip()
            if status == "301":
                self.redirect[old] = _entity(row.get("entity"))
            elif status == "410":
                self.redirect[old] = ""

    def prefix_key(self, prefix):
        key = self.prefix_keys.get(prefix)
        if key is None:
            key = self.prefix_keys[prefix] = key_part(prefix)
        return key

    def organisation_key(self, organisation):
        key = self.organisation_keys.get(organisation)
        if key is None:
            key = self.organisation_keys[organisation] = organisation_key(organisation)
        return key

    def find(self, prefix, reference, organisation="", entry=None):
        """The entity for a row, before redirection; "" when there is none."""
        prefix = self.prefix_keys.get(prefix) or self.prefix_key(prefix)  # (the cache, inlined)
        if entry is not None and self.by_entry:
            entity = self.by_entry.get((prefix, str(entry)))
            if entity:
                return entity
        reference = key_part(reference)
        if not reference:
            return ""
        if organisation:
            organisation = self.organisation_keys.get(organisation) or self.organisation_key(organisation)
            entity = self.by_organisation.get((prefix, organisation, reference))
            if entity:
                return entity
        return self.by_reference.get((prefix, reference), "")

    def redirected(self, entity):
        """Follow old-entity.csv: 301 moves to the new entity, 410 retires it ("")."""
        if entity not in self.redirect:
            return entity
        seen = set()
        while entity in self.redirect and entity not in seen:
            seen.add(entity)
            entity = self.redirect[entity]
        return entity

    def retired(self, entity):
        return self.redirected(entity) == ""


class EntityOrganisations:
    """entity-organisation.csv ranges, loaded once and searched by bisection."""

    def __init__(self, ranges):
        self.ranges = sorted(ranges)
        self.minimums = [r[0] for r in self.ranges]
        # reach[i]: the largest maximum among ranges[0..i], to stop the backward scan early
        self.reach, top = [], None
        for r in self.ranges:
            top = r[1] if top is None else max(top, r[1])
            self.reach.append(top)

    def __bool__(self):
        return bool(self.ranges)

    def organisation(self, entity):
        """The organisation of the range holding entity (the latest-starting one if ranges overlap), or None."""
        i = bisect.bisect_right(self.minimums, entity) - 1
        while i >= 0 and self.reach[i] >= entity:
            minimum, maximum, organisation = self.ranges[i]
            if minimum <= entity <= maximum:
                return organisation
            i -= 1
        return None


class EntityNumbers:
    """Numbers for new entities: after the current maximum for the prefix, wrapping within the range,
    never reusing a number in lookup.csv or old-entity.csv."""

    def __init__(self, minimum, maximum, used, current=None):
        self.minimum, self.maximum = minimum, maximum
        self.used = used if isinstance(used, set) else set(used)  # a shared set: no number is given twice
        self.current = current if current is not None else minimum - 1

    def next(self):
        size = self.maximum - self.minimum + 1
        candidate = self.current
        for _ in range(size):
            candidate += 1
            if candidate > self.maximum or candidate < self.minimum:
                candidate = self.minimum
            if candidate not in self.used:
                self.used.add(candidate)
                self.current = candidate
                return candidate
        return None
