"""Assemble: load a dataset's transformed facts and logs into one sqlite3 file (see build.assemble)."""
from .build import assemble  # noqa: F401
