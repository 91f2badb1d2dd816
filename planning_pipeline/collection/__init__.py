"""A collection's state: endpoint.csv, source.csv, the daily logs, and the log.csv/resource.csv indexes."""
import hashlib

ENDPOINT_FIELDS = ["endpoint", "endpoint-url", "parameters", "plugin", "entry-date", "start-date", "end-date"]
SOURCE_FIELDS = ["source", "attribution", "collection", "documentation-url", "endpoint", "licence", "organisation", "pipelines", "entry-date", "start-date", "end-date"]
LOG_FIELDS = ["bytes", "content-type", "elapsed", "endpoint", "resource", "status", "entry-date", "start-date", "end-date", "exception"]
RESOURCE_FIELDS = ["resource", "bytes", "organisations", "datasets", "endpoints", "start-date", "end-date"]


def endpoint_hash(url):
    """The endpoint identifier: sha256 of the endpoint-url (UTF-8), hex, as upstream."""
    return hashlib.sha256(url.encode("utf-8")).hexdigest()


def split(value):
    """The ;-separated multi-value cells of the collection CSVs."""
    return [v for v in (value or "").split(";") if v]


def join(values):
    return ";".join(sorted(set(v for v in values if v)))
