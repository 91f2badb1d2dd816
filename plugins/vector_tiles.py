"""Datasette plugin: serve Mapbox vector tiles from mbtiles files attached to datasette.

Routes (NAME is a database name, or the file name without .mbtiles of an attached mbtiles file,
so /-/tiles/conservation-area/... works even when datasette has named that file
"conservation-area_2" because conservation-area.sqlite3 took the plain name):

  /-/tiles.json                               the tile databases, with their tilejson URLs
  /-/tiles/NAME.json                          TileJSON 3.0.0 for one tileset
  /-/tiles/NAME/Z/X/Y.vector.pbf              a tile, XYZ (slippy map) numbering
  /-/tiles-tms/NAME/Z/X/Y.vector.pbf          a tile, TMS numbering (as stored in mbtiles)

A tile database is any attached database with a `tiles` table or view holding zoom_level,
tile_column, tile_row and tile_data (tippecanoe makes `tiles` a view). mbtiles store rows in TMS
order, so an XYZ request reads row 2^z - 1 - y. Tiles are served as
application/vnd.mapbox-vector-tile; gzip-compressed tile data (tippecanoe's default) is sent
with Content-Encoding: gzip, or decompressed for a client that does not accept gzip.
A tile that is not in the file is a 404.
"""
import gzip
import json

from datasette import hookimpl
from datasette.utils.asgi import Response

CONTENT_TYPE = "application/vnd.mapbox-vector-tile"
TILE_COLUMNS = {"zoom_level", "tile_column", "tile_row", "tile_data"}


async def _is_tile_database(db):
    try:
        names = await db.execute("SELECT name FROM sqlite_master WHERE name = 'tiles' AND type IN ('table', 'view')")
        if not names.rows:
            return False
        columns = await db.execute("PRAGMA table_info(tiles)")
        return TILE_COLUMNS <= {row[1] for row in columns.rows}
    except Exception:  # an unreadable database is simply not a tileset
        return False


def _stem(db):
    import os

    path = getattr(db, "path", None)
    if not path:
        return None
    name = os.path.basename(path)
    return name[: -len(".mbtiles")] if name.endswith(".mbtiles") else None


async def _tile_databases(datasette):
    """{public name: database} for every attached tile database (an mbtiles file is named by its file name)."""
    found = {}
    for name, db in datasette.databases.items():
        if name != "_internal" and await _is_tile_database(db):
            found.setdefault(_stem(db) or name, db)
    return found


async def _resolve(datasette, name):
    db = datasette.databases.get(name)
    if db is not None and await _is_tile_database(db):
        return db
    for candidate in datasette.databases.values():
        if _stem(candidate) == name and await _is_tile_database(candidate):
            return candidate
    return None


async def _metadata(db):
    try:
        result = await db.execute("SELECT name, value FROM metadata")
        return {row[0]: row[1] for row in result.rows}
    except Exception:
        return {}


def _not_found(message):
    return Response.text(message + "\n", status=404)


async def tile(datasette, request, tms=False):
    name = request.url_vars["db"]
    z, x, y = (int(request.url_vars[k]) for k in ("z", "x", "y"))
    db = await _resolve(datasette, name)
    if db is None:
        return _not_found(f"no tileset named {name}")
    if z > 30 or x >= 2**z or y >= 2**z:
        return _not_found("tile out of range")
    row = y if tms else (2**z - 1 - y)
    result = await db.execute(
        "SELECT tile_data FROM tiles WHERE zoom_level = :z AND tile_column = :x AND tile_row = :y",
        {"z": z, "x": x, "y": row},
    )
    if not result.rows:
        return _not_found("no tile")
    data = result.rows[0][0]
    headers = {"Cache-Control": "public, max-age=3600", "Access-Control-Allow-Origin": "*"}
    if data[:2] == b"\x1f\x8b":
        if "gzip" in request.headers.get("accept-encoding", ""):
            headers["Content-Encoding"] = "gzip"
        else:
            data = gzip.decompress(data)
    return Response(data, status=200, headers=headers, content_type=CONTENT_TYPE)


async def xyz_tile(datasette, request):
    return await tile(datasette, request, tms=False)


async def tms_tile(datasette, request):
    return await tile(datasette, request, tms=True)


def _numbers(text, count):
    try:
        values = [float(v) for v in str(text).split(",")]
        return values if len(values) == count else None
    except ValueError:
        return None


async def tilejson(datasette, request):
    name = request.url_vars["db"]
    db = await _resolve(datasette, name)
    if db is None:
        return _not_found(f"no tileset named {name}")
    meta = await _metadata(db)
    template = datasette.absolute_url(request, datasette.urls.path(f"/-/tiles/{name}/{{z}}/{{x}}/{{y}}.vector.pbf"))
    document = {"tilejson": "3.0.0", "name": meta.get("name", name), "scheme": "xyz", "tiles": [template]}
    for key in ("minzoom", "maxzoom"):
        if str(meta.get(key, "")).isdigit():
            document[key] = int(meta[key])
    bounds = _numbers(meta.get("bounds", ""), 4)
    if bounds:
        document["bounds"] = bounds
    center = _numbers(meta.get("center", ""), 3)
    if center:
        document["center"] = center
    if meta.get("description"):
        document["description"] = meta["description"]
    try:
        document["vector_layers"] = json.loads(meta.get("json", "{}")).get("vector_layers", [])
    except ValueError:
        document["vector_layers"] = []
    return Response.json(document, headers={"Access-Control-Allow-Origin": "*"})


async def index(datasette, request):
    found = await _tile_databases(datasette)
    listing = {
        name: {"database": db.name, "tilejson": datasette.absolute_url(request, datasette.urls.path(f"/-/tiles/{name}.json"))}
        for name, db in sorted(found.items())
    }
    return Response.json(listing)


@hookimpl
def register_routes():
    return [
        (r"^/-/tiles\.json$", index),
        (r"^/-/tiles/(?P<db>[^/]+)\.json$", tilejson),
        (r"^/-/tiles/(?P<db>[^/]+)/(?P<z>\d+)/(?P<x>\d+)/(?P<y>\d+)\.vector\.pbf$", xyz_tile),
        (r"^/-/tiles-tms/(?P<db>[^/]+)/(?P<z>\d+)/(?P<x>\d+)/(?P<y>\d+)\.vector\.pbf$", tms_tile),
    ]
