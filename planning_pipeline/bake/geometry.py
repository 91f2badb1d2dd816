"""Geometry for the published files: WKT parsed in batches, RFC 7946 rings, coordinates at 6 decimal places."""


def parse(wkts):
    """shapely geometries (None where blank or invalid) for a list of WKT strings."""
    import shapely

    return shapely.from_wkt([w or None for w in wkts], on_invalid="ignore")


def rfc7946(geometries):
    """Exterior rings counter-clockwise, holes clockwise."""
    import shapely

    return shapely.orient_polygons(geometries, exterior_cw=False)


def _round(coordinates):
    if not coordinates:
        return []
    if isinstance(coordinates[0], (int, float)):
        return [round(coordinates[0], 6), round(coordinates[1], 6)]
    return [_round(c) for c in coordinates]


def geojson(geometry):
    """A GeoJSON geometry dict for a shapely geometry, coordinates rounded to 6 decimal places."""
    if geometry is None or geometry.is_empty:
        return None
    kind = geometry.geom_type
    if kind == "GeometryCollection":
        return {"type": kind, "geometries": [g for g in (geojson(part) for part in geometry.geoms) if g]}
    from shapely.geometry import mapping

    return {"type": kind, "coordinates": _round(mapping(geometry)["coordinates"])}
