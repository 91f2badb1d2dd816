"""organisation.csv from the organisation collection's assembled datasets.

Inputs, per organisation dataset of the specification (collection `organisation`, typology
`organisation`, not ended), either the flattened CSV (<flattened-dir>/<dataset>.csv: kebab-case
headers, json already exploded) or the assembled sqlite3 (<dataset-dir>/<dataset>.sqlite3: the
entity table, snake_case columns, non-column fields in `json`). A missing dataset is a warning.

Rules: keep rows whose typology is `organisation`; `organisation` is `<prefix>:<reference>` (the
prefix falls back to the dataset name; any publisher value in the row is ignored); `dataset` is the
dataset the row came from; the output has the fields of the specification's `organisation` schema
in schema-field.csv order; rows are sorted by organisation, so the output is deterministic.
"""
import json
import os
import sqlite3
import sys

from ..csvio import read_csv, write_csv
from ..errors import UserError
from . import ORGANISATION_TYPOLOGY, organisation_datasets


def output_fields(specification):
    fields = specification.schema_field.get("organisation", [])
    if not fields:
        raise UserError("the specification has no organisation schema in schema-field.csv", specification.path)
    return fields


def kebab(name):
    return name.replace("_", "-")


def _flattened_rows(path):
    for row in read_csv(path):
        yield {kebab(k): v for k, v in row.items()}


def _sqlite_rows(path):
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error as error:
        raise UserError(f"cannot open: {error}", path)
    try:
        conn.row_factory = sqlite3.Row
        try:
            cursor = conn.execute("SELECT * FROM entity ORDER BY entity")
        except sqlite3.Error as error:
            raise UserError(f"no readable entity table: {error}", path)
        for record in cursor:
            row = {kebab(k): ("" if record[k] is None else str(record[k])) for k in record.keys() if k != "json"}
            if "json" in record.keys() and record["json"]:
                try:
                    extra = json.loads(record["json"])
                except ValueError:
                    extra = {}
                for key, value in (extra or {}).items():
                    row.setdefault(kebab(key), "" if value is None else str(value))
                    if not row[kebab(key)]:
                        row[kebab(key)] = "" if value is None else str(value)
            yield row
    finally:
        conn.close()


def dataset_rows(dataset, flattened_dir=None, dataset_dir=None):
    """The rows of one organisation dataset, from the flattened CSV or else the sqlite3 file."""
    if flattened_dir:
        path = os.path.join(flattened_dir, f"{dataset}.csv")
        if os.path.exists(path):
            return path, _flattened_rows(path)
    if dataset_dir:
        path = os.path.join(dataset_dir, f"{dataset}.sqlite3")
        if os.path.exists(path):
            return path, _sqlite_rows(path)
    return None, iter(())


def organisation_rows(specification, flattened_dir=None, dataset_dir=None, warn=None):
    warn = warn or (lambda message: print(message, file=sys.stderr))
    fields = output_fields(specification)
    rows = []
    for dataset in organisation_datasets(specification):
        path, records = dataset_rows(dataset, flattened_dir, dataset_dir)
        if path is None:
            warn(f"organisation-package: warning: no {dataset} dataset found, skipped")
            continue
        for row in records:
            if row.get("typology", ORGANISATION_TYPOLOGY) != ORGANISATION_TYPOLOGY:
                continue
            reference = row.get("reference", "")
            if not reference:
                continue
            prefix = row.get("prefix") or dataset
            out = {f: row.get(f, "") for f in fields}
            out["organisation"] = f"{prefix}:{reference}"
            out["dataset"] = dataset
            out["prefix"] = prefix
            out["reference"] = reference
            rows.append(out)
    rows.sort(key=lambda r: (r["organisation"], r.get("entity", "")))
    return fields, rows


def build_package(specification, output, flattened_dir=None, dataset_dir=None, warn=None):
    """Write organisation.csv; return the number of organisations."""
    if not flattened_dir and not dataset_dir:
        raise UserError("give --flattened-dir or --dataset-dir")
    fields, rows = organisation_rows(specification, flattened_dir, dataset_dir, warn)
    write_csv(output, fields, rows)
    return len(rows)
