"""Vector tiles for a geography dataset: stream its entities into tippecanoe, publish an mbtiles file.

Entities with a geometry (else a point) become newline-delimited GeoJSON features in a file
tippecanoe reads, one layer named after the dataset; their sha256 is recorded in the mbtiles
metadata, and a build whose features are those of the published file keeps it (no tippecanoe run). Retired entities (an end date today or earlier)
and entities redirected or removed through old_entity are left out. tippecanoe writes to a
temporary directory beside the output, which is renamed into place only when tippecanoe succeeded.
"""
import datetime
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile

from ..errors import UserError
from .source import open_dataset, select_list

# the zoom range and options of the platform's tiles: zoom 4 to 15, nothing dropped or limited
DEFAULT_MIN_ZOOM = 4
DEFAULT_MAX_ZOOM = 15
TIPPECANOE_OPTIONS = ("--no-progress-indicator", "--quiet", "-r1", "--no-feature-limit", "--no-tile-size-limit", "--force")

PROPERTIES = (
    ("entity", "entity"), ("name", "name"), ("reference", "reference"), ("dataset", "dataset"),
    ("prefix", "prefix"), ("organisation_entity", "organisation-entity"), ("entry_date", "entry-date"),
    ("start_date", "start-date"), ("end_date", "end-date"),
)


def features(sqlite_path, dataset, today=None, skipped=None):
    """Yield (entity, GeoJSON feature dict) for the dataset's current entities with a geometry or point."""
    import shapely.geometry
    import shapely.wkt

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
    try:
        for row in conn.execute(sql, (dataset, today)):
            record = dict(zip(wanted, row))
            shape = None
            for column in ("geometry", "point"):
                if record[column]:
                    try:
                        shape = shapely.wkt.loads(record[column])
                    except Exception:  # shapely raises several kinds for bad WKT
                        skipped["unparseable " + column] = skipped.get("unparseable " + column, 0) + 1
                        continue
                    if shape.is_empty:
                        shape = None
                        continue
                    break
            if shape is None:
                continue
            properties = {}
            if record["json"]:
                try:
                    extra = json.loads(record["json"])
                    if isinstance(extra, dict):
                        properties.update(extra)
                except ValueError:
                    pass
            for column, key in PROPERTIES:
                value = record[column]
                properties[key] = value if value is not None else ""
            properties["dataset"] = properties["dataset"] or dataset
            feature = {"type": "Feature", "geometry": shapely.geometry.mapping(shape), "properties": properties}
            if isinstance(record["entity"], int):
                feature["id"] = record["entity"]
            yield record["entity"], feature
    finally:
        conn.close()


def build_tiles(dataset, sqlite_path, mbtiles_path, min_zoom=DEFAULT_MIN_ZOOM, max_zoom=DEFAULT_MAX_ZOOM,
                tippecanoe="tippecanoe", log=print):
    """Build mbtiles_path from the dataset's entities; returns the number of features (0: no file built)."""
    program = shutil.which(tippecanoe)
    if not program:
        raise UserError(f"{tippecanoe} not found on PATH")
    target_dir = os.path.dirname(os.path.abspath(mbtiles_path))
    os.makedirs(target_dir, exist_ok=True)
    work = tempfile.mkdtemp(dir=target_dir, prefix=f".{os.path.basename(mbtiles_path)}.", suffix=".tmp")
    try:
        output = os.path.join(work, "tiles.mbtiles")
        stderr_path = os.path.join(work, "tippecanoe.log")
        skipped = {}
        rows = features(sqlite_path, dataset, skipped=skipped)
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
        # the features are written out first, hashed on the way: tiles whose features (and options)
        # are those of the published file are not built again (a change to fields tiles do not carry)
        features_path = os.path.join(work, "features.ndjson")
        digest = hashlib.sha256(" ".join(_options(command, mbtiles_path)).encode())
        count = 0
        try:
            with open(features_path, "wb") as out:
                for _, feature in _chain(first, rows):
                    line = json.dumps(feature, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"
                    digest.update(line)
                    out.write(line)
                    count += 1
        except OSError as error:  # a full disk, say
            raise UserError(f"cannot write the features for tippecanoe ({error.strerror}) after {count} features; "
                            f"{mbtiles_path} left as it was") from None
        digest = digest.hexdigest()
        if _features_digest(mbtiles_path) == digest:
            log(f"build-tiles: {dataset}: {count} features, unchanged since {mbtiles_path} was built: kept")
            return count
        with open(stderr_path, "wb") as stderr:
            status = subprocess.run(command + [features_path], stdin=subprocess.DEVNULL, stdout=stderr,
                                    stderr=stderr).returncode
        if status != 0 or not os.path.exists(output):
            with open(stderr_path, "rb") as f:
                f.seek(max(0, os.path.getsize(stderr_path) - 4096))  # only its last words matter
                message = " ".join(f.read().decode("utf-8", "replace").split())[-400:]
            why = f"exit status {status}" if status >= 0 else f"killed by signal {-status}"
            raise UserError(f"tippecanoe failed ({why}) after {count} features; {mbtiles_path} left as it was: {message}")
        _stable_metadata(output, command, mbtiles_path, digest)
        os.chmod(output, 0o644)
        os.replace(output, mbtiles_path)
        for what, n in sorted(skipped.items()):
            log(f"build-tiles: {dataset}: warning: {n} {what} skipped")
        log(f"build-tiles: {dataset}: {count} features, zoom {min_zoom}-{max_zoom}, written to {mbtiles_path}")
        return count
    finally:
        shutil.rmtree(work, ignore_errors=True)


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


def _stable_metadata(output, command, mbtiles_path, digest):
    """Record the options without the temporary paths, so the same input gives the same file, and
    the digest of what the tiles were built from."""
    conn = sqlite3.connect(output)
    try:
        with conn:
            conn.execute("UPDATE metadata SET value = ? WHERE name = 'generator_options'",
                         (" ".join(_options(command, mbtiles_path)),))
            conn.execute("INSERT INTO metadata (name, value) VALUES (?, ?)", (FEATURES_DIGEST, digest))
    finally:
        conn.close()


def _chain(first, rest):
    yield first
    yield from rest
