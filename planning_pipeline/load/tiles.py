"""Vector tiles for a geography dataset: stream its entities into tippecanoe, publish an mbtiles file.

Entities with a geometry (else a point) become newline-delimited GeoJSON features in a file
tippecanoe reads, one layer named after the dataset; the sha256 of the options and features is
recorded in the mbtiles metadata, and a build whose features are those of the published file keeps
it (no tippecanoe run). Retired entities (an end date today or earlier) and entities redirected or
removed through old_entity are left out. tippecanoe writes to a temporary directory beside the
output, which is renamed into place only when tippecanoe succeeded.

The published file also records each feature's sha256 and bounding box (its feature_index table):
when few features changed since, only the tiles they reach are built again, in a copy of the
published file renamed over it (tiles_incremental.py), tile for tile and byte for byte the tiles and
metadata of a full build. The metadata of every build leaves out tippecanoe's per-zoom "strategies"
and takes as center the middle of the bounds at the minimum zoom, which an incremental build can
reproduce (see _final_metadata).
"""
import datetime
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
import time

from ..errors import UserError
from .source import open_dataset, select_list

# the zoom range and options of the platform's tiles: zoom 4 to 15, nothing dropped or limited; and
# --read-parallel, which reads the line-delimited features on every core, for the same tiles
# (tests/load/test_tiles_incremental.py) ~30% sooner
DEFAULT_MIN_ZOOM = 4
DEFAULT_MAX_ZOOM = 15
UPSTREAM_OPTIONS = ("--no-progress-indicator", "--quiet", "-r1", "--no-feature-limit", "--no-tile-size-limit", "--force")
TIPPECANOE_OPTIONS = UPSTREAM_OPTIONS + ("--read-parallel",)

PROPERTIES = (
    ("entity", "entity"), ("name", "name"), ("reference", "reference"), ("dataset", "dataset"),
    ("prefix", "prefix"), ("organisation_entity", "organisation-entity"), ("entry_date", "entry-date"),
    ("start_date", "start-date"), ("end_date", "end-date"),
)


def features(sqlite_path, dataset, today=None, skipped=None):
    """Yield (entity, GeoJSON feature dict) for the dataset's current entities with a geometry or point."""
    for entity, feature, _ in _features(sqlite_path, dataset, today, skipped):
        yield entity, feature


BATCH = 2000  # rows whose WKT shapely parses at once


def _features(sqlite_path, dataset, today=None, skipped=None):
    """Yield (entity, GeoJSON feature dict, (minx, miny, maxx, maxy) of its geometry)."""
    today = today or datetime.date.today().isoformat()
    skipped = skipped if skipped is not None else {}
    conn, tables = open_dataset(sqlite_path)
    wanted = [c for c, _ in PROPERTIES] + ["geometry", "point", "json"]
    select = select_list(conn, "entity", wanted)
    redirected = ""
    if "old_entity" in tables:
        redirected = " AND entity NOT IN (SELECT CAST(old_entity AS INTEGER) FROM old_entity WHERE old_entity IS NOT NULL)"
    sql = (
        f"SELECT {select} FROM entity"
        " WHERE (COALESCE(dataset, '') = ? OR COALESCE(dataset, '') = '')"
        " AND (COALESCE(geometry, '') != '' OR COALESCE(point, '') != '')"
        " AND (COALESCE(end_date, '') = '' OR end_date > ?)"
        f"{redirected} ORDER BY entity"
    )
    at = {c: i for i, c in enumerate(wanted)}
    try:
        cursor = conn.execute(sql, (dataset, today))
        while True:
            rows = cursor.fetchmany(BATCH)
            if not rows:
                break
            for row, (geometry, bounds) in zip(rows, _geometries(rows, at["geometry"], at["point"], skipped)):
                if geometry is None:
                    continue
                properties = {}
                if row[at["json"]]:
                    try:
                        extra = json.loads(row[at["json"]])
                        if isinstance(extra, dict):
                            properties.update(extra)
                    except ValueError:
                        pass
                for column, key in PROPERTIES:
                    value = row[at[column]]
                    properties[key] = value if value is not None else ""
                properties["dataset"] = properties["dataset"] or dataset
                feature = {"type": "Feature", "geometry": geometry, "properties": properties}
                entity = row[at["entity"]]
                if isinstance(entity, int):
                    feature["id"] = entity
                yield entity, feature, bounds
    finally:
        conn.close()


# GeoJSON type names by shapely type id, for the 2D types whose coordinates are split up a type at a time
_KINDS = {0: "Point", 1: "LineString", 3: "Polygon", 4: "MultiPoint", 5: "MultiLineString", 6: "MultiPolygon"}


def _geometries(rows, geometry_at, point_at, skipped):
    """For a batch of rows, [(GeoJSON geometry dict, bounds)]: the row's geometry, else its point
    ((None, None) when neither parses to a non-empty shape), as shapely.geometry.mapping gives it,
    parsed and taken apart a batch at a time."""
    import numpy
    import shapely
    import shapely.geometry

    chosen = numpy.full(len(rows), None, dtype=object)
    for column, where in (("geometry", geometry_at), ("point", point_at)):
        wanted = [i for i, row in enumerate(rows) if chosen[i] is None and row[where]]
        if not wanted:
            continue
        shapes = shapely.from_wkt([rows[i][where] for i in wanted], on_invalid="ignore")
        unparsed = shapely.is_missing(shapes)
        if unparsed.any():
            skipped["unparseable " + column] = skipped.get("unparseable " + column, 0) + int(unparsed.sum())
        usable = ~unparsed & ~shapely.is_empty(shapes)
        chosen[numpy.asarray(wanted)[usable]] = shapes[usable]
    out = [None] * len(rows)
    present = ~shapely.is_missing(chosen)
    types = shapely.get_type_id(chosen)
    flat = present & ~shapely.has_z(chosen)
    for type_id, kind in _KINDS.items():
        where = numpy.flatnonzero(flat & (types == type_id))
        if not len(where):
            continue
        _, coordinates, offsets = shapely.to_ragged_array(chosen[where])
        nested = [tuple(pair) for pair in coordinates.tolist()]
        for level in offsets:  # innermost first: rings, then polygons, then multipolygons
            cuts = level.tolist()
            nested = [nested[a:b] for a, b in zip(cuts, cuts[1:])]
        for i, value in zip(where.tolist(), nested):
            out[i] = {"type": kind, "coordinates": value}
    for i in numpy.flatnonzero(present & ~(flat & numpy.isin(types, list(_KINDS)))).tolist():
        out[i] = shapely.geometry.mapping(chosen[i])  # 3D, collections and rings, one by one
    bounds = shapely.bounds(chosen).tolist()
    return [(g, tuple(b) if g is not None else None) for g, b in zip(out, bounds)]


def build_tiles(dataset, sqlite_path, mbtiles_path, min_zoom=DEFAULT_MIN_ZOOM, max_zoom=DEFAULT_MAX_ZOOM,
                tippecanoe="tippecanoe", log=print, incremental=True, timings=None):
    """Build mbtiles_path from the dataset's entities; returns the number of features (0: no file built).

    When the published file records what it was built from (its feature index) and few features
    changed, only the tiles they reach are built again (incremental=False: always a full build).
    timings, a dict, receives the seconds spent on "features", "tippecanoe" and "patch" and the "build"
    made ("kept", "full" or "incremental")."""
    timings = timings if timings is not None else {}
    started = time.monotonic()
    program = shutil.which(tippecanoe)
    if not program:
        raise UserError(f"{tippecanoe} not found on PATH")
    target_dir = os.path.dirname(os.path.abspath(mbtiles_path))
    os.makedirs(target_dir, exist_ok=True)
    work = tempfile.mkdtemp(dir=target_dir, prefix=f".{os.path.basename(mbtiles_path)}.", suffix=".tmp")
    try:
        output = os.path.join(work, "tiles.mbtiles")
        skipped = {}
        rows = _features(sqlite_path, dataset, skipped=skipped)
        first = next(rows, None)
        if first is None:
            if os.path.exists(mbtiles_path):
                os.unlink(mbtiles_path)
                log(f"build-tiles: {dataset}: no entities with a geometry or point; removed the stale {mbtiles_path}")
            else:
                log(f"build-tiles: {dataset}: no entities with a geometry or point; no tiles built")
            return 0
        command = [program, *TIPPECANOE_OPTIONS, f"--minimum-zoom={min_zoom}", f"--maximum-zoom={max_zoom}",
                   f"--layer={dataset}", f"--name={dataset}", f"--temporary-directory={work}", f"--output={output}"]
        options = " ".join(_options(command, mbtiles_path))
        # the features are written out first, hashed on the way: tiles whose features (and options)
        # are those of the published file are not built again (a change to fields tiles do not carry)
        features_path = os.path.join(work, "features.ndjson")
        digest = hashlib.sha256(options.encode())
        index, entities = [], set()  # (entity, sha256 of its line, its bounds) of each feature, in order
        count = 0
        try:
            with open(features_path, "wb") as out:
                for entity, feature, bounds in _chain(first, rows):
                    line = json.dumps(feature, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"
                    digest.update(line)
                    out.write(line)
                    count += 1
                    if index is not None:
                        if type(entity) is not int or entity in entities:
                            index = None  # entities the index cannot key: full builds only
                        else:
                            entities.add(entity)
                            index.append((entity, hashlib.sha256(line).hexdigest(), *bounds))
        except OSError as error:  # a full disk, say
            raise UserError(f"cannot write the features for tippecanoe ({error.strerror}) after {count} features; "
                            f"{mbtiles_path} left as it was") from None
        digest = digest.hexdigest()
        timings["features"] = time.monotonic() - started
        if _features_digest(mbtiles_path) == digest:
            timings["build"] = "kept"
            log(f"build-tiles: {dataset}: {count} features, unchanged since {mbtiles_path} was built: kept")
            return count
        how = None
        if incremental and index is not None:
            how = _incremental(dataset, command, features_path, output, mbtiles_path, index, options, digest,
                               min_zoom, max_zoom, log, timings)
        if how is None:
            _run(command, features_path, work, count, mbtiles_path, timings)
            began = time.monotonic()
            _stable_metadata(output, options, digest, index)
            timings["patch"] = time.monotonic() - began
            timings["build"] = "full"
            how = f"zoom {min_zoom}-{max_zoom}"
        os.chmod(output, 0o644)
        os.replace(output, mbtiles_path)
        for what, n in sorted(skipped.items()):
            log(f"build-tiles: {dataset}: warning: {n} {what} skipped")
        log(f"build-tiles: {dataset}: {count} features, {how}, written to {mbtiles_path}")
        return count
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _run(command, features_path, work, count, mbtiles_path, timings):
    """Run tippecanoe on features_path; a one-line error (the previous file left) if it fails."""
    began = time.monotonic()
    stderr_path = os.path.join(work, "tippecanoe.log")
    output = command[-1][len("--output="):]
    with open(stderr_path, "wb") as stderr:
        status = subprocess.run(command + [features_path], stdin=subprocess.DEVNULL, stdout=stderr,
                                stderr=stderr).returncode
    timings["tippecanoe"] = time.monotonic() - began
    if status != 0 or not os.path.exists(output):
        with open(stderr_path, "rb") as f:
            f.seek(max(0, os.path.getsize(stderr_path) - 4096))  # only its last words matter
            message = " ".join(f.read().decode("utf-8", "replace").split())[-400:]
        why = f"exit status {status}" if status >= 0 else f"killed by signal {-status}"
        raise UserError(f"tippecanoe failed ({why}) after {count} features; {mbtiles_path} left as it was: {message}")


def _incremental(dataset, command, features_path, output, mbtiles_path, index, options, digest, min_zoom, max_zoom,
                 log, timings):
    """Build output from the published file and the tiles the changed features reach; returns what was
    done (for the log line), or None when a full build is needed (or the better one)."""
    from . import tiles_incremental as inc

    state = inc.published_state(mbtiles_path)
    if state is None:
        return None
    previous, metadata, tile_count = state
    if metadata.get("generator_options") != options:
        return None
    began = time.monotonic()
    plan, why = inc.plan(previous, index, min_zoom, max_zoom, tile_count)
    if plan is None:
        log(f"build-tiles: {dataset}: {why}: a full build")
        return None
    work = os.path.dirname(output)
    fresh = os.path.join(work, "affected.mbtiles")
    subset = os.path.join(work, "affected.ndjson")
    try:
        with open(features_path, "rb") as lines, open(subset, "wb") as out:
            for line, zoom in zip(lines, plan.zooms):
                out.write(inc.annotate(line, zoom, min_zoom, max_zoom))
    except OSError as error:  # a full disk, say
        raise UserError(f"cannot write the features for tippecanoe ({error.strerror}); {mbtiles_path} left as it was") from None
    timings["plan"] = time.monotonic() - began
    run = command[:-1] + [f"--output={fresh}"]
    _run(run, subset, work, len(index), mbtiles_path, timings)
    os.unlink(subset)
    began = time.monotonic()
    new_metadata = _final_metadata(_read_metadata(fresh), options, digest)
    if new_metadata.get("generator") != metadata.get("generator"):
        log(f"build-tiles: {dataset}: built by {metadata.get('generator')}, now {new_metadata.get('generator')}: a full build")
        return None
    try:
        inc.patch(mbtiles_path, fresh, output, plan, index, new_metadata)
    except (inc.Conflict, sqlite3.Error) as error:
        log(f"build-tiles: {dataset}: cannot patch {mbtiles_path} ({error}): a full build")
        if os.path.exists(output):
            os.unlink(output)
        return None
    except OSError as error:  # a full disk, say
        raise UserError(f"cannot copy {mbtiles_path} to rebuild its changed tiles ({error.strerror}); "
                        "left as it was") from None
    timings["patch"] = time.monotonic() - began
    timings["build"] = "incremental"
    return (f"{len(plan.changed)} changed: {plan.tile_count()} tiles rebuilt from {plan.included} features"
            f" (~{plan.work:.0%} of a full build's tiling)")


FEATURES_DIGEST = "features_sha256"  # metadata row: the sha256 of the options and features the tiles were built from


def _options(command, mbtiles_path):
    """The tippecanoe options without the temporary paths."""
    options = ["tippecanoe"] + [a for a in command[1:] if not a.startswith(("--temporary-directory=", "--output="))]
    return options + ["--output=" + os.path.basename(mbtiles_path)]


def mbtiles_metadata(path):
    """An mbtiles file's metadata table as a dict, or None (no file, or not one sqlite can read)."""
    if not os.path.exists(path):
        return None
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            return dict(conn.execute("SELECT name, value FROM metadata"))
        finally:
            conn.close()
    except sqlite3.Error:
        return None


def _features_digest(mbtiles_path):
    """The features digest recorded in an mbtiles file, or None (no file, an older file, unreadable)."""
    return (mbtiles_metadata(mbtiles_path) or {}).get(FEATURES_DIGEST)


def _read_metadata(path):
    conn = sqlite3.connect(path)
    try:
        return dict(conn.execute("SELECT name, value FROM metadata"))
    finally:
        conn.close()


def _final_metadata(metadata, options, digest):
    """tippecanoe's metadata made a function of the features and options alone, as an incremental
    build can reproduce it: the options without the temporary paths, the digest of what the tiles
    were built from, no per-zoom "strategies" (tippecanoe's counts of what each zoom's tiles
    simplified: a sum over every tile), and the centre of the bounds at the minimum zoom as center
    (tippecanoe's is the middle of the maximum zoom's fullest tile, which only a full build knows)."""
    metadata = dict(metadata)
    metadata["generator_options"] = options
    metadata[FEATURES_DIGEST] = digest
    metadata.pop("strategies", None)
    try:
        west, south, east, north = (float(v) for v in metadata["bounds"].split(","))
        metadata["center"] = f"{(west + east) / 2:f},{(south + north) / 2:f},{int(metadata['minzoom'])}"
    except (KeyError, ValueError):
        metadata.pop("center", None)
    return metadata


def _stable_metadata(output, options, digest, index):
    """Make a full build's metadata stable (see _final_metadata) and record its feature index."""
    from .tiles_incremental import write_index

    conn = sqlite3.connect(output)
    try:
        with conn:
            metadata = _final_metadata(dict(conn.execute("SELECT name, value FROM metadata")), options, digest)
            conn.execute("DELETE FROM metadata")
            conn.executemany("INSERT INTO metadata (name, value) VALUES (?, ?)", sorted(metadata.items()))
            if index is not None:
                write_index(conn, index)
    finally:
        conn.close()


def _chain(first, rest):
    yield first
    yield from rest
