"""Downloaders for endpoints that need more than one GET, named by endpoint.csv's plugin column.

A plugin is fetch(url, parameters, resource_dir, options, log) -> (resource, is_new) or None, filling
log with the status and headers of its first request and raising FetchError on a fault.
"""
import importlib

from ..faults import FetchError

PLUGINS = ("arcgis", "wfs")


def plugin_fetch(name):
    if name not in PLUGINS:
        raise FetchError("UnknownPlugin", f"no plugin {name!r} (known: {', '.join(PLUGINS)})")
    return importlib.import_module(f"{__name__}.{name}").fetch
