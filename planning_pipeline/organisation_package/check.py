"""organisation-check.csv: problems found in organisation.csv. Nothing here fails the run.

Rules (one output row per finding):
- the same entity on more than one organisation: error;
- the same wikidata item on more than one organisation: error (warning for entities listed in
  WIKIDATA_SHARED, a department and its successor, e.g. 600001);
- local-authority and national-park-authority rows without a local-planning-authority, unless the
  local-authority-type is CTY, COMB or SRA: error (warning when the organisation has ended);
- a local-planning-authority not in the local-planning-authority list (when one is given): error;
- billing-authority or opendatacommunities-uri missing (not checked for government-organisation):
  warning; the same value on more than one organisation: error.
"""
import collections

from ..csvio import read_csv, write_csv

FIELDS = ["datapackage", "severity", "entity", "prefix", "reference", "issue", "field", "value"]
WIKIDATA_SHARED = {"600001"}
LPA_DATASETS = {"local-authority", "national-park-authority"}
NON_PLANNING_TYPES = {"CTY", "COMB", "SRA"}
UNIQUE_FIELDS = ["entity", "wikidata", "billing-authority", "opendatacommunities-uri"]


def check_rows(rows, lpas=None, today=None):
    findings = []

    def find(row, severity, issue, field, value):
        findings.append({
            "datapackage": "organisation", "severity": severity, "entity": row.get("entity", ""),
            "prefix": row.get("prefix", ""), "reference": row.get("reference", ""), "issue": issue,
            "field": field, "value": value,
        })

    values = {f: collections.Counter(r.get(f, "") for r in rows if r.get(f, "")) for f in UNIQUE_FIELDS}
    for row in rows:
        ended = bool(row.get("end-date")) and (today is None or row["end-date"] <= today)
        for field in UNIQUE_FIELDS:
            value = row.get(field, "")
            if value and values[field][value] > 1:
                severity = "error"
                if field == "wikidata" and row.get("entity") in WIKIDATA_SHARED:
                    severity = "warning"
                find(row, severity, f"duplicate {field}", field, value)
        dataset = row.get("dataset", "")
        lpa = row.get("local-planning-authority", "")
        if dataset in LPA_DATASETS and not lpa and row.get("local-authority-type", "") not in NON_PLANNING_TYPES:
            find(row, "warning" if ended else "error", "missing local-planning-authority", "local-planning-authority", "")
        if lpa and lpas is not None and lpa not in lpas:
            find(row, "error", "unknown local-planning-authority", "local-planning-authority", lpa)
        if dataset != "government-organisation":
            for field in ("billing-authority", "opendatacommunities-uri"):
                if not row.get(field, ""):
                    find(row, "warning", f"missing {field}", field, "")
    findings.sort(key=lambda f: (f["prefix"], f["reference"], f["field"], f["issue"], f["value"]))
    return findings


def check_package(input_path, output, lpa_path=None, today=None):
    """Write organisation-check.csv; return {severity: count}."""
    rows = list(read_csv(input_path, required=("organisation", "entity")))
    lpas = None
    if lpa_path:
        lpas = {r.get("reference", "") for r in read_csv(lpa_path, required=("reference",))}
    findings = check_rows(rows, lpas, today)
    write_csv(output, FIELDS, findings)
    return collections.Counter(f["severity"] for f in findings)
