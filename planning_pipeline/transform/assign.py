"""assign-entities: give new entity numbers to the rows of resources that have none, in lookup.csv.

The resources go through the phases up to the entity lookup; every row still without an entity
contributes (prefix, organisation, reference) once, in input order. Each prefix continues after
its current maximum entity in lookup.csv, within the dataset's range (specification/dataset.csv),
wrapping round, and never reusing a number that lookup.csv or old-entity.csv already holds.
lookup.csv keeps its header, column order and rows; the new rows are appended (atomic rewrite).
"""
import csv
import io
import os
import shutil

from ..csvio import header as csv_header
from ..csvio import read_csv
from ..errors import UserError
from ..files import atomic_write
from .config import config_index
from .issues import IssueLog
from .keys import key_part, organisation_key
from .lookup import EntityNumbers
from .normalise import Reader, Unreadable
from .organisation import Organisations
from .run import Transform, convert_resource, split_list

DEFAULT_HEADER = ["prefix", "resource", "entry-number", "organisation", "reference", "entity"]


def unidentified(resource_paths, dataset, pipeline_dir, specification, organisation_path, endpoints=(),
                 organisations=(), converted_dir=None, cache_dir=None, report=print):
    """[(prefix, organisation, reference)] of rows without an entity, in input order, without repeats."""
    found, seen = [], set()
    index = config_index(pipeline_dir, specification)
    for path in resource_paths:
        resource = os.path.basename(path)
        if not os.path.isfile(path):
            raise UserError("resource file not found", path)
        config = index.resource_config(dataset, resource, split_list(endpoints), split_list(organisations))
        patches = [(p, v) for p, v, _ in config.patches().get("OrganisationURI", [])]
        issues = IssueLog(dataset, resource)
        job = Transform(specification, config, Organisations(organisation_path, patches=patches), issues,
                        cache_dir=cache_dir)
        conversion, converted_path, tmp = convert_resource(path, converted_dir)
        try:
            if conversion["status"] != "success":
                report(f"assign-entities: {resource[:12]}: conversion failed: {conversion.get('exception', '')}")
                continue
            with open(converted_path, encoding="utf-8", errors="replace", newline="") as f:
                for chunk in job.looked_up_chunks(Reader(f, job.skips)):
                    issues.pending.clear()
                    for entry in chunk:
                        row = entry.row
                        if row.get("entity"):
                            continue
                        item = (row.get("prefix", ""), row.get("organisation", ""), row.get("reference", ""))
                        key = (key_part(item[0]), organisation_key(item[1]), key_part(item[2]))
                        if key not in seen:
                            seen.add(key)
                            found.append(item)
        except Unreadable as e:
            report(f"assign-entities: {resource[:12]}: {e}")
        finally:
            if tmp:
                shutil.rmtree(tmp, ignore_errors=True)
    return found


def _int(value):
    value = (value or "").strip()
    return int(value) if value.isdigit() else None


def assign(pipeline_dir, dataset, specification, items, report=print):
    """Append lookup rows for items; returns the new entity numbers."""
    lookup_path = os.path.join(pipeline_dir, "lookup.csv")
    minimum, maximum = specification.entity_range(dataset)
    if minimum is None:
        raise UserError(f"dataset {dataset!r} has no entity range", os.path.join(specification.path, "dataset.csv"))

    header = csv_header(lookup_path) or list(DEFAULT_HEADER)
    prefix_column = next((c for c in ("prefix", "dataset", "pipeline") if c in header), None)
    reference_column = next((c for c in ("reference", "value") if c in header), None)
    if prefix_column is None or reference_column is None or "entity" not in header:
        raise UserError("lookup.csv needs prefix, reference and entity columns", lookup_path, 1)

    used, current, known = set(), {}, set()
    for row in read_csv(lookup_path):
        prefix = key_part(row.get(prefix_column))
        entity = _int(row.get("entity"))
        known.add((prefix, organisation_key(row.get("organisation")), key_part(row.get(reference_column))))
        if entity is not None:
            used.add(entity)
            current[prefix] = max(current.get(prefix, entity), entity)
    for row in read_csv(os.path.join(pipeline_dir, "old-entity.csv")):
        for column in ("old-entity", "entity"):
            if _int(row.get(column)) is not None:
                used.add(_int(row.get(column)))

    new_rows, skipped, numbers = [], 0, {}
    for prefix, organisation, reference in items:
        if not prefix or not organisation or not reference:
            skipped += 1
            continue
        key = (key_part(prefix), organisation_key(organisation), key_part(reference))
        if key in known:
            continue
        known.add(key)
        generator = numbers.get(key[0])
        if generator is None:
            generator = numbers[key[0]] = EntityNumbers(minimum, maximum, used, current.get(key[0]))
        entity = generator.next()
        if entity is None:
            raise UserError(f"no entity numbers left in {minimum}-{maximum} for prefix {prefix!r}", lookup_path)
        new_rows.append({prefix_column: prefix, "organisation": organisation, reference_column: reference,
                         "entity": str(entity)})
    if skipped:
        report(f"assign-entities: {skipped} row(s) without a prefix, organisation or reference "
               "cannot be given an entity")
    if not new_rows:
        return []

    # stream the existing file across (lookup.csv runs to millions of rows), then append
    head, ends_with_newline = b"", True
    if os.path.exists(lookup_path) and os.path.getsize(lookup_path):
        with open(lookup_path, "rb") as f:
            head = f.read(4096)
            f.seek(-1, os.SEEK_END)
            ends_with_newline = f.read(1) == b"\n"
    terminator = "\r\n" if b"\r\n" in head else "\n"
    out = io.StringIO()
    writer = csv.DictWriter(out, header, extrasaction="ignore", lineterminator=terminator)
    if not head:
        writer.writeheader()
    elif not ends_with_newline:
        out.write(terminator)
    writer.writerows(new_rows)
    with atomic_write(lookup_path, "wb") as f:
        if head:
            with open(lookup_path, "rb") as existing:
                shutil.copyfileobj(existing, f, 1 << 20)
        f.write(out.getvalue().encode("utf-8"))
    return [int(r["entity"]) for r in new_rows]
