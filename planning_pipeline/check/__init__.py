"""Check the configuration before any stage reads it: specification/*.csv, collection/<c>/{endpoint,source,
old-resource}.csv and pipeline/<c>/*.csv.

Every problem is one line, `FILE:LINE: what is wrong (see docs/configuration.md#ANCHOR)`, sorted by file and
line; an error fails the check (bin/check-config exits 2, and Make stops the collection before anything is
collected, rebuilt or published), a warning does not. The rules are in schema.py and documented, file by file,
in docs/configuration.md.
"""
from .report import Problem, Report
from .run import check, collections_under

__all__ = ["Problem", "Report", "check", "collections_under"]
