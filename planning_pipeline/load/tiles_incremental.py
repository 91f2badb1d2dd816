"""Incremental vector tiles: rebuild only the tiles the changed features reach, byte-identical to a full build.

A tile's bytes depend only on the features that reach it (within tippecanoe's buffer) and on the run's
options, so after a change only the tiles within reach of a changed feature (its old or its new bounding
box) need building again: the affected tiles. One tippecanoe run, with the same options as a full
build, reads every feature (so the layer's statistics and bounds are those of the whole set) but tiles
each only up to the highest zoom at which it reaches an affected tile (`"tippecanoe": {"maxzoom": N}`;
a feature that reaches none is tiled at no zoom). Affected tiles nest downwards (a tile's parent is
affected too), so a feature needed at one zoom is needed at every lower one and a maximum zoom is all
it takes. In a copy of the published file the affected tiles are deleted, the new run's affected tiles
(only those: its other tiles are incomplete) inserted, and the copy renamed over the published file.

The published file records what it was built from in its own table, feature_index (entity, the sha256
of its GeoJSON line, its bounding box in lon/lat); readers of tiles and metadata ignore it.
"""
import math
import os
import shutil
import sqlite3

FEATURE_INDEX = "feature_index"
# beyond tippecanoe's buffer (5 of 256 pixels, plus the pixel it adds at tile edges): 1/8 of a tile
MARGIN = 1 / 8
# incremental stops paying when this share of the features changed (bench/tiles_bench.py) ...
MAX_CHANGED_SHARE = 0.3
# ... or when the affected tiles are this share of the published file's tiles ...
MAX_AFFECTED_SHARE = 0.5
# ... or when tiling the features needed, each up to its maximum zoom, is this share of a full
# build's work (every feature at every zoom; zooms above 10 counted twice: with upstream's options
# zooms 4-10 of 90,000 features take 12 s, 11-15 18 s). Both read every feature; an incremental
# build adds ~1 s of planning and patching per 90,000 features.
MAX_WORK_SHARE = 0.75


def zoom_weight(z):
    return 1 if z <= 10 else 2
MAX_LATITUDE = 85.0511287798066


def mercator(bounds):
    """(minx, miny, maxx, maxy) in lon/lat to (x0, y0, x1, y1) in world units [0, 1], y down from the north."""
    minx, miny, maxx, maxy = bounds

    def x(lon):
        return min(max((lon + 180.0) / 360.0, 0.0), 1.0)

    def y(lat):
        lat = min(max(lat, -MAX_LATITUDE), MAX_LATITUDE)
        return min(max((1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0, 0.0), 1.0)

    return x(minx), y(maxy), x(maxx), y(miny)


def tile_range(world, z):
    """The tiles (x0, y0, x1, y1, inclusive, XYZ numbering) at zoom z within MARGIN of a world box."""
    n = 1 << z
    x0, y0, x1, y1 = world
    return (max(int(math.floor(x0 * n - MARGIN)), 0), max(int(math.floor(y0 * n - MARGIN)), 0),
            min(int(math.floor(x1 * n + MARGIN)), n - 1), min(int(math.floor(y1 * n + MARGIN)), n - 1))


def _area(r):
    return (r[2] - r[0] + 1) * (r[3] - r[1] + 1)


def _tiles(r):
    return {(x, y) for x in range(r[0], r[2] + 1) for y in range(r[1], r[3] + 1)}


def published_state(mbtiles_path):
    """(feature index {entity: (sha256, minx, miny, maxx, maxy)}, metadata, tile count) of a published file,
    or None (no file, not tippecanoe's tables, no feature index, unreadable)."""
    if not os.path.exists(mbtiles_path):
        return None
    try:
        conn = sqlite3.connect(f"file:{mbtiles_path}?mode=ro", uri=True)
        try:
            names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if not {FEATURE_INDEX, "map", "images", "metadata"} <= names:
                return None
            index = {row[0]: row[1:] for row in
                     conn.execute(f"SELECT entity, sha256, minx, miny, maxx, maxy FROM {FEATURE_INDEX}")}
            metadata = dict(conn.execute("SELECT name, value FROM metadata"))
            tiles = conn.execute("SELECT count(*) FROM map").fetchone()[0]
            return index, metadata, tiles
        finally:
            conn.close()
    except sqlite3.Error:
        return None


class Plan:
    """What an incremental build does: the affected tiles per zoom and each feature's maximum zoom."""

    def __init__(self, affected, zooms, changed, included, work):
        self.affected = affected  # {z: set of (x, y) XYZ}
        self.zooms = zooms  # [maximum zoom of each current feature, in order; None: tiled at no zoom]
        self.changed = changed  # entities added, removed or modified
        self.included = included  # features tiled at some zoom
        self.work = work  # the estimated share of a full build's tiling work

    def tile_count(self):
        return sum(len(tiles) for tiles in self.affected.values())


def plan(previous, current, min_zoom, max_zoom, published_tiles):
    """Plan an incremental build, or return (None, why) when a full build is the better one.

    previous: {entity: (sha256, minx, miny, maxx, maxy)} of the published file; current: [(entity,
    sha256, minx, miny, maxx, maxy)] of the features now, in order; published_tiles: its tile count.
    """
    if len(current) == 0:
        return None, "no features"
    now = {}
    for row in current:
        now[row[0]] = row
    changed_boxes = []
    changed = []
    for row in current:
        old = previous.get(row[0])
        if old is None or old[0] != row[1]:
            changed.append(row[0])
            changed_boxes.append(row[2:])
            if old is not None:
                changed_boxes.append(old[1:])
    for entity, old in previous.items():
        if entity not in now:
            changed.append(entity)
            changed_boxes.append(old[1:])
    if not changed:
        return None, "no feature changed"
    if len(changed) > MAX_CHANGED_SHARE * max(len(current), len(previous)):
        return None, f"{len(changed)} of {len(current)} features changed"
    worlds = [mercator(box) for box in changed_boxes]
    limit = MAX_AFFECTED_SHARE * published_tiles
    affected, hulls, total = {}, {}, 0
    for z in range(min_zoom, max_zoom + 1):
        tiles = set()
        for world in worlds:
            r = tile_range(world, z)
            if _area(r) > limit:
                return None, f"the changed features reach over {MAX_AFFECTED_SHARE:.0%} of the tiles"
            tiles.update(_tiles(r))
            if total + len(tiles) > limit:
                return None, f"the changed features reach over {MAX_AFFECTED_SHARE:.0%} of the tiles"
        total += len(tiles)
        affected[z] = tiles
        xs = [t[0] for t in tiles]
        ys = [t[1] for t in tiles]
        hulls[z] = (min(xs), min(ys), max(xs), max(ys))
    zooms = maximum_zooms([row[2:] for row in current], affected, hulls, min_zoom, max_zoom)
    included = sum(z is not None for z in zooms)
    if max_zoom not in zooms:
        # the run must reach the maximum zoom, as a full build does (the layer's zoom range in the
        # metadata): one feature tiled at every zoom adds nothing to an affected tile it was not in already
        included += zooms[0] is None
        zooms[0] = max_zoom
    upto, weight = {None: 0}, 0
    for z in range(min_zoom, max_zoom + 1):
        weight += zoom_weight(z)
        upto[z] = weight
    work = sum(upto[z] for z in zooms) / (weight * len(zooms))
    if work > MAX_WORK_SHARE:
        return None, f"tiling the {included} features the changes reach is ~{work:.0%} of a full build's work"
    return Plan(affected, zooms, changed, included, work), None


def maximum_zooms(boxes, affected, hulls, min_zoom, max_zoom):
    """For each (minx, miny, maxx, maxy) in lon/lat, the highest zoom at which it comes within MARGIN
    of an affected tile (None: at no zoom); as tile_range and _reaches, for every box at once."""
    import numpy as np

    b = np.array(boxes, dtype=float).reshape(-1, 4)
    lat = np.clip(b[:, [3, 1]], -MAX_LATITUDE, MAX_LATITUDE)  # north, then south: y grows southwards
    world_y = np.clip((1.0 - np.arcsinh(np.tan(np.radians(lat))) / np.pi) / 2.0, 0.0, 1.0)
    world_x = np.clip((b[:, [0, 2]] + 180.0) / 360.0, 0.0, 1.0)
    top = np.full(len(b), -1)
    active = np.arange(len(b))
    for z in range(min_zoom, max_zoom + 1):
        if active.size == 0:
            break
        n = 1 << z
        hx0, hy0, hx1, hy1 = hulls[z]
        x0 = np.maximum(np.floor(world_x[active, 0] * n - MARGIN), 0).astype(np.int64)
        y0 = np.maximum(np.floor(world_y[active, 0] * n - MARGIN), 0).astype(np.int64)
        x1 = np.minimum(np.floor(world_x[active, 1] * n + MARGIN), n - 1).astype(np.int64)
        y1 = np.minimum(np.floor(world_y[active, 1] * n + MARGIN), n - 1).astype(np.int64)
        inside = ~((x1 < hx0) | (x0 > hx1) | (y1 < hy0) | (y0 > hy1))
        x0, y0 = np.maximum(x0, hx0), np.maximum(y0, hy0)
        x1, y1 = np.minimum(x1, hx1), np.minimum(y1, hy1)
        single = inside & (x0 == x1) & (y0 == y1)
        keys = np.fromiter((x * n + y for x, y in affected[z]), dtype=np.int64, count=len(affected[z]))
        hit = np.zeros(active.size, dtype=bool)
        hit[single] = np.isin(x0[single] * n + y0[single], keys)
        for i in np.nonzero(inside & ~single)[0]:
            hit[i] = _reaches((int(x0[i]), int(y0[i]), int(x1[i]), int(y1[i])), affected[z], hulls[z])
        active = active[hit]
        top[active] = z
    return [None if t < 0 else int(t) for t in top]


def _reaches(r, tiles, hull):
    """Does the tile range r hold a tile of the set (whose bounding range is hull)?"""
    if r[2] < hull[0] or r[0] > hull[2] or r[3] < hull[1] or r[1] > hull[3]:
        return False
    x0, y0, x1, y1 = max(r[0], hull[0]), max(r[1], hull[1]), min(r[2], hull[2]), min(r[3], hull[3])
    if (x1 - x0 + 1) * (y1 - y0 + 1) <= len(tiles):
        return any((x, y) in tiles for x in range(x0, x1 + 1) for y in range(y0, y1 + 1))
    return any(x0 <= x <= x1 and y0 <= y <= y1 for x, y in tiles)


def annotate(line, zoom, min_zoom, max_zoom):
    """A feature's GeoJSON line (bytes) tiled up to zoom (None: at no zoom, yet read for the layer's statistics)."""
    if zoom is None:
        # below the minimum zoom: in no tile (from zoom 0 every feature is in the one zoom-0 tile, which
        # every change affects: none is left out; above the maximum would do, tiled slower)
        member = b'{"maxzoom":%d}' % (min_zoom - 1) if min_zoom > 0 else b'{"minzoom":%d,"maxzoom":%d}' % ((max_zoom + 1,) * 2)
    elif zoom == max_zoom:
        return line
    else:
        member = b'{"maxzoom":%d}' % zoom
    return b'{"tippecanoe":' + member + b"," + line[1:]


class Conflict(Exception):
    """The new run's tiles cannot be merged into the published file (an unexpected schema or tile id)."""


def patch(published, fresh, output, plan, index_rows, metadata):
    """Write output: a copy of published with the affected tiles taken from fresh, the feature index
    index_rows (all of them: [(entity, sha256, minx, miny, maxx, maxy)]) and metadata ({name: value})."""
    shutil.copyfile(published, output)
    conn = sqlite3.connect(output)
    try:
        conn.execute("ATTACH DATABASE ? AS fresh", (fresh,))
        names = {r[0] for r in conn.execute("SELECT name FROM fresh.sqlite_master WHERE type = 'table'")}
        if not {"map", "images", "metadata"} <= names:
            raise Conflict("tippecanoe's output has no map and images tables")
        with conn:
            conn.execute("CREATE TEMP TABLE affected (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER,"
                         " PRIMARY KEY (zoom_level, tile_column, tile_row)) WITHOUT ROWID")
            conn.executemany("INSERT INTO affected VALUES (?, ?, ?)",
                             ((z, x, (1 << z) - 1 - y) for z, tiles in sorted(plan.affected.items())
                              for x, y in sorted(tiles)))
            conn.execute("CREATE TEMP TABLE gone AS SELECT DISTINCT m.zoom_level, m.tile_id FROM main.map m"
                         " JOIN affected a USING (zoom_level, tile_column, tile_row)")
            conn.execute("CREATE TEMP TABLE arriving AS SELECT m.zoom_level, m.tile_column, m.tile_row, m.tile_id"
                         " FROM fresh.map m JOIN affected a USING (zoom_level, tile_column, tile_row)")
            clash = conn.execute("SELECT count(*) FROM fresh.images f JOIN main.images i"
                                 " ON i.zoom_level = f.zoom_level AND i.tile_id = f.tile_id"
                                 " WHERE (f.zoom_level, f.tile_id) IN (SELECT zoom_level, tile_id FROM arriving)"
                                 " AND i.tile_data != f.tile_data").fetchone()[0]
            if clash:
                raise Conflict(f"{clash} tile ids name other tiles in the published file")
            conn.execute("DELETE FROM main.map WHERE (zoom_level, tile_column, tile_row) IN (SELECT * FROM affected)")
            conn.execute("INSERT INTO main.map (zoom_level, tile_column, tile_row, tile_id)"
                         " SELECT zoom_level, tile_column, tile_row, tile_id FROM arriving")
            conn.execute("INSERT OR IGNORE INTO main.images (zoom_level, tile_data, tile_id)"
                         " SELECT zoom_level, tile_data, tile_id FROM fresh.images"
                         " WHERE (zoom_level, tile_id) IN (SELECT zoom_level, tile_id FROM arriving)")
            # images no tile refers to any more (tippecanoe shares one image between identical tiles)
            conn.execute("CREATE TEMP TABLE kept AS SELECT DISTINCT zoom_level, tile_id FROM main.map"
                         " WHERE (zoom_level, tile_id) IN (SELECT zoom_level, tile_id FROM gone)")
            conn.execute("DELETE FROM main.images WHERE (zoom_level, tile_id) IN"
                         " (SELECT zoom_level, tile_id FROM gone EXCEPT SELECT zoom_level, tile_id FROM kept)")
            conn.execute(f"DELETE FROM main.{FEATURE_INDEX}")
            conn.executemany(f"INSERT INTO main.{FEATURE_INDEX} VALUES (?, ?, ?, ?, ?, ?)", index_rows)
            conn.execute("DELETE FROM main.metadata")
            conn.executemany("INSERT INTO main.metadata (name, value) VALUES (?, ?)", sorted(metadata.items()))
        conn.execute("DETACH DATABASE fresh")
    finally:
        conn.close()


def write_index(conn, index_rows):
    """Create and fill the feature index in an open mbtiles connection (a full build)."""
    conn.execute(f"CREATE TABLE {FEATURE_INDEX} (entity INTEGER PRIMARY KEY, sha256 TEXT,"
                 " minx REAL, miny REAL, maxx REAL, maxy REAL)")
    conn.executemany(f"INSERT INTO {FEATURE_INDEX} VALUES (?, ?, ?, ?, ?, ?)", index_rows)
