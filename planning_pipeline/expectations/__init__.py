"""Expectations: run pipeline/<c>/expect.csv rules against an assembled dataset (see run.expectations)."""
from .run import HEADER, expectations  # noqa: F401
