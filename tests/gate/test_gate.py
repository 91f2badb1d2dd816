"""The regression gate on hand-made assembled datasets: what it publishes, what it holds back and why,
and the changes it records."""
import csv
import json
import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "assemble"))

from dataset_factory import DATASET, SPECIFICATION, Collection  # noqa: E402

from planning_pipeline.errors import UserError  # noqa: E402
from planning_pipeline.gate.names import severities  # noqa: E402
from planning_pipeline.gate.publish import gate  # noqa: E402
from planning_pipeline.gate.thresholds import Thresholds, read_thresholds  # noqa: E402

SQUARE = "MULTIPOLYGON (((-0.1 51.5,-0.09 51.5,-0.09 51.51,-0.1 51.51,-0.1 51.5)))"


def areas(n, first=44000001, organisation="SWK", geometry=SQUARE, name="Area"):
    facts = []
    for entity in range(first, first + n):
        facts += [(entity, "reference", f"CA{entity}"), (entity, "name", f"{name} {entity}"),
                  (entity, "geometry", geometry), (entity, "organisation", f"local-authority-eng:{organisation}")]
    return facts


class Builds:
    """Builds of one dataset, assembled for real, then gated into dataset_dir."""

    def __init__(self, root):
        self.root = root
        self.dataset_dir = str(root / "dataset")
        self.n = 0

    def build(self, resources, old_entities=()):
        self.n += 1
        collection = Collection(self.root / f"build{self.n}")
        for name, facts in resources.items():
            collection.resource(name, facts)
        collection.old_entities = list(old_entities)
        return collection.assemble(str(self.root / f"build{self.n}" / "var" / "assembled" / f"{DATASET}.sqlite3"))

    def gate(self, candidate, thresholds=None, **kwargs):
        messages = []
        summary = gate(DATASET, candidate, None, self.dataset_dir, thresholds or Thresholds(),
                       severity=severities(SPECIFICATION), log=messages.append, collection="test", **kwargs)
        summary["messages"] = messages
        return summary

    def published(self):
        return os.path.join(self.dataset_dir, f"{DATASET}.sqlite3")

    def held(self, name=f"{DATASET}.sqlite3"):
        return os.path.join(self.dataset_dir, "held", name)

    def changes(self, held=False):
        path = self.held(f"{DATASET}-changes.csv") if held else os.path.join(self.dataset_dir, f"{DATASET}-changes.csv")
        with open(path, newline="", encoding="utf-8") as f:
            return list(csv.DictReader(f))


@pytest.fixture
def builds(tmp_path):
    return Builds(tmp_path)


def test_an_added_entity_is_recorded_with_the_resource_of_its_latest_entry(builds):
    # 44000001: r2's entry is later; 44000002: one entry date, r1's entry number is higher; 44000003: r1 only
    candidate = builds.build({
        "r1": [{"entity": 44000001, "field": "name", "value": "A", "entry-date": "2024-01-01"},
               {"entity": 44000002, "field": "name", "value": "B", "entry-date": "2024-03-01", "entry-number": 12},
               {"entity": 44000003, "field": "name", "value": "C"}],
        "r2": [{"entity": 44000001, "field": "name", "value": "A2", "entry-date": "2024-02-01"},
               {"entity": 44000002, "field": "name", "value": "B2", "entry-date": "2024-03-01", "entry-number": 9}],
    })
    builds.gate(candidate)
    assert {c["entity"]: c["resource"] for c in builds.changes()} == {"44000001": "r2", "44000002": "r1", "44000003": "r1"}


def test_the_first_build_is_published_and_every_entity_is_recorded_as_added(builds):
    candidate = builds.build({"r1": areas(5)})
    summary = builds.gate(candidate)
    assert summary["decision"] == "first publication"
    assert os.path.samefile(builds.published(), candidate)
    changes = builds.changes()
    assert [c["change"] for c in changes] == ["added"] * 5 and {c["resource"] for c in changes} == {"r1"}
    with open(os.path.join(builds.dataset_dir, f"{DATASET}-changes.json")) as f:
        assert json.load(f)["added"] == 5


def test_a_build_within_the_thresholds_is_published_with_each_changed_field_and_its_resource(builds):
    builds.gate(builds.build({"r1": areas(20)}))
    renamed = [(e, f, "Bear Gardens" if (e, f) == (44000003, "name") else v) for e, f, v in areas(20)]
    candidate = builds.build({"r1": renamed + areas(1, first=44000100), "r2": [(44000004, "notes", "a note")]})
    summary = builds.gate(candidate)
    assert summary["decision"] == "published" and os.path.samefile(builds.published(), candidate)
    changes = {(c["entity"], c["change"], c["field"]): c for c in builds.changes()}
    assert changes[("44000003", "changed", "name")]["old-value"] == "Area 44000003"
    assert changes[("44000003", "changed", "name")]["new-value"] == "Bear Gardens"
    assert changes[("44000003", "changed", "name")]["resource"] == "r1"
    assert changes[("44000004", "changed", "notes")]["resource"] == "r2"  # a json field, key by key
    assert ("44000100", "added", "") in changes
    assert summary["changed"] == 2 and summary["added"] == 1 and summary["removed"] == 0


def test_a_build_that_shrinks_by_more_than_a_tenth_is_held_and_the_published_file_kept(builds):
    first = builds.build({"r1": areas(20), "r2": areas(10, first=44000050, organisation="LBH")})
    builds.gate(first)
    before = open(builds.published(), "rb").read()
    candidate = builds.build({"r1": areas(20)})
    summary = builds.gate(candidate)
    assert summary["decision"] == "held"
    assert open(builds.published(), "rb").read() == before and os.path.samefile(builds.published(), first)
    assert os.path.samefile(builds.held(), candidate)
    assert any("shrinks from 30 to 20 entities" in r for r in summary["reasons"])
    assert any("1 organisation(s) lose all their entities" in r for r in summary["reasons"])
    report = open(builds.held(f"{DATASET}-report.md")).read()
    assert "held, not published" in report and "ACCEPT=conservation-area" in report and "make collection/test" in report
    removed = [c for c in builds.changes(held=True) if c["change"] == "removed"]
    assert len(removed) == 10 and {c["resource"] for c in removed} == {"r2"} and not any(c["reason"] for c in removed)
    assert "HELD" in summary["messages"][0]


def test_an_accepted_build_is_published_despite_the_thresholds_and_the_held_copy_removed(builds):
    builds.gate(builds.build({"r1": areas(20)}))
    builds.gate(builds.build({"r1": areas(5)}))
    assert os.path.exists(builds.held())
    candidate = builds.build({"r1": areas(5)})
    summary = builds.gate(candidate, accept=True)
    assert summary["decision"] == "accepted" and os.path.samefile(builds.published(), candidate)
    assert not os.path.exists(os.path.dirname(builds.held()))
    assert "accepted and published despite" in summary["messages"][0]


def test_entities_of_a_resource_retired_in_old_resource_csv_are_an_intended_removal(builds, tmp_path):
    builds.gate(builds.build({"r1": areas(20), "r2": areas(10, first=44000050, organisation="LBH")}))
    old_resource = tmp_path / "old-resource.csv"
    old_resource.write_text("old-resource,status,resource,notes\r\nr2,410,,withdrawn by the council\r\n")
    summary = builds.gate(builds.build({"r1": areas(20)}), old_resource_path=str(old_resource))
    assert summary["decision"] == "published", summary["reasons"]
    assert summary["removed"] == summary["removed-intended"] == 10 and summary["organisations-lost"] == []
    reasons = {c["reason"] for c in builds.changes() if c["change"] == "removed"}
    assert reasons == {"old-resource.csv line 2: retired (410)"}


def test_entities_redirected_by_old_entity_csv_are_an_intended_removal(builds):
    builds.gate(builds.build({"r1": areas(20)}))
    merged = [(e, f, v) for e, f, v in areas(20) if e > 44000005]  # entities 1-5 now redirect to 6
    redirects = [[str(e), "301", "44000006", "", "", "", ""] for e in range(44000001, 44000006)]
    summary = builds.gate(builds.build({"r1": merged}, old_entities=redirects))
    assert summary["decision"] == "published", summary["reasons"]
    assert summary["removed-intended"] == 5
    assert {c["reason"] for c in builds.changes() if c["change"] == "removed"} == {"old-entity.csv: 301 to 44000006"}


def test_a_key_field_that_empties_for_more_than_a_tenth_is_held(builds):
    builds.gate(builds.build({"r1": areas(20)}))
    without = [(e, f, v) for e, f, v in areas(20) if not (f == "geometry" and e <= 44000003)]
    summary = builds.gate(builds.build({"r1": without}))
    assert summary["decision"] == "held"
    # the point is the geometry's: it goes with it
    assert summary["reasons"] == ["geometry becomes blank for 3 of the 20 entities that had one (15.0%; limit 10%)",
                                  "point becomes blank for 3 of the 20 entities that had one (15.0%; limit 10%)"]
    assert summary["blanked"]["geometry"] == {"count": 3, "of": 20, "percent": 15.0}


def test_thresholds_are_set_per_dataset_and_per_field(builds, tmp_path):
    path = tmp_path / "threshold.csv"
    path.write_text("dataset,check,field,threshold,notes\r\n,shrink,,50%,\r\n,removed,,none,\r\n"
                    f"{DATASET},blank,,20,\r\n{DATASET},blank,name,5,\r\nother-dataset,shrink,,1%,\r\n")
    thresholds = read_thresholds(str(path), DATASET)
    assert thresholds.checks["shrink"] == 50.0 and thresholds.checks["removed"] is None
    assert thresholds.blank_fields["geometry"] == 20.0 and thresholds.blank_fields["name"] == 5.0
    builds.gate(builds.build({"r1": areas(20)}))
    without = [(e, f, v) for e, f, v in areas(16) if not (f == "geometry" and e <= 44000003)]
    summary = builds.gate(builds.build({"r1": without}), thresholds)
    assert summary["decision"] == "published", summary["reasons"]  # 20% smaller, 19% without geometry


@pytest.mark.parametrize("row, message", [
    (",shrink,,ten,", "threshold 'ten' for shrink is not a percentage"),
    (",shrinkage,,10,", "unknown check 'shrinkage'"),
    (",organisation-lost,,1.5,", "is not a whole number"),
    (",shrink,name,10,", "a field is only given for the blank check"),
])
def test_a_bad_threshold_row_is_a_one_line_error_naming_file_and_line(tmp_path, row, message):
    path = tmp_path / "threshold.csv"
    path.write_text(f"dataset,check,field,threshold,notes\r\n{row}\r\n")
    with pytest.raises(UserError) as error:
        read_thresholds(str(path), DATASET)
    assert str(error.value).startswith(f"{path}:2: ") and message in str(error.value)


def test_gating_the_published_file_again_changes_nothing(builds):
    candidate = builds.build({"r1": areas(3)})
    builds.gate(candidate)
    changes = open(os.path.join(builds.dataset_dir, f"{DATASET}-changes.csv")).read()
    assert builds.gate(candidate)["decision"] == "unchanged"
    assert open(os.path.join(builds.dataset_dir, f"{DATASET}-changes.csv")).read() == changes


def test_an_unreadable_published_dataset_is_a_one_line_error(builds):
    os.makedirs(builds.dataset_dir)
    with open(builds.published(), "w") as f:
        f.write("not a database")
    with pytest.raises(UserError, match="the published dataset cannot be read"):
        builds.gate(builds.build({"r1": areas(3)}))
