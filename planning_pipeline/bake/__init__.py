"""Bake: publish a dataset's sqlite3 file as CSV, flattened CSV, JSON, GeoJSON and GeoParquet."""
from .publish import bake, outputs  # noqa: F401
