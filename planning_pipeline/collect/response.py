"""An HTTP response read as a stream: Content-Encoding decoded, short or broken bodies detected."""
import http.client
import ssl
import zlib

from .faults import FetchError
from .store import TooLarge

CHUNK = 1 << 16


class Response:
    """An HTTP response whose body has not been read yet."""

    def __init__(self, url, connection, response):
        self.url = url
        self.connection = connection
        self.raw = response
        self.status = response.status
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

    def body(self):
        """Yield the decoded body; a short or broken body raises FetchError."""
        decoder = Decoder(self.header("Content-Encoding"))
        expected = self.header("Content-Length")
        received = 0
        try:
            while True:
                data = self.raw.read1(CHUNK)
                if not data:
                    break
                received += len(data)
                yield from decoder.decode(data)
            yield from decoder.flush()
        except http.client.IncompleteRead as error:
            raise FetchError("IncompleteRead", f"body broken after {received} bytes", transient=True, response=self) from error
        except ConnectionError as error:
            raise FetchError("ConnectionError", f"{error.strerror or error} after {received} bytes", transient=True, response=self) from error
        except TimeoutError as error:
            raise FetchError("ReadTimeout", f"no data for {self.connection.sock_timeout}s after {received} bytes", response=self) from error
        except ssl.SSLError as error:
            raise FetchError("SSLError", str(error), response=self) from error
        except OSError as error:
            raise FetchError("ConnectionError", str(error), transient=True, response=self) from error
        if expected.isdigit() and received < int(expected) and not self.header("Transfer-Encoding"):
            raise FetchError("IncompleteRead", f"{received} of {expected} bytes", transient=True, response=self)

    def save(self, writer):
        """Stream the body into a ResourceWriter."""
        try:
            for data in self.body():
                writer.write(data)
        except TooLarge as error:
            raise FetchError("ContentTooLarge", str(error), response=self) from error
        except FetchError as error:
            error.response = error.response or self
            raise


class Decoder:
    """gzip/deflate Content-Encoding, decoded in bounded pieces (no decompression bombs)."""

    def __init__(self, encoding):
        encoding = encoding.strip().lower()
        self.z = zlib.decompressobj(zlib.MAX_WBITS | 32) if encoding in ("gzip", "x-gzip", "deflate") else None

    def decode(self, data):
        if self.z is None:
            yield data
            return
        try:
            while data:
                yield self.z.decompress(data, CHUNK)
                data = self.z.unconsumed_tail
                if self.z.eof and self.z.unused_data:  # concatenated gzip members
                    data = self.z.unused_data
                    self.z = zlib.decompressobj(zlib.MAX_WBITS | 32)
        except zlib.error as error:
            raise FetchError("ContentDecodingError", str(error)) from error

    def flush(self):
        if self.z is not None:
            if not self.z.eof:
                raise FetchError("ContentDecodingError", "compressed body ends early", transient=True)
            yield self.z.flush()
