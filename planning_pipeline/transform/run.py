"""Transform one resource: convert it, run the phases over chunks of rows, write facts and logs.

Phase order (as upstream): normalise + skip, parse, concat, filter (column names), map, filter
(field names), patch, harmonise, default, migrate (+ field prune), organisation, reference and
prefix, entity lookup, entity prune, priority, pivot, combine, fact hash, fact reference and
lookup, fact prune. Rows move in chunks so geometry and point harmonising uses the batch datatype
API; everything else is per value with plans made once per resource. Memory stays flat except for
combine's buffer (combined fields only) and the per-entity reference-uniqueness check.
"""
import csv
import gc
import itertools
import json
import os
import shutil
import tempfile

from ..csvio import read_csv
from ..errors import UserError
from ..files import atomic_write
from ..specification import ENTITY_KEY_FIELDS, Specification
from .config import config_index
from .default import Default, Migrate
from .entity import EntityPrune, LookupPhase, OrganisationPhase, Priority, ReferencePhase
from .facts import FACT_FIELDS, Combine, FactWriter
from .harmonise import Harmonise, load_category_values
from .issues import IssueLog
from .logs import code_version, write_column_field, write_converted_resource, write_dataset_resource
from .lookup import EntityOrganisations, Lookups
from .lookup_keys import Asked, RecordingLookups
from .mapping import Concat, Filter, Map
from .normalise import Reader, Unreadable, compile_skips
from .organisation import Organisations
from .patch import Patch

CHUNK_SIZE = 2000
# a converted CSV at least this big has its per-row phases run on two cores (parallel.py); smaller
# ones (most resources) are not worth forking for. PLANNING_TRANSFORM_PARALLEL_BYTES overrides it
# (0: always, -1: never).
PARALLEL_BYTES = 4_000_000


def parallel_threshold():
    value = os.environ.get("PLANNING_TRANSFORM_PARALLEL_BYTES", "")
    try:
        return int(value) if value.strip() else PARALLEL_BYTES
    except ValueError:
        raise UserError(f"PLANNING_TRANSFORM_PARALLEL_BYTES={value!r} is not a whole number of bytes")


def split_list(value):
    if isinstance(value, str):
        return value.replace(";", " ").split()
    return [v for v in (value or []) if v]


def odp_prefixes(specification):
    """Datasets that belong to a specification in provision-rule.csv: their references must resolve."""
    path = os.path.join(specification.path, "provision-rule.csv")
    return {r["dataset"] for r in read_csv(path) if r.get("specification") and r.get("dataset")}


# --- conversion ------------------------------------------------------------------------------------
def _convert(resource_path, csv_path):
    from .. import convert

    try:
        result = convert.convert(resource_path, csv_path)
    except Exception as e:  # a bad file is a logged failure, never a traceback
        result = {"status": "failed", "exception": f"{type(e).__name__}: {e}"}
    result = dict(result or {})
    result.setdefault("status", "failed")
    return result


def cached_conversion(resource_path, converted_dir):
    """(result, path) of the resource's conversion kept in converted_dir while it is newer than the
    resource, or None."""
    name = os.path.basename(resource_path)
    path = os.path.join(converted_dir, name + ".csv")
    meta = os.path.join(converted_dir, name + ".json")
    try:
        source = os.stat(resource_path).st_mtime_ns
        if os.stat(path).st_mtime_ns >= source and os.stat(meta).st_mtime_ns >= source:
            with open(meta, encoding="utf-8") as f:
                result = json.load(f)
            if result.get("status") == "success":
                return result, path
    except (OSError, ValueError):
        pass
    return None


def convert_resource(resource_path, converted_dir=None, tmp=None):
    """(conversion result, converted CSV path, temporary directory to remove or None).

    Without converted_dir the CSV is written in tmp (a new temporary directory if None). With
    converted_dir it is kept as converted_dir/<file>.csv (with the conversion result in <file>.json)
    and reused while it is newer than the resource.
    """
    name = os.path.basename(resource_path)
    if not converted_dir:
        tmp = tmp or tempfile.mkdtemp(prefix="transform-")
        path = os.path.join(tmp, name + ".csv")
        return _convert(resource_path, path), path, tmp
    cached = cached_conversion(resource_path, converted_dir)
    if cached:
        return cached[0], cached[1], None
    path = os.path.join(converted_dir, name + ".csv")
    meta = os.path.join(converted_dir, name + ".json")
    os.makedirs(converted_dir, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="." + name + ".", dir=converted_dir)
    try:
        result = _convert(resource_path, os.path.join(tmp, name + ".csv"))
        if result["status"] == "success":
            os.replace(os.path.join(tmp, name + ".csv"), path)
            with atomic_write(meta) as f:
                json.dump(result, f, sort_keys=True, default=str)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return result, path, None


def start_conversion(resource_path, converted_dir, threshold):
    """The resource's conversion started in a forked process, to run while this one loads the
    configuration: (parallel.Forked, whose result() is convert_resource's, the temporary directory it
    writes in), or (None, None) where that is not worth it: a resource smaller than threshold (or a
    negative threshold), a conversion already kept in converted_dir, one core."""
    if threshold < 0 or os.path.getsize(resource_path) < threshold:
        return None, None
    if converted_dir and cached_conversion(resource_path, converted_dir):
        return None, None
    from . import parallel as two_cores

    if two_cores.cores() < 2 or not two_cores.single_threaded():
        return None, None
    tmp = None if converted_dir else tempfile.mkdtemp(prefix="transform-")
    return two_cores.Forked(convert_resource, resource_path, converted_dir, tmp), tmp


def finish_conversion(background, resource_path, converted_dir, tmp):
    """convert_resource's result, from the forked process if there is one (converting here instead if
    it failed: the same outcome, an error included)."""
    if background is not None:
        from .parallel import WorkerError

        try:
            return background.result()
        except WorkerError:
            pass
    return convert_resource(resource_path, converted_dir, tmp)


# --- the transform --------------------------------------------------------------------------------
class Transform:
    """The phases of one resource, built once from its configuration."""

    def __init__(self, specification, config, organisations, issues, entry_date="", cache_dir=None, asked=None):
        spec = specification
        dataset = config.dataset
        self.config = config
        self.issues = issues
        self.asked = asked  # a lookup_keys.Asked: the lookup keys the run asks are recorded in it
        migrations = config.migrations()
        fieldnames = list(dict.fromkeys(spec.schema_fields(dataset) + list(migrations) + list(ENTITY_KEY_FIELDS)))
        self.fieldnames = fieldnames
        self.skips = compile_skips(config.skip_patterns())
        self.concat = Concat(config.concatenations())
        self.map = Map(config.columns(), fieldnames)
        self.lookups = Lookups(config.lookup_rows(), config.old_entity_rows)
        self.migrate = Migrate(spec, dataset, migrations)
        self.prune = EntityPrune()
        self.combine = Combine(config.combine_fields(), issues)
        categories = load_category_values(spec, fieldnames, cache_dir)
        self.unmapped_filter = Filter(config.filters(mapped=False))
        self.harmonise = Harmonise(spec, dataset, issues, categories)
        self.before_lookup = [
            self.concat,
            self.unmapped_filter,
            self.map,
            Filter(config.filters(mapped=True)),
            Patch(config.patches(), issues),
            self.harmonise,
            Default(config.default_fields(), config.default_values(), issues, config.organisations, entry_date),
            self.migrate,
            OrganisationPhase(organisations, issues),
            ReferencePhase(dataset, spec.dataset_prefix(dataset)),
            LookupPhase(self.lookups, issues, config.organisations, spec.entity_range(dataset)),
        ]
        self.after_lookup = [
            self.prune,
            Priority(EntityOrganisations(config.entity_organisation_ranges()), config.organisations),
        ]
        self.odp = odp_prefixes(spec)

    def column_fields(self):
        return self.concat.column_fields() + list(self.map.pairs or [])

    def run(self, reader, out, resource, chunk_size=CHUNK_SIZE, parallel=False):
        # The configuration and lookups are long-lived and never garbage: keep the cyclic garbage
        # collector from re-scanning them while the rows stream by (about a tenth of the run time).
        gc.collect()
        gc.freeze()
        threshold = gc.get_threshold()
        gc.set_threshold(50000, 20, 100)
        try:
            return self._run(reader, out, resource, chunk_size, parallel)
        finally:
            gc.set_threshold(*threshold)
            gc.unfreeze()

    def mapped_fields(self, header):
        """[(cell index, field)]: the column mapping by position, for a reader that maps as it reads."""
        position = {column: i for i, column in enumerate(header)}  # the last of a repeated column, as a dict
        return [(position[column], field) for column, field in self.map.plan(self.concat.columns(header))]

    def looked_up_chunks(self, reader, chunk_size=CHUNK_SIZE, parallel=False):
        """The reader's entries in chunks, through every phase up to and including the entity lookup.

        parallel: a worker process runs some of the chunks (parallel.py); the same chunks come out,
        each with its issues in self.issues.pending."""
        phases = self.before_lookup
        if self.concat.rules or self.unmapped_filter.filters:
            entries = reader.entries()
        else:  # nothing needs the rows by column name: the reader maps them (skipping a dict a row)
            entries = reader.entries(self.mapped_fields)
            phases = phases[phases.index(self.map) + 1:]
        if parallel:
            from . import parallel as two_cores  # imported only here: most resources are small

            first = next(entries, None)  # (the header is read, and the mapping planned)
            entries = itertools.chain([first] if first is not None else [], entries)
            # one core, or a process with other threads (see parallel.single_threaded): serially
            parallel = first is not None and two_cores.cores() > 1 and two_cores.single_threaded()
        chunks = iter(lambda: list(itertools.islice(entries, chunk_size)), [])
        if parallel:
            # everything the phases need is settled before the worker is forked
            if self.map.pairs is None:
                self.map.plan(self.concat.columns(reader.header))
            yield from two_cores.looked_up_chunks(chunks, phases, self.issues,
                                                  self.harmonise.modules(self.fieldnames))
        else:
            for chunk in chunks:
                if self.map.pairs is None:
                    self.map.plan(self.concat.columns(reader.header))
                for phase in phases:
                    chunk = phase.process(chunk)
                yield chunk
        # a header-only resource still has its columns mapped (for the column-field log)
        if self.map.pairs is None and reader.header is not None:
            self.map.plan(self.concat.columns(reader.header))

    def _run(self, reader, out, resource, chunk_size, parallel=False):
        asked = self.asked
        lookups = self.lookups if asked is None else RecordingLookups(self.lookups, asked)
        facts = FactWriter(out, resource, self.config.index.specification, self.config.dataset, lookups,
                           self.issues, self.migrate.keep, self.combine, self.odp,
                           check_duplicates=not self.combine.fields)
        facts.header()
        chunks = self.looked_up_chunks(reader, chunk_size, parallel)
        try:
            for chunk in chunks:
                if asked is not None:
                    asked.entries(chunk)
                entities = {}
                for entry in chunk:
                    if entry.row.get("entity"):
                        entities.setdefault(entry.number, entry.row["entity"])
                for phase in self.after_lookup:
                    chunk = phase.process(chunk)
                facts.write_entries(chunk)
                self.issues.flush(entities)
        finally:
            chunks.close()  # a failure ends the worker process now, not when the traceback goes
        facts.write(self.combine.finish())
        self.issues.flush()
        return facts


def log_unknown_organisations(issues, organisations, known):
    """A resource's organisation (from its sources) that organisation.csv does not know is an issue of
    the resource as a whole (no line): its rows may then get no entity or the wrong priority."""
    for organisation in organisations:
        if not known.lookup(organisation):
            issues.log("", "", "organisation", "invalid organisation", organisation,
                       f"the resource's organisation '{organisation}' (source.csv) is not a known organisation")


def transform(resource_path, output_path, *, dataset, pipeline_dir, organisation_path, specification=None,
              specification_dir="specification", endpoints=(), organisations=(), entry_date="", resource=None,
              issue_dir, column_field_dir, dataset_resource_dir, converted_resource_dir, converted_dir=None,
              cache_dir="var/cache", chunk_size=CHUNK_SIZE, parallel_bytes=None, config_stamp=None):
    """Transform one resource; returns a summary dict. Conversion failures are logged, not raised.

    config_stamp: the resource's configuration stamp (stamps.py), brought up to date with the lookup
    keys this run asked (the output is then left newer than the stamp).

    parallel_bytes: a converted CSV of at least this many bytes runs on two cores (default
    PARALLEL_BYTES or $PLANNING_TRANSFORM_PARALLEL_BYTES; negative: never)."""
    if not os.path.isfile(resource_path):
        raise UserError("resource file not found", resource_path)
    resource = resource or os.path.basename(resource_path)
    threshold = parallel_threshold() if parallel_bytes is None else parallel_bytes
    background, tmp = start_conversion(resource_path, converted_dir, threshold)
    try:
        spec = specification or Specification(specification_dir)
        if dataset not in spec.dataset:
            raise UserError(f"dataset {dataset!r} is not in the specification",
                            os.path.join(spec.path, "dataset.csv"))
        if not os.path.isfile(organisation_path):
            raise UserError("organisation file not found", organisation_path)
        config = config_index(pipeline_dir, spec).resource_config(dataset, resource, split_list(endpoints),
                                                                  split_list(organisations))
        issue_path = os.path.join(issue_dir, resource + ".csv")
        issues = IssueLog(dataset, resource, {t: r.get("severity", "") for t, r in spec.issue_type.items()})
        # every configuration error surfaces here, before any output is written (a conversion
        # started in the background is stopped)
        organisation_patches = [(p, v) for p, v, _ in config.patches().get("OrganisationURI", [])]
        asked = Asked(config.organisations)
        known = Organisations(organisation_path, patches=organisation_patches)
        job = Transform(spec, config, known, issues, entry_date, cache_dir, asked)
        # work needed anyway, done while a conversion in the background finishes
        hashes = {"code-version": code_version(), "config-hash": "", "specification-hash": spec.digest}
        if background is not None:  # a big resource: its worker, forked later, inherits these modules
            from .parallel import preload

            preload(job.harmonise.modules(job.fieldnames), until=background.done)
        conversion, converted_path, tmp = finish_conversion(background, resource_path, converted_dir, tmp)
    except BaseException:
        if background is not None:
            background.cancel()
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
        raise
    summary = {"dataset": dataset, "resource": resource, "status": conversion["status"],
               "exception": conversion.get("exception") or "", "entity-count": 0, "entry-count": 0,
               "line-count": 0, "fact-count": 0}
    column_fields = []
    try:
        if conversion["status"] == "success":
            reader = None
            try:
                with open(converted_path, encoding="utf-8", errors="replace", newline="") as source, \
                        atomic_write(output_path) as out, atomic_write(issue_path) as issue_file:
                    issues.open(issue_file)
                    log_unknown_organisations(issues, config.organisations, known)
                    reader = Reader(source, job.skips)
                    parallel = 0 <= threshold <= os.fstat(source.fileno()).st_size
                    facts = job.run(reader, out, resource, chunk_size, parallel)
                column_fields = job.column_fields()
                summary.update({"entity-count": len(facts.entities), "entry-count": job.prune.count,
                                "line-count": reader.line_count, "fact-count": facts.count})
            except Unreadable as e:
                summary.update(status="failed", exception=str(e))
        if summary["status"] != "success":
            with atomic_write(output_path) as out:
                csv.writer(out, lineterminator="\n").writerow(FACT_FIELDS)
            with atomic_write(issue_path) as issue_file:
                IssueLog(dataset, resource).open(issue_file)
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)

    # the configuration the output depends on: lookup rows only those that answer a key it asked (lookup_keys.py)
    hashes["config-hash"] = config.digest(asked)
    write_column_field(os.path.join(column_field_dir, resource + ".csv"), dataset, resource, column_fields)
    write_dataset_resource(os.path.join(dataset_resource_dir, resource + ".csv"), {
        "dataset": dataset, "resource": resource,
        "entity-count": summary["entity-count"], "entry-count": summary["entry-count"],
        "line-count": summary["line-count"],
        "mime-type": conversion.get("mime_type") or "",
        "internal-path": conversion.get("internal_path") or "",
        "internal-mime-type": conversion.get("internal_mime_type") or "",
        **hashes,
    })
    elapsed = conversion.get("elapsed")
    write_converted_resource(os.path.join(converted_resource_dir, resource + ".csv"), dataset, resource,
                             f"{elapsed:.3f}" if isinstance(elapsed, (int, float)) else (elapsed or ""),
                             summary["status"], summary["exception"])
    if config_stamp:
        from .stamps import record_asked

        if record_asked(config_stamp, asked, hashes["config-hash"]):
            os.utime(output_path)  # newer than the stamp it just rewrote: Make sees it up to date
    summary["issues"] = issues.summary()
    return summary
