"""What the paging plugins share: checked parameters, JSON pages, a streamed GeoJSON FeatureCollection."""
import json
import urllib.parse

from ..plain import record_response
from ..faults import FetchError
from ..transport import get, request_headers

MAX_PAGES = 100_000


def check_parameters(parameters, types):
    """parameters restricted to the known keys, each of the given type (int or float)."""
    unknown = sorted(set(parameters) - set(types))
    if unknown:
        raise FetchError("InvalidParameters", f"unknown parameter(s) {', '.join(unknown)}")
    checked = {}
    for key, value in parameters.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            raise FetchError("InvalidParameters", f"{key} must be a positive number")
        checked[key] = types[key](value)
    return checked


def with_query(url, params, drop=()):
    """url with params set in its query string; existing keys of those names (any case) and of drop go."""
    parts = urllib.parse.urlsplit(url)
    names = {k.lower() for k in (*params, *drop)}
    query = [(k, v) for k, v in urllib.parse.parse_qsl(parts.query, keep_blank_values=True) if k.lower() not in names]
    query += [(k, str(v)) for k, v in params.items()]
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query, safe=",*:"), fragment=""))


def get_page(url, options, log, consume):
    """GET one page; the first request of a fetch is the one logged (status and headers).

    Returns consume(response) for a 200, None for a non-200 first request, raises for a later one.
    """
    first = "status" not in log
    if first:
        log["request-headers"] = request_headers(options)

    def check(response):
        if first:
            record_response(log, response)
        if response.status != 200:
            if first:
                return None
            raise FetchError("HTTPError", f"status {response.status} for {url}", response=response)
        return consume(response)

    return get(url, options, check)


def read_json(response, limit):
    body = bytearray()
    for data in response.body(limit):
        body += data
        if len(body) > limit:
            raise FetchError("ContentTooLarge", f"page over {limit} bytes", response=response)
    try:
        return json.loads(body)
    except ValueError as error:
        raise FetchError("InvalidJSON", f"{response.url}: {error}", response=response) from None


def get_json(url, options, log):
    return get_page(url, options, log, lambda response: read_json(response, options.max_bytes))


class FeatureCollection:
    """A GeoJSON FeatureCollection written feature by feature into a ResourceWriter."""

    def __init__(self, writer):
        self.writer = writer
        self.count = 0
        writer.write(b'{"type":"FeatureCollection","features":[\n')

    def add(self, feature):
        if self.count:
            self.writer.write(b",\n")
        self.writer.write(json.dumps(feature, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
        self.count += 1

    def close(self):
        self.writer.write(b"]}")
