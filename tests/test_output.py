"""What a run prints without V=1: one short line per step (its result and the time it took) instead of
its command lines, a failed step's full command, and a summary of the collection's steps at the end."""
import os
import re
import subprocess

import pytest

from test_make import CAZ


def quiet_make(workspace, *args):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "MAKEFLAGS", "MAKELEVEL", "V")}
    return subprocess.run(["make", *args], cwd=workspace, env=env, capture_output=True, text=True, timeout=600)


@pytest.fixture
def workspace(make_workspace):
    return make_workspace(CAZ)


def test_a_run_prints_a_short_line_per_step_and_a_summary_of_its_steps(workspace):
    result = quiet_make(workspace, f"collection/{CAZ}")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "bin/transform" not in output and "--pipeline-dir" not in output
    transforms = re.findall(rf"^transform: {CAZ}: [0-9a-f]{{12}}: success: .* \(\d+\.\d\d s\)$", result.stdout, re.M)
    assert transforms
    assert re.search(rf"^var/assembled/{CAZ}.sqlite3: \d+ entities from \d+ facts \(\d+\.\d\d s\)$", result.stdout, re.M)
    summary = re.search(rf"^{CAZ}: .*$", result.stdout, re.M).group(0)
    assert f"{len(transforms)} transform (" in summary and "1 assemble (" in summary and " s in all" in summary
    assert "issues logged: " in summary
    assert len(output.splitlines()) < 80

    again = quiet_make(workspace, f"collection/{CAZ}")
    assert again.returncode == 0
    assert again.stdout.strip().splitlines()[-1].startswith(f"{CAZ}: nothing to do")


def test_make_v1_prints_the_command_lines(workspace):
    quiet_make(workspace, f"collection/{CAZ}")
    (workspace / "var" / "transformed" / CAZ).rename(workspace / "var" / "transformed-old")
    result = quiet_make(workspace, f"collection/{CAZ}", "V=1")
    assert result.returncode == 0
    assert re.search(rf"bin/transform --dataset {CAZ} ", result.stdout)


def test_a_failed_step_prints_its_command(workspace):
    quiet_make(workspace, f"collection/{CAZ}")
    bake = workspace / "bin" / "bake"
    bake.write_text("import sys\nprint('bake: something went wrong', file=sys.stderr)\nsys.exit(3)\n")
    (workspace / "dataset" / f"{CAZ}.csv").unlink()
    result = quiet_make(workspace, f"collection/{CAZ}")
    assert result.returncode != 0
    assert "bake: something went wrong" in result.stderr
    assert re.search(r"make: bake failed \(exit status 3\) making dataset/.*; the command was:\n  \S*python bin/bake ",
                     result.stderr)
