import csv
import os

import pytest

from planning_pipeline.collection.index import index_collection
from planning_pipeline.collection.plan import collect_makefile, plan_rows, write_plan
from planning_pipeline.errors import UserError
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


GLA = "db5238c35bf94337fea6437627c66813009e86c44a569c6e7a95df31efd34db5"
LBH = "b7cd7941c1c8aee51465cbab3a72a81f42ba9393ee7c43ed142b5a278810c4e4"
NEVER_COLLECTED = "ab" * 32


def plan_in(c, tmp_path):
    plan_mk = tmp_path / "var" / "plan.mk"
    rows = write_plan(str(c), "central-activities-zone", SPEC, str(plan_mk), str(tmp_path / "var" / "plan.csv"))
    return rows, plan_mk.read_text(), tmp_path / "var" / "plan-issue" / "central-activities-zone.csv"


def test_a_redirect_to_a_file_not_collected_is_left_out_reported_with_its_line_and_recorded(indexed, tmp_path, capsys):
    c = indexed("central-activities-zone")
    (c / "old-resource.csv").write_text(f"old-resource,status,resource\r\n{LBH},301,{LBH}\r\n{GLA},301,{NEVER_COLLECTED}\r\n")
    rows, text, issues = plan_in(c, tmp_path)
    assert GLA not in {r["resource"] for r in rows} and len(rows) == 2
    assert NEVER_COLLECTED not in text.split("PLAN_MISSING_FILES")[0]  # no rule reads it
    err = capsys.readouterr().err.splitlines()
    assert err == [f"{c}/old-resource.csv:3: resource {GLA} is redirected to {NEVER_COLLECTED}, "
                   f"which is not in {c}/resource/"]
    with open(issues, newline="") as f:
        [issue] = list(csv.DictReader(f))
    assert (issue["dataset"], issue["resource"], issue["issue-type"], issue["value"]) == \
        ("central-activities-zone", GLA, "missing resource", NEVER_COLLECTED)
    assert issue["message"] == err[0]
    assert f"plan-issue/central-activities-zone.csv $(ASSEMBLE_DEPENDENCIES)" in text


def test_a_planned_resource_whose_file_is_gone_is_reported_with_its_resource_csv_line(indexed, tmp_path, capsys):
    c = indexed("central-activities-zone")
    (c / "resource" / LBH).unlink()
    line = next(n for n, text in enumerate((c / "resource.csv").read_text().splitlines(), 1) if text.startswith(LBH))
    rows, text, issues = plan_in(c, tmp_path)
    assert {r["resource"] for r in rows} == {GLA, "49d00c9ea82a5a345caa61a873967764d38ac7d8b34514586e164c1426838c38"}
    assert capsys.readouterr().err.strip() == f"{c}/resource.csv:{line}: resource {LBH} is not in {c}/resource/"
    assert f"$(TRANSFORMED_DIR)central-activities-zone/{LBH}.csv" not in text
    assert "missing resource" in issues.read_text()


def test_a_dataset_whose_every_resource_is_missing_is_still_planned_with_its_issues(indexed, tmp_path):
    c = indexed("central-activities-zone")
    for path in (c / "resource").iterdir():
        path.unlink()
    rows, text, issues = plan_in(c, tmp_path)
    assert rows == [] and len(rows.missing) == 3
    assert "CENTRAL_ACTIVITIES_ZONE_TRANSFORMED_FILES :=\n" in text
    assert "$(ASSEMBLED_DIR)central-activities-zone.sqlite3: $(CENTRAL_ACTIVITIES_ZONE_TRANSFORMED_FILES)" in text
    assert "DATASETS := \\\n\tcentral-activities-zone\n" in text
    assert len(issues.read_text().splitlines()) == 4


def test_plan_issues_are_rewritten_only_when_they_change(indexed, tmp_path):
    c = indexed("central-activities-zone")
    _, _, issues = plan_in(c, tmp_path)
    assert issues.read_text().splitlines() == [",".join(
        ["dataset", "resource", "line-number", "entry-number", "field", "entity", "issue-type", "value", "message"])]
    os.utime(issues, (1, 1))
    plan_in(c, tmp_path)
    assert os.path.getmtime(issues) == 1
    (c / "resource" / GLA).unlink()
    plan_in(c, tmp_path)
    assert os.path.getmtime(issues) > 1


def test_plan_names_the_resource_files_it_found_and_missed_for_make_to_plan_again(indexed, tmp_path):
    c = indexed("central-activities-zone")
    (c / "resource" / GLA).unlink()
    (c / "resource" / LBH).unlink()
    os.symlink("/nonexistent", c / "resource" / LBH)  # in the folder, but not a file
    _, text, _ = plan_in(c, tmp_path)
    present = text.split("PLAN_RESOURCE_FILES :=")[1].split("PLAN_MISSING_FILES")[0]
    missing = text.split("PLAN_MISSING_FILES :=")[1].split("PLAN_UNREADABLE_FILES")[0]
    unreadable = text.split("PLAN_UNREADABLE_FILES :=")[1].split("ifeq")[0]
    assert "49d00c9ea82a" in present and GLA not in present and LBH not in present
    assert GLA in missing and LBH in missing and GLA not in unreadable and LBH in unreadable
    assert "$(PLAN_MK): plan-resource-files-changed" in text


def test_an_old_resource_csv_without_its_key_column_is_a_one_line_error(indexed, tmp_path):
    c = indexed("central-activities-zone")
    (c / "old-resource.csv").write_text("resource,status\r\nx,410\r\n")
    with pytest.raises(UserError) as error:
        plan_in(c, tmp_path)
    assert str(error.value) == f"{c}/old-resource.csv:1: missing column(s) old-resource"
