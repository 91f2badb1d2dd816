"""What a configuration value may be, by kind; and what the specification and organisation table know.

Each checker takes (value, known) and returns None when the value is good, or (severity, message). Results
are memoised per value: configuration files repeat the same few values thousands of times.
"""
import datetime
import json
import re
import urllib.parse

from .report import ERROR, WARNING

HASH = re.compile(r"^[0-9a-f]{64}$")
INTEGER = re.compile(r"^[0-9]+$")
# a date, or a date and time: YYYY-MM-DD[Thh:mm[:ss[.ffffff]]][Z|+hh:mm]; upstream's collector once wrote
# hh:hh:mm:ss, which is accepted too
DATE = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:[T ]\d{2}(?::\d{2}){1,3}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?)?$")
BACKREFERENCE = re.compile(r"\\(\d+)|\\g<(\d+)>")


class Known:
    """Names the check can know: datasets, fields, prefixes, organisations, licences, operations."""

    def __init__(self):
        self.datasets = {}  # dataset -> its dataset.csv row
        self.fields = set()
        self.datatypes = set()
        self.typologies = set()
        self.licences = set()
        self.prefixes = set()  # prefix.csv
        self.organisations = None  # normalised CURIEs of the organisation table, or None without one
        self.organisation_prefixes = set()  # normalised
        self.organisation_path = ""
        self.operations = set()
        self.collection = ""  # the collection being checked
        self.collection_datasets = set()

    def dataset_prefixes(self):
        return {r.get("prefix") or d for d, r in self.datasets.items()}


def organisation_key(curie):
    """A CURIE as the pipeline matches it: local-authority-eng and local-authority are the same prefix."""
    prefix, _, reference = curie.strip().partition(":")
    prefix = prefix.strip().lower()
    if prefix == "local-authority-eng":
        prefix = "local-authority"
    return f"{prefix}:{reference.strip().lower()}"


def check_hash(value, known):
    if not HASH.match(value):
        return ERROR, f"{value!r} is not a sha256 hash (64 lower-case hexadecimal digits)"


def check_integer(value, known):
    if not INTEGER.match(value):
        return ERROR, f"{value!r} is not a whole number"


def check_date(value, known):
    match = DATE.match(value)
    if match:
        try:
            datetime.date.fromisoformat(match.group(1))
            return None
        except ValueError:
            pass
    return ERROR, f"{value!r} is not a date (YYYY-MM-DD, or YYYY-MM-DDThh:mm:ssZ)"


def check_date_unused(value, known):
    """A date the pipeline does not read (a specification file's entry-date): a bad one is a warning."""
    problem = check_date(value, known)
    return (WARNING, problem[1] + ": the pipeline does not read it") if problem else None


def _regex(value, flags=0):
    try:
        re.compile(value, flags)
    except re.error as error:
        return ERROR, f"{value!r} is not a valid regular expression: {error}"
    except (OverflowError, RecursionError, ValueError) as error:
        return ERROR, f"{value!r} is not a valid regular expression: {error}"


def check_regex(value, known):
    return _regex(value)


def check_regex_ignorecase(value, known):
    return _regex(value, re.IGNORECASE)


def check_url(value, known):
    """An endpoint the collector can fetch: http(s)://host/... or file:PATH, no spaces."""
    if value != value.strip() or any(c.isspace() or ord(c) < 32 for c in value):
        return ERROR, f"URL {value!r} contains spaces or control characters (encode them, e.g. %20)"
    try:
        parts = urllib.parse.urlsplit(value)
    except ValueError as error:
        return ERROR, f"URL {value!r} is not valid: {error}"
    scheme = parts.scheme.lower()
    if scheme in ("http", "https"):
        try:
            parts.port  # noqa: B018 (raises on a bad port)
        except ValueError:
            return ERROR, f"URL {value!r} has a bad port"
        if not parts.hostname:
            return ERROR, f"URL {value!r} has no host"
        return None
    if scheme == "file":
        if not parts.path:
            return ERROR, f"URL {value!r} has no path"
        return None
    return ERROR, f"URL {value!r} is not an http, https or file URL"


def check_web_url(value, known):
    """A documentation link: an http(s) URL; only a warning, nothing is fetched from it."""
    parts = urllib.parse.urlsplit(value) if " " not in value.strip() else None
    if parts is None or parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return WARNING, f"{value!r} is not an http(s) URL"


def check_json_object(value, known):
    try:
        parsed = json.loads(value)
    except ValueError as error:
        return ERROR, f"{value!r} is not JSON: {error}"
    if not isinstance(parsed, dict):
        return ERROR, f"{value!r} is not a JSON object ({{...}})"


def check_dataset(value, known):
    if not known.datasets:
        return None
    if value not in known.datasets:
        return ERROR, f"unknown dataset {value!r}{_nearest(value, known.datasets)} (not in specification/dataset.csv)"
    if known.collection and value not in known.collection_datasets:
        return WARNING, (f"dataset {value!r} is not one of collection {known.collection}'s datasets "
                         f"({', '.join(sorted(known.collection_datasets)) or 'none'}): the row is never used")


def check_datasets(value, known):
    """A ';'-separated list of datasets."""
    results = [check_dataset(v.strip(), known) for v in value.split(";") if v.strip()]
    results = [r for r in results if r]
    if not results:
        return None
    severity = ERROR if any(s == ERROR for s, _ in results) else WARNING
    return severity, "; ".join(m for _, m in results)


def check_field(value, known):
    if known.fields and value not in known.fields:
        return ERROR, f"unknown field {value!r}{_nearest(value, known.fields)} (not in specification/field.csv)"


def check_field_or_ignore(value, known):
    return None if value == "IGNORE" else check_field(value, known)


def check_organisation(value, known):
    if ":" not in value or not value.split(":", 1)[0].strip() or not value.split(":", 1)[1].strip():
        return ERROR, f"organisation {value!r} is not a CURIE (prefix:reference, e.g. local-authority:SWK)"
    if known.organisations is None:
        return None
    key = organisation_key(value)
    if key in known.organisations:
        return None
    prefix = key.split(":", 1)[0]
    if prefix not in known.organisation_prefixes:
        return ERROR, (f"organisation {value!r} has an unknown prefix {value.split(':', 1)[0]!r}"
                       f"{_nearest(prefix, known.organisation_prefixes)} (not in {known.organisation_path})")
    return WARNING, f"organisation {value!r} is not in {known.organisation_path} (a new organisation?)"


def check_organisations(value, known):
    """expect.csv organisations: ';'-separated CURIEs or organisation datasets such as local-authority."""
    for item in (v.strip() for v in value.split(";")):
        if not item:
            continue
        if ":" in item:
            result = check_organisation(item, known)
        elif known.organisations is not None and organisation_key(item + ":").split(":")[0] not in known.organisation_prefixes:
            result = ERROR, f"{item!r} is neither an organisation CURIE nor a kind of organisation in {known.organisation_path}"
        else:
            result = None
        if result:
            return result


def check_licence(value, known):
    if known.licences and value not in known.licences:
        return WARNING, f"unknown licence {value!r} (not in specification/licence.csv)"


def check_plugin(value, known):
    from ..collect.plugins import PLUGINS

    if value.strip().lower() not in PLUGINS:
        return ERROR, f"unknown plugin {value!r} (known: {', '.join(PLUGINS)}; blank for a plain download)"


def check_status(value, known):
    if value not in ("301", "410"):
        return ERROR, f"status {value!r} is neither 301 (moved: replaced by another) nor 410 (gone)"


def check_lookup_prefix(value, known):
    if not known.datasets:
        return None
    valid = known.dataset_prefixes() | set(known.datasets) | known.prefixes | known.organisation_prefixes
    if known.organisation_prefixes & {"local-authority"}:
        valid.add("local-authority-eng")
    if value not in valid:
        return ERROR, (f"unknown prefix {value!r}{_nearest(value, known.datasets)} (not a dataset or prefix of the "
                       "specification, nor an organisation prefix)")


def check_operation(value, known):
    if known.operations and value.strip() not in known.operations:
        return ERROR, f"unknown operation {value!r}{_nearest(value.strip(), known.operations)}"


def check_datatype(value, known):
    if known.datatypes and value not in known.datatypes:
        return ERROR, f"unknown datatype {value!r}{_nearest(value, known.datatypes)} (not in specification/datatype.csv)"


def check_typology(value, known):
    if known.typologies and value not in known.typologies:
        return ERROR, f"unknown typology {value!r}{_nearest(value, known.typologies)} (not in specification/typology.csv)"


KINDS = {
    "hash": check_hash,
    "integer": check_integer,
    "date": check_date,
    "date-unused": check_date_unused,
    "regex": check_regex,
    "regex-ignorecase": check_regex_ignorecase,
    "url": check_url,
    "web-url": check_web_url,
    "json-object": check_json_object,
    "dataset": check_dataset,
    "datasets": check_datasets,
    "field": check_field,
    "field-or-ignore": check_field_or_ignore,
    "organisation": check_organisation,
    "organisations": check_organisations,
    "licence": check_licence,
    "plugin": check_plugin,
    "status": check_status,
    "lookup-prefix": check_lookup_prefix,
    "operation": check_operation,
    "datatype": check_datatype,
    "typology": check_typology,
}


# kinds whose good values a regular expression alone recognises (checked without memoising: they rarely repeat)
FAST = {"hash": HASH, "integer": INTEGER}


class Checker:
    """The memoised checkers of one collection's run."""

    def __init__(self, known):
        self.known = known
        self.memo = {kind: {} for kind in KINDS}

    def __call__(self, kind, value):
        memo = self.memo[kind]
        try:
            return memo[value]
        except KeyError:
            result = memo[value] = KINDS[kind](value, self.known)
            return result


def distance(a, b, limit=3):
    """The optimal-string-alignment edit distance of a and b (a swap of neighbours counts one), capped at limit."""
    if abs(len(a) - len(b)) >= limit:
        return limit
    previous2, previous = None, list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = ca != cb
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return min(previous[-1], limit)


def near(name, candidates):
    """The candidate a misspelt name most likely meant, or None: at most 1 edit for a name of 4 or fewer
    characters, 2 otherwise (letter case, '_' for '-' and surrounding spaces count as one edit)."""
    best, best_distance = None, None
    folded = name.strip().lower().replace("_", "-")
    for candidate in sorted(candidates):
        d = distance(name, candidate)
        if folded == candidate and name != candidate:
            d = 1
        allowed = 1 if min(len(name), len(candidate)) <= 4 else 2
        if d <= allowed and (best_distance is None or d < best_distance):
            best, best_distance = candidate, d
    return best


def _nearest(value, candidates):
    guess = near(value, candidates) if len(candidates) < 5000 else None
    return f": did you mean {guess!r}?" if guess else ""
