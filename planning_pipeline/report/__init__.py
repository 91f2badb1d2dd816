"""The data-quality report: static HTML pages built from the pipeline's outputs (`make report`), served
by datasette at /-/report/ (plugins/report.py) beside the vector tiles its maps read (/-/tiles/).

write(root, output) writes into output:
  index.html      per collection and organisation: endpoints and their latest status, resources, entities,
                  issues by severity, expectation results, what the regression gate did (held builds first)
  DATASET.html    per dataset: its figures, a map of its features (geography datasets), issues by type
                  and severity, expectation results, organisations, the changelog's first rows
  report.json     every figure the pages show
  static/         report.js, report.css and the vendored MapLibre GL JS (BSD-3-Clause)
"""
import json
import os
import shutil

from ..errors import UserError
from ..files import atomic_write, temporary_path
from . import model, page

STATIC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "static")


def _write(path, text):
    with atomic_write(path) as f:
        f.write(text)


def _copy_static(target):
    for folder, _, files in os.walk(STATIC):
        for name in sorted(files):
            source = os.path.join(folder, name)
            destination = os.path.join(target, os.path.relpath(source, STATIC))
            if os.path.exists(destination) and os.path.getsize(destination) == os.path.getsize(source):
                with open(source, "rb") as a, open(destination, "rb") as b:
                    if a.read() == b.read():
                        continue
            with temporary_path(destination) as tmp:
                shutil.copyfile(source, tmp)


def write(root, output, log=print):
    """Build the report for the workspace at root into the directory output; returns the model."""
    figures = model.build(root)
    try:
        os.makedirs(output, exist_ok=True)
    except OSError as error:
        raise UserError(f"cannot create the report directory ({error.strerror})", output) from None
    _copy_static(os.path.join(output, "static"))
    pages = {"index.html"}
    for d in figures["datasets"]:
        name = f'{d["dataset"]}.html'
        pages.add(name)
        _write(os.path.join(output, name), page.dataset_page(d, figures["run_date"]))
    _write(os.path.join(output, "report.json"), json.dumps(figures, indent=1, sort_keys=True) + "\n")
    _write(os.path.join(output, "index.html"), page.index(figures))
    for name in os.listdir(output):  # a dataset no longer built loses its page
        if name.endswith(".html") and name not in pages:
            os.unlink(os.path.join(output, name))
    maps = sum(1 for d in figures["datasets"] if d["map"])
    log(f'report: {output}: {len(figures["collections"])} collections, {len(figures["organisations"])} organisations, '
        f'{len(figures["datasets"])} datasets ({maps} with a map), {len(figures["held"])} held back')
    return figures
