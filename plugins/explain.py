"""Datasette plugin: explain a value, as bin/explain does (planning_pipeline.explain).

  /-/explain/DATASET/ENTITY            the explanation as a page (?field=FIELD for one field)
  /-/explain/DATASET/ENTITY.json       the same as JSON, the dict planning_pipeline.explain.explain returns

Reads the outputs of the workspace: $PLANNING_ROOT, else the directory that holds this plugins/ folder.
An unknown dataset, entity or field is a 404 whose body is the one-line error.
"""
import asyncio
import html
import json
import os
import sys
import urllib.parse

from datasette import hookimpl
from datasette.utils.asgi import Response

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>body {{ font-family: sans-serif; margin: 1em 2em; }} pre {{ white-space: pre-wrap; }}</style></head>
<body><h1>{title}</h1>
<p><a href="{row}">the entity's row</a> &middot; <a href="{json}">JSON</a></p>
<pre>{text}</pre></body></html>
"""


def _root():
    return os.environ.get("PLANNING_ROOT") or ROOT


async def explain_page(datasette, request):
    from planning_pipeline.errors import UserError
    from planning_pipeline.explain import explain
    from planning_pipeline.explain.text import render

    dataset, entity = request.url_vars["dataset"], request.url_vars["entity"]
    as_json = entity.endswith(".json")
    if as_json:
        entity = entity[: -len(".json")]
    field = request.args.get("field") or None
    try:
        result = await asyncio.get_running_loop().run_in_executor(None, explain, _root(), dataset, entity, field)
    except UserError as error:
        return Response.text(f"{error}\n", status=404)
    if as_json:
        return Response(json.dumps(result, sort_keys=True), content_type="application/json; charset=utf-8")
    query = "?" + urllib.parse.urlencode({"field": field}) if field else ""
    title = f"{dataset} entity {result['entity']}" + (f": {field}" if field else "")
    return Response.html(PAGE.format(
        title=html.escape(title), text=html.escape(render(result)),
        row=html.escape(datasette.urls.path(f"/{dataset}/entity/{result['entity']}")),
        json=html.escape(datasette.urls.path(f"/-/explain/{dataset}/{result['entity']}.json") + query)))


@hookimpl
def register_routes():
    return [(r"^/-/explain/(?P<dataset>[^/]+)/(?P<entity>[^/]+)$", explain_page)]
