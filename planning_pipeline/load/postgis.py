"""Load a dataset sqlite file into the platform's PostGIS database.

The project owns the database schema: numbered SQL files in sql/ are applied once each, in order,
and recorded in the schema_migration table (migrate()).

A dataset load (load_dataset()) replaces that dataset's entity and old_entity rows in a single
transaction: rows stream from sqlite through COPY into temporary staging tables, then the rows that
changed are deleted and their staged rows inserted, with geometries parsed and repaired in SQL. An
entity whose staged row has the digest recorded when it was last loaded (entity_load_digest) is
left as it is: parsing and indexing geometries is most of a load's time, and most nights change few
entities. A
per-dataset advisory lock serialises two loads of the same dataset; any failure rolls the whole
transaction back, so the rows loaded last time stay as they were.
"""
import datetime
import hashlib
import json
import os
import re
import urllib.parse

from ..errors import UserError
from .source import open_dataset, select_list

SQL_DIR = os.path.join(os.path.dirname(__file__), "sql")
MIGRATION_LOCK = "planning_pipeline:migrate"

ENTITY_COLUMNS = (
    "entity", "name", "entry_date", "start_date", "end_date", "dataset", "json", "organisation_entity",
    "prefix", "reference", "typology", "geojson", "geometry", "point", "quality",
)
OLD_ENTITY_COLUMNS = ("old_entity", "entity", "entry_date", "start_date", "end_date", "status", "notes", "dataset")
DATE_COLUMNS = ("entry_date", "start_date", "end_date")
# datasets whose large, complex polygons are also cut into small pieces (entity_subdivided) for fast
# spatial joins, as the platform does
SUBDIVIDED_DATASETS = ("flood-risk-zone",)
ISO_DATE = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:[T ].*)?$")


# ---------------------------------------------------------------------------------------------
# credentials


def redact(url):
    """The database URL with any password replaced by ***, safe to print."""
    if not url:
        return url
    text = str(url)
    if "://" in text:
        parts = urllib.parse.urlsplit(text)
        netloc = parts.netloc
        if "@" in netloc:
            userinfo, host = netloc.rsplit("@", 1)
            if ":" in userinfo:
                userinfo = userinfo.split(":", 1)[0] + ":***"
            netloc = userinfo + "@" + host
        query = re.sub(r"(?i)(^|&)(password)=[^&]*", r"\1\2=***", parts.query)
        return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
    # keyword/value connection strings: password=secret
    return re.sub(r"(?i)(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", r"\1***", text)


def _secrets(url):
    """Every password-like string in url, to scrub from error messages."""
    found = []
    text = str(url or "")
    if "://" in text:
        parts = urllib.parse.urlsplit(text)
        if parts.password:
            found += [parts.password, urllib.parse.unquote(parts.password)]
        for key, value in urllib.parse.parse_qsl(parts.query):
            if key.lower() == "password" and value:
                found.append(value)
    else:
        found += [m.strip("'") for m in re.findall(r"(?i)password\s*=\s*('(?:[^'\\]|\\.)*'|\S+)", text)]
    return [s for s in found if s]


def scrub(message, url):
    """message with the URL's password (if any) removed."""
    message = str(message)
    for secret in sorted(_secrets(url), key=len, reverse=True):
        message = message.replace(secret, "***")
    return message


def connect(database_url):
    import psycopg

    try:
        return psycopg.connect(database_url, autocommit=True)
    except psycopg.Error as error:
        detail = scrub(str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__, database_url)
        raise UserError(f"cannot connect to {redact(database_url)}: {detail}") from None


# ---------------------------------------------------------------------------------------------
# schema


def migrations():
    """[(version, name, path)] of the SQL migrations, in order."""
    found = []
    for name in sorted(os.listdir(SQL_DIR)):
        match = re.match(r"^(\d+)_(.+)\.sql$", name)
        if match:
            found.append((int(match.group(1)), match.group(2), os.path.join(SQL_DIR, name)))
    return found


def migrate(conn):
    """Apply each migration not yet recorded in schema_migration; returns the versions applied.

    Runs in its own transaction under an advisory lock, so concurrent loads migrate once.
    """
    applied_now = []
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (MIGRATION_LOCK,))
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migration ("
            " version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        done = {row[0] for row in conn.execute("SELECT version FROM schema_migration")}
        for version, name, path in migrations():
            if version in done:
                continue
            with open(path, encoding="utf-8") as f:
                conn.execute(f.read())  # no parameters: sent as one multi-statement script
            conn.execute("INSERT INTO schema_migration (version, name) VALUES (%s, %s)", (version, name))
            applied_now.append(version)
    return applied_now


# ---------------------------------------------------------------------------------------------
# reading the sqlite file


class Counts:
    def __init__(self):
        self.warnings = {}

    def warn(self, what):
        self.warnings[what] = self.warnings.get(what, 0) + 1


def _text(value):
    if value is None:
        return None
    value = str(value)
    return value if value.strip() != "" else None


def _date(value, counts, column):
    value = _text(value)
    if value is None:
        return None
    match = ISO_DATE.match(value.strip())
    if match:
        try:
            return datetime.date.fromisoformat(match.group(1)).isoformat()
        except ValueError:
            pass
    counts.warn(f"invalid {column} set to NULL")
    return None


def _integer(value):
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    try:
        text = str(value).strip()
        return int(text) if re.fullmatch(r"[+-]?\d+", text) else None
    except ValueError:
        return None


def _json(value, counts, column):
    value = _text(value)
    if value is None:
        return None
    try:
        json.loads(value)
    except ValueError:
        counts.warn(f"invalid {column} JSON set to NULL")
        return None
    return value.replace("\x00", "")


def digested(rows):
    """Each row with the md5 of its values (and of the load's SQL, so a change to how rows are
    written reloads them all) appended: what entity_load_digest records."""
    for row in rows:
        yield row + (hashlib.md5((LOAD_FORMAT + repr(row)).encode()).hexdigest(),)


def entity_rows(sqlite, dataset, counts):
    """Rows for COPY into the entity staging table, streamed from the sqlite entity table."""
    cursor = sqlite.execute(f"SELECT {select_list(sqlite, 'entity', ENTITY_COLUMNS)} FROM entity ORDER BY entity")
    for row in cursor:
        record = dict(zip(ENTITY_COLUMNS, row))
        if (_text(record["dataset"]) or dataset) != dataset:
            counts.warn("row of another dataset skipped")
            continue
        entity = _integer(record["entity"])
        if entity is None:
            counts.warn("row without an integer entity skipped")
            continue
        organisation_entity = _integer(record["organisation_entity"])
        if organisation_entity is None and _text(record["organisation_entity"]) is not None:
            counts.warn("non-integer organisation_entity set to NULL")
        yield (
            entity,
            _text(record["name"]),
            _date(record["entry_date"], counts, "entry_date"),
            _date(record["start_date"], counts, "start_date"),
            _date(record["end_date"], counts, "end_date"),
            dataset,
            _json(record["json"], counts, "json"),
            organisation_entity,
            _text(record["prefix"]),
            _text(record["reference"]),
            _text(record["typology"]),
            _json(record["geojson"], counts, "geojson"),
            _text(record["geometry"]),
            _text(record["point"]),
            _text(record["quality"]),
        )


def old_entity_rows(sqlite, tables, dataset, counts):
    if "old_entity" not in tables:
        return
    cursor = sqlite.execute(f"SELECT {select_list(sqlite, 'old_entity', OLD_ENTITY_COLUMNS)} FROM old_entity")
    for row in cursor:
        record = dict(zip(OLD_ENTITY_COLUMNS, row))
        old_entity = _integer(record["old_entity"])
        status = _integer(record["status"])
        if old_entity is None or status is None:
            counts.warn("old_entity row without an integer old_entity and status skipped")
            continue
        yield (
            old_entity,
            _integer(record["entity"]),
            _date(record["entry_date"], counts, "old_entity entry_date"),
            _date(record["start_date"], counts, "old_entity start_date"),
            _date(record["end_date"], counts, "old_entity end_date"),
            status,
            _text(record["notes"]),
            dataset,
        )


# ---------------------------------------------------------------------------------------------
# the load


def lock_sql():
    """The statement (one parameter: the dataset) taking the per-dataset load lock."""
    return "SELECT pg_advisory_xact_lock(hashtextextended('planning_pipeline:load:' || %s, 0))"


def try_lock_sql():
    return "SELECT pg_try_advisory_xact_lock(hashtextextended('planning_pipeline:load:' || %s, 0))"


STAGE_ENTITY = """
CREATE TEMPORARY TABLE load_entity (
    entity bigint, name text, entry_date date, start_date date, end_date date, dataset text,
    json jsonb, organisation_entity bigint, prefix text, reference text, typology text,
    geojson jsonb, geometry text, point text, quality text, digest text
) ON COMMIT DROP
"""
# the staged entities whose row is the one loaded last time, and still in place: left as they are
STAGE_KEPT = """
CREATE TEMPORARY TABLE load_kept ON COMMIT DROP AS
SELECT l.entity FROM load_entity l
JOIN entity_load_digest d ON d.entity = l.entity AND d.digest = l.digest AND d.dataset = %(dataset)s
JOIN entity e ON e.entity = l.entity AND e.dataset = %(dataset)s
"""
STAGE_OLD_ENTITY = """
CREATE TEMPORARY TABLE load_old_entity (
    old_entity bigint, entity bigint, entry_date date, start_date date, end_date date,
    status integer, notes text, dataset text
) ON COMMIT DROP
"""
INSERT_ENTITY = """
INSERT INTO entity (entity, name, entry_date, start_date, end_date, dataset, json, organisation_entity,
                    prefix, reference, typology, geojson, geometry, point, quality)
SELECT entity, name, entry_date, start_date, end_date, dataset, json, organisation_entity,
       prefix, reference, typology, geojson, planning_multipolygon(geometry), planning_point(point), quality
FROM load_entity l WHERE NOT EXISTS (SELECT 1 FROM load_kept k WHERE k.entity = l.entity)
"""
DELETE_CHANGED = """
DELETE FROM entity e WHERE e.dataset = %(dataset)s AND NOT EXISTS (SELECT 1 FROM load_kept k WHERE k.entity = e.entity)
"""
RECORD_DIGESTS = """
INSERT INTO entity_load_digest (entity, dataset, digest)
SELECT entity, dataset, digest FROM load_entity l WHERE NOT EXISTS (SELECT 1 FROM load_kept k WHERE k.entity = l.entity)
ON CONFLICT (entity) DO UPDATE SET dataset = excluded.dataset, digest = excluded.digest
"""
FORGET_DIGESTS = """
DELETE FROM entity_load_digest d WHERE d.dataset = %(dataset)s
AND NOT EXISTS (SELECT 1 FROM load_entity l WHERE l.entity = d.entity)
"""
# pieces of the entities rewritten or removed go; every geometry of the dataset without pieces gets them
UNSUBDIVIDE_CHANGED = """
DELETE FROM entity_subdivided s WHERE s.dataset = %(dataset)s AND NOT EXISTS (SELECT 1 FROM load_kept k WHERE k.entity = s.entity)
"""
SUBDIVIDE = """
INSERT INTO entity_subdivided (entity, dataset, geometry_subdivided)
SELECT entity, dataset, ST_Multi(ST_Subdivide(geometry, 256)) FROM entity e
WHERE dataset = %(dataset)s AND geometry IS NOT NULL
AND NOT EXISTS (SELECT 1 FROM entity_subdivided s WHERE s.entity = e.entity AND s.dataset = %(dataset)s)
"""
INSERT_OLD_ENTITY = """
INSERT INTO old_entity (old_entity, entity, entry_date, start_date, end_date, status, notes, dataset)
SELECT old_entity, entity, entry_date, start_date, end_date, status, notes, dataset FROM load_old_entity
"""


def _load_format():
    """What decides how a staged row is written: the load's SQL and the migrations' text."""
    digest = hashlib.md5("\n".join((INSERT_ENTITY, SUBDIVIDE)).encode())
    for _, _, path in migrations():
        with open(path, "rb") as f:
            digest.update(f.read())
    return digest.hexdigest()


LOAD_FORMAT = _load_format()


def _copy(cur, table, columns, rows):
    count = 0
    with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
            count += 1
    return count


def _refuse_clashes(cur, staging, key, dataset, sqlite_path):
    """Refuse the load (before touching anything) if a key belongs to another dataset."""
    cur.execute(
        f"SELECT s.{key}, t.dataset FROM {staging} s JOIN {key} t ON t.{key} = s.{key} "
        f"WHERE t.dataset IS DISTINCT FROM %s ORDER BY s.{key} LIMIT 5",
        (dataset,),
    )
    clashes = cur.fetchall()
    if clashes:
        listed = ", ".join(f"{k} (in {d})" for k, d in clashes)
        raise UserError(f"{key} number(s) already loaded for another dataset: {listed}; nothing loaded", sqlite_path)
    cur.execute(f"SELECT {key} FROM {staging} GROUP BY {key} HAVING count(*) > 1 ORDER BY {key} LIMIT 5")
    duplicates = [str(r[0]) for r in cur.fetchall()]
    if duplicates:
        raise UserError(f"duplicate {key} number(s): {', '.join(duplicates)}; nothing loaded", sqlite_path)


def load_dataset(database_url, dataset, sqlite_path, log=print, subdivide=None):
    """Replace dataset's entity and old_entity rows with those in sqlite_path, atomically.

    Returns a dict of counts. Raises UserError (with credentials redacted) on failure; the
    database is then unchanged.
    """
    import psycopg

    if subdivide is None:
        subdivide = dataset in SUBDIVIDED_DATASETS
    sqlite, tables = open_dataset(sqlite_path)
    counts = Counts()
    subdivided = 0
    where = redact(database_url)
    conn = connect(database_url)
    try:
        migrate(conn)
        with conn.transaction():
            cur = conn.cursor()
            cur.execute(try_lock_sql(), (dataset,))
            if not cur.fetchone()[0]:
                log(f"load-postgis: waiting for another load of {dataset} to finish")
                cur.execute(lock_sql(), (dataset,))
            cur.execute(STAGE_ENTITY)
            cur.execute(STAGE_OLD_ENTITY)
            staged = _copy(cur, "load_entity", ENTITY_COLUMNS + ("digest",), digested(entity_rows(sqlite, dataset, counts)))
            staged_old = _copy(cur, "load_old_entity", OLD_ENTITY_COLUMNS, old_entity_rows(sqlite, tables, dataset, counts))
            _refuse_clashes(cur, "load_entity", "entity", dataset, sqlite_path)
            _refuse_clashes(cur, "load_old_entity", "old_entity", dataset, sqlite_path)
            names = {"dataset": dataset}
            cur.execute(STAGE_KEPT, names)
            cur.execute("CREATE UNIQUE INDEX ON load_kept (entity)")
            cur.execute(DELETE_CHANGED, names)
            replaced = cur.rowcount
            cur.execute("DELETE FROM old_entity WHERE dataset = %s", (dataset,))
            replaced_old = cur.rowcount
            cur.execute(INSERT_ENTITY)
            written = cur.rowcount
            cur.execute(INSERT_OLD_ENTITY)
            cur.execute(RECORD_DIGESTS)
            cur.execute(FORGET_DIGESTS, names)
            if subdivide:
                cur.execute(UNSUBDIVIDE_CHANGED, names)
                cur.execute(SUBDIVIDE, names)
                cur.execute("SELECT count(*) FROM entity_subdivided WHERE dataset = %s", (dataset,))
                subdivided = cur.fetchone()[0]
            else:
                cur.execute("DELETE FROM entity_subdivided WHERE dataset = %s", (dataset,))
            cur.execute(
                "SELECT count(*) FILTER (WHERE l.geometry IS NOT NULL AND e.geometry IS NULL),"
                " count(*) FILTER (WHERE l.point IS NOT NULL AND e.point IS NULL),"
                " count(e.geometry), count(e.point)"
                " FROM load_entity l JOIN entity e USING (entity)"
            )
            bad_geometry, bad_point, with_geometry, with_point = cur.fetchone()
    except psycopg.Error as error:
        detail = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise UserError(f"load of {dataset} into {where} failed, nothing changed: {scrub(detail, database_url)}", sqlite_path) from None
    finally:
        conn.close()
        sqlite.close()
    if bad_geometry:
        counts.warnings["unusable geometry set to NULL"] = bad_geometry
    if bad_point:
        counts.warnings["unusable point set to NULL"] = bad_point
    result = {
        "entity": staged, "old_entity": staged_old, "replaced": replaced, "replaced_old_entity": replaced_old,
        "written": written, "unchanged": staged - written,
        "geometry": with_geometry, "point": with_point, "subdivided": subdivided, "warnings": dict(counts.warnings),
    }
    log(
        f"load-postgis: {dataset}: loaded {staged} entities ({with_geometry} with geometry, {with_point} with point)"
        f" and {staged_old} old entities into {where}: {written} written, {staged - written} unchanged;"
        f" {replaced} entities and {replaced_old} old entities replaced or removed"
        + (f"; {subdivided} subdivided polygons" if subdivide else "")
    )
    for what, n in sorted(counts.warnings.items()):
        log(f"load-postgis: {dataset}: warning: {n} {what}")
    return result


def migrate_database(database_url, log=print):
    conn = connect(database_url)
    import psycopg

    try:
        applied = migrate(conn)
    except psycopg.Error as error:
        raise UserError(f"migration of {redact(database_url)} failed: {scrub(str(error).strip(), database_url)}") from None
    finally:
        conn.close()
    log(f"load-postgis: {redact(database_url)}: applied migration(s) {applied}" if applied else f"load-postgis: {redact(database_url)}: schema up to date")
    return applied
