import csv
import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLES = os.path.join(ROOT, "tests", "data", "resource-examples")

csv.field_size_limit(sys.maxsize)


def read_rows(path):
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.reader(f))


@pytest.fixture
def run_convert(tmp_path):
    """convert(path) -> (result, rows or None); path may be bytes/str content written to a temp file."""
    from planning_pipeline.convert import convert

    def run(source, limits=None, name="resource"):
        if isinstance(source, (bytes, str)) and not os.path.exists(str(source)):
            path = tmp_path / name
            path.write_bytes(source if isinstance(source, bytes) else source.encode("utf-8"))
        else:
            path = source
        output = tmp_path / "out" / (os.path.basename(str(path)) + ".csv")
        result = convert(str(path), str(output), limits)
        rows = read_rows(output) if output.exists() else None
        return result, rows

    return run
