"""Datasette plugin: serve the data-quality report that `make report` (bin/report) builds.

  /-/report             redirects to /-/report/index.html (datasette redirects /-/report/ to /-/report)
  /-/report/index.html  collections, organisations, datasets, held builds
  /-/report/FILE        a dataset's page (DATASET.html), report.json, static/...

The report is static HTML in the folder `report/` of the datasette directory (beside the databases and
tiles datasette serves), or in $PLANNING_REPORT_DIR. Served from the same server as /-/tiles/, so the
maps read the project's own tiles with no other origin involved.
"""
import os
import re

from datasette import hookimpl
from datasette.utils.asgi import Response

TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
         ".json": "application/json; charset=utf-8", ".txt": "text/plain; charset=utf-8",
         ".md": "text/plain; charset=utf-8"}
SAFE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]*(/[A-Za-z0-9_][A-Za-z0-9._-]*)*$")


def _report_dir(datasette):
    configured = os.environ.get("PLANNING_REPORT_DIR")
    if configured:
        return configured
    for db in datasette.databases.values():
        path = getattr(db, "path", None)
        if path:
            return os.path.join(os.path.dirname(os.path.abspath(path)), "report")
    return None


async def report_file(datasette, request):
    path = request.url_vars["path"]
    folder = _report_dir(datasette)
    if not SAFE.match(path) or ".." in path.split("/"):
        return Response.text("not found\n", status=404)
    if folder is None or not os.path.isfile(os.path.join(folder, "index.html")):
        return Response.text("The report has not been built: run `make report`, then reload.\n", status=404)
    full = os.path.join(folder, path)
    extension = os.path.splitext(path)[1]
    if extension not in TYPES or not os.path.isfile(full):
        return Response.text("not found\n", status=404)
    with open(full, "rb") as f:
        body = f.read()
    return Response(body, status=200, content_type=TYPES[extension], headers={"Cache-Control": "no-cache"})


async def report_redirect(datasette, request):
    return Response.redirect(datasette.urls.path("/-/report/index.html"))


@hookimpl
def register_routes():
    return [
        (r"^/-/report$", report_redirect),
        (r"^/-/report/(?P<path>.+)$", report_file),
    ]
