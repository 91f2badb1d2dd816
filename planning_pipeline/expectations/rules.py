"""Read pipeline/<c>/expect.csv: select a dataset's rules, expand them per organisation, render templates.

`name`, `description` and `parameters` may use `{{ organisation.<field> }}` (the organisation.csv row, keys with
'-' or '_') and `{{ dataset }}`; `parameters` is then parsed as JSON. `organisations` is a ';'-separated list of
organisation CURIEs or organisation datasets (such as `local-authority`), each of which stands for all of its
organisations; a rule with no organisations runs once.
"""
import csv
import datetime
import json
import os
import re

from ..errors import UserError

TEMPLATE = re.compile(r"{{\s*(.*?)\s*}}")
WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


class Rule:
    def __init__(self, row, line, organisation, parameters, name, description):
        self.row = row
        self.line = line
        self.operation = row.get("operation", "").strip()
        self.organisation = organisation  # the CURIE, or ""
        self.parameters = parameters
        self.name = name
        self.description = description
        self.severity = row.get("severity", "")
        self.responsibility = row.get("responsibility", "")


def render(text, context, path, line):
    def replace(match):
        expression = match.group(1)
        value = context
        for part in expression.split("."):
            part = part.strip()
            if isinstance(value, dict) and part in value:
                value = value[part]
            elif isinstance(value, dict) and part.replace("-", "_") in value:
                value = value[part.replace("-", "_")]
            else:
                raise UserError(f"unknown template variable {expression!r}", path, line)
        return str(value)

    return TEMPLATE.sub(replace, text or "")


def organisations_of(spec, organisations):
    """The organisation.csv rows that a rule's organisations cell stands for, in the order given."""
    result = []
    for item in [i.strip() for i in (spec or "").split(";") if i.strip()]:
        if ":" in item:
            row = organisations.get(item)
            if row is None and item.startswith("local-authority:"):
                row = organisations.get("local-authority-eng:" + item.split(":", 1)[1])
            result.append((item, row or {"organisation": item}))
        else:
            prefixes = {item, "local-authority-eng"} if item == "local-authority" else {item}
            for curie, row in organisations.items():
                if curie.split(":", 1)[0] in prefixes and not row.get("end-date"):
                    result.append((curie, row))
    return result


def load_organisations(path):
    if not path or not os.path.exists(path):
        return {}
    with open(path, encoding="utf-8-sig", newline="") as f:
        return {r["organisation"]: r for r in csv.DictReader(f) if r.get("organisation")}


def rules(path, dataset, organisations, today=None):
    """The expanded rules of path that name dataset, in file order."""
    today = today or datetime.date.today()
    if not os.path.exists(path):
        return []  # a collection with no expect.csv has no rules: a header-only result
    with open(path, encoding="utf-8-sig", newline="") as f:
        reader = csv.reader(f)
        header = next(reader, None)
        if header is None:
            return []
        for required in ("datasets", "operation"):
            if required not in header:
                raise UserError(f"missing column {required}", path, 1)
        selected = []
        for line, cells in enumerate(reader, 2):
            if not any(c.strip() for c in cells):
                continue
            if len(cells) > len(header):
                raise UserError(f"row has {len(cells)} cells, the header {len(header)}", path, line)
            row = dict(zip(header, cells + [""] * (len(header) - len(cells))))
            if f";{dataset};" not in f";{row['datasets'].replace(' ', '')};":
                continue
            if row.get("end-date") and row["end-date"] <= today.isoformat():
                continue
            if row.get("start-date") and row["start-date"] > today.isoformat():
                continue
            schedule = row.get("schedule", "").strip().lower()
            if schedule and schedule in WEEKDAYS and WEEKDAYS[today.weekday()] != schedule:
                continue
            if not row["operation"].strip():
                raise UserError("rule has no operation", path, line)
            expanded = organisations_of(row.get("organisations"), organisations) or [("", {})]
            for curie, org in expanded:
                context = {"dataset": dataset, "organisation": {k.replace("-", "_"): v for k, v in org.items()}}
                text = render(row.get("parameters", ""), context, path, line).strip()
                try:
                    parameters = json.loads(text) if text else {}
                except ValueError as error:
                    raise UserError(f"parameters are not valid JSON: {error}", path, line)
                if not isinstance(parameters, dict):
                    raise UserError("parameters must be a JSON object", path, line)
                selected.append(Rule(row, line, curie, parameters, render(row.get("name", ""), context, path, line),
                                     render(row.get("description", ""), context, path, line)))
        return selected
