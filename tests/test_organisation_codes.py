"""Organisation codes: today's configuration names local authorities `local-authority:XXX`, the bundled
snapshot `local-authority-eng:XXX`. Both resolve to the same organisations everywhere (sources, lookup.csv,
patch.csv, entity-organisation ranges), and a code that resolves to nothing is an issue naming it."""
import csv
import os
import sqlite3
import subprocess

COLLECTION = "conservation-area"
TABLES = ("entity", "fact", "fact_resource", "issue", "dataset_resource")


def make(workspace):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "MAKEFLAGS", "MAKELEVEL")}
    result = subprocess.run(["make", f"collection/{COLLECTION}"], cwd=workspace, env=env, capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout + result.stderr


def tables(workspace):
    with sqlite3.connect(workspace / "dataset" / f"{COLLECTION}.sqlite3") as conn:
        return {t: sorted(conn.execute(f"SELECT * FROM {t}").fetchall(), key=repr) for t in TABLES}


def rename_prefix(workspace):
    """Every local-authority-eng: CURIE of the collection's configuration written local-authority:."""
    changed = 0
    for folder in (workspace / "collection" / COLLECTION, workspace / "pipeline" / COLLECTION):
        for path in folder.glob("*.csv"):
            text = path.read_text(encoding="utf-8")
            if "local-authority-eng:" in text:
                changed += text.count("local-authority-eng:")
                path.write_text(text.replace("local-authority-eng:", "local-authority:"), encoding="utf-8")
    return changed


def test_local_authority_and_local_authority_eng_codes_build_the_same_dataset(tmp_path, workspace_at):
    eng, plain = workspace_at(tmp_path / "eng", COLLECTION), workspace_at(tmp_path / "plain", COLLECTION)
    assert rename_prefix(plain) > 100  # sources, lookup.csv and patch.csv rows
    make(eng), make(plain)
    built_eng, built_plain = tables(eng), tables(plain)
    assert len(built_eng["entity"]) > 50
    for table in TABLES:
        assert built_plain[table] == built_eng[table], table


def test_an_organisation_code_that_resolves_to_nothing_is_an_issue_naming_it(tmp_path, workspace_at):
    workspace = workspace_at(tmp_path / "w", COLLECTION)
    rename_prefix(workspace)
    source = workspace / "collection" / COLLECTION / "source.csv"
    rows = list(csv.reader(open(source, encoding="utf-8", newline="")))
    column = rows[0].index("organisation")
    line = next(i for i, r in enumerate(rows) if i and r[column] and r[rows[0].index("endpoint")])
    rows[line][column] = "local-authority:ZZZ"
    with open(source, "w", encoding="utf-8", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)
    make(workspace)
    check = subprocess.run([".venv/bin/python", "bin/check-config", "--collection", COLLECTION], cwd=workspace,
                           capture_output=True, text=True)
    assert (f"collection/{COLLECTION}/source.csv:{line + 1}: warning: organisation: organisation "
            "'local-authority:ZZZ' is not in") in check.stdout + check.stderr
    with open(workspace / "dataset" / f"{COLLECTION}-issue.csv", encoding="utf-8", newline="") as f:
        issues = [r for r in csv.DictReader(f) if r["issue-type"] == "invalid organisation"]
    assert issues and {r["value"] for r in issues} == {"local-authority:ZZZ"}
    assert all("'local-authority:ZZZ'" in r["message"] and "not a known organisation" in r["message"] for r in issues)
    with sqlite3.connect(workspace / "dataset" / f"{COLLECTION}.sqlite3") as conn:
        assert conn.execute("SELECT count(*) FROM issue WHERE issue_type = 'invalid organisation' "
                            "AND value = 'local-authority:ZZZ'").fetchone()[0] == len(issues)
