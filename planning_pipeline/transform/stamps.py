"""Configuration stamps: one small file per planned (dataset, resource) whose content changes only
when that resource's effective configuration (or its plan row, or its organisations' rows) does.

Written with write_if_changed, so Make sees a new mtime only then; the transformed file depends on
its stamp. Stamps of resources no longer planned for the collection's datasets are deleted.

Of lookup.csv's general rows a stamp hashes only those that can answer a lookup key the resource's
last transform asked (lookup_keys.py), recorded beside the stamp (<resource>.keys) by that
transform, which also brings the stamp's config-hash up to date with them before it finishes (so
its output stays newer than the stamp). A resource not transformed yet, or whose record is lost,
has every row of its lookup blocks hashed: it is transformed, and the record made.
"""
import hashlib
import json
import os

from ..csvio import read_csv
from ..files import write_if_changed
from .config import ConfigIndex
from .lookup_keys import Asked

PLAN_COLUMNS = ("dataset", "resource", "path", "endpoints", "organisations", "entry-date")


def _split(value):
    return [v for v in (value or "").replace(" ", ";").split(";") if v]


def organisation_rows(path):
    if not path:
        return {}
    return {r["organisation"]: r for r in read_csv(path, ("organisation",)) if r.get("organisation")}


def stamp_text(stamp):
    return json.dumps(stamp, indent=1, sort_keys=True) + "\n"


def keys_path(stamp_path):
    return os.path.splitext(stamp_path)[0] + ".keys"


def record_asked(stamp_path, asked, config_hash):
    """After a transform: keep the lookup keys it asked beside its stamp, and set the stamp's
    config-hash to the one those keys give. Returns whether the stamp was rewritten."""
    asked.write(keys_path(stamp_path))
    try:
        with open(stamp_path, encoding="utf-8") as f:
            stamp = json.load(f)
    except (OSError, ValueError):
        return False  # no stamp (a transform run by hand): nothing to bring up to date
    stamp["config-hash"] = config_hash
    return write_if_changed(stamp_path, stamp_text(stamp))


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
        path = os.path.join(stamp_dir, dataset, resource + ".json")
        stamp = {
            "dataset": dataset, "resource": resource, "path": row["path"],
            "endpoints": sorted(set(endpoints)), "organisations": sorted(set(orgs)), "entry-date": row["entry-date"],
            "config-hash": config.digest(Asked.read(keys_path(path))),
        }
        if organisations:
            rows = [organisations.get(o, {}) for o in sorted(set(orgs))]
            stamp["organisation-hash"] = hashlib.sha256(
                json.dumps(rows, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()
        planned.setdefault(dataset, set()).add(resource)
        if write_if_changed(path, stamp_text(stamp)):
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
            resource, extension = os.path.splitext(name)
            if extension in (".json", ".keys") and resource not in planned.get(dataset, ()):
                os.unlink(os.path.join(directory, name))
                deleted += extension == ".json"
    return written, unchanged, deleted
