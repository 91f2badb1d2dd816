import csv
import itertools
import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SPECIFICATION = os.path.join(ROOT, "specification")
ORGANISATIONS = os.path.join(ROOT, "example", "organisation.csv")

CONFIG_HEADERS = {
    "column": "dataset,resource,endpoint,column,field",
    "combine": "dataset,resource,endpoint,field,separator",
    "concat": "dataset,resource,endpoint,field,fields,separator,prepend,append",
    "default": "dataset,resource,endpoint,field,default-field",
    "default-value": "dataset,resource,endpoint,field,value",
    "filter": "dataset,resource,endpoint,field,pattern",
    "lookup": "prefix,resource,entry-number,organisation,reference,entity",
    "old-entity": "old-entity,status,entity",
    "patch": "dataset,resource,endpoint,field,pattern,value",
    "skip": "dataset,resource,endpoint,pattern",
    "transform": "dataset,field,replacement-field",
    "entity-organisation": "dataset,entity-minimum,entity-maximum,organisation",
    "expect": "datasets,organisations,operation,parameters,name",
}


def read_rows(path):
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def header_of(path):
    with open(path, encoding="utf-8", newline="") as f:
        return next(csv.reader(f))


def write_pipeline(directory, config=None):
    """A pipeline folder with all 13 files: the given bodies (rows after the header) or header-only.

    config values are either the body text (with the default header) or (header, body).
    """
    os.makedirs(directory, exist_ok=True)
    config = config or {}
    for name, header in CONFIG_HEADERS.items():
        body = config.get(name, "")
        if isinstance(body, tuple):
            header, body = body
        with open(os.path.join(directory, name + ".csv"), "w", encoding="utf-8", newline="") as f:
            f.write(header + "\n" + body.strip("\n") + ("\n" if body.strip() else ""))
    return directory


class Result:
    def __init__(self, summary, output, issue, column_field, dataset_resource, converted_resource):
        self.summary = summary
        self.output_path, self.issue_path = output, issue
        self.facts = read_rows(output)
        self.issues = read_rows(issue)
        self.column_field = read_rows(column_field)
        self.dataset_resource = read_rows(dataset_resource)
        self.converted_resource = read_rows(converted_resource)
        self.paths = {"output": output, "issue": issue, "column-field": column_field,
                      "dataset-resource": dataset_resource, "converted-resource": converted_resource}

    def entity(self, entity):
        """{field: value} of an entity's facts (the last value wins)."""
        return {f["field"]: f["value"] for f in self.facts if f["entity"] == str(entity)}

    @property
    def entities(self):
        return list(dict.fromkeys(f["entity"] for f in self.facts))

    def issue_types(self, field=None):
        return [i["issue-type"] for i in self.issues if field is None or i["field"] == field]

    def issues_of(self, issue_type):
        return [i for i in self.issues if i["issue-type"] == issue_type]


@pytest.fixture(scope="session")
def specification():
    from planning_pipeline.specification import Specification

    return Specification(SPECIFICATION)


@pytest.fixture
def transform_csv(tmp_path, specification):
    """Transform a small hand-made resource with a hand-made pipeline configuration."""
    from planning_pipeline.transform.run import transform

    counter = itertools.count()

    def run(content, dataset="conservation-area", config=None, endpoints=("e1",),
            organisations=("local-authority-eng:SWK",), entry_date="2024-01-02", resource=None,
            pipeline_dir=None, cache_dir=None, chunk_size=2000, organisation_path=ORGANISATIONS):
        n = next(counter)
        work = tmp_path / f"run{n}"
        pipeline = pipeline_dir or write_pipeline(str(work / "pipeline"), config)
        resource = resource or f"resource{n}"
        path = work / "collection" / resource
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        out = work / "transformed" / f"{resource}.csv"
        dirs = {k: str(work / k) for k in ("issue", "column-field", "dataset-resource", "converted-resource")}
        summary = transform(str(path), str(out), dataset=dataset, pipeline_dir=str(pipeline),
                            organisation_path=organisation_path, specification=specification,
                            endpoints=list(endpoints), organisations=list(organisations), entry_date=entry_date,
                            issue_dir=dirs["issue"], column_field_dir=dirs["column-field"],
                            dataset_resource_dir=dirs["dataset-resource"],
                            converted_resource_dir=dirs["converted-resource"],
                            cache_dir=cache_dir, chunk_size=chunk_size)
        return Result(summary, str(out), *(os.path.join(dirs[k], resource + ".csv")
                                           for k in ("issue", "column-field", "dataset-resource", "converted-resource")))

    return run
