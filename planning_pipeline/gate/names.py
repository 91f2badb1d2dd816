"""Names the gate's reports use: issue severities from the specification, organisation names."""
import os

from ..csvio import read_csv


def severities(specification_dir):
    """issue-type -> severity, from specification/issue-type.csv (a function, '' when unknown)."""
    path = os.path.join(specification_dir or "", "issue-type.csv")
    levels = {r["issue-type"]: r.get("severity", "") for r in read_csv(path, ("issue-type",))}
    return lambda issue_type: levels.get(issue_type, "")


def organisation_names(organisation_path):
    """organisation entity number (text) -> name, from organisation.csv."""
    if not organisation_path:
        return {}
    return {r["entity"]: r.get("name", "") for r in read_csv(organisation_path, ("entity",)) if r.get("entity")}
