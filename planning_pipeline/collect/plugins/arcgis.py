"""ArcGIS FeatureServer/MapServer layers, paged through the REST query API into one GeoJSON file.

The layer's metadata (?f=json) is the probe whose status is logged. Features are then queried as
f=geojson in pages (resultOffset/resultRecordCount) until the server says no more are left, or by
batches of object ids when the layer does not support pagination. One page is in memory at a time.

Parameters (JSON, all optional): max_page_size, timeout, retries, retry_backoff_seconds.
"""
import urllib.parse

from ..store import resource_writer
from ..faults import FetchError
from .common import MAX_PAGES, FeatureCollection, check_parameters, get_json, with_query

PARAMETERS = {"max_page_size": int, "timeout": float, "retries": int, "retry_backoff_seconds": float}
DEFAULT_PAGE_SIZE = 1000
ID_BATCH = 250  # object ids per query when paging by id (keeps URLs short)


def layer_url(url):
    """The layer's own URL: no /query suffix, query string or trailing slash."""
    parts = urllib.parse.urlsplit(url)
    path = parts.path.rstrip("/")
    if path.lower().endswith("/query"):
        path = path[: -len("/query")]
    return urllib.parse.urlunsplit(parts._replace(path=path, query="", fragment=""))


def user_query(url):
    """Query parameters given in the endpoint URL (a where clause, a token, ...), kept on every request."""
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query, keep_blank_values=True))
    return {k: v for k, v in query.items() if k.lower() not in ("f", "resultoffset", "resultrecordcount")}


def fetch(url, parameters, resource_dir, options, log):
    parameters = check_parameters(parameters, PARAMETERS)
    options = options.replace(
        read_timeout=parameters.get("timeout"), retries=parameters.get("retries"), backoff=parameters.get("retry_backoff_seconds")
    )
    layer, given = layer_url(url), user_query(url)
    meta = get_json(with_query(layer, {**given, "f": "json"}), options, log)
    if meta is None:
        return None
    _check(meta)
    limit = meta.get("maxRecordCount")
    limit = limit if isinstance(limit, int) and limit > 0 else None
    page_size = parameters.get("max_page_size") or limit or DEFAULT_PAGE_SIZE
    page_size = min(page_size, limit or page_size)
    query = {"where": "1=1", "outFields": "*", "returnGeometry": "true", "outSR": "4326", **given, "f": "geojson"}
    oid = meta.get("objectIdField") or ""
    paging = (meta.get("advancedQueryCapabilities") or {}).get("supportsPagination", True)
    with resource_writer(resource_dir, max_bytes=options.max_bytes, progress=options.progress) as writer:
        out = FeatureCollection(writer)
        pages = _by_offset(layer, query, oid, page_size, options, log) if paging else _by_ids(layer, query, oid, page_size, options, log)
        for features in pages:
            for feature in features:
                out.add(feature)
        out.close()
        return writer.commit()


def _check(reply):
    if isinstance(reply, dict) and "error" in reply:
        error = reply["error"] if isinstance(reply["error"], dict) else {}
        raise FetchError("ArcGISError", f"{error.get('code', '')} {error.get('message', '')}".strip())
    if not isinstance(reply, dict):
        raise FetchError("ArcGISError", "reply is not a JSON object")


def _features(page):
    _check(page)
    features = page.get("features")
    if not isinstance(features, list):
        raise FetchError("ArcGISError", "reply has no features list")
    return features


def _by_offset(layer, query, oid, page_size, options, log):
    offset = 0
    for _ in range(MAX_PAGES):
        params = {**query, "resultOffset": offset, "resultRecordCount": page_size}
        if oid:
            params.setdefault("orderByFields", oid)
        page = get_json(with_query(layer + "/query", params), options, log)
        features = _features(page)
        yield features
        offset += len(features)
        more = page.get("exceededTransferLimit", (page.get("properties") or {}).get("exceededTransferLimit"))
        if not features or more is False or (more is None and len(features) < page_size):
            return
    raise FetchError("TooManyPages", f"more than {MAX_PAGES} pages")


def _by_ids(layer, query, oid, page_size, options, log):
    reply = get_json(with_query(layer + "/query", {**query, "returnIdsOnly": "true", "f": "json"}), options, log)
    _check(reply)
    ids = sorted(reply.get("objectIds") or [])
    oid = oid or reply.get("objectIdFieldName") or "OBJECTID"
    batch = min(page_size, ID_BATCH)
    for start in range(0, len(ids), batch):
        chunk = ",".join(str(i) for i in ids[start : start + batch])
        params = {k: v for k, v in query.items() if k != "where"}
        yield _features(get_json(with_query(layer + "/query", {**params, "objectIds": chunk}), options, log))
