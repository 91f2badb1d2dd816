"""Per-value datatype normalisers of the specification, as pure functions.

    from planning_pipeline.datatype import normaliser, ListIssues
    fn = normaliser("datetime", field="start-date")
    issues = ListIssues()
    fn("31/12/2020", issues)      # -> "2020-12-31"
    fn("31/31/2020", issues)      # -> "" and issues.issues == [("invalid date", "31/31/2020", "...")]

A normaliser is a callable ``fn(value: str, issues) -> str``. It never raises on bad input: a value it
cannot use comes back as "" with an issue logged through ``issues.log(issue_type, value, message)``
(any object with that method; ``None`` discards issues). Empty values come back as "" with no issue.
Datatypes without a normaliser (wkt, json, hash, pattern, reference, blob, curie, ...) only strip.

For geometry, prefer the vectorised batch functions, which give the same results as the scalar ones:
``normalise_geometries(values, datatype, issue_sinks)`` and ``normalise_points_xy(xs, ys, issue_sinks)``.
"""
from typing import Protocol

from .date import DateNormaliser
from .flag import normalise_flag
from .number import DecimalNormaliser, IntegerNormaliser
from .text import normalise_address, normalise_string
from .url import normalise_url

__all__ = [
    "IssueSink",
    "ListIssues",
    "normaliser",
    "normalise_geometries",
    "normalise_geometry",
    "normalise_point_xy",
    "normalise_points_xy",
    "GEOMETRY_DATATYPES",
]

GEOMETRY_DATATYPES = ("multipolygon", "point")
_GEOMETRY_FUNCTIONS = ("normalise_geometries", "normalise_geometry", "normalise_point_xy", "normalise_points_xy")


def __getattr__(name):
    """The geometry functions, imported on first use (shapely, pyproj and convertbng load slowly)."""
    if name in _GEOMETRY_FUNCTIONS:
        from . import geometry

        return getattr(geometry, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class IssueSink(Protocol):
    def log(self, issue_type: str, value: str, message: str = "") -> None: ...


class ListIssues:
    """An issue sink that collects (issue_type, value, message) tuples, for tests and small tools."""

    def __init__(self):
        self.issues = []

    def log(self, issue_type, value, message=""):
        self.issues.append((issue_type, value, message or ""))

    @property
    def types(self):
        return [i[0] for i in self.issues]

    def __len__(self):
        return len(self.issues)


def passthrough(value, issues=None):
    return value.strip() if value else ""


def _geometry(datatype):
    from .geometry import normalise_geometry

    def fn(value, issues=None):
        return normalise_geometry(value, datatype, issues)

    fn.__name__ = f"normalise_{datatype}"
    return fn


def normaliser(datatype, field=None, *, minimum=None, maximum=None, precision=6,
               far_past_date=None, far_future_date=None):
    """The normaliser for a specification datatype: fn(value, issues) -> str.

    field names the field in issue messages. minimum/maximum bound decimal and integer values
    (none by default); far_past_date/far_future_date bound datetime values (default 1799-12-31
    and 50 years from today, as upstream).
    """
    name = field or datatype or "value"
    if datatype == "datetime":
        return DateNormaliser(name, far_past_date, far_future_date)
    if datatype == "decimal":
        return DecimalNormaliser(name, minimum, maximum, precision, remove="£,")
    if datatype in ("latitude", "longitude"):
        return DecimalNormaliser(name, None, None, precision, remove=",")
    if datatype == "integer":
        return IntegerNormaliser(name, minimum, maximum)
    if datatype in ("string", "text"):
        return normalise_string
    if datatype == "address":
        return normalise_address
    if datatype == "flag":
        return normalise_flag
    if datatype == "url":
        return normalise_url
    if datatype in GEOMETRY_DATATYPES:
        return _geometry(datatype)
    return passthrough
