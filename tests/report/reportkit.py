"""Shared by the report's tests: make in a workspace copy, and datasette serving it as `make serve` does."""
import contextlib
import os
import subprocess

from local_servers import free_port, stop, wait_for_http

COLLECTIONS = ("organisation", "conservation-area", "central-activities-zone")


def make(workspace, *args, ok=True):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "MAKEFLAGS", "MAKELEVEL")}
    result = subprocess.run(["make", *args], cwd=workspace, env=env, capture_output=True, text=True, timeout=600)
    if ok:
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


@contextlib.contextmanager
def datasette(workspace):
    """bin/serve-datasette over var/datasette/ (what `make serve` runs) on a free port: yields its URL and log."""
    port = free_port()
    log_path = workspace / "datasette.log"
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL")}
    with open(log_path, "w") as log:
        process = subprocess.Popen([os.path.join(workspace, ".venv", "bin", "python"), "bin/serve-datasette", "--dir",
                                    "var/datasette/", "--port", str(port)], cwd=workspace, env=env, stdout=log,
                                   stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            wait_for_http(base + "/-/versions.json", process)
            yield base, log_path
        finally:
            stop(process)
