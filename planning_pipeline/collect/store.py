"""Streaming a body into collection/<c>/resource/<sha256>.

Bytes go to a hidden temporary file beside the resources while their sha256 is computed; the file is
renamed to its hash only when the transfer completed and passed every check. Optional byte filters
(bounded regular-expression substitutions) run on the stream before hashing, so memory stays flat.
"""
import contextlib
import hashlib
import os
import re
import tempfile

TEMP_PREFIX = ".collect-"
TEMP_SUFFIX = ".part"


class TooLarge(Exception):
    pass


class StreamSub:
    """re.sub over a byte stream, for a pattern whose matches are never longer than `window` bytes.

    Everything more than `window` bytes behind the end of what has arrived is final: a match starting
    there is complete, so the output equals re.sub over the whole stream. The pattern must not use
    lookbehind or anchors. replacement: constant bytes, or a function of the match.
    """

    def __init__(self, pattern, replacement, window=4096):
        self.pattern = re.compile(pattern)
        self.replacement = replacement
        self.window = window
        self.buffer = b""

    def feed(self, data):
        self.buffer += data
        return self._drain(len(self.buffer) - self.window)

    def flush(self):
        return self._drain(len(self.buffer))

    def _drain(self, limit):
        if limit <= 0:
            return b""
        buffer, out, position = self.buffer, [], 0
        for match in self.pattern.finditer(buffer):
            if match.start() >= limit:
                break
            out.append(buffer[position : match.start()])
            out.append(self.replacement(match) if callable(self.replacement) else self.replacement)
            position = match.end()
        if position < limit:
            out.append(buffer[position:limit])
            position = limit
        self.buffer = buffer[position:]
        return b"".join(out)


def timestamp_filters():
    """Volatile JSON/XML timestamps removed before hashing, as upstream does for JSON and XML responses.

    `"timeStamp": "..."` goes with a following comma; `timeStamp="..."` with its leading space; then a
    comma left before a closing brace goes too. Values over 256 bytes are left alone.
    """
    return [
        StreamSub(rb'"timeStamp"[ \t\r\n]{0,64}:[ \t\r\n]{0,64}"[^"\\]{0,256}"(?:[ \t\r\n]{0,64},)?', b""),
        StreamSub(rb'[ \t\r\n]timeStamp="[^"]{0,256}"', b""),
        StreamSub(rb",(?=[ \t\r\n]{0,2048}})", b""),
    ]


def wfs_filters():
    """Per-request noise in WFS GML: timeStamp and fid attributes, gml:id suffixes after the first dot."""
    return [
        StreamSub(rb'[ \t\r\n]timeStamp="[^"]{0,256}"', b""),
        StreamSub(rb'[ \t\r\n]fid="[^"]{0,256}"', b""),
        StreamSub(rb'(gml:id="[^".]{0,256})\.[^"]{0,256}"', lambda match: match.group(1) + b'"'),
    ]


class ResourceWriter:
    """A content-addressed file being written: write() the bytes, then commit() or discard()."""

    def __init__(self, resource_dir, max_bytes=None, filters=(), progress=None):
        os.makedirs(resource_dir, exist_ok=True)
        self.resource_dir = resource_dir
        self.max_bytes = max_bytes
        self.filters = list(filters)
        self.progress = progress
        self.received = 0  # bytes offered, before filtering
        self.size = 0  # bytes kept
        self.digest = hashlib.sha256()
        fd, self.temp = tempfile.mkstemp(dir=resource_dir, prefix=TEMP_PREFIX, suffix=TEMP_SUFFIX)
        self.file = os.fdopen(fd, "wb")

    def write(self, data):
        self.received += len(data)
        if self.max_bytes and self.received > self.max_bytes:
            raise TooLarge(f"over {self.max_bytes} bytes")
        for f in self.filters:
            data = f.feed(data)
        self._keep(data)
        if self.progress:
            self.progress(self.received)

    def _keep(self, data):
        if data:
            self.digest.update(data)
            self.file.write(data)
            self.size += len(data)

    def commit(self):
        """Rename to resource/<sha256>; returns (sha256, is_new). An existing copy is kept as it is."""
        for i, f in enumerate(self.filters):
            data = f.flush()
            for later in self.filters[i + 1 :]:
                data = later.feed(data)
            self._keep(data)
        self.file.close()
        resource = self.digest.hexdigest()
        path = os.path.join(self.resource_dir, resource)
        if os.path.exists(path):
            os.unlink(self.temp)
            return resource, False
        os.chmod(self.temp, 0o644)
        os.replace(self.temp, path)
        return resource, True

    def discard(self):
        self.file.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.temp)


@contextlib.contextmanager
def resource_writer(resource_dir, **kwargs):
    """A ResourceWriter that is discarded unless the block committed it."""
    writer = ResourceWriter(resource_dir, **kwargs)
    try:
        yield writer
    finally:
        if os.path.exists(writer.temp):
            writer.discard()


def is_temporary(name):
    return name.startswith(TEMP_PREFIX) and name.endswith(TEMP_SUFFIX)
