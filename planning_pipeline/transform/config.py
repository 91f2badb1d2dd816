"""The pipeline configuration: the pipeline/*.csv files, their scoping, and a resource's effective configuration.

Each file is read once (ConfigIndex) and its rows indexed by scope: a row with a `resource` applies
only to that resource, a row with an `endpoint` only to resources collected from that endpoint, any
other row is general. Rows whose `dataset` (legacy `pipeline`) names another dataset are ignored.
ResourceConfig holds exactly the rows that apply to one resource; the transform reads nothing else,
so its canonical text (effective_config) is a complete description of what the transform used.

How the scopes combine, per file (later overrides earlier, as upstream):
  skip.csv            every general, resource and endpoint pattern applies
  concat.csv          by field: general, then resource, then endpoint
  filter.csv          by field: before mapping general then resource; after mapping general, endpoint, resource
  column.csv          endpoint then resource mappings; a general mapping is kept only if its column is not
                      mapped specifically and its field is not the target of a specific mapping
  patch.csv           by field and pattern: resource, then endpoint, then general (first definition wins,
                      and specific patterns are tried first)
  default.csv, default-value.csv, combine.csv, transform.csv    by field: general, endpoint, resource
  lookup.csv          rows for this resource, plus rows with no resource whose prefix is the dataset's (or one
                      its fields refer to) and whose organisation is blank or one of the resource's, plus
                      every row of the resource's own organisations, whatever its prefix
  old-entity.csv      the redirections of the entities those lookup rows name (followed transitively)
  entity-organisation.csv   the dataset's ranges
expect.csv is read by the expectations stage and never affects a transform.
"""
import csv
import hashlib
import io
import json
import operator
import os

from ..errors import UserError
from .keys import PLAN_PREFIXES, key_part, organisation_key, reference_typology, referenced_prefix
from .lookup_index import ENVIRONMENT as INDEX_ENVIRONMENT
from .lookup_index import MemoryLookups, build_index, open_index

SCOPED_FILES = ("column", "combine", "concat", "default", "default-value", "filter", "patch", "skip", "transform")
FILES = SCOPED_FILES + ("lookup", "old-entity", "entity-organisation", "expect")


class Row(dict):
    """A configuration row that remembers where it came from."""

    __slots__ = ("path", "line")

    def error(self, message):
        return UserError(message, self.path, self.line)


# legacy column -> current column, per file ("*" for every file but lookup and old-entity)
ALIASES = {
    "*": (("dataset", "pipeline"),),
    "column": (("dataset", "pipeline"), ("column", "pattern"), ("field", "value")),
    "lookup": (("prefix", "dataset", "pipeline"), ("reference", "value")),
    "old-entity": (),
}


def _load(pipeline_dir, name):
    """(rows, sorted column names) of a pipeline file; every row has every column, aliases filled in."""
    path = os.path.join(pipeline_dir, name + ".csv")
    if not os.path.exists(path):
        return [], []
    aliases = ALIASES.get(name, ALIASES["*"])
    rows = []
    with open(path, encoding="utf-8-sig", newline="") as f:
        reader = csv.reader(f)
        header = next(reader, [])
        columns = list(dict.fromkeys(header))
        for current, *legacy in aliases:
            if current not in columns and any(c in columns for c in legacy):
                columns.append(current)
        width = len(header)
        # per row, only the aliases with a legacy column in the file need looking at; a current
        # column the file lacks altogether is blank in every row
        fallbacks = [(current, [c for c in legacy if c in header]) for current, *legacy in aliases
                     if any(c in header for c in legacy)]
        blanks = [current for current, *legacy in aliases
                  if current not in header and not any(c in header for c in legacy)]
        try:
            for values in reader:
                if not any(values):
                    continue
                if len(values) < width:
                    values = values + [""] * (width - len(values))
                row = Row(zip(header, values))
                for current, legacy in fallbacks:
                    if not row.get(current):
                        row[current] = next((row[c] for c in legacy if row.get(c)), row.get(current, ""))
                for current in blanks:
                    row[current] = ""
                row.path, row.line = path, reader.line_num
                rows.append(row)
        except csv.Error as e:
            raise UserError(f"unreadable CSV: {e}", path, reader.line_num)
    return rows, sorted(columns)


def _block_text(name, columns, rows):
    """Canonical text of rows of one file: a line naming the file and its columns, then the values."""
    if not rows:
        return ""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["#" + name] + columns)
    writer.writerows(map(operator.itemgetter(*columns), rows) if len(columns) > 1 else ([r[columns[0]]] for r in rows))
    return out.getvalue()


def _split(value):
    if isinstance(value, str):
        value = value.replace(";", " ").split()
    return [v for v in (value or []) if v]


class ConfigIndex:
    """Every pipeline file of a collection, read once and indexed by scope."""

    def __init__(self, pipeline_dir, specification=None, lookup_index=None):
        if not os.path.isdir(pipeline_dir):
            raise UserError("pipeline directory not found", pipeline_dir)
        self.pipeline_dir = pipeline_dir
        self.specification = specification
        self.scoped = {}
        self.columns = {}
        for name in SCOPED_FILES:
            general, by_endpoint, by_resource = [], {}, {}
            rows, self.columns[name] = _load(pipeline_dir, name)
            for row in rows:
                if row.get("resource"):
                    by_resource.setdefault(row["resource"], []).append(row)
                elif row.get("endpoint"):
                    by_endpoint.setdefault(row["endpoint"], []).append(row)
                else:
                    general.append(row)
            self.scoped[name] = (general, by_endpoint, by_resource)

        # lookup.csv: from its index when one was built from the file as it is (lookup_index.py), else read whole
        lookup_path = os.path.join(pipeline_dir, "lookup.csv")
        indexed = open_index(lookup_index if lookup_index is not None else os.environ.get(INDEX_ENVIRONMENT),
                             lookup_path, Row)
        if indexed:
            self.lookups, self.columns["lookup"] = indexed
        else:
            rows, self.columns["lookup"] = _load(pipeline_dir, "lookup")
            self.lookups = MemoryLookups(rows)
        self.lookup_prefixes = self.lookups.prefixes

        self.old_entity = {}
        rows, self.columns["old-entity"] = _load(pipeline_dir, "old-entity")
        for row in rows:
            self.old_entity.setdefault(row.get("old-entity", "").strip(), []).append(row)

        self.entity_organisation, self.columns["entity-organisation"] = _load(pipeline_dir, "entity-organisation")
        self._general = {}
        self._prefixes = {}
        self._texts = {}

    def block_text(self, name, key, rows):
        """The canonical text of a block of rows shared by many resources, made once."""
        text = self._texts.get((name, key))
        if text is None:
            text = self._texts[(name, key)] = _block_text(name, self.columns[name], rows)
        return text

    def general(self, name, dataset):
        key = (name, dataset)
        if key not in self._general:
            self._general[key] = [r for r in self.scoped[name][0] if r.get("dataset", "") in ("", dataset)]
        return self._general[key]

    def prefixes(self, dataset):
        """(the dataset's own lookup prefix, the prefixes its fields' values can refer to)."""
        if dataset not in self._prefixes:
            spec = self.specification
            if spec is None:
                own = key_part(dataset)
                self._prefixes[dataset] = (own, frozenset(self.lookup_prefixes - {own}))
            else:
                own = key_part(spec.dataset_prefix(dataset))
                referenced = set()
                organisation_datasets = [d for d, r in spec.dataset.items() if r.get("typology") == "organisation"]
                for field in spec.schema_fields(dataset):
                    typology = reference_typology(spec, field)
                    if not typology:
                        continue
                    referenced.add(key_part(referenced_prefix(spec, field)))
                    if typology == "organisation":
                        for d in organisation_datasets:
                            referenced.add(key_part(d))
                            referenced.add(key_part(spec.dataset_prefix(d)))
                            referenced.update(p for p in self.lookup_prefixes if p.startswith(key_part(d) + "-"))
                if "plan" in referenced:
                    referenced.update(PLAN_PREFIXES)
                referenced.discard(own)
                self._prefixes[dataset] = (own, frozenset(referenced))
        return self._prefixes[dataset]

    def resource_config(self, dataset, resource, endpoints=(), organisations=()):
        return ResourceConfig(self, dataset, resource, _split(endpoints), _split(organisations))


class ResourceConfig:
    """The configuration rows that apply to one resource of one dataset, and what they mean."""

    def __init__(self, index, dataset, resource, endpoints, organisations):
        self.index = index
        self.dataset = dataset
        self.resource = resource
        self.endpoints = list(dict.fromkeys(endpoints))
        self.organisations = list(dict.fromkeys(organisations))
        self.rows = {}
        for name in SCOPED_FILES:
            _, by_endpoint, by_resource = index.scoped[name]
            endpoint_rows = []
            for endpoint in self.endpoints:
                endpoint_rows.extend(r for r in by_endpoint.get(endpoint, ()) if r.get("dataset", "") in ("", dataset))
            resource_rows = [r for r in by_resource.get(resource, ()) if r.get("dataset", "") in ("", dataset)]
            self.rows[name] = (index.general(name, dataset), endpoint_rows, resource_rows)

        own, referenced = index.prefixes(dataset)
        organisation_keys = [""] + sorted({organisation_key(o) for o in self.organisations})
        self.lookup_blocks = []
        lookups = index.lookups
        for prefix in [own] + sorted(referenced):
            for organisation in organisation_keys:
                rows = lookups.block((prefix, organisation))
                if rows:
                    self.lookup_blocks.append(((prefix, organisation), rows))
        # a resource's own organisations' rows apply whatever prefix the data names (an organisation
        # dataset's rows carry prefixes such as transport-authority)
        taken = {block for block, _ in self.lookup_blocks}
        for block, rows in lookups.organisation_blocks(set(organisation_keys[1:])):
            if block not in taken:
                self.lookup_blocks.append((block, rows))
        self.lookup_resource_rows = list(lookups.resource_rows(resource))

        self.old_entity_rows = self._old_entity_rows(
            [r for _, rows in self.lookup_blocks for r in rows] + self.lookup_resource_rows)
        self.entity_organisation_rows = [r for r in index.entity_organisation if r.get("dataset", "") in ("", dataset)]

    def _old_entity_rows(self, lookup_rows):
        """The old-entity.csv rows of the chains of redirections that start at these rows' entities."""
        index = self.index
        # only entities old-entity.csv names start a chain of redirections
        entities = set()
        if index.old_entity:
            entities = {r.get("entity", "").strip() for r in lookup_rows}
        seen, old, todo = set(), [], sorted(e for e in entities if e and e in index.old_entity)
        while todo:
            entity = todo.pop()
            if entity in seen:
                continue
            seen.add(entity)
            for row in index.old_entity.get(entity, ()):
                old.append(row)
                if row.get("entity", "").strip():
                    todo.append(row.get("entity", "").strip())
        return sorted(old, key=lambda r: r.line)

    # --- canonical text -------------------------------------------------------------------------------
    def text(self, asked=None):
        """Canonical text of every row this resource's transform can use.

        A JSON line naming the resource, then per file a line "#<file>,<sorted columns>" and the
        rows' values in that column order: general rows in file order, then the rows scoped to the
        resource or its endpoints in file order (each row's scope is in its own values).

        asked (a lookup_keys.Asked: the lookup keys this resource's transform asked): of the general
        lookup rows, only those that can answer one of those keys, and the old-entity rows of their
        chains (the other rows cannot change its output).
        """
        head = {"dataset": self.dataset, "resource": self.resource,
                "endpoints": sorted(self.endpoints), "organisations": sorted(self.organisations)}
        index = self.index
        parts = [json.dumps(head, sort_keys=True, separators=(",", ":")) + "\n"]
        for name in SCOPED_FILES:
            general, endpoint_rows, resource_rows = self.rows[name]
            parts.append(index.block_text(name, ("general", self.dataset), general))
            specific = sorted({id(r): r for r in endpoint_rows + resource_rows}.values(), key=lambda r: r.line)
            parts.append(_block_text(name, index.columns[name], specific))
        if asked is None:
            for key, rows in self.lookup_blocks:
                parts.append(index.block_text("lookup", key, rows))
            old_entity_rows = self.old_entity_rows
        else:
            selected = []
            for key, rows in self.lookup_blocks:
                rows = [r for r in rows if asked.selects(r)]
                parts.append(_block_text("lookup", index.columns["lookup"], rows))
                selected.extend(rows)
            old_entity_rows = self._old_entity_rows(selected + self.lookup_resource_rows)
        parts.append(_block_text("lookup", index.columns["lookup"], self.lookup_resource_rows))
        parts.append(_block_text("old-entity", index.columns["old-entity"], old_entity_rows))
        parts.append(index.block_text("entity-organisation", self.dataset, self.entity_organisation_rows))
        return "".join(parts)

    def digest(self, asked=None):
        return hashlib.sha256(self.text(asked).encode("utf-8")).hexdigest()

    # --- what the rows mean -------------------------------------------------------------------------
    def _by_field(self, name, order, key="field", value=None):
        general, endpoint_rows, resource_rows = self.rows[name]
        groups = {"general": general, "endpoint": endpoint_rows, "resource": resource_rows}
        result = {}
        for scope in order:
            for row in groups[scope]:
                field = row.get(key, "")
                if field:
                    result[field] = row if value is None else row.get(value, "")
        return result

    def skip_patterns(self):
        general, endpoint_rows, resource_rows = self.rows["skip"]
        return [(r["pattern"], r) for r in general + resource_rows + endpoint_rows if r.get("pattern")]

    def concatenations(self):
        """{field: row} with fields (;-separated), separator, prepend, append."""
        return self._by_field("concat", ("general", "resource", "endpoint"))

    def filters(self, mapped):
        """{field or column: (pattern, row)}: before mapping general+resource, after general+endpoint+resource."""
        order = ("general", "endpoint", "resource") if mapped else ("general", "resource")
        return {f: (r.get("pattern", ""), r) for f, r in self._by_field("filter", order).items()}

    def columns(self):
        """{normalised column name: field}."""
        from .keys import column_key

        general, endpoint_rows, resource_rows = self.rows["column"]
        specific = {}
        for row in endpoint_rows + resource_rows:
            if row.get("column") and row.get("field"):
                specific[column_key(row["column"])] = row["field"]
        targets = set(specific.values())
        result = dict(specific)
        for row in general:
            column, field = column_key(row.get("column")), row.get("field", "")
            if not column or not field or column in specific or field in targets:
                continue
            result[column] = field
        return result

    def patches(self):
        """{field ("" for every field): [(pattern, replacement, row)]} in the order they are tried."""
        general, endpoint_rows, resource_rows = self.rows["patch"]
        seen, result = set(), {}
        for row in resource_rows + endpoint_rows + general:
            field, pattern = row.get("field", ""), row.get("pattern", "")
            if not pattern or (field, pattern) in seen:
                continue
            seen.add((field, pattern))
            result.setdefault(field, []).append((pattern, row.get("value", ""), row))
        return result

    def default_fields(self):
        return self._by_field("default", ("general", "endpoint", "resource"), value="default-field")

    def default_values(self):
        return self._by_field("default-value", ("general", "endpoint", "resource"), value="value")

    def combine_fields(self):
        return self._by_field("combine", ("general", "endpoint", "resource"), value="separator")

    def migrations(self):
        """{old field: new field} from transform.csv; two old fields for one new field is an error."""
        result, by_new = {}, {}
        for field, row in self._by_field("transform", ("general", "endpoint", "resource")).items():
            new = row.get("replacement-field", "")
            if not new:
                continue
            if new in by_new and by_new[new] != field:
                raise row.error(f"replacement-field {new!r} is already the replacement of {by_new[new]!r}")
            by_new[new] = field
            result[field] = new
        return result

    def lookup_rows(self):
        """The general lookup rows, then this resource's (which take precedence)."""
        for _, rows in self.lookup_blocks:
            yield from rows
        yield from self.lookup_resource_rows

    def entity_organisation_ranges(self):
        """[(minimum, maximum, organisation)] sorted by minimum."""
        ranges = []
        for row in self.entity_organisation_rows:
            try:
                ranges.append((int(row["entity-minimum"]), int(row["entity-maximum"]), row.get("organisation", "")))
            except (KeyError, ValueError):
                raise row.error("entity-minimum and entity-maximum must be whole numbers")
        return sorted(ranges)


_INDEXES = {}


def _signature(pipeline_dir):
    stats = []
    for name in FILES:
        try:
            st = os.stat(os.path.join(pipeline_dir, name + ".csv"))
            stats.append((name, st.st_mtime_ns, st.st_size))
        except FileNotFoundError:
            pass
    return tuple(stats)


def config_index(pipeline_dir, specification=None):
    """A ConfigIndex for pipeline_dir, reused while its files are unchanged."""
    key = (os.path.abspath(pipeline_dir), os.path.abspath(specification.path) if specification else None)
    signature = _signature(pipeline_dir)
    cached = _INDEXES.get(key)
    if cached and cached[0] == signature:
        return cached[1]
    index = ConfigIndex(pipeline_dir, specification)
    _INDEXES[key] = (signature, index)
    return index


def build_lookup_index(pipeline_dir, output):
    """Index pipeline_dir's lookup.csv into output (lookup_index.py); returns the number of rows."""
    if not os.path.isdir(pipeline_dir):
        raise UserError("pipeline directory not found", pipeline_dir)
    rows, columns = _load(pipeline_dir, "lookup")
    return build_index(rows, columns, os.path.join(pipeline_dir, "lookup.csv"), output)


def effective_config(pipeline_dir, dataset, resource, endpoints=(), organisations=(), specification=None):
    """The canonical text of exactly the configuration rows that can affect this resource's transform."""
    return config_index(pipeline_dir, specification).resource_config(dataset, resource, endpoints, organisations).text()
