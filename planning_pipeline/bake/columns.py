"""The flattened view of an entity row: kebab-case columns, the json column exploded into its own columns."""
import json

GEOMETRY_DATATYPES = {"multipolygon", "point"}


def entity_columns(conn):
    return [r[1] for r in conn.execute('PRAGMA table_info("entity")')]


def json_keys(conn):
    """Every key used in the entity json column, sorted."""
    sql = "SELECT DISTINCT j.key FROM entity, json_each(entity.json) AS j WHERE entity.json IS NOT NULL AND json_valid(entity.json)"
    return sorted(r[0] for r in conn.execute(sql))


def flattened_header(columns, specification, dataset, keys=()):
    """Entity columns renamed '_' -> '-' without json, then the sorted remaining current schema fields, then any
    other keys found in the json column (sorted), so that no value is lost."""
    header = [c.replace("_", "-") for c in columns if c != "json"]
    present = set(header)
    schema = sorted(f for f in specification.current_fields(dataset) if f not in present)
    header += schema
    present.update(schema)
    header += sorted(k for k in keys if k not in present)
    return header


def text(value):
    return "" if value is None else str(value)


class Flattener:
    """Turns an entity row (tuple in table column order) into a list of strings in flattened-header order."""

    def __init__(self, columns, header):
        self.header = header
        at = {c.replace("_", "-"): i for i, c in enumerate(columns)}
        self.sources = [at.get(h) for h in header]
        self.json_at = columns.index("json") if "json" in columns else None
        self.position = {h: i for i, h in enumerate(header)}
        self.geojson = self.position.get("geojson")

    def row(self, entity):
        out = [text(entity[i]) if i is not None else "" for i in self.sources]
        if self.json_at is not None and entity[self.json_at]:
            try:
                extra = json.loads(entity[self.json_at])
            except ValueError:
                extra = {}
            if isinstance(extra, dict):
                for key, value in extra.items():
                    i = self.position.get(key)
                    if i is not None and not out[i]:
                        out[i] = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        if self.geojson is not None:
            out[self.geojson] = ""  # as upstream: the column stays, its value is not published in flattened files
        return out
