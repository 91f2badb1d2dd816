"""The explain tests' fixtures live in explainkit.py (importable by the test modules too)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from explainkit import built_example, example_copy  # noqa: E402,F401
