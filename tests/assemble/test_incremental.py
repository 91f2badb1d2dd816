"""An incremental assemble (a copy of the previous candidate updated for the changed resources) gives the
tables, schema and issue CSV of a full build: on the bundled example's real transformed files and on
hand-made collections, after adding, changing, rewriting unchanged, removing and retiring a resource and
after a change of an entity's winning fact. Datasette shows a table with a primary key (entity, fact, old_entity) in key
order, one without (issue, column_field, dataset_resource, fact_resource) in rowid order: those must be in the
same rowid order too, but for fact_resource, whose new rows come last (compared as a set of rows)."""
import csv
import os
import shutil
import sqlite3
import subprocess
import sys

import pytest

from dataset_factory import DATASET, ROOT, Collection, FACT_HEADER, fact_hash, write

sys.path.insert(0, os.path.join(ROOT, "tests"))
from conftest import build_workspace  # noqa: E402

E = 44000001


def snapshot(path):
    """The schema and every table's rows sorted by every column; the rows of a table without a primary key in
    rowid order too (as datasette shows them), but for fact_resource."""
    conn = sqlite3.connect(path)
    try:
        schema = sorted(conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master "
                                     "WHERE name NOT LIKE 'sqlite_%'").fetchall())
        result = {"schema": schema, "page_size": conn.execute("PRAGMA page_size").fetchone()}
        for (table,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                     "AND name NOT LIKE 'sqlite_%' ORDER BY name").fetchall():
            width = len(conn.execute(f'SELECT * FROM "{table}" LIMIT 0').description)
            order = ", ".join(str(i) for i in range(1, width + 1))
            result[table] = conn.execute(f'SELECT * FROM "{table}" ORDER BY {order}').fetchall()
            has_key = any(column[5] for column in conn.execute(f'PRAGMA table_info("{table}")'))
            if table != "fact_resource" and not has_key:  # datasette shows a table without a key by rowid
                result[table + " by rowid"] = conn.execute(f'SELECT * FROM "{table}" ORDER BY rowid').fetchall()
        return result
    finally:
        conn.close()


def assert_same(incremental, full):
    a, b = snapshot(incremental), snapshot(full)
    assert a.keys() == b.keys()
    for key in a:
        assert a[key] == b[key], key


class Inputs:
    """A dataset's assemble inputs in a directory; builds the candidate incrementally and in full beside it."""

    def __init__(self, root, kwargs):
        self.root, self.kwargs = str(root), kwargs
        self.candidate = os.path.join(self.root, "assembled", DATASET + ".sqlite3")

    def transformed(self, name=""):
        return os.path.join(self.kwargs["transformed_dir"], name)

    def build(self):
        """(how the candidate was updated, its counts): the candidate built incrementally when it can be,
        then checked against a full build of the same inputs."""
        from planning_pipeline.assemble import assemble
        from planning_pipeline.specification import Specification

        spec = Specification(os.path.join(ROOT, "specification"))
        issue_csv = self.candidate[: -len(".sqlite3")] + "-issue.csv"
        counts = assemble(DATASET, spec, self.candidate, issue_csv=issue_csv, **self.kwargs)
        full = os.path.join(self.root, "full", DATASET + ".sqlite3")
        full_counts = assemble(DATASET, spec, full, issue_csv=full[: -len(".sqlite3")] + "-issue.csv",
                               incremental=False, **self.kwargs)
        assert full_counts["build"] == "full"
        assert_same(self.candidate, full)
        assert open(issue_csv, "rb").read() == open(full[: -len(".sqlite3")] + "-issue.csv", "rb").read()
        assert (counts["facts"], counts["entities"]) == (full_counts["facts"], full_counts["entities"])
        return counts


def rows_of(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def write_rows(path, rows):
    with open(path, "w", newline="", encoding="utf-8") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)


# --- the bundled example, transformed by the real Makefile ---------------------------------------------------

@pytest.fixture(scope="module")
def example_transformed(tmp_path_factory):
    workspace = build_workspace(tmp_path_factory.mktemp("example") / "ws", DATASET)
    done = subprocess.run(["make", "transform", f"COLLECTION={DATASET}", "V=1"], cwd=workspace,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    return workspace


@pytest.fixture
def example(example_transformed, tmp_path):
    """A copy of the example's assemble inputs (transformed files, logs, resource.csv, ...) for one test."""
    kinds = {"transformed_dir": "transformed", "issue_dir": "issue", "column_field_dir": "column-field",
             "dataset_resource_dir": "dataset-resource"}
    kwargs = {}
    for key, kind in kinds.items():
        target = tmp_path / kind
        shutil.copytree(example_transformed / "var" / kind / DATASET, target)
        kwargs[key] = str(target)
    for key, source in (("organisation_path", "dataset/organisation.csv"),
                        ("resource_path", f"collection/{DATASET}/resource.csv"),
                        ("old_entity_path", f"pipeline/{DATASET}/old-entity.csv"),
                        ("plan_issue_path", f"var/{DATASET}/plan-issue/{DATASET}.csv")):
        if os.path.exists(example_transformed / source):
            shutil.copy(example_transformed / source, tmp_path / os.path.basename(source))
            kwargs[key] = str(tmp_path / os.path.basename(source))
    return Inputs(tmp_path, kwargs)


def biggest(inputs):
    return max(sorted(os.listdir(inputs.transformed())), key=lambda n: os.path.getsize(inputs.transformed(n)))


def move_logs(inputs, name, target):
    for key in ("transformed_dir", "issue_dir", "column_field_dir", "dataset_resource_dir"):
        source = os.path.join(inputs.kwargs[key], name)
        if os.path.exists(source):
            os.makedirs(os.path.join(target, key), exist_ok=True)
            shutil.move(source, os.path.join(target, key, name))


def restore_logs(inputs, name, target):
    for key in ("transformed_dir", "issue_dir", "column_field_dir", "dataset_resource_dir"):
        source = os.path.join(target, key, name)
        if os.path.exists(source):
            shutil.move(source, os.path.join(inputs.kwargs[key], name))


def test_example_adding_the_biggest_resource_updates_the_candidate_as_a_full_build_would(example, tmp_path):
    name = biggest(example)
    move_logs(example, name, str(tmp_path / "aside"))
    assert example.build()["build"] == "full"  # no candidate yet
    restore_logs(example, name, str(tmp_path / "aside"))
    counts = example.build()
    assert counts["build"].startswith("incremental: 0 resource(s) out, 1 file(s) in"), counts
    assert counts["touched"] > 40


def test_example_removing_then_changing_a_resource_and_rewriting_an_unchanged_one(example, tmp_path):
    name = biggest(example)
    example.build()
    move_logs(example, name, str(tmp_path / "aside"))  # removed, as make removes an unplanned resource's files
    counts = example.build()
    assert counts["build"].startswith("incremental: 1 resource(s) out, 0 file(s) in"), counts
    restore_logs(example, name, str(tmp_path / "aside"))
    example.build()
    # changed: other rows (some dropped, one name changed)
    rows = rows_of(example.transformed(name))
    header, body = rows[0], rows[1:]
    at = {h: i for i, h in enumerate(header)}
    body = [r for n, r in enumerate(body) if n % 7]
    named = next(r for r in body if r[at["field"]] == "name")
    named[at["value"]] += " (renamed)"
    named[at["fact"]] = fact_hash(named[at["entity"]], "name", named[at["value"]])
    write_rows(example.transformed(name), [header] + body)
    counts = example.build()
    assert counts["build"].startswith("incremental: 1 resource(s) out, 1 file(s) in"), counts
    # the same bytes written again (make re-ran transform): nothing changes
    content = open(example.transformed(name), "rb").read()
    os.unlink(example.transformed(name))
    with open(example.transformed(name), "wb") as f:
        f.write(content)
    counts = example.build()
    assert counts["build"].startswith("incremental: 0 resource(s) out, 0 file(s) in"), counts
    assert counts["staged"] == 0


def test_example_retiring_a_resource_by_its_end_date_reranks_its_entities(example):
    name = biggest(example)
    example.build()
    path = example.kwargs["resource_path"]
    rows = rows_of(path)
    at = rows[0].index("end-date")
    for row in rows[1:]:
        if row[0] == name[: -len(".csv")]:
            row[at] = "2023-01-01"
    write_rows(path, rows)
    counts = example.build()
    assert counts["build"].startswith("incremental: 1 resource(s) out, 1 file(s) in"), counts


def test_example_a_new_resource_with_a_later_entry_takes_over_an_entitys_winning_name(example):
    name = biggest(example)
    example.build()
    rows = rows_of(example.transformed(name))
    header, body = rows[0], rows[1:]
    at = {h: i for i, h in enumerate(header)}
    row = list(next(r for r in body if r[at["field"]] == "name"))
    entity = int(row[at["entity"]])
    row[at["value"]], row[at["entry-date"]], row[at["resource"]] = "A later name", "2030-01-01", "f" * 64
    row[at["fact"]] = fact_hash(row[at["entity"]], "name", row[at["value"]])
    write_rows(example.transformed("f" * 64 + ".csv"), [header, row])
    counts = example.build()
    assert counts["build"].startswith("incremental: 0 resource(s) out, 1 file(s) in"), counts
    assert counts["touched"] == 1
    conn = sqlite3.connect(example.candidate)
    assert conn.execute("SELECT name FROM entity WHERE entity = ?", (entity,)).fetchone() == ("A later name",)
    conn.close()


# --- hand-made collections -----------------------------------------------------------------------------------

class Hand(Inputs):
    def __init__(self, root):
        self.collection = Collection(root)
        super().__init__(root, {})

    def build(self):
        self.kwargs = dict(self.collection.paths(), transformed_dir=self.collection.dir("transformed"))
        return super().build()


def test_hand_made_ranking_changes_follow_through_to_entity_fact_and_shared_facts(tmp_path):
    h = Hand(tmp_path)
    c = h.collection
    c.resource("a", [(E, "name", "A"), (E, "notes", "shared"), (E + 1, "name", "Other"),
                     (E + 2, "geometry", "MULTIPOLYGON (((0 0,2 0,2 2,0 0)))")], entry_date="2020-01-01")
    c.resource("b", [(E, "name", "B"), (E, "notes", "shared")], entry_date="2021-01-01")
    assert h.build()["build"] == "full"
    # a higher priority resource takes E's name; the shared fact's best row moves to it
    c.resource("c", [(E, "name", "C"), (E, "notes", "shared")], priority=2, entry_date="2019-01-01")
    counts = h.build()
    assert counts["build"].startswith("incremental") and counts["touched"] == 1 and counts["neighbours"] == 2
    # the winner's resource is changed to lose the name; then removed; then b's end-date ends it
    c.resource("c", [(E, "notes", "shared"), (E + 3, "name", "New entity")], priority=2, entry_date="2019-01-01")
    assert h.build()["build"].startswith("incremental: 1 resource(s) out, 1 file(s) in")
    for kind in ("transformed", "issue", "column-field", "dataset-resource"):
        os.unlink(os.path.join(c.dir(kind), "c.csv"))
    del c.resources["c"]
    assert h.build()["build"].startswith("incremental: 1 resource(s) out, 0 file(s) in")
    c.resources["b"] = "2022-01-01"
    assert h.build()["build"].startswith("incremental: 1 resource(s) out, 1 file(s) in")
    # an entity whose every row goes
    c.resource("a", [(E, "name", "A")], entry_date="2020-01-01")
    assert h.build()["build"].startswith("incremental")


def test_a_changed_issue_log_alone_reloads_the_log_tables_and_the_issue_csv(tmp_path):
    h = Hand(tmp_path)
    c = h.collection
    c.resource("a", [(E, "name", "A")], issues=[[DATASET, "a", "2", "1", "name", str(E), "invalid", "v", ""]])
    h.build()
    write(os.path.join(c.dir("issue"), "a.csv"), ["dataset", "resource", "line-number", "issue-type"],
          [[DATASET, "a", "3", "other"]])
    assert h.build()["build"].startswith("incremental: 0 resource(s) out, 0 file(s) in")


def test_a_row_whose_fact_is_not_its_hash_or_resource_falls_back_to_a_full_build(tmp_path):
    h = Hand(tmp_path)
    c = h.collection
    c.resource("a", [(E, "name", "A")])
    h.build()
    write(os.path.join(c.dir("transformed"), "b.csv"), FACT_HEADER,
          [["", str(E), "2024-01-01", "1", "not-a-hash", "name", "1", "", "b", "", "B"]])
    c.resources["b"] = ""
    assert h.build()["build"] == "full"
    write(os.path.join(c.dir("transformed"), "b.csv"), FACT_HEADER,
          [["", str(E), "2024-01-01", "1", fact_hash(E, "name", "B"), "name", "1", "", "z", "", "B"]])
    assert h.build()["build"] == "full"


def test_a_changed_specification_organisation_or_a_candidate_without_its_manifest_builds_in_full(tmp_path):
    h = Hand(tmp_path)
    c = h.collection
    c.resource("a", [(E, "name", "A")])
    h.build()
    assert h.build()["build"].startswith("incremental")
    with open(c.organisation_path, "a") as f:
        f.write("local-authority-eng:XYZ,999,Somewhere,,\n")
    assert h.build()["build"] == "full"
    os.unlink(h.candidate[: -len(".sqlite3")] + ".manifest.json")
    assert h.build()["build"] == "full"
    # a candidate replaced behind the manifest's back (another inode) is not trusted
    shutil.copy(h.candidate, h.candidate + ".copy")
    os.replace(h.candidate + ".copy", h.candidate)
    assert h.build()["build"] == "full"


def test_the_published_hard_link_to_the_previous_candidate_is_never_written(tmp_path):
    h = Hand(tmp_path)
    c = h.collection
    c.resource("a", [(E, "name", "A")])
    h.build()
    published = os.path.join(tmp_path, "published.sqlite3")
    os.link(h.candidate, published)
    before = open(published, "rb").read()
    c.resource("b", [(E, "name", "B")], priority=2)
    assert h.build()["build"].startswith("incremental")
    assert open(published, "rb").read() == before
    assert os.stat(published).st_ino != os.stat(h.candidate).st_ino


def test_unchanged_log_files_are_copied_and_a_changed_or_replaced_issue_csv_is_made_again(tmp_path):
    h = Hand(tmp_path)
    c = h.collection
    for n, name in enumerate("abc"):
        c.resource(name, [(E + n, "name", name)], issues=[
            [DATASET, name, str(line), "1", "name", str(E + n), "invalid", f"v{line}", ""] for line in range(2, 5 + n)])
    h.build()
    # b's issues change in the middle of the file order: a's and c's rows and bytes are copied around them
    write(os.path.join(c.dir("issue"), "b.csv"), ["dataset", "resource", "line-number", "issue-type", "value"],
          [[DATASET, "b", "7", "other", "x,y"], [DATASET, "b", "8", "other", 'say "z"']])
    write(os.path.join(c.dir("column-field"), "a.csv"), ["dataset", "resource", "column", "field"],
          [[DATASET, "", "TITLE", "name"], [DATASET, "", "REF", "reference"]])
    assert h.build()["build"].startswith("incremental: 0 resource(s) out, 0 file(s) in")
    # an issue CSV edited behind the manifest's back is not copied from
    issue_csv = h.candidate[: -len(".sqlite3")] + "-issue.csv"
    with open(issue_csv, "a") as f:
        f.write("tampered\n")
    c.resource("d", [(E + 9, "name", "d")], issues=[[DATASET, "d", "2", "1", "name", "", "invalid", "v", ""]])
    assert h.build()["build"].startswith("incremental")
    os.unlink(issue_csv)
    os.unlink(os.path.join(c.dir("issue"), "a.csv"))
    assert h.build()["build"].startswith("incremental")


def test_a_damaged_candidate_that_still_matches_its_manifest_is_built_again_in_full(tmp_path):
    h = Hand(tmp_path)
    c = h.collection
    c.resource("a", [(E, "name", "A")])
    h.build()
    st = os.stat(h.candidate)
    with open(h.candidate, "r+b") as f:  # same inode, size and mtime: only the content is wrong
        f.write(b"\0" * st.st_size)
    os.utime(h.candidate, ns=(st.st_atime_ns, st.st_mtime_ns))
    c.resource("b", [(E, "name", "B")], priority=2)
    assert h.build()["build"] == "full"
