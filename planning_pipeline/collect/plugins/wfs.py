"""WFS GetFeature: one GET, or pages of page_size features (startIndex/count) spliced into one file.

Without page_size the endpoint URL is fetched once. With it, pages are requested until one comes
back short. GML pages are written as one FeatureCollection: the first page's root element, then the
members of every page, byte for byte. GeoJSON pages (outputFormat=application/json) become one
GeoJSON FeatureCollection. One page is held at a time, in an anonymous temporary file.
Per-request noise (timeStamp and fid attributes, gml:id suffixes) is removed before hashing.

Parameters (JSON, optional): page_size.
"""
import hashlib
import re
import tempfile
import urllib.parse

from ..plain import download
from ..store import resource_writer, wfs_filters
from ..faults import FetchError
from .common import MAX_PAGES, FeatureCollection, check_parameters, get_page, read_json, with_query

PARAMETERS = {"page_size": int}
JSON_TYPES = ("application/json", "application/geo+json", "application/vnd.geo+json")
ROOT = re.compile(rb"<(?![?!])([^\s>/]+)((?:[^>\"']|\"[^\"]*\"|'[^']*')*)>")
MEMBER = re.compile(rb"<(?:[\w.\-]+:)?(?:member|featureMember)[\s>/]")
HEAD = 1 << 20
CHUNK = 1 << 16


def fetch(url, parameters, resource_dir, options, log):
    page_size = check_parameters(parameters, PARAMETERS).get("page_size")
    if not page_size:
        return download(url, resource_dir, options, log, filters=wfs_filters())
    query = urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query)
    version = next((v for k, v in query if k.lower() == "version"), "2.0.0")
    count = "count" if version.startswith("2") else "maxFeatures"
    with resource_writer(resource_dir, max_bytes=options.max_bytes, filters=wfs_filters(), progress=options.progress) as writer:
        pages = Pages(writer, options.max_bytes)
        index = 0
        for _ in range(MAX_PAGES):
            page_url = with_query(url, {"startIndex": index, count: page_size}, drop=("count", "maxFeatures"))
            returned = get_page(page_url, options, log, pages.add)
            if returned is None:
                return None
            index += returned
            if returned < page_size:
                pages.close()
                return writer.commit()
        raise FetchError("TooManyPages", f"more than {MAX_PAGES} pages")


class Pages:
    """Pages of one GetFeature result, written into a ResourceWriter as a single document."""

    def __init__(self, writer, max_bytes):
        self.writer = writer
        self.max_bytes = max_bytes
        self.geojson = None
        self.root = None
        self.last = None

    def add(self, response):
        """Write one page's features; returns how many it had."""
        if response.content_type in JSON_TYPES:
            return self._add_json(read_json(response, self.max_bytes))
        if self.geojson:
            raise FetchError("UnexpectedResponse", "a GeoJSON page followed by a non-JSON one", response=response)
        with tempfile.TemporaryFile(dir=self.writer.resource_dir) as page:
            size = 0
            for data in response.body(self.max_bytes, self.writer.resource_dir):
                size += len(data)
                if self.max_bytes and size > self.max_bytes:
                    raise FetchError("ContentTooLarge", f"page over {self.max_bytes} bytes", response=response)
                page.write(data)
            return self._add_gml(page, size)

    def _same_as_last(self, digest):
        if digest == self.last:
            raise FetchError("PagingIgnored", "the server sent the same page twice (startIndex not supported?)")
        self.last = digest

    def _add_json(self, reply):
        features = reply.get("features") if isinstance(reply, dict) else None
        if not isinstance(features, list):
            raise FetchError("UnexpectedResponse", "JSON page without a features list")
        if self.root is not None:
            raise FetchError("UnexpectedResponse", "a GML page followed by a JSON one")
        if features:
            self._same_as_last(hashlib.sha256(repr(features).encode()).digest())
        self.geojson = self.geojson or FeatureCollection(self.writer)
        for feature in features:
            self.geojson.add(feature)
        return len(features)

    def _add_gml(self, page, size):
        page.seek(0)
        head = page.read(HEAD)
        match = ROOT.search(head)
        if not match:
            raise FetchError("UnexpectedResponse", "no XML root element")
        name, attributes = match.group(1), match.group(2)
        local = name.split(b":")[-1]
        if local.endswith(b"ExceptionReport"):
            text = re.sub(rb"<[^>]*>|\s+", b" ", head[:4000]).decode("utf-8", "replace")
            raise FetchError("WFSException", " ".join(text.split())[:300])
        if local != b"FeatureCollection":
            raise FetchError("UnexpectedResponse", f"root element {name.decode('utf-8', 'replace')}, not a FeatureCollection")
        start, end = match.end(), match.end()
        if not attributes.rstrip().endswith(b"/"):
            end = _closing_tag(page, size, start, name)
        if self.root is None:
            self.root = name
            self.writer.write(head[: match.start()] + _start_tag(name, attributes))
        number = re.search(rb'\b(?:numberReturned|numberOfFeatures)="(\d+)"', attributes)
        counted, digest = self._copy(page, start, end)
        returned = int(number.group(1)) if number else counted
        if returned:
            self._same_as_last(digest)
        return returned

    def _copy(self, page, start, end):
        """Copy page[start:end] to the output; returns (members seen, sha256 of the bytes)."""
        page.seek(start)
        digest, members, tail, left = hashlib.sha256(), 0, b"", end - start
        while left > 0:
            data = page.read(min(CHUNK, left))
            if not data:
                break
            left -= len(data)
            digest.update(data)
            window = tail + data
            members += sum(1 for m in MEMBER.finditer(window) if m.end() > len(tail))
            tail = window[-64:]
            self.writer.write(data)
        return members, digest.digest()

    def close(self):
        if self.geojson:
            self.geojson.close()
        elif self.root is not None:
            self.writer.write(b"</" + self.root + b">\n")
        else:
            raise FetchError("UnexpectedResponse", "no page")


def _closing_tag(page, size, start, name):
    """Where the root element's closing tag begins."""
    tail_start = max(start, size - 4096)
    page.seek(tail_start)
    tail = page.read()
    close = tail.rfind(b"</")
    if close < 0 or tail[close + 2 :].split(b">")[0].strip() != name:
        raise FetchError("UnexpectedResponse", "the FeatureCollection is not closed (truncated page?)")
    return tail_start + close


def _start_tag(name, attributes):
    """The root start tag for the spliced document: no paging links, numberReturned = numberMatched."""
    attributes = re.sub(rb'\s(?:next|previous)="[^"]*"', b"", attributes)
    matched = re.search(rb'\bnumberMatched="(\d+)"', attributes)
    if matched:
        attributes = re.sub(rb'\bnumberReturned="\d+"', b'numberReturned="' + matched.group(1) + b'"', attributes)
    attributes = attributes.rstrip()
    if attributes.endswith(b"/"):
        attributes = attributes[:-1].rstrip()
    return b"<" + name + attributes + b">"
