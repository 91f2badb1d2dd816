"""The load tests' fixtures live in loadkit.py (importable by the test modules too)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from loadkit import assembled_or_fixture, ca_entities, ca_sqlite, password_role, postgres  # noqa: E402,F401
