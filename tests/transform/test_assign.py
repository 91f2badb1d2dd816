"""assign-entities: new lookup rows with the right numbers, appended to lookup.csv."""
import os
import subprocess
import sys

import pytest

from planning_pipeline.errors import UserError
from planning_pipeline.transform.assign import assign
from planning_pipeline.transform.lookup import EntityNumbers

from .conftest import ORGANISATIONS, ROOT, SPECIFICATION, read_rows, write_pipeline


def test_numbers_follow_the_maximum_wrap_round_and_skip_used_ones():
    numbers = EntityNumbers(10, 15, used={11, 14, 15}, current=13)
    assert [numbers.next() for _ in range(2)] == [10, 12]
    assert numbers.next() == 13
    assert numbers.next() is None


def test_assign_appends_rows_after_the_prefix_maximum_skipping_old_entities(tmp_path, specification):
    pipeline = write_pipeline(str(tmp_path / "p"), {
        "lookup": "conservation-area,,,local-authority-eng:SWK,A1,44000005\n"
                  "conservation-area,,,local-authority-eng:SWK,A2,44000003",
        "old-entity": "44000006,301,44000005\n44000008,410,",
    })
    before = open(os.path.join(pipeline, "lookup.csv"), "rb").read()
    items = [("conservation-area", "local-authority-eng:SWK", "N1"), ("conservation-area", "local-authority-eng:SWK",
                                                                      "N2"),
             ("conservation-area", "local-authority-eng:SWK", "n1"), ("conservation-area", "local-authority-eng:SWK",
                                                                      "A1")]
    added = assign(pipeline, "conservation-area", specification, items, report=lambda m: None)
    assert added == [44000007, 44000009]
    after = open(os.path.join(pipeline, "lookup.csv"), "rb").read()
    assert after.startswith(before)
    assert after[len(before):].decode() == ("conservation-area,,,local-authority-eng:SWK,N1,44000007\n"
                                            "conservation-area,,,local-authority-eng:SWK,N2,44000009\n")


def test_assign_keeps_a_legacy_header_and_its_column_order(tmp_path, specification):
    pipeline = write_pipeline(str(tmp_path / "p"), {
        "lookup": ("resource,entry-number,prefix,reference,entity,organisation", ",,conservation-area,A1,44000001,")})
    assign(pipeline, "conservation-area", specification, [("conservation-area", "local-authority-eng:SWK", "B")],
           report=lambda m: None)
    rows = read_rows(os.path.join(pipeline, "lookup.csv"))
    assert rows[-1] == {"resource": "", "entry-number": "", "prefix": "conservation-area", "reference": "B",
                        "entity": "44000002", "organisation": "local-authority-eng:SWK"}


def test_a_full_range_is_an_error(tmp_path, specification):
    lookup = "\n".join(f"listed-building-grade,,,x:Y,R{i},{i}" for i in range(700000, 800000))
    pipeline = write_pipeline(str(tmp_path / "p"), {"lookup": lookup})
    with pytest.raises(UserError) as error:
        assign(pipeline, "listed-building-grade", specification, [("listed-building-grade", "x:Y", "new")],
               report=lambda m: None)
    assert "no entity numbers left" in str(error.value)


def test_bin_assign_entities_gives_new_references_numbers_and_a_second_run_adds_none(tmp_path):
    pipeline = write_pipeline(str(tmp_path / "p"), {"lookup": "conservation-area,,,local-authority-eng:SWK,A1,44000010"})
    resource = tmp_path / "r1"
    resource.write_text("reference,name\nA1,known\nB2,new\nC3,new too\nB2,repeat\n,no reference\n")
    args = [sys.executable, os.path.join(ROOT, "bin", "assign-entities"), "--dataset", "conservation-area",
            "--pipeline-dir", pipeline, "--specification-dir", SPECIFICATION, "--organisation-path", ORGANISATIONS,
            "--endpoints", "e1", "--organisations", "local-authority-eng:SWK", str(resource)]
    done = subprocess.run(args, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "added 2 entities" in done.stdout and "44000011-44000012" in done.stdout
    rows = read_rows(os.path.join(pipeline, "lookup.csv"))
    assert [(r["reference"], r["entity"], r["organisation"]) for r in rows[1:]] == [
        ("B2", "44000011", "local-authority-eng:SWK"), ("C3", "44000012", "local-authority-eng:SWK")]
    again = subprocess.run(args, capture_output=True, text=True)
    assert again.returncode == 0 and "no new entities" in again.stdout
