"""The load tests' fixtures live in loadkit.py (importable by the test modules too)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from loadkit import (ca_entities, ca_sqlite, database, example_copy, example_sqlite, example_workspace,  # noqa: E402,F401
                     password_role, postgres)
