"""collect_endpoint(): fetch one endpoint once per UTC day, keep its content, log the attempt."""
import dataclasses
import datetime
import json
import os
import time

from ..errors import UserError
from .endpoint import DATE, find_endpoint
from .log import entry_date, failure_reason, log_path, write_log
from .options import Options
from .faults import FetchError, split_url

FETCHED, NOT_LIVE, ALREADY_FETCHED = "fetched", "not-live", "already-fetched"


@dataclasses.dataclass
class Result:
    outcome: str  # FETCHED, NOT_LIVE or ALREADY_FETCHED
    endpoint: str
    url: str
    date: str
    log_path: str
    log: dict = None
    new: bool = False  # the resource file was written by this fetch
    detail: str = ""  # why it was skipped, or what went wrong

    @property
    def resource(self):
        return (self.log or {}).get("resource", "")


def today():
    return datetime.datetime.now(datetime.timezone.utc).date().isoformat()


def collect_endpoint(collection_dir, endpoint, date=None, refill=False, options=None):
    """Collect one endpoint of collection_dir/endpoint.csv for date (default: today, UTC).

    Writes collection_dir/log/<date>/<endpoint>.json (even when the fetch fails) and keeps the content
    as collection_dir/resource/<sha256>. Nothing is fetched when the endpoint is not live on date, or
    when the day's log exists and refill is false.
    """
    date = date or today()
    if not DATE.match(date):
        raise UserError(f"bad --date {date!r}, expected YYYY-MM-DD")
    found = find_endpoint(collection_dir, endpoint)
    path = log_path(collection_dir, date, endpoint)
    result = Result(NOT_LIVE, endpoint, found.url, date, path)
    why = found.not_live(date)
    if why:
        result.detail = why
        return result
    if os.path.exists(path) and not refill:
        result.outcome = ALREADY_FETCHED
        return result
    result.outcome = FETCHED
    result.log, result.new, result.detail = fetch(found.url, os.path.join(collection_dir, "resource"), found.plugin, found.parameters, options)
    write_log(path, result.log)
    return result


def fetch(url, resource_dir, plugin="", parameters="", options=None):
    """Download url (directly or through a plugin) into resource_dir.

    Returns (log, is_new, detail): the log dict to write, whether the resource file is new, and a
    human-readable detail of a failure. Faults never raise: they become the log's exception.
    """
    options = options or Options()
    log = {"endpoint-url": url, "entry-date": entry_date(), "ssl-verify": True}
    started = time.monotonic()
    kept, detail = None, ""
    try:
        split_url(url)
        kept = _dispatch(url, resource_dir, (plugin or "").strip().lower(), parameters, options, log)
    except FetchError as error:
        log["exception"] = error.reason
        detail = error.detail
        if error.response is None:
            log.pop("status", None)
            log.pop("response-headers", None)
    log["elapsed"] = f"{time.monotonic() - started:.3f}"
    if kept:
        log["resource"], new = kept
        return log, new, ""
    return log, False, detail or failure_reason(log)


def _dispatch(url, resource_dir, plugin, parameters, options, log):
    if not plugin:
        from .plain import download

        return download(url, resource_dir, options, log)
    from .plugins import plugin_fetch

    return plugin_fetch(plugin)(url, _parameters(parameters), resource_dir, options, log)


def _parameters(text):
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError as error:
        raise FetchError("InvalidParameters", f"parameters are not JSON: {error}") from None
    if not isinstance(value, dict):
        raise FetchError("InvalidParameters", "parameters must be a JSON object")
    return value
