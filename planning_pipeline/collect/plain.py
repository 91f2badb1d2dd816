"""A plain GET of an http(s) or file: URL into a content-addressed resource."""
import os
import urllib.parse

from .faults import FetchError
from .store import TooLarge, resource_writer, timestamp_filters
from .transport import get, request_headers

TIMESTAMPED_TYPES = ("application/json", "application/geo+json", "application/xml")


def download(url, resource_dir, options, log, filters=None):
    """Fetch url, filling log's request/response fields; returns (resource, is_new) or None (no content).

    Only a complete, non-empty body is kept: an empty, cut-off, late (options.deadline) or oversized
    one (options.max_bytes, decoded) raises FetchError, leaving nothing in resource_dir.

    filters: byte filters for the body; by default JSON/XML timestamps are stripped from HTTP responses.
    """
    scheme = urllib.parse.urlsplit(url).scheme.lower()
    if scheme == "file":
        return download_file(url, resource_dir, options, log)
    if scheme not in ("http", "https"):
        raise FetchError("InvalidSchema", f"unsupported URL scheme {scheme!r}")
    log["request-headers"] = headers = request_headers(options)

    def consume(response):
        record_response(log, response)
        if response.status != 200:
            return None
        if response.content_type.startswith("text/html"):
            raise FetchError("HTMLResponse", "a web page (text/html), not data", response=response)
        length = response.header("Content-Length")
        if options.max_bytes and length.isdigit() and int(length) > options.max_bytes and not response.header("Content-Encoding"):
            raise FetchError("ContentTooLarge", f"Content-Length {length} is over {options.max_bytes} bytes", response=response)
        chosen = filters
        if chosen is None:
            chosen = timestamp_filters() if response.content_type in TIMESTAMPED_TYPES else ()
        with resource_writer(resource_dir, max_bytes=options.max_bytes, filters=chosen, progress=options.progress) as writer:
            response.save(writer)
            if not writer.received:
                raise FetchError("EmptyResponse", "status 200 with an empty body", response=response)
            return writer.commit()

    return get(url, options, consume, headers)


def record_response(log, response):
    log["status"] = str(response.status)
    log["response-headers"] = response.headers


def download_file(url, resource_dir, options, log):
    with resource_writer(resource_dir, max_bytes=options.max_bytes, progress=options.progress) as writer:
        headers = save_file(url, writer)
        if not writer.received:
            raise FetchError("EmptyResponse", f"{file_path(url)} is empty")
        log["response-headers"] = headers
        log["status"] = "200"
        return writer.commit()


def file_path(url):
    """The local path of a file: URL; `file:relative/path` is relative to the working directory."""
    parts = urllib.parse.urlsplit(url)
    path = urllib.parse.unquote(parts.path)
    if parts.netloc not in ("", "localhost"):
        raise FetchError("InvalidURL", f"file URL with a remote host {parts.netloc!r}")
    return path


def save_file(url, writer):
    """Copy a file: URL into a ResourceWriter; returns the response headers to log."""
    path = file_path(url)
    try:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            for data in iter(lambda: f.read(1 << 16), b""):
                writer.write(data)
    except TooLarge as error:
        raise FetchError("ContentTooLarge", str(error)) from error
    except OSError as error:
        raise FetchError(type(error).__name__, f"{path}: {error.strerror}") from error
    return {"Content-Length": str(size)}
