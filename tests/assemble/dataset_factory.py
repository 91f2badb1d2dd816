"""Hand-made transform-stage outputs for assemble, bake and expectations tests."""
import csv
import hashlib
import os

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SPECIFICATION = os.path.join(ROOT, "specification")
DATASET = "conservation-area"  # entity range 44000000-44999999, typology geography
FACT_HEADER = ["end-date", "entity", "entry-date", "entry-number", "fact", "field", "priority", "reference-entity",
               "resource", "start-date", "value"]
ISSUE_HEADER = ["dataset", "resource", "line-number", "entry-number", "field", "entity", "issue-type", "value", "message"]


def fact_hash(entity, field, value):
    return hashlib.sha256(f"{entity}:{field}:{value}".encode()).hexdigest()


def write(path, header, rows):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)


class Collection:
    """A temporary collection: write resources' facts and logs, then assemble them."""

    def __init__(self, root):
        self.root = str(root)
        self.resources = {}  # resource -> end-date
        self.old_entities = []
        self.organisation_path = os.path.join(self.root, "organisation.csv")
        write(self.organisation_path, ["organisation", "entity", "name", "statistical-geography", "end-date"], [
            ["local-authority-eng:SWK", "329", "London Borough of Southwark", "E09000028", ""],
            ["local-authority-eng:LBH", "192", "London Borough of Lambeth", "E09000022", ""],
            ["government-organisation:D1342", "600", "Historic England", "", ""],
        ])

    def dir(self, kind):
        return os.path.join(self.root, "var", kind, DATASET)

    def resource(self, name, facts, end_date="", priority=1, entry_date="2024-01-01", issues=()):
        """facts: [(entity, field, value)] or dicts with entity, field, value and optional entry-date,
        entry-number, priority; written as var/transformed/<ds>/<name>.csv."""
        self.resources[name] = end_date
        rows = []
        for n, item in enumerate(facts, 1):
            if not isinstance(item, dict):
                item = dict(zip(("entity", "field", "value"), item))
            entity, field, value = item["entity"], item["field"], item["value"]
            rows.append(["", entity, item.get("entry-date", entry_date), item.get("entry-number", n),
                         fact_hash(entity, field, value), field, item.get("priority", priority), "", name, "", value])
        write(os.path.join(self.dir("transformed"), name + ".csv"), FACT_HEADER, rows)
        write(os.path.join(self.dir("issue"), name + ".csv"), ISSUE_HEADER, issues)
        write(os.path.join(self.dir("column-field"), name + ".csv"), ["dataset", "resource", "column", "field"],
              [[DATASET, "", "NAME", "name"]])
        write(os.path.join(self.dir("dataset-resource"), name + ".csv"),
              ["dataset", "resource", "entity-count", "entry-count", "line-count", "mime-type", "internal-path",
               "internal-mime-type", "code-version", "config-hash", "specification-hash"],
              [[DATASET, name, "1", str(len(rows)), str(len(rows) + 1), "text/csv", "", "", "test", "", ""]])

    def paths(self):
        resource_path = os.path.join(self.root, "resource.csv")
        write(resource_path, ["resource", "bytes", "organisations", "datasets", "endpoints", "start-date", "end-date"],
              [[r, "1", "", DATASET, "", "2020-01-01", end] for r, end in sorted(self.resources.items())])
        old_entity_path = os.path.join(self.root, "old-entity.csv")
        write(old_entity_path, ["old-entity", "status", "entity", "notes", "end-date", "entry-date", "start-date"],
              self.old_entities)
        return {
            "organisation_path": self.organisation_path,
            "resource_path": resource_path,
            "old_entity_path": old_entity_path,
            "issue_dir": self.dir("issue"),
            "column_field_dir": self.dir("column-field"),
            "dataset_resource_dir": self.dir("dataset-resource"),
        }

    def assemble(self, output=None, **kwargs):
        from planning_pipeline.assemble import assemble
        from planning_pipeline.specification import Specification

        output = output or os.path.join(self.root, "dataset", DATASET + ".sqlite3")
        options = self.paths()
        options.update(kwargs)
        assemble(DATASET, Specification(SPECIFICATION), output, self.dir("transformed"), **options)
        return output

    def cli_args(self, output):
        p = self.paths()
        return ["--dataset", DATASET, "--specification-dir", SPECIFICATION,
                "--organisation-path", p["organisation_path"], "--resource-path", p["resource_path"],
                "--old-entity-path", p["old_entity_path"], "--transformed-dir", self.dir("transformed"),
                "--issue-dir", p["issue_dir"], "--column-field-dir", p["column_field_dir"],
                "--dataset-resource-dir", p["dataset_resource_dir"], "--output", output]
