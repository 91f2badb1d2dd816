"""An HTTP response read as a stream: Content-Encoding decoded, short, broken, late or oversized bodies detected.

A body with a Content-Encoding (gzip, deflate) is received whole into an unnamed spool file first,
its decoded size counted piece by piece as it arrives: a decompression bomb is refused as soon as
it decodes past the size cap, after reading only the compressed bytes that take it there, and
before a decoded byte is written anywhere. Only a complete, valid stream is then decoded again
from the spool for the caller. zlib-ng does the decoding when installed (the same bytes out as
zlib, about twenty times faster on a bomb's long runs).
"""
import http.client
import ssl
import tempfile
import zlib

from .faults import FetchError
from .store import TooLarge

try:
    from zlib_ng import zlib_ng as _inflate
except ImportError:  # pragma: no cover - a requirement; the standard library decodes the same bytes, slower
    _inflate = zlib

CHUNK = 1 << 16  # bytes asked of the socket per read
PIECE = 1 << 20  # most decoded bytes produced at once
ZLIB_ERRORS = (zlib.error, _inflate.error)
ENCODINGS = ("gzip", "x-gzip", "deflate")


class Response:
    """An HTTP response whose body has not been read yet."""

    def __init__(self, url, connection, response, deadline=None):
        self.url = url
        self.connection = connection
        self.raw = response
        self.deadline = deadline
        self.status = response.status
        self.received = 0  # body bytes read from the connection (before decoding)
        self.headers = {}
        for name, value in response.getheaders():
            self.headers[name] = f"{self.headers[name]}, {value}" if name in self.headers else value

    def header(self, name, default=""):
        for key, value in self.headers.items():
            if key.lower() == name.lower():
                return value
        return default

    @property
    def content_type(self):
        return self.header("Content-Type").split(";")[0].strip().lower()

    def close(self):
        self.raw.close()
        self.connection.close()

    def body(self, limit=None, spool_dir=None):
        """Yield the decoded body; a short, broken, late or (past limit decoded bytes) large body raises FetchError.

        spool_dir: where an encoded body is spooled (an unnamed file: nothing is ever left there).
        """
        encoding = self.header("Content-Encoding").strip().lower()
        try:
            if encoding not in ENCODINGS:
                for data in self._raw():
                    if limit and self.received > limit:
                        raise FetchError("ContentTooLarge", f"over {limit} bytes")
                    yield data
                return
            with tempfile.TemporaryFile(dir=spool_dir) as spool:
                self._spool(spool, encoding, limit)
                spool.seek(0)
                decoder = Decoder(encoding)
                for data in iter(lambda: spool.read(CHUNK), b""):
                    yield from decoder.decode(data)
                yield from decoder.flush()
        except FetchError as error:
            error.response = error.response or self
            raise

    def _spool(self, spool, encoding, limit):
        """Receive the encoded body into spool, checking that it decodes, completely, to at most limit bytes."""
        counter = Decoder(encoding)
        decoded = 0
        for data in self._raw():
            if limit and self.received > 2 * limit:
                raise FetchError("ContentTooLarge", f"{encoding} body over {2 * limit} bytes")
            spool.write(data)
            for piece in counter.decode(data):
                decoded += len(piece)
                if limit and decoded > limit:
                    raise FetchError("ContentTooLarge", f"the {encoding} body decodes to over {limit} bytes after {self.received} compressed bytes")
        for piece in counter.flush():
            decoded += len(piece)
        if limit and decoded > limit:
            raise FetchError("ContentTooLarge", f"the {encoding} body decodes to over {limit} bytes")

    def _raw(self):
        """Yield the body as it arrives on the connection; a short, broken or late body raises FetchError."""
        expected = self.header("Content-Length")
        deadline = self.deadline
        try:
            while True:
                data = self.raw.read1(CHUNK)
                if deadline:
                    deadline.check(self.received)  # a read the deadline cut short looks like the end
                if not data:
                    break
                self.received += len(data)
                yield data
        except FetchError:
            raise
        except Exception as error:
            if deadline and deadline.expired:
                raise deadline.error(self.received) from error
            failure = self._fault(error)
            if failure is None:
                raise
            raise failure from error
        if expected.isdigit() and self.received < int(expected) and not self.header("Transfer-Encoding"):
            raise FetchError("IncompleteRead", f"{self.received} of {expected} bytes", transient=True)

    def _fault(self, error):
        received = self.received
        if isinstance(error, http.client.IncompleteRead):
            return FetchError("IncompleteRead", f"body broken after {received} bytes", transient=True)
        if isinstance(error, ConnectionError):
            return FetchError("ConnectionError", f"{error.strerror or error} after {received} bytes", transient=True)
        if isinstance(error, TimeoutError):
            return FetchError("ReadTimeout", f"no data for {self.connection.sock_timeout}s after {received} bytes")
        if isinstance(error, ssl.SSLError):
            return FetchError("SSLError", str(error))
        if isinstance(error, OSError):
            return FetchError("ConnectionError", str(error), transient=True)
        return None

    def save(self, writer):
        """Stream the body into a ResourceWriter."""
        try:
            for data in self.body(writer.max_bytes, writer.resource_dir):
                writer.write(data)
        except TooLarge as error:
            raise FetchError("ContentTooLarge", str(error), response=self) from error


class Decoder:
    """gzip/deflate Content-Encoding (concatenated gzip members too), decoded in bounded pieces."""

    def __init__(self, encoding):
        encoding = encoding.strip().lower()
        self.z = _inflate.decompressobj(zlib.MAX_WBITS | 32) if encoding in ENCODINGS else None

    def decode(self, data):
        if self.z is None:
            yield data
            return
        try:
            while True:
                out = self.z.decompress(data, PIECE)
                if out:
                    yield out
                data = self.z.unconsumed_tail
                if self.z.eof and self.z.unused_data:  # another gzip member follows
                    data = self.z.unused_data
                    self.z = _inflate.decompressobj(zlib.MAX_WBITS | 32)
                    continue
                if not data and len(out) < PIECE:  # a full piece may leave output pending
                    return
        except ZLIB_ERRORS as error:
            raise FetchError("ContentDecodingError", str(error)) from error

    def flush(self):
        if self.z is not None:
            yield from self.decode(b"")
            if not self.z.eof:
                raise FetchError("ContentDecodingError", "compressed body ends early", transient=True)
