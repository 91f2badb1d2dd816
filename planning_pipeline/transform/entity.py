"""From rows to entities: organisation, reference and prefix, entity lookup, prune, priority."""
from .keys import organisation_key


class OrganisationPhase:
    """organisation = the CURIE the value names; an unknown one is blanked (`invalid organisation`)."""

    def __init__(self, organisations, issues):
        self.organisations = organisations
        self.issues = issues
        self.memo = {}

    def process(self, entries):
        memo = self.memo
        for entry in entries:
            row = entry.row
            value = row.get("organisation", "")
            if value:
                curie = memo.get(value)
                if curie is None:
                    if len(memo) > 10000:
                        memo.clear()
                    curie = memo[value] = self.organisations.lookup(value)
                if not curie:
                    self.issues.log(entry.line, entry.number, "organisation", "invalid organisation", value,
                                    f"{value!r} is not a known organisation")
                row["organisation"] = curie
            entry.organisation = row.get("organisation", "")
        return entries


class ReferencePhase:
    """reference = reference or the dataset-named field; prefix = prefix or the dataset's prefix."""

    def __init__(self, dataset, prefix):
        self.dataset, self.prefix = dataset, prefix

    def process(self, entries):
        for entry in entries:
            row = entry.row
            if not row.get("reference"):
                row["reference"] = row.get(self.dataset, "")
            if not row.get("prefix"):
                row["prefix"] = self.prefix
        return entries


class LookupPhase:
    """Give each row its entity: lookup.csv, then old-entity.csv; log what cannot be found.

    A row with no organisation in a resource with several organisations is looked up for each of
    them, and becomes one row per distinct entity found.
    """

    def __init__(self, lookups, issues, organisations=(), entity_range=(None, None)):
        self.lookups = lookups
        self.issues = issues
        self.organisations = list(organisations)
        self.minimum, self.maximum = entity_range

    def entities(self, entry):
        row = entry.row
        prefix, reference, organisation = row.get("prefix", ""), row.get("reference", ""), row.get("organisation", "")
        find = self.lookups.find
        if not organisation and len(self.organisations) > 1:
            found = []
            for candidate in self.organisations:
                entity = find(prefix, reference, candidate, entry.number)
                if entity and entity not in found:
                    found.append(entity)
            if found:
                return found
        entity = find(prefix, reference, organisation, entry.number)
        return [entity] if entity else []

    def process(self, entries):
        out = []
        log = self.issues.log
        minimum, maximum = self.minimum, self.maximum
        for entry in entries:
            row = entry.row
            # a row that gives its own entity number keeps it (as upstream): only the others are looked
            # up, so two references lookup keys cannot tell apart (II and II*) stay two entities; the
            # number is used as given (range-checked, not redirected: old-entity.csv redirects numbers
            # the lookup gives, and a configuration stamp hashes only the old-entity rows of those)
            given = (row.get("entity") or "").strip()
            found = [given] if given.isdigit() else self.entities(entry)
            if not found:
                reference = row.get("reference", "")
                if reference:
                    log(entry.line, entry.number, "entity", "unknown entity", reference,
                        f"no entity for {row.get('prefix', '')}:{reference} {row.get('organisation', '')}".rstrip())
                else:
                    log(entry.line, entry.number, "entity", "unknown entity - missing reference", "",
                        "the entry has no reference")
                row["entity"] = ""
                out.append(entry)
                continue
            for i, entity in enumerate(found):
                if minimum is not None and not minimum <= int(entity) <= maximum:
                    log(entry.line, entry.number, "entity", "entity number out of range", entity,
                        f"{entity} is outside {minimum}-{maximum}")
                target = entry if i == 0 else entry.copy()
                target.row["entity"] = entity if given else self.lookups.redirected(entity)
                out.append(target)
        return out


class EntityPrune:
    """Rows without an entity go no further."""

    def __init__(self):
        self.count = 0

    def process(self, entries):
        kept = [e for e in entries if e.row.get("entity")]
        self.count += len(kept)
        return kept


class Priority:
    """priority 2 when entity-organisation.csv gives the entity's range to one of the resource's
    organisations; otherwise 1, and the range's organisation replaces the row's."""

    def __init__(self, ranges, organisations):
        self.ranges = ranges
        self.providers = {organisation_key(o) for o in organisations}

    def process(self, entries):
        if not self.ranges:
            return entries
        for entry in entries:
            organisation = self.ranges.organisation(int(entry.row["entity"]))
            if organisation is None:
                entry.priority = 1
            elif organisation_key(organisation) in self.providers:
                entry.priority = 2
            else:
                entry.priority = 1
                entry.row["organisation"] = organisation
                entry.organisation = organisation
        return entries
