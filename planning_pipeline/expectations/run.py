"""Run a dataset's expectation rules against its sqlite3 file and write one result row per rule."""
import inspect
import json
import os
import sqlite3

from ..csvio import write_csv
from ..errors import UserError
from . import operations, rules as rules_module

HEADER = ["dataset", "organisation", "name", "operation", "passed", "parameters", "message", "details",
          "description", "severity", "responsibility"]
BOUNDARY_DATASETS = ("local-planning-authority", "local-authority-district")


def default_boundary_paths(sqlite_path):
    directory = os.path.dirname(os.path.abspath(sqlite_path))
    return [os.path.join(directory, d + ".sqlite3") for d in BOUNDARY_DATASETS]


def _dumps(value):
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def run_rule(ctx, rule):
    operation = operations.OPERATIONS[rule.operation]
    try:
        inspect.signature(operation).bind(ctx, **rule.parameters)
    except TypeError as error:
        return False, f"error: bad parameters for {rule.operation}: {error}", {}
    try:
        return operation(ctx, **rule.parameters)
    except (ValueError, TypeError, KeyError, OSError, sqlite3.Error, ImportError) as error:
        return False, f"error: {type(error).__name__}: {error}", {}


def expectations(dataset, expect_path, sqlite_path, output, organisation_path=None, boundary_paths=None, today=None):
    """Write output (var/expectation/<dataset>.csv); returns the number of rules run."""
    organisations = rules_module.load_organisations(organisation_path)
    selected = rules_module.rules(expect_path, dataset, organisations, today=today)
    for rule in selected:
        if rule.operation not in operations.OPERATIONS:
            raise UserError(f"unknown operation {rule.operation!r}", expect_path, rule.line)
    results = []
    if selected:
        if not os.path.exists(sqlite_path):
            raise UserError("dataset sqlite file not found", sqlite_path)
        conn = sqlite3.connect(f"file:{sqlite_path}?mode=ro", uri=True)
        try:
            paths = boundary_paths if boundary_paths is not None else default_boundary_paths(sqlite_path)
            ctx = operations.Context(conn, sqlite_path, paths)
            for rule in selected:
                passed, message, details = run_rule(ctx, rule)
                results.append({
                    "dataset": dataset, "organisation": rule.organisation, "name": rule.name,
                    "operation": rule.operation, "passed": str(passed), "parameters": _dumps(rule.parameters),
                    "message": message, "details": _dumps(details), "description": rule.description,
                    "severity": rule.severity, "responsibility": rule.responsibility,
                })
        finally:
            conn.close()
    write_csv(output, HEADER, results)
    return len(results)
