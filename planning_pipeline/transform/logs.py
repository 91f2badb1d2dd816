"""The per-resource logs written beside a transformed file, and the code version they record."""
import functools
import hashlib
import os

from ..csvio import write_csv

COLUMN_FIELD_FIELDS = ["dataset", "resource", "column", "field"]
DATASET_RESOURCE_FIELDS = ["dataset", "resource", "entity-count", "entry-count", "line-count", "mime-type",
                           "internal-path", "internal-mime-type", "code-version", "config-hash", "specification-hash"]
CONVERTED_RESOURCE_FIELDS = ["dataset", "resource", "elapsed", "status", "exception"]


# the parts of planning_pipeline a transform runs: a change elsewhere (collect, load, ...) is not a new version
CODE = ("__init__.py", "cli.py", "csvio.py", "errors.py", "files.py", "specification.py", "convert", "datatype",
        "transform")


@functools.lru_cache(maxsize=None)
def code_version():
    """sha256 over the Python sources of the transform and what it uses (relative paths and bytes, sorted)."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    paths = []
    for name in CODE:
        path = os.path.join(root, name)
        if os.path.isfile(path):
            paths.append(path)
        for directory, dirs, files in os.walk(path):
            dirs[:] = sorted(d for d in dirs if d != "__pycache__" and not d.startswith("."))
            paths.extend(os.path.join(directory, f) for f in files if f.endswith(".py"))
    digest = hashlib.sha256()
    for path in sorted(paths):
        digest.update(os.path.relpath(path, root).replace(os.sep, "/").encode() + b"\n")
        with open(path, "rb") as f:
            digest.update(f.read())
    return digest.hexdigest()


def write_column_field(path, dataset, resource, pairs):
    write_csv(path, COLUMN_FIELD_FIELDS,
              ({"dataset": dataset, "resource": resource, "column": c, "field": f} for c, f in pairs))


def write_dataset_resource(path, row):
    write_csv(path, DATASET_RESOURCE_FIELDS, [row])


def write_converted_resource(path, dataset, resource, elapsed, status, exception):
    write_csv(path, CONVERTED_RESOURCE_FIELDS, [{
        "dataset": dataset, "resource": resource, "elapsed": elapsed, "status": status, "exception": exception}])
