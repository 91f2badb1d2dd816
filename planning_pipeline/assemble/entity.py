"""The entity table: what its columns are made of, organisation entities, and points from geometries."""
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


class EntityColumns:
    """What the entity table's columns are made of (queries.entity_sql turns this into SQL): the fields copied
    from a winning fact of the same name (`direct`), the constants, and the default prefix."""

    computed = COMPUTED
    json_columns = JSON_COLUMNS

    def __init__(self, table, dataset, typology, prefix):
        self.columns = table.columns
        self.direct = {f: column_name(f) for f in table.fields if f not in COMPUTED}
        self.constants = {"dataset": dataset, "typology": typology}
        self.prefix = prefix


def fill_points(conn, columns, batch=5000, only=None):
    """Set point to the geometry's centroid where point is blank, a batch of entities at a time, as upstream's
    dataset writes it: `POINT(x y)`, no space, each coordinate "%.6f" (a point the data gives keeps the text
    the point datatype gave it, `POINT (x y)` at 6 places, as upstream's facts have it). With only (a table
    of entity numbers), only those entities."""
    if "point" not in columns or "geometry" not in columns:
        return
    import shapely

    within = f" AND entity IN (SELECT entity FROM {only})" if only else ""
    after = None
    while True:
        rows = conn.execute(f"""SELECT entity, geometry FROM entity WHERE point = '' AND geometry != ''{within}
            AND entity > coalesce(?, -1e300) ORDER BY entity LIMIT ?""", (after, batch)).fetchall()
        if not rows:
            return
        after = rows[-1][0]
        geometries = shapely.from_wkt([g for _, g in rows], on_invalid="ignore")
        centroids = shapely.centroid(geometries)
        empty = shapely.is_empty(centroids) | shapely.is_missing(centroids)
        xs, ys = shapely.get_x(centroids), shapely.get_y(centroids)
        conn.executemany("UPDATE entity SET point = ? WHERE entity = ?",
                         [(f"POINT({x:.6f} {y:.6f})", number)
                          for (number, _), x, y, skip in zip(rows, xs, ys, empty) if not skip])
