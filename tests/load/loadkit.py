"""Helpers and fixtures for the load tests: dataset sqlite files in the assemble stage's schema, and the real
services the load stage talks to (PostgreSQL + PostGIS, datasette, an S3 server), each started here.
"""
import os
import shutil
import sqlite3
import subprocess
import sys
import time
import uuid

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.join(ROOT, "bin")
VENV_BIN = os.path.dirname(sys.executable)
PG_SOCKET = "/var/run/postgresql"
EXAMPLE = "conservation-area"  # the bundled collection the example tests build

SCHEMA = """
CREATE TABLE entity (dataset TEXT, end_date TEXT, entity INTEGER PRIMARY KEY, entry_date TEXT, geojson JSON,
    geometry TEXT, json JSON, name TEXT, organisation_entity TEXT, point TEXT, prefix TEXT, quality TEXT,
    reference TEXT, start_date TEXT, typology TEXT);
CREATE TABLE old_entity (end_date TEXT, entity INTEGER, entry_date TEXT, notes TEXT, old_entity TEXT PRIMARY KEY,
    start_date TEXT, status TEXT, FOREIGN KEY (entity) REFERENCES entity (entity));
CREATE TABLE fact (end_date TEXT, entity INTEGER, fact TEXT PRIMARY KEY, field TEXT, entry_date TEXT,
    priority INTEGER, reference_entity TEXT, start_date TEXT, value TEXT);
CREATE TABLE fact_resource (end_date TEXT, fact TEXT, entry_date TEXT, entry_number INTEGER, priority INTEGER,
    resource TEXT, start_date TEXT);
CREATE TABLE issue (end_date TEXT, entity INTEGER, entry_date TEXT, entry_number INTEGER, field TEXT,
    issue_type TEXT, line_number INTEGER, dataset TEXT, resource TEXT, start_date TEXT, value TEXT, message TEXT);
CREATE TABLE column_field (end_date TEXT, entry_date TEXT, field TEXT, dataset TEXT, start_date TEXT,
    resource TEXT, "column" TEXT);
CREATE TABLE dataset_resource (end_date TEXT, entry_date TEXT, dataset TEXT, entity_count TEXT, entry_count TEXT,
    line_count TEXT, mime_type TEXT, internal_path TEXT, internal_mime_type TEXT, resource TEXT, start_date TEXT);
"""

ENTITY_COLUMNS = ("dataset", "end_date", "entity", "entry_date", "geojson", "geometry", "json", "name",
                  "organisation_entity", "point", "prefix", "quality", "reference", "start_date", "typology")


def write_dataset(path, entities, old_entities=()):
    """A dataset sqlite file in the upstream schema holding the given entity / old_entity dicts."""
    if os.path.exists(path):
        os.unlink(path)
    conn = sqlite3.connect(path)
    conn.executescript(SCHEMA)
    for e in entities:
        row = {c: e.get(c, "") for c in ENTITY_COLUMNS}
        conn.execute(f"INSERT INTO entity ({', '.join(ENTITY_COLUMNS)}) VALUES ({', '.join('?' * len(ENTITY_COLUMNS))})",
                     [row[c] for c in ENTITY_COLUMNS])
    for o in old_entities:
        conn.execute("INSERT INTO old_entity (old_entity, entity, status, entry_date, notes, start_date, end_date)"
                     " VALUES (?, ?, ?, ?, ?, ?, ?)",
                     (str(o["old_entity"]), o.get("entity"), str(o.get("status", "301")), o.get("entry_date", ""),
                      o.get("notes", ""), o.get("start_date", ""), o.get("end_date", "")))
    conn.commit()
    conn.close()
    return path


def _southwark_polygons():
    """Real conservation-area boundaries (Southwark's GeoPackage in example/), as WGS84 MULTIPOLYGON WKT."""
    from osgeo import ogr, osr

    source = ogr.Open(os.path.join(ROOT, "example", "conservation-area", "swk-conservation-area.gpkg"))
    layer = source.GetLayer(0)
    wgs84 = osr.SpatialReference()
    wgs84.ImportFromEPSG(4326)
    wgs84.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    transform = osr.CoordinateTransformation(layer.GetSpatialRef(), wgs84)
    import shapely
    import shapely.wkt

    found = []
    for feature in layer:
        geometry = feature.GetGeometryRef().Clone()
        geometry.Transform(transform)
        shape = shapely.set_precision(shapely.wkt.loads(geometry.ExportToWkt()), 0.000001)
        if shape.geom_type == "Polygon":
            shape = shapely.MultiPolygon([shape])
        point = shapely.set_precision(shape.centroid, 0.000001)
        found.append((feature.GetField("Conservation_area"), shapely.wkt.dumps(shape, rounding_precision=6),
                      shapely.wkt.dumps(point, rounding_precision=6)))
        if len(found) == 8:
            break
    return found


BOWTIE = "MULTIPOLYGON (((-0.1 51.5, -0.09 51.51, -0.09 51.5, -0.1 51.51, -0.1 51.5)))"  # self-intersecting


def conservation_area_entities():
    """Eight real Southwark conservation areas, a self-intersecting polygon, a point-only entity and a
    retired (end-dated) one."""
    entities = []
    for i, (name, wkt, point) in enumerate(_southwark_polygons()):
        entities.append({
            "dataset": "conservation-area", "entity": 44000001 + i, "name": name, "reference": f"CA{i + 1:02d}",
            "prefix": "conservation-area", "typology": "geography", "organisation_entity": "329",
            "entry_date": "2024-01-0%d" % (1 + i % 9), "start_date": "1968-01-01" if i == 0 else "",
            "geometry": wkt, "point": point, "json": '{"documentation-url": "https://example.org/%d"}' % i,
            "quality": "authoritative",
        })
    entities.append({"dataset": "conservation-area", "entity": 44000101, "name": "Bowtie", "reference": "BOW",
                     "prefix": "conservation-area", "typology": "geography", "geometry": BOWTIE,
                     "point": "POINT (-0.095 51.505)", "entry_date": "2024-02-01"})
    entities.append({"dataset": "conservation-area", "entity": 44000102, "name": "Point only", "reference": "PT",
                     "prefix": "conservation-area", "typology": "geography", "point": "POINT (-0.08 51.49)",
                     "entry_date": "2024-02-01"})
    entities.append({"dataset": "conservation-area", "entity": 44000103, "name": "Retired", "reference": "OLD",
                     "prefix": "conservation-area", "typology": "geography", "point": "POINT (-0.085 51.495)",
                     "entry_date": "2020-01-01", "end_date": "2021-06-30"})
    return entities


@pytest.fixture(scope="session")
def ca_entities():
    return conservation_area_entities()


@pytest.fixture
def ca_sqlite(tmp_path, ca_entities):
    """A conservation-area dataset sqlite file made here from real boundaries."""
    path = str(tmp_path / "conservation-area.sqlite3")
    write_dataset(path, ca_entities, [{"old_entity": 44000200, "entity": 44000001, "status": 301}])
    return path


def make_env(env=None):
    """The environment for the real Makefile: none of the caller's pipeline settings, plus env."""
    full_env = {k: v for k, v in os.environ.items() if k not in (
        "DATABASE_URL", "MAKEFLAGS", "MAKELEVEL", "COLLECTION", "DATASTORE_BUCKET", "DATASTORE_ENDPOINT",
        "COLLECTION_DATASET_BUCKET_NAME", "DATASETTE_DIR")}
    full_env.update(env or {})
    return full_env


def run_make(workspace, *args, env=None, check=True):
    """The real Makefile in a workspace, offline."""
    result = subprocess.run(["make", *args], cwd=workspace, env=make_env(env), capture_output=True, text=True, timeout=600)
    assert not check or result.returncode == 0, result.stdout + result.stderr
    return result


@pytest.fixture(scope="session")
def example_workspace(tmp_path_factory, workspace_at):
    """The bundled conservation-area collection built by the real Makefile (collect from its file:
    endpoints, transform, assemble, bake, tiles, publish), once for the session."""
    root = workspace_at(tmp_path_factory.mktemp("example"), EXAMPLE)
    run_make(root, f"COLLECTION={EXAMPLE}")
    return root


@pytest.fixture(scope="session")
def example_sqlite(example_workspace):
    """The assembled dataset/conservation-area.sqlite3 of the bundled example."""
    return str(example_workspace / "dataset" / f"{EXAMPLE}.sqlite3")


@pytest.fixture
def example_copy(example_workspace, tmp_path):
    """A copy of the built example, mtimes kept so make sees it as built, for a test that changes it."""
    target = tmp_path / "example"
    shutil.copytree(example_workspace, target, symlinks=True)
    return target


# --- PostgreSQL ---------------------------------------------------------------------------------


def _psql(sql, database="postgres"):
    subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", PG_SOCKET, "-d", database, "-c", sql],
                   check=True, capture_output=True, text=True)


@pytest.fixture(scope="session")
def postgres():
    """A throwaway database on the local PostgreSQL 15 (started if it is not running); dropped at the end."""
    ready = subprocess.run(["pg_isready", "-q", "-h", PG_SOCKET]).returncode == 0
    if not ready:
        subprocess.run(["pg_ctlcluster", "15", "main", "start"], check=True)
        for _ in range(50):
            if subprocess.run(["pg_isready", "-q", "-h", PG_SOCKET]).returncode == 0:
                break
            time.sleep(0.2)
    if os.geteuid() == 0:
        subprocess.run(["su", "postgres", "-c", "createuser -s root"], capture_output=True)
    name = f"planning_load_test_{uuid.uuid4().hex[:8]}"
    _psql(f"CREATE DATABASE {name}")
    url = f"postgresql:///{name}?host={PG_SOCKET}"
    yield {"name": name, "url": url}
    _psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def database(postgres):
    """A database of its own for one test (the server of the postgres fixture), dropped after it."""
    name = f"planning_load_test_{uuid.uuid4().hex[:8]}"
    _psql(f"CREATE DATABASE {name}")
    yield {"name": name, "url": f"postgresql:///{name}?host={PG_SOCKET}"}
    _psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(scope="session")
def password_role(postgres):
    """A login role with a password, reachable over TCP on 127.0.0.1 (password authentication)."""
    role = f"loader_{uuid.uuid4().hex[:6]}"
    password = "s3cret-" + uuid.uuid4().hex[:10]
    _psql(f"CREATE ROLE {role} LOGIN SUPERUSER PASSWORD '{password}'")
    yield {"role": role, "password": password,
           "url": f"postgresql://{role}:{password}@127.0.0.1:5432/{postgres['name']}"}
    _psql(f"DROP ROLE IF EXISTS {role}")


def run_bin(name, *args, env=None, **kwargs):
    full_env = dict(os.environ)
    full_env["PATH"] = VENV_BIN + os.pathsep + full_env.get("PATH", "")
    full_env.pop("DATABASE_URL", None)
    full_env.update(env or {})
    return subprocess.run([sys.executable, os.path.join(BIN, name), *args], env=full_env, capture_output=True,
                          text=True, cwd=kwargs.pop("cwd", ROOT), **kwargs)


def popen_bin(name, *args, env=None, **kwargs):
    full_env = dict(os.environ)
    full_env["PATH"] = VENV_BIN + os.pathsep + full_env.get("PATH", "")
    full_env.pop("DATABASE_URL", None)
    full_env.update(env or {})
    return subprocess.Popen([sys.executable, os.path.join(BIN, name), *args], env=full_env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=kwargs.pop("cwd", ROOT), **kwargs)


def have(program):
    return shutil.which(program, path=VENV_BIN + os.pathsep + os.environ.get("PATH", "")) is not None
