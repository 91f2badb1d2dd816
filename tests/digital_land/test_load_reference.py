"""bin/load-reference swaps the reference tables in a real PostgreSQL, atomically."""
import os
import shutil
import subprocess
import sys
import uuid

import pytest

from planning_pipeline.digital_land.builder import build_digital_land

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SOCKET = "/var/run/postgresql"


def ensure_cluster():
    if shutil.which("pg_ctlcluster") is None or shutil.which("createdb") is None:
        pytest.skip("PostgreSQL is not installed")
    if subprocess.run(["psql", "-h", SOCKET, "-d", "postgres", "-c", "select 1"], capture_output=True).returncode != 0:
        subprocess.run(["pg_ctlcluster", "15", "main", "start"], capture_output=True)
        if os.geteuid() == 0:
            subprocess.run(["su", "postgres", "-c", "createuser -s root"], capture_output=True)
    if subprocess.run(["psql", "-h", SOCKET, "-d", "postgres", "-c", "select 1"], capture_output=True).returncode != 0:
        pytest.skip("cannot connect to PostgreSQL")


@pytest.fixture
def database():
    ensure_cluster()
    name = f"load_reference_{uuid.uuid4().hex[:8]}"
    subprocess.run(["createdb", "-h", SOCKET, name], check=True)
    try:
        yield f"postgresql:///{name}?host={SOCKET}"
    finally:
        subprocess.run(["dropdb", "-h", SOCKET, "--if-exists", name], check=False)


@pytest.fixture(scope="module")
def digital_land(tmp_path_factory):
    base = tmp_path_factory.mktemp("dl")
    path = str(base / "digital-land.sqlite3")
    build_digital_land(os.path.join(ROOT, "specification"), os.path.join(ROOT, "collection"), os.path.join(ROOT, "pipeline"),
                       str(base), path, None, os.path.join(ROOT, "example", "organisation.csv"), warn=lambda m: None)
    return path


def run(*args, env=None):
    return subprocess.run([sys.executable, os.path.join(ROOT, "bin", "load-reference"), *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})})


def psql(url, sql):
    import psycopg

    with psycopg.connect(url) as conn:
        cursor = conn.execute(sql)
        return cursor.fetchall() if cursor.description else None


def test_without_a_database_url_it_skips():
    result = run("nothing.sqlite3", env={"DATABASE_URL": ""})
    assert result.returncode == 0 and "skipped" in result.stdout


def test_loads_and_reloads_the_reference_tables(database, digital_land):
    first = run("--database-url", database, digital_land)
    assert first.returncode == 0, first.stderr
    assert psql(database, "SELECT count(*) FROM organisation") == [(425,)]
    assert psql(database, "SELECT entity FROM organisation WHERE organisation = 'government-organisation:D1342'") == [(600001,)]
    datasets = psql(database, "SELECT count(*) FROM dataset")[0][0]
    assert datasets > 200
    assert psql(database, "SELECT themes FROM dataset WHERE dataset = 'conservation-area'")[0][0]
    assert psql(database, "SELECT count(*) FROM typology")[0][0] >= 10
    # the platform's own table definition is kept on reload (LIKE ... INCLUDING ALL), and no _new table is left
    psql(database, "CREATE INDEX organisation_name_idx ON organisation (name)")
    second = run("--database-url", database, digital_land)
    assert second.returncode == 0, second.stderr
    assert psql(database, "SELECT count(*) FROM organisation") == [(425,)]
    assert psql(database, "SELECT count(*) FROM pg_indexes WHERE tablename = 'organisation' AND indexdef LIKE '%(name)%'") == [(1,)]
    assert psql(database, "SELECT count(*) FROM pg_tables WHERE tablename LIKE '%\\_new'") == [(0,)]


def test_a_failed_load_leaves_the_old_tables(database, digital_land):
    assert run("--database-url", database, digital_land).returncode == 0
    # a platform table that the new rows cannot satisfy: the whole swap is rolled back
    psql(database, "ALTER TABLE typology ADD CONSTRAINT never CHECK (length(typology) > 100) NOT VALID")
    failed = run("--database-url", database, digital_land)
    assert failed.returncode == 2 and "Traceback" not in failed.stderr
    assert psql(database, "SELECT count(*) FROM organisation") == [(425,)]
    assert psql(database, "SELECT count(*) FROM pg_tables WHERE tablename LIKE '%\\_new'") == [(0,)]
