"""Run the checks: the specification once, then each collection's collection/ and pipeline/ files."""
import csv
import hashlib
import os
import re

from .csvfile import CsvFile
from .report import ERROR, Report
from .schema import COLLECTION_FILES, PIPELINE_FILES, SPECIFICATION_FILES, UNIQUE
from .values import BACKREFERENCE, FAST, Checker, Known, near, organisation_key

MISSING = object()
# files in collection/<c>/ that are state the pipeline writes, not configuration
COLLECTION_STATE = {"log.csv", "resource.csv"}
# specification files read before the others: later files' values are checked against them
SPECIFICATION_ORDER = ("datatype.csv", "typology.csv", "licence.csv", "prefix.csv", "collection.csv", "dataset.csv",
                       "field.csv")


def collections_under(root):
    """Every collection: a directory of collection/ or pipeline/, sorted."""
    names = set()
    for kind in ("collection", "pipeline"):
        directory = os.path.join(root, kind)
        if os.path.isdir(directory):
            names.update(n for n in os.listdir(directory) if os.path.isdir(os.path.join(directory, n)))
    return sorted(names)


def check(root=".", collections=None, organisation_path=None):
    """A Report of every problem of the specification and of each collection (default: every one)."""
    report = Report()
    known = Known()
    check_specification(root, known, report)
    load_organisations(root, known, report, organisation_path)
    try:
        from ..expectations.operations import OPERATIONS

        known.operations = set(OPERATIONS)
    except ImportError:  # pragma: no cover - the module is part of the package
        pass
    explicit = collections is not None
    for collection in (collections if explicit else collections_under(root)):
        check_collection(root, collection, known, report, explicit)
    return report


def _shown(root, path):
    return os.path.relpath(path, root) if root not in ("", ".") else os.path.normpath(path)


# ---- one file ------------------------------------------------------------------------------------------------
class Table:
    """A checked file's header positions; rows() yields (line, {column name: value}) for the spec's columns."""

    def __init__(self, csvfile, spec, checker, report):
        self.file, self.spec, self.checker, self.report = csvfile, spec, checker, report
        self.shown = csvfile.shown
        header = csvfile.header
        self.positions = {}  # column name -> [positions of its names present, current name first]
        for column in spec.columns:
            found = [header.index(n) for n in column.names if n in header]
            if found:
                self.positions[column.name] = found
        self.complete = self._check_header(header)

    def _check_header(self, header):
        report, shown, anchor, spec = self.report, self.shown, self.spec.anchor, self.spec
        line = self.file.header_line
        if not header:
            required = [c.name for c in spec.columns if c.header]
            if required:
                report.error(shown, 1, f"the file is empty: it needs a header with {', '.join(required)}", anchor)
                return False
            return True
        seen = set()
        for name in header:
            if name in seen:
                report.error(shown, line, f"column {name!r} appears twice in the header", "headers")
            seen.add(name)
        known = spec.known_names()
        absent = {n for n in known if n not in seen}
        explained = set()
        for name in header:
            if name in known or not name.strip():
                continue
            guess = near(name, absent)
            if guess is None:
                continue  # an extra column: allowed
            column = next(c for c in spec.columns if guess in c.names)
            missing = column.header and column.name not in self.positions
            if missing:
                explained.add(column.name)
            note = f" (required column {guess!r} is missing)" if missing else ""
            report.error(shown, line, f"unknown column {name!r}: did you mean {guess!r}?{note}", anchor)
        complete = True
        for column in spec.columns:
            if column.header and column.name not in self.positions:
                complete = False
                if column.name not in explained:
                    legacy = f" (or {' or '.join(repr(n) for n in column.names[1:])})" if len(column.names) > 1 else ""
                    report.error(shown, line, f"missing required column {column.name!r}{legacy}", anchor)
        return complete

    def rows(self, keep=True):
        """(line, {column: value}) for every row, its values checked; with keep=False the dict is {}."""
        # per column, worked out once: (name, position, legacy positions, required, memo, kind, fast match); a column with
        # no kind and no required value needs looking at only to give the row's values to a hook
        plan, values = [], []
        for column in self.spec.columns:
            where = self.positions.get(column.name)
            if not where:
                continue
            values.append((column.name, where[0], where[1:]))
            if column.kind or column.value:
                fast = FAST.get(column.kind)
                plan.append((column.name, where[0], where[1:], column.value, {}, column.kind, fast and fast.match))
        check, report, shown, anchor = self._check, self.report, self.shown, self.spec.anchor
        for line, cells in self.file.rows():
            for name, position, legacy, required, memo, kind, fast in plan:
                value = cells[position]
                if not value and legacy:
                    value = next((cells[p] for p in legacy if cells[p]), "")
                if fast is not None and fast(value):
                    continue  # a good hash or number: most values of the biggest files, rarely repeated
                problem = memo.get(value, MISSING)
                if problem is MISSING:
                    problem = memo[value] = check(kind, required, name, value)
                if problem:
                    report.add(shown, line, problem[1], anchor, problem[0])
            if keep:
                row = {}
                for name, position, legacy in values:
                    value = cells[position]
                    if not value and legacy:
                        value = next((cells[p] for p in legacy if cells[p]), "")
                    row[name] = value
                yield line, row
            else:
                yield line, None

    def _check(self, kind, required, name, value):
        if not value or value.isspace():
            return (ERROR, f"{name} is blank") if required else None
        if kind:
            problem = self.checker(kind, value)
            if problem:
                return problem[0], f"{name}: {problem[1]}"
        return None


def check_file(root, path, spec, checker, report, hook=None):
    """Check one file against its spec; hook(line, row, table) sees every row. Returns the Table, or None."""
    shown = _shown(root, path)
    report.files += 1
    try:
        csvfile = CsvFile(path, shown, report, spec.anchor if spec else "")
    except OSError as error:
        report.error(shown, 0, f"cannot be read: {error.strerror or error}", spec.anchor if spec else "")
        return None
    if spec is None:
        for _ in csvfile.rows():
            pass
        return None
    table = Table(csvfile, spec, checker, report)
    unique = UNIQUE.get(spec.name)
    first = {}
    for line, row in table.rows(keep=bool(unique or hook)):
        if unique and row.get(unique):
            key = row[unique].strip()
            if key in first:
                report.error(shown, line, f"duplicate {unique} {key}: also on line {first[key]}", spec.anchor)
            else:
                first[key] = line
        if hook is not None:
            hook(line, row, table)
    return table


def _check_directory_names(root, directory, expected, ignored, report, anchor):
    """A CSV file in directory whose name is a near miss of an expected one: an error naming it."""
    for name in sorted(os.listdir(directory)):
        if not name.endswith(".csv") or name in expected or name in ignored:
            continue
        guess = near(name, set(expected) - set(os.listdir(directory)))
        if guess:
            report.error(_shown(root, os.path.join(directory, name)), 0,
                         f"unknown configuration file: did you mean {guess}?", anchor)


# ---- the specification ---------------------------------------------------------------------------------------
def check_specification(root, known, report):
    directory = os.path.join(root, "specification")
    if not os.path.isdir(directory):
        report.error(_shown(root, directory), 0, "the specification directory is missing", "specification")
        return
    checker = Checker(known)
    names = sorted(n for n in os.listdir(directory) if n.endswith(".csv"))
    ordered = [n for n in SPECIFICATION_ORDER if n in names] + [n for n in names if n not in SPECIFICATION_ORDER]
    for name, spec in SPECIFICATION_FILES.items():
        if spec.required and name not in names:
            report.error(_shown(root, os.path.join(directory, name)), 0, "missing file", spec.anchor)
    _check_directory_names(root, directory, SPECIFICATION_FILES, (), report, "specification")

    def add(target, column):
        return lambda line, row, table: target.add(row[column]) if row.get(column) else None

    def dataset_row(line, row, table):
        if row.get("dataset"):
            known.datasets.setdefault(row["dataset"], row)
        _range(line, row, table)

    hooks = {
        "datatype.csv": add(known.datatypes, "datatype"),
        "typology.csv": add(known.typologies, "typology"),
        "licence.csv": add(known.licences, "licence"),
        "prefix.csv": add(known.prefixes, "prefix"),
        "dataset.csv": dataset_row,
        "field.csv": add(known.fields, "field"),
    }
    for name in ordered:
        check_file(root, os.path.join(directory, name), SPECIFICATION_FILES.get(name), checker, report, hooks.get(name))


def _range(line, row, table):
    low, high = row.get("entity-minimum", ""), row.get("entity-maximum", "")
    if low.isdigit() and high.isdigit() and int(low) > int(high):
        table.report.error(table.shown, line, f"entity-minimum {low} is greater than entity-maximum {high}",
                           table.spec.anchor)


# ---- the organisation table ----------------------------------------------------------------------------------
def load_organisations(root, known, report, path=None):
    if path is None:
        for candidate in ("dataset/organisation.csv", "example/organisation.csv"):
            if os.path.isfile(os.path.join(root, candidate)):
                path = os.path.join(root, candidate)
                break
    if path is None:
        return  # nothing to check organisations against: only their form is checked
    shown = _shown(root, path)
    try:
        with open(path, encoding="utf-8-sig", newline="") as f:
            keys = {organisation_key(r["organisation"]) for r in csv.DictReader(f) if r.get("organisation")}
    except (OSError, UnicodeDecodeError, csv.Error, KeyError) as error:
        report.error(shown, 0, f"the organisation table cannot be read ({error}): organisations are not checked",
                     "organisations")
        return
    known.organisations = keys
    known.organisation_prefixes = {k.split(":", 1)[0] for k in keys}
    known.organisation_path = shown


# ---- a collection --------------------------------------------------------------------------------------------
def check_collection(root, collection, known, report, explicit=True):
    collection_dir = os.path.join(root, "collection", collection)
    pipeline_dir = os.path.join(root, "pipeline", collection)
    if not os.path.isdir(collection_dir) and not os.path.isdir(pipeline_dir):
        report.error(_shown(root, collection_dir), 0, f"no such collection {collection!r}", "collections")
        return
    if not os.path.isdir(collection_dir) or not os.path.exists(os.path.join(collection_dir, "endpoint.csv")):
        if not explicit and not os.path.isdir(collection_dir):
            report.warning(_shown(root, pipeline_dir), 0,
                           f"there is no collection/{collection}/endpoint.csv: this configuration is never used",
                           "collections")
            return
    known.collection = collection
    known.collection_datasets = {d for d, r in known.datasets.items() if r.get("collection") == collection}
    if known.datasets and not known.collection_datasets:
        report.error("specification/dataset.csv", 0,
                     f"no dataset has collection {collection!r}: the collection would build nothing",
                     "specification-dataset-csv")
    checker = Checker(known)
    state = CollectionState(report)

    for name, spec in COLLECTION_FILES.items():
        path = os.path.join(collection_dir, name)
        if not os.path.exists(path):
            if spec.required:
                report.error(_shown(root, path), 0, "missing file", spec.anchor)
            continue
        check_file(root, path, spec, checker, report, getattr(state, spec.anchor.replace("-", "_")))
    if os.path.exists(os.path.join(collection_dir, "source.csv")):
        state.finish()  # without source.csv, its absence is the one problem to name
    if os.path.isdir(collection_dir):
        _check_directory_names(root, collection_dir, COLLECTION_FILES, COLLECTION_STATE, report, "collections")

    if not os.path.isdir(pipeline_dir):
        report.error(_shown(root, pipeline_dir), 0, "the pipeline directory is missing (it may hold header-only files)",
                     "pipeline")
        return
    hooks = PipelineHooks(checker)
    for name in sorted(os.listdir(pipeline_dir)):
        path = os.path.join(pipeline_dir, name)
        if not name.endswith(".csv") or not os.path.isfile(path):
            continue
        spec = PIPELINE_FILES.get(name)
        check_file(root, path, spec, checker, report, getattr(hooks, spec.anchor.replace("-", "_"), None) if spec else None)
    _check_directory_names(root, pipeline_dir, PIPELINE_FILES, (), report, "pipeline")


class CollectionState:
    """Rules across a collection's endpoint.csv and source.csv rows."""

    def __init__(self, report):
        self.report = report
        self.endpoints = {}  # endpoint -> (shown path, line)
        self.sourced = set()

    def endpoint_csv(self, line, row, table):
        endpoint, url = row.get("endpoint", "").strip(), row.get("endpoint-url", "")
        if endpoint:
            self.endpoints.setdefault(endpoint, (table.shown, line))
        if endpoint and url.strip() and re.match(r"^[0-9a-f]{64}$", endpoint):
            expected = hashlib.sha256(url.strip().encode("utf-8")).hexdigest()
            if expected != endpoint:
                self.report.error(table.shown, line, f"endpoint {_short(endpoint)} is not the sha256 of its endpoint-url "
                                  f"(that is {expected}): the collector would refuse it", table.spec.anchor)
        _date_order(line, row, table)

    def source_csv(self, line, row, table):
        endpoint = row.get("endpoint", "").strip()
        if not endpoint:
            return  # a placeholder for an expected publisher
        self.sourced.add(endpoint)
        if self.endpoints and endpoint not in self.endpoints and re.match(r"^[0-9a-f]{64}$", endpoint):
            self.report.error(table.shown, line, f"endpoint {_short(endpoint)} is not in endpoint.csv", table.spec.anchor)
        if "pipelines" in table.positions and not row.get("pipelines", "").strip():
            self.report.error(table.shown, line, "pipelines is blank: the endpoint's resources would feed no dataset",
                              table.spec.anchor)
        _date_order(line, row, table)

    def old_resource_csv(self, line, row, table):
        if row.get("status") == "301" and not row.get("resource", "").strip():
            self.report.error(table.shown, line, "status 301 needs the resource that replaces the old one",
                              table.spec.anchor)
        if row.get("old-resource") and row.get("old-resource") == row.get("resource"):
            self.report.error(table.shown, line, "the resource replaces itself", table.spec.anchor)

    def finish(self):
        if not self.sourced and not self.endpoints:
            return
        for endpoint, (shown, line) in sorted(self.endpoints.items(), key=lambda e: e[1]):
            if endpoint not in self.sourced:
                self.report.warning(shown, line, f"endpoint {_short(endpoint)} has no source in source.csv: "
                                    "its resources feed no dataset", "endpoint-csv")


def _short(value):
    return value[:12] + "..." if len(value) > 15 else value


DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _date_order(line, row, table):
    start, end = row.get("start-date", "")[:10], row.get("end-date", "")[:10]
    if DAY.match(start) and DAY.match(end) and end < start:
        table.report.warning(table.shown, line, f"end-date {end} is before start-date {start}", table.spec.anchor)


class PipelineHooks:
    """Rules across the columns of one pipeline file's row."""

    def __init__(self, checker):
        self.checker = checker

    def patch_csv(self, line, row, table):
        pattern, value = row.get("pattern", ""), row.get("value", "")
        if "\\" in value:
            if not pattern or self.checker("regex-ignorecase", pattern):
                return  # a bad pattern is reported as such
            groups = re.compile(pattern, re.IGNORECASE).groups
            for match in BACKREFERENCE.finditer(value):
                number = int(match.group(1) or match.group(2))
                if number > groups:
                    table.report.error(table.shown, line, f"value {value!r} refers to group {number}, but the pattern "
                                       f"has {groups} group{'s' if groups != 1 else ''}", table.spec.anchor)
                    break
        elif row.get("field") == "organisation" and value:
            self._organisation(line, value, table)

    def default_value_csv(self, line, row, table):
        if row.get("field") == "organisation" and row.get("value"):
            self._organisation(line, row["value"], table)

    def _organisation(self, line, value, table):
        problem = self.checker("organisation", value)
        if problem:
            table.report.add(table.shown, line, f"value: {problem[1]}", table.spec.anchor, problem[0])

    def old_entity_csv(self, line, row, table):
        if row.get("status") == "301" and not row.get("entity", "").strip():
            table.report.error(table.shown, line, "status 301 needs the entity the old entity redirects to",
                               table.spec.anchor)
        elif row.get("entity") and row.get("entity") == row.get("old-entity"):
            table.report.error(table.shown, line, f"entity {row['entity']} redirects to itself", table.spec.anchor)

    def entity_organisation_csv(self, line, row, table):
        _range(line, row, table)

    def threshold_csv(self, line, row, table):
        from ..errors import UserError
        from ..gate.thresholds import DOCS, read_threshold_row

        try:
            read_threshold_row(row, table.shown, line)
        except UserError as error:
            message = str(error).removeprefix(f"{table.shown}:{line}: ").replace(f" ({DOCS})", "")
            table.report.error(table.shown, line, message, table.spec.anchor)

    def expect_csv(self, line, row, table):
        parameters = row.get("parameters", "").strip()
        if parameters and "{{" not in parameters:
            problem = self.checker("json-object", parameters)
            if problem:
                table.report.error(table.shown, line, f"parameters: {problem[1]}", table.spec.anchor)
