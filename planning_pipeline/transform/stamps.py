"""Configuration stamps: one small file per planned (dataset, resource) whose content changes only
when that resource's effective configuration (or its plan row, or its organisations' rows) does.

Written with write_if_changed, so Make sees a new mtime only then; the transformed file depends on
its stamp. Stamps of resources no longer planned for the collection's datasets are deleted.
"""
import hashlib
import json
import os

from ..csvio import read_csv
from ..files import write_if_changed
from .config import ConfigIndex

PLAN_COLUMNS = ("dataset", "resource", "path", "endpoints", "organisations", "entry-date")


def _split(value):
    return [v for v in (value or "").replace(" ", ";").split(";") if v]


def organisation_rows(path):
    if not path:
        return {}
    return {r["organisation"]: r for r in read_csv(path, ("organisation",)) if r.get("organisation")}


def write_stamps(pipeline_dir, plan_path, stamp_dir, specification=None, organisation_path=None):
    """Returns (stamps written, stamps unchanged, stamps deleted)."""
    index = ConfigIndex(pipeline_dir, specification)
    organisations = organisation_rows(organisation_path)
    planned = {}
    written = unchanged = 0
    for row in read_csv(plan_path, PLAN_COLUMNS):
        dataset, resource = row["dataset"], row["resource"]
        endpoints, orgs = _split(row["endpoints"]), _split(row["organisations"])
        config = index.resource_config(dataset, resource, endpoints, orgs)
        stamp = {
            "dataset": dataset, "resource": resource, "path": row["path"],
            "endpoints": sorted(set(endpoints)), "organisations": sorted(set(orgs)), "entry-date": row["entry-date"],
            "config-hash": config.digest(),
        }
        if organisations:
            rows = [organisations.get(o, {}) for o in sorted(set(orgs))]
            stamp["organisation-hash"] = hashlib.sha256(
                json.dumps(rows, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()
        path = os.path.join(stamp_dir, dataset, resource + ".json")
        planned.setdefault(dataset, set()).add(resource + ".json")
        if write_if_changed(path, json.dumps(stamp, indent=1, sort_keys=True) + "\n"):
            written += 1
        else:
            unchanged += 1

    datasets = set(planned)
    if specification is not None:
        datasets.update(specification.collection_datasets(os.path.basename(os.path.normpath(pipeline_dir))))
    deleted = 0
    for dataset in sorted(datasets):
        directory = os.path.join(stamp_dir, dataset)
        if not os.path.isdir(directory):
            continue
        for name in sorted(os.listdir(directory)):
            if name.endswith(".json") and name not in planned.get(dataset, ()):
                os.unlink(os.path.join(directory, name))
                deleted += 1
    return written, unchanged, deleted
