"""Normalised keys shared by the configuration, the lookups and the phases."""
import re

_NOT_KEY = re.compile(r"[^a-z0-9-]")
_NOT_COLUMN = re.compile(r"[^a-z0-9-_]")

REFERENCE_TYPOLOGIES = frozenset(("category", "document", "geography", "organisation", "policy", "legal-instrument"))
# the package prefix "plan" stands for any of these
PLAN_PREFIXES = ("local-plan", "minerals-plan", "waste-plan", "supplementary-plan")


def key_part(value):
    """A lookup key part: lower case, only [a-z0-9-]."""
    value = (value or "").lower()
    if value.isalnum() and value.isascii():  # the common case: nothing to remove
        return value
    return _NOT_KEY.sub("", value)


def organisation_key(value):
    """An organisation as a lookup key part; local-authority-eng and local-authority are the same."""
    return key_part((value or "").lower().replace("local-authority-eng", "local-authority"))


def column_key(name):
    """A source column name as matched against column.csv and field names."""
    return _NOT_COLUMN.sub("", (name or "").lower().replace("_", "-"))


def reference_typology(specification, field):
    """The typology that makes a field's values references to other entities, or ""."""
    seen = set()
    while field and field not in seen:
        seen.add(field)
        row = specification.field.get(field)
        if not row:
            return ""
        if row.get("typology") in REFERENCE_TYPOLOGIES:
            return row["typology"]
        field = row.get("parent-field", "")
    return ""


def referenced_prefix(specification, field):
    """The prefix a reference field's values use when they carry no CURIE prefix."""
    row = specification.field.get(field, {})
    return row.get("dataset") or field
