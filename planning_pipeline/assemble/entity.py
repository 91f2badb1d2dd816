"""Build entity rows from each entity's winning facts."""
import json

from ..csvio import read_csv
from .schema import column_name

# entity columns the assembler computes itself; facts for these fields are ignored
COMPUTED = {"dataset", "entity", "json", "organisation-entity", "quality", "typology"}
JSON_COLUMNS = {"json", "geojson"}


def organisation_entities(path):
    """{organisation CURIE: entity} from organisation.csv; local-authority-eng:X and local-authority:X alias."""
    lookup = {}
    if not path:
        return lookup
    for row in read_csv(path, ("organisation", "entity")):
        curie, entity = row["organisation"], row["entity"]
        if not curie or not entity:
            continue
        lookup.setdefault(curie, entity)
        prefix, _, reference = curie.partition(":")
        if prefix == "local-authority-eng":
            lookup.setdefault("local-authority:" + reference, entity)
        elif prefix == "local-authority":
            lookup.setdefault("local-authority-eng:" + reference, entity)
    return lookup


class EntityBuilder:
    """Turns {field: winning row} into a row of the entity table (a list in table column order)."""

    def __init__(self, table, dataset, typology, prefix, organisations):
        self.columns = table.columns
        self.position = {c: i for i, c in enumerate(self.columns)}
        self.direct = {f: column_name(f) for f in table.fields if f not in COMPUTED}
        self.template = [None if c in JSON_COLUMNS else "" for c in self.columns]
        self.constants = {"dataset": dataset, "typology": typology}
        self.prefix = prefix
        self.organisations = organisations

    def row(self, entity, winners):
        out = list(self.template)
        pos = self.position
        for column, value in self.constants.items():
            if column in pos:
                out[pos[column]] = value
        out[pos["entity"]] = entity
        extra = {}
        organisation = ""
        priority = 1
        latest = ""
        for field, w in winners.items():  # fields arrive sorted
            value = w[8] if w[8] is not None else ""
            if isinstance(w[2], int) and w[2] > priority:
                priority = w[2]
            if w[3] and w[3] > latest:
                latest = w[3]
            column = self.direct.get(field)
            if column is not None:
                out[pos[column]] = value if (value or column not in JSON_COLUMNS) else None
            elif field == "organisation":
                organisation = value
            elif field not in COMPUTED and value != "":
                extra[field] = value
        if "prefix" in pos and not out[pos["prefix"]]:
            out[pos["prefix"]] = self.prefix
        if "entry_date" in pos and not out[pos["entry_date"]]:
            out[pos["entry_date"]] = latest
        if "organisation_entity" in pos:
            out[pos["organisation_entity"]] = self.organisations.get(organisation, "")
        if "quality" in pos:
            out[pos["quality"]] = "authoritative" if priority >= 2 else "some"
        if "json" in pos and extra:
            out[pos["json"]] = json.dumps(extra, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return out


def fill_points(rows, columns):
    """Set point to the geometry's centroid (6 decimal places, `POINT (x y)`) where point is blank."""
    if "point" not in columns or "geometry" not in columns:
        return
    p, g = columns.index("point"), columns.index("geometry")
    todo = [r for r in rows if not r[p] and r[g]]
    if not todo:
        return
    import shapely

    geometries = shapely.from_wkt([r[g] for r in todo], on_invalid="ignore")
    centroids = shapely.centroid(geometries)
    empty = shapely.is_empty(centroids) | shapely.is_missing(centroids)
    xs, ys = shapely.get_x(centroids), shapely.get_y(centroids)
    for r, x, y, skip in zip(todo, xs, ys, empty):
        if not skip:
            r[p] = f"POINT ({decimal6(x)} {decimal6(y)})"


def decimal6(value):
    """A coordinate at 6 decimal places, trailing zeros trimmed: 51.5, -0.104538, 0."""
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text
