"""Loading dataset sqlite files into a real PostGIS database."""
import sqlite3
import subprocess
import time

import psycopg

from loadkit import BOWTIE, EXAMPLE, conservation_area_entities, make_env, popen_bin, run_bin, run_make, write_dataset
from planning_pipeline.load import postgis


def query(url, sql, params=()):
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute(sql, params).fetchall()


def load(postgres, sqlite_path, dataset="conservation-area", *extra):
    return run_bin("load-postgis", "--dataset", dataset, sqlite_path, *extra, env={"DATABASE_URL": postgres["url"]})


def test_load_creates_schema_and_entities_are_found_by_bounding_box(postgres, ca_sqlite, tmp_path):
    stamp = tmp_path / "var" / "load" / "postgis" / "conservation-area.stamp"
    result = load(postgres, ca_sqlite, "conservation-area", "--stamp", str(stamp))
    assert result.returncode == 0, result.stderr
    assert "loaded 11 entities" in result.stdout
    assert stamp.exists()
    versions = [r[0] for r in query(postgres["url"], "SELECT version FROM schema_migration ORDER BY version")]
    assert versions == [v for v, _, _ in postgis.migrations()]
    # a box around Southwark finds the real boundaries; one far away finds none
    inside = query(postgres["url"], "SELECT entity, name FROM entity WHERE dataset = %s AND geometry && "
                   "ST_MakeEnvelope(-0.13, 51.42, -0.03, 51.51, 4326) ORDER BY entity", ("conservation-area",))
    assert len(inside) >= 8
    assert {r[0] for r in inside} >= set(range(44000001, 44000009))
    assert query(postgres["url"], "SELECT count(*) FROM entity WHERE geometry && ST_MakeEnvelope(-3, 53, -2.9, 53.1, 4326)") == [(0,)]
    # types: dates, JSON, bigint, geometry types
    row = query(postgres["url"], "SELECT start_date, entry_date, end_date, json->>'documentation-url', organisation_entity,"
                " GeometryType(geometry), ST_SRID(geometry), GeometryType(point) FROM entity WHERE entity = 44000001")[0]
    assert str(row[0]) == "1968-01-01" and row[2] is None
    assert row[3] == "https://example.org/0" and row[4] == 329
    assert row[5:] == ("MULTIPOLYGON", 4326, "POINT")
    # empty strings became NULL
    assert query(postgres["url"], "SELECT start_date, json, geometry IS NULL FROM entity WHERE entity = 44000102") == [(None, None, True)]
    assert query(postgres["url"], "SELECT old_entity, entity, status, dataset FROM old_entity") == [(44000200, 44000001, 301, "conservation-area")]


def test_invalid_geometry_is_repaired_into_a_valid_multipolygon(postgres, ca_sqlite):
    assert load(postgres, ca_sqlite).returncode == 0
    valid, kind, area = query(postgres["url"], "SELECT ST_IsValid(geometry), GeometryType(geometry), ST_Area(geometry)"
                              " FROM entity WHERE entity = 44000101")[0]
    assert valid and kind == "MULTIPOLYGON" and area > 0
    assert query(postgres["url"], "SELECT count(*) FROM entity WHERE dataset = 'conservation-area' AND NOT ST_IsValid(geometry)") == [(0,)]
    assert not query(postgres["url"], "SELECT ST_IsValid(ST_GeomFromText(%s))", (BOWTIE,))[0][0]


def test_reload_replaces_the_datasets_rows(postgres, tmp_path):
    entities = conservation_area_entities()
    first = write_dataset(str(tmp_path / "first.sqlite3"), entities)
    assert load(postgres, first).returncode == 0
    # another dataset's rows must survive the reload
    other = write_dataset(str(tmp_path / "other.sqlite3"), [
        {"dataset": "article-4-direction-area", "entity": 7010000001, "name": "A4", "point": "POINT (-1.5 52.5)"}])
    assert load(postgres, other, "article-4-direction-area").returncode == 0

    changed = [dict(e) for e in entities[:5]]
    changed[0]["name"] = "Renamed"
    changed.append({"dataset": "conservation-area", "entity": 44000500, "name": "New", "point": "POINT (-0.1 51.48)"})
    second = write_dataset(str(tmp_path / "second.sqlite3"), changed)
    result = load(postgres, second)
    assert result.returncode == 0, result.stderr
    # 4 rows as loaded before are left alone; the renamed one and the new one are written
    assert "loaded 6 entities" in result.stdout and "2 written, 4 unchanged; 7 entities" in result.stdout
    assert query(postgres["url"], "SELECT count(*) FROM entity WHERE dataset = 'conservation-area'") == [(6,)]
    assert query(postgres["url"], "SELECT name FROM entity WHERE entity = 44000001") == [("Renamed",)]
    assert query(postgres["url"], "SELECT count(*) FROM entity WHERE entity = 44000101") == [(0,)]
    assert query(postgres["url"], "SELECT count(*) FROM entity WHERE dataset = 'article-4-direction-area'") == [(1,)]
    assert query(postgres["url"], "SELECT count(*) FROM old_entity WHERE dataset = 'conservation-area'") == [(0,)]

    empty = write_dataset(str(tmp_path / "empty.sqlite3"), [])
    assert load(postgres, empty).returncode == 0
    assert query(postgres["url"], "SELECT count(*) FROM entity WHERE dataset = 'conservation-area'") == [(0,)]


def test_failed_load_leaves_the_previous_rows(postgres, tmp_path):
    entities = conservation_area_entities()
    good = write_dataset(str(tmp_path / "good.sqlite3"), entities)
    assert load(postgres, good).returncode == 0
    before = query(postgres["url"], "SELECT entity, name, ST_AsText(geometry) FROM entity WHERE dataset = 'conservation-area' ORDER BY entity")

    # an entity number that belongs to another dataset violates the global primary key
    other = write_dataset(str(tmp_path / "other.sqlite3"), [
        {"dataset": "tree-preservation-zone", "entity": 19000001, "name": "TPZ", "point": "POINT (-0.1 51.5)"}])
    assert load(postgres, other, "tree-preservation-zone").returncode == 0
    clash = [dict(e, name="changed") for e in entities] + [
        {"dataset": "conservation-area", "entity": 19000001, "name": "clash", "point": "POINT (-0.1 51.5)"}]
    bad = write_dataset(str(tmp_path / "bad.sqlite3"), clash)
    result = load(postgres, bad)
    assert result.returncode == 2
    assert "19000001 (in tree-preservation-zone)" in result.stderr and "Traceback" not in result.stderr
    assert query(postgres["url"], "SELECT entity, name, ST_AsText(geometry) FROM entity WHERE dataset = 'conservation-area' ORDER BY entity") == before


def test_killed_connection_mid_load_leaves_the_previous_rows(postgres, tmp_path):
    entities = conservation_area_entities()
    good = write_dataset(str(tmp_path / "good.sqlite3"), entities)
    assert load(postgres, good).returncode == 0
    before = query(postgres["url"], "SELECT entity, name FROM entity WHERE dataset = 'conservation-area' ORDER BY entity")
    changed = write_dataset(str(tmp_path / "changed.sqlite3"), [dict(e, name="changed") for e in entities])
    # hold the dataset's lock so the load stops inside its transaction, then kill its backend
    with psycopg.connect(postgres["url"], autocommit=True) as holder:
        with holder.transaction():
            holder.execute(postgis.lock_sql(), ("conservation-area",))
            process = popen_bin("load-postgis", "--dataset", "conservation-area", changed,
                                env={"DATABASE_URL": postgres["url"]})
            pid = None
            for _ in range(100):
                rows = holder.execute("SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND NOT granted").fetchall()
                if rows:
                    pid = rows[0][0]
                    break
                time.sleep(0.1)
            assert pid, "the load never waited for the lock"
            holder.execute("SELECT pg_terminate_backend(%s)", (pid,))
        out, err = process.communicate(timeout=30)
    assert process.returncode == 2, err
    assert "waiting for another load of conservation-area" in out
    assert "nothing changed" in err and "Traceback" not in err
    assert query(postgres["url"], "SELECT entity, name FROM entity WHERE dataset = 'conservation-area' ORDER BY entity") == before


def test_concurrent_loads_of_one_dataset_are_serialised(postgres, tmp_path):
    entities = conservation_area_entities()
    a = write_dataset(str(tmp_path / "a.sqlite3"), [dict(e, name="A") for e in entities])
    b = write_dataset(str(tmp_path / "b.sqlite3"), [dict(e, name="B") for e in entities[:4]])
    with psycopg.connect(postgres["url"], autocommit=True) as holder:
        with holder.transaction():
            holder.execute(postgis.lock_sql(), ("conservation-area",))
            first = popen_bin("load-postgis", "--dataset", "conservation-area", a, env={"DATABASE_URL": postgres["url"]})
            second = popen_bin("load-postgis", "--dataset", "conservation-area", b, env={"DATABASE_URL": postgres["url"]})
            for _ in range(100):
                waiting = holder.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted").fetchone()[0]
                if waiting == 2:
                    break
                time.sleep(0.1)
            assert waiting == 2, "both loads should be waiting on the dataset lock"
            assert first.poll() is None and second.poll() is None
        results = [p.communicate(timeout=60) + (p.returncode,) for p in (first, second)]
    assert [r[2] for r in results] == [0, 0], results
    # whichever finished last wins, wholly: never a mixture of the two files
    names = query(postgres["url"], "SELECT DISTINCT name FROM entity WHERE dataset = 'conservation-area'")
    count = query(postgres["url"], "SELECT count(*) FROM entity WHERE dataset = 'conservation-area'")[0][0]
    assert (names, count) in (([("A",)], 11), ([("B",)], 4))


def test_loads_of_different_datasets_do_not_wait_for_each_other(postgres, tmp_path):
    other = write_dataset(str(tmp_path / "other.sqlite3"), [
        {"dataset": "green-belt", "entity": 610000001, "name": "GB", "point": "POINT (-1 52)"}])
    with psycopg.connect(postgres["url"], autocommit=True) as holder:
        with holder.transaction():
            holder.execute(postgis.lock_sql(), ("conservation-area",))
            result = load(postgres, other, "green-belt")
    assert result.returncode == 0 and "waiting" not in result.stdout


def test_without_database_url_the_load_is_skipped(ca_sqlite):
    result = run_bin("load-postgis", "--dataset", "conservation-area", ca_sqlite)
    assert result.returncode == 0
    assert result.stdout.strip() == "load-postgis: DATABASE_URL not set; skipping conservation-area"


def test_credentials_are_never_printed(postgres, password_role, ca_sqlite):
    password = password_role["password"]
    ok = run_bin("load-postgis", "--dataset", "conservation-area", ca_sqlite, env={"DATABASE_URL": password_role["url"]})
    assert ok.returncode == 0, ok.stderr
    assert password not in ok.stdout + ok.stderr and "***" in ok.stdout
    wrong = password_role["url"].replace(password, password + "x")
    failed = run_bin("load-postgis", "--dataset", "conservation-area", ca_sqlite, "--database-url", wrong)
    assert failed.returncode == 2
    assert password not in failed.stdout + failed.stderr and "Traceback" not in failed.stderr
    assert "cannot connect to postgresql://" in failed.stderr and ":***@127.0.0.1" in failed.stderr
    unreachable = run_bin("load-postgis", "--dataset", "conservation-area", ca_sqlite,
                          "--database-url", f"postgresql://u:{password}@127.0.0.1:1/db")
    assert unreachable.returncode == 2 and password not in unreachable.stderr


def test_redact_hides_passwords_in_every_url_form():
    assert postgis.redact("postgresql://me:pw@host:5/db") == "postgresql://me:***@host:5/db"
    assert postgis.redact("postgresql://host/db?password=pw&sslmode=x") == "postgresql://host/db?password=***&sslmode=x"
    assert "pw" not in postgis.redact("host=h password=pw dbname=d")
    assert postgis.scrub("failed for pw", "postgresql://me:pw@h/d") == "failed for ***"


def test_missing_or_broken_sqlite_is_a_one_line_error(postgres, tmp_path):
    missing = load(postgres, str(tmp_path / "nope.sqlite3"))
    assert missing.returncode == 2 and "not found" in missing.stderr and "Traceback" not in missing.stderr
    broken = tmp_path / "broken.sqlite3"
    broken.write_text("not a database")
    result = load(postgres, str(broken))
    assert result.returncode == 2 and "Traceback" not in result.stderr


ROWS = ("SELECT entity, name, entry_date, start_date, end_date, dataset, json, organisation_entity, prefix, reference,"
        " typology, geojson, ST_AsEWKB(geometry), ST_AsEWKB(point), quality FROM entity ORDER BY entity")


def test_a_reload_rewrites_only_the_entities_whose_rows_changed_and_equals_a_full_load(database, tmp_path):
    entities = conservation_area_entities()
    first = write_dataset(str(tmp_path / "first.sqlite3"), entities)
    assert "11 written, 0 unchanged" in load(database, first).stdout
    versions = dict(query(database["url"], "SELECT entity, xmin::text FROM entity"))
    assert "0 written, 11 unchanged" in load(database, first).stdout  # the same file again: no row rewritten
    assert dict(query(database["url"], "SELECT entity, xmin::text FROM entity")) == versions

    changed = [dict(e) for e in entities]
    changed[0]["name"] = "Renamed"
    moved = changed[1]["entity"]
    changed[1]["geometry"] = "MULTIPOLYGON (((-0.1 51.5, -0.09 51.5, -0.09 51.51, -0.1 51.5)))"
    gone = changed.pop()["entity"]
    second = write_dataset(str(tmp_path / "second.sqlite3"), changed)
    result = load(database, second)
    assert result.returncode == 0, result.stderr
    assert "2 written, 8 unchanged" in result.stdout
    now = dict(query(database["url"], "SELECT entity, xmin::text FROM entity"))
    assert gone not in now
    rewritten = {e for e in now if now[e] != versions[e]}
    assert rewritten == {changed[0]["entity"], moved}
    incremental = query(database["url"], ROWS)
    assert query(database["url"], "SELECT name FROM entity WHERE entity = %s", (changed[0]["entity"],)) == [("Renamed",)]
    # forget what was loaded: every row is written again, and the tables are the same
    with psycopg.connect(database["url"], autocommit=True) as conn:
        conn.execute("DELETE FROM entity_load_digest")
    assert "10 written, 0 unchanged" in load(database, second).stdout
    assert query(database["url"], ROWS) == incremental
    assert query(database["url"], "SELECT count(*), count(DISTINCT digest) FROM entity_load_digest") == [(10, 10)]


def test_subdivided_geometries_are_replaced_with_the_dataset(postgres, ca_sqlite):
    result = load(postgres, ca_sqlite, "conservation-area", "--subdivide")
    assert result.returncode == 0, result.stderr
    pieces = query(postgres["url"], "SELECT count(*), count(DISTINCT entity), bool_and(ST_IsValid(geometry_subdivided))"
                   " FROM entity_subdivided WHERE dataset = 'conservation-area'")[0]
    assert pieces[0] >= pieces[1] == 9 and pieces[2]
    # within a subdivided piece means within the entity
    assert query(postgres["url"], "SELECT count(*) FROM entity_subdivided s JOIN entity e USING (entity)"
                 " WHERE NOT ST_Covers(ST_Buffer(e.geometry, 1e-9), s.geometry_subdivided)") == [(0,)]
    assert load(postgres, ca_sqlite).returncode == 0  # a load without subdividing leaves no stale pieces
    assert query(postgres["url"], "SELECT count(*) FROM entity_subdivided WHERE dataset = 'conservation-area'") == [(0,)]


# --- the bundled example, built and loaded by the real Makefile ------------------------------------

SOUTHWARK = "329"
AROUND_SOUTHWARK = (-0.12, 51.42, -0.04, 51.52)
STAMP = f"var/load/postgis/{EXAMPLE}.stamp"


def make_load(workspace, database, **kwargs):
    return run_make(workspace, "load-postgis", f"COLLECTION={EXAMPLE}", env={"DATABASE_URL": database["url"]}, **kwargs)


def sqlite_rows(workspace, sql):
    with sqlite3.connect(workspace / "dataset" / f"{EXAMPLE}.sqlite3") as conn:
        return conn.execute(sql).fetchall()


def entity_names(database):
    return query(database["url"], "SELECT entity, name, ST_AsText(geometry) FROM entity WHERE dataset = %s ORDER BY entity", (EXAMPLE,))


def rename_bear_gardens(workspace, name):
    """A configuration change: a patch of one conservation area's name (a general row: every resource)."""
    with open(workspace / "pipeline" / EXAMPLE / "patch.csv", "a", newline="") as f:
        f.write(f"{EXAMPLE},,name,^Bear Gardens$,{name}\r\n")


def test_the_bundled_example_loads_whole_and_a_bounding_box_around_southwark_finds_its_areas(example_copy, database):
    output = make_load(example_copy, database).stdout
    assert f"bin/load-postgis --dataset {EXAMPLE}" in output and (example_copy / STAMP).exists()
    expected = sqlite_rows(example_copy, f"SELECT count(*) FROM entity WHERE dataset = '{EXAMPLE}'")[0][0]
    assert expected > 60
    assert query(database["url"], "SELECT count(*) FROM entity WHERE dataset = %s", (EXAMPLE,)) == [(expected,)]
    assert query(database["url"], "SELECT count(*) FROM entity WHERE dataset = %s AND NOT ST_IsValid(geometry)", (EXAMPLE,)) == [(0,)]
    southwark = {r[0] for r in sqlite_rows(example_copy, f"SELECT entity FROM entity WHERE organisation_entity = '{SOUTHWARK}'")}
    inside = query(database["url"], "SELECT entity, organisation_entity FROM entity WHERE dataset = %s"
                   " AND geometry && ST_MakeEnvelope(%s, %s, %s, %s, 4326)", (EXAMPLE, *AROUND_SOUTHWARK))
    # Southwark's conservation areas and nothing of Gedling's or Sedgemoor's, far away
    assert {r[0] for r in inside} == southwark and len(southwark) > 50
    assert {r[1] for r in inside} == {int(SOUTHWARK)}


def test_an_unchanged_dataset_is_not_loaded_again(example_copy, database):
    make_load(example_copy, database)
    rows = query(database["url"], "SELECT entity, xmin::text FROM entity WHERE dataset = %s ORDER BY entity", (EXAMPLE,))
    again = make_load(example_copy, database).stdout
    assert "bin/load-postgis" not in again
    # the rows are the very ones written by the first load: same row versions
    assert query(database["url"], "SELECT entity, xmin::text FROM entity WHERE dataset = %s ORDER BY entity", (EXAMPLE,)) == rows


def test_a_change_to_the_example_reloads_it(example_copy, database):
    make_load(example_copy, database)
    before = entity_names(database)
    rename_bear_gardens(example_copy, "Bear Gardens (renamed)")
    output = make_load(example_copy, database).stdout
    assert "bin/transform" in output and f"bin/load-postgis --dataset {EXAMPLE}" in output
    after = entity_names(database)
    assert len(after) == len(before)
    changed = [(b, a) for b, a in zip(before, after) if b != a]
    assert [(b[1], a[1]) for b, a in changed] == [("Bear Gardens", "Bear Gardens (renamed)")]


def test_a_load_killed_mid_transaction_keeps_the_old_rows_and_the_next_make_loads_again(example_copy, database):
    make_load(example_copy, database)
    before = entity_names(database)
    rename_bear_gardens(example_copy, "Bear Gardens (killed)")
    run_make(example_copy, "dataset", f"COLLECTION={EXAMPLE}")  # the new sqlite, not yet loaded
    stamp_mtime = (example_copy / STAMP).stat().st_mtime_ns
    # hold the dataset's lock so the load stops inside its transaction, then kill its backend
    with psycopg.connect(database["url"], autocommit=True) as holder:
        with holder.transaction():
            holder.execute(postgis.lock_sql(), (EXAMPLE,))
            process = subprocess.Popen(["make", "load-postgis", f"COLLECTION={EXAMPLE}"], cwd=example_copy,
                                       env=make_env({"DATABASE_URL": database["url"]}), stdout=subprocess.PIPE,
                                       stderr=subprocess.PIPE, text=True)
            pid = waiting_loader(holder)
            assert pid, "the load never waited for the lock"
            holder.execute("SELECT pg_terminate_backend(%s)", (pid,))
        out, err = process.communicate(timeout=60)
    assert process.returncode != 0 and "nothing changed" in err and "Traceback" not in err
    assert entity_names(database) == before
    assert (example_copy / STAMP).stat().st_mtime_ns == stamp_mtime  # the stamp still says the old file
    output = make_load(example_copy, database).stdout
    assert f"bin/load-postgis --dataset {EXAMPLE}" in output and "bin/transform" not in output
    assert ("Bear Gardens (killed)",) in [(r[1],) for r in entity_names(database)]


def waiting_loader(holder):
    for _ in range(150):
        rows = holder.execute("SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND NOT granted").fetchall()
        if rows:
            return rows[0][0]
        time.sleep(0.1)
    return None
