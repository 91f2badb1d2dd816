"""A small workspace for the configuration check: the real specification and organisation snapshot, one
collection (conservation-area) whose files a test writes by hand."""
import hashlib
import os
import shutil
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

from planning_pipeline.check import check  # noqa: E402

C = "conservation-area"
URL = "https://example.org/conservation-areas.geojson"
ENDPOINT = hashlib.sha256(URL.encode()).hexdigest()
RESOURCE = "b9503f86a1e0e8ac5c5a2a9bd3ab3e0fcbb0d28e4e91f2b9d8f2bbd1c0b7d9a1"
ENDPOINT_HEADER = "endpoint,endpoint-url,parameters,plugin,entry-date,start-date,end-date"
SOURCE_HEADER = ("source,attribution,collection,documentation-url,endpoint,licence,organisation,pipelines,"
                 "entry-date,start-date,end-date")


class Workspace:
    def __init__(self, root):
        self.root = root
        shutil.copytree(os.path.join(ROOT, "specification"), root / "specification")
        (root / "example").mkdir()
        shutil.copy(os.path.join(ROOT, "example", "organisation.csv"), root / "example" / "organisation.csv")
        self.write(f"collection/{C}/endpoint.csv", ENDPOINT_HEADER, f"{ENDPOINT},{URL},,,2020-09-06T11:53:32Z,2020-10-01,")
        self.write(f"collection/{C}/source.csv", SOURCE_HEADER,
                   f",,{C},https://example.org/,{ENDPOINT},ogl3,local-authority-eng:SWK,{C},2020-11-29T12:18:40Z,2020-11-29,")
        (root / "pipeline" / C).mkdir(parents=True)

    def write(self, relative, *lines, raw=None):
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if raw is not None:
            path.write_bytes(raw)
        else:
            path.write_bytes("".join(line + "\r\n" for line in lines).encode("utf-8"))
        return path

    def pipeline(self, name, *lines):
        return self.write(f"pipeline/{C}/{name}", *lines)

    def check(self, **kwargs):
        return check(str(self.root), [C], **kwargs)

    def lines(self, **kwargs):
        """Every problem as printed, the root's path left out."""
        return [str(p) for p in self.check(**kwargs).problems if "specification/field.csv:367" not in str(p)]

    def errors(self):
        return [str(p) for p in self.check().errors]


@pytest.fixture
def workspace(tmp_path):
    return Workspace(tmp_path)


def run_check_config(*args, cwd=None):
    return subprocess.run([sys.executable, os.path.join(ROOT, "bin", "check-config"), *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120)
