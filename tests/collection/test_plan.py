import csv
import os

import pytest

from planning_pipeline.collection.index import index_collection
from planning_pipeline.collection.plan import collect_makefile, plan_rows, write_plan
from planning_pipeline.specification import Specification

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

SPEC = Specification(os.path.join(ROOT, "specification"))


@pytest.fixture
def indexed(copy_collection):
    def build(name):
        c = copy_collection(name)
        index_collection(str(c), "2026-11-27")
        return c

    return build


def test_plan_declares_a_transform_target_for_every_conservation_area_resource(indexed, tmp_path):
    c = indexed("conservation-area")
    plan_mk, plan_csv = tmp_path / "plan.mk", tmp_path / "plan.csv"
    rows = write_plan(str(c), "conservation-area", SPEC, str(plan_mk), str(plan_csv))
    assert [r["dataset"] for r in rows] == ["conservation-area"] * 6
    text = plan_mk.read_text()
    southwark = "b9503f86a1e0c5e02c1fa5b42b8d84c63b1cca421813dfc44c0f1bf7b59e5d74"
    assert f"$(TRANSFORMED_DIR)conservation-area/{southwark}.csv: {c}/resource/{southwark}" in text
    assert ("--endpoints 'c8a5bd5df5a14bd9ffbb3667ced1a9e3c080422af1702bf4e5c93903c9962568' "
            "--organisations 'local-authority-eng:SWK' --entry-date '2022-04-09'") in text
    assert "$(ASSEMBLED_DIR)conservation-area.sqlite3: $(CONSERVATION_AREA_TRANSFORMED_FILES)" in text
    assert "DATASETS := \\\n\tconservation-area\n" in text
    with open(plan_csv, newline="") as f:
        assert len(list(csv.DictReader(f))) == 6


def test_plan_covers_the_central_activities_zone_collection(indexed, tmp_path):
    c = indexed("central-activities-zone")
    rows = plan_rows(str(c), "central-activities-zone", SPEC)
    assert {r["organisations"] for r in rows} == {"local-authority-eng:SWK", "local-authority-eng:LBH", "local-authority-eng:GLA"}
    assert {r["dataset"] for r in rows} == {"central-activities-zone"}


def test_plan_omits_retired_resources_and_redirects_replaced_ones(indexed, tmp_path):
    c = indexed("conservation-area")
    camden = "b85206c928baa3c519e8d7f6f8c0ea378bfad2f8eeacc65b2a1c0be8250f1e9f"
    newcastle = "9141bf76b0d89eab27d6e46014ec2fd282ad622924ec316d39dbf67551f8738c"
    bracknell = "56645ee4f6e3ee9252a322dfbc89624f0675ecbd123929c7807c4cd452447735"
    (c / "old-resource.csv").write_text(f"old-resource,status,resource,notes\r\n{camden},410,,gone\r\n{newcastle},301,{bracknell},\r\n")
    plan_mk = tmp_path / "plan.mk"
    rows = write_plan(str(c), "conservation-area", SPEC, str(plan_mk), str(tmp_path / "plan.csv"))
    planned = {r["resource"]: r for r in rows}
    assert camden not in planned
    assert planned[newcastle]["path"].endswith(bracknell)
    text = plan_mk.read_text()
    assert f"conservation-area/{newcastle}.csv: {c}/resource/{bracknell}" in text
    assert f"--resource '{newcastle}'" in text


def test_plan_skips_datasets_the_specification_does_not_give_the_collection(indexed, capsys):
    c = indexed("conservation-area")
    resource_csv = c / "resource.csv"
    resource_csv.write_text(resource_csv.read_text().replace(",conservation-area,", ",brownfield-land;conservation-area,", 1))
    rows = plan_rows(str(c), "conservation-area", SPEC)
    assert {r["dataset"] for r in rows} == {"conservation-area"}
    assert "brownfield-land" in capsys.readouterr().err


def test_collect_plan_lists_only_endpoints_live_on_the_day(copy_collection):
    c = copy_collection("conservation-area")
    text = collect_makefile(str(c), "conservation-area", "2026-11-27")
    # four file: endpoints replaced the real URLs (retired on 2026-11-01); Camden and Newcastle ended earlier
    assert text.count(".json:\n") == 4
    assert "c8a5bd5df5a1" not in text  # Southwark's real URL, retired
    before = collect_makefile(str(c), "conservation-area", "2021-01-01")
    assert "c8a5bd5df5a1" in before and "d730619f6a3b" not in before
    assert "3e7bcbc7b099" in before  # Camden, live until 2022-09-27
