"""A real HTTP(S) server on 127.0.0.1 whose routes each serve good content or one fault."""
import contextlib
import hashlib
import http.server
import os
import re
import socket
import ssl
import struct
import subprocess
import threading
import time
import urllib.parse

import pytest

from planning_pipeline.collect.endpoint import endpoint_hash
from planning_pipeline.collect.options import Options

HEADER = "endpoint,endpoint-url,parameters,plugin,entry-date,start-date,end-date\n"


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        parts = urllib.parse.urlsplit(self.path)
        self.query = dict(urllib.parse.parse_qsl(parts.query))
        route = self.server.routes.get(parts.path)
        self.server.requests.append(self.path)
        if route is None:
            return send(self, 404, b"not found", "text/plain")
        route(self)

    def finish(self):
        with contextlib.suppress(OSError):
            super().finish()

    def log_message(self, *args):
        pass


def send(handler, status=200, body=b"", content_type="text/csv", headers=None, length=None):
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(body) if length is None else length))
    for name, value in (headers or {}).items():
        handler.send_header(name, value)
    handler.end_headers()
    handler.wfile.write(body)


def reset(handler):
    """Drop the connection with a TCP reset."""
    handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    handler.connection.close()


def drip(handler, body, interval, length=True, headers_too=False):
    """Send body one byte every interval seconds (the headers too, when headers_too)."""
    head = b"HTTP/1.0 200 OK\r\nContent-Type: text/csv\r\n"
    if length:
        head += f"Content-Length: {len(body)}\r\n".encode()
    head += b"\r\n"
    if not headers_too:
        handler.wfile.write(head)
        handler.wfile.flush()
        head = b""
    for byte in head + body:
        handler.wfile.write(bytes([byte]))
        handler.wfile.flush()
        time.sleep(interval)


def cut_short(handler, body, length=None, how="close"):
    """Send part of a body and end the connection: "close" (FIN) or "reset" (RST).

    length: the Content-Length announced (None: no Content-Length, the body ends with the connection).
    """
    handler.send_response(200)
    handler.send_header("Content-Type", "text/csv")
    if length is not None:
        handler.send_header("Content-Length", str(length))
    handler.end_headers()
    handler.wfile.write(body)
    handler.wfile.flush()
    time.sleep(0.05)
    if how == "reset":
        reset(handler)
    else:
        handler.connection.shutdown(socket.SHUT_WR)
        handler.close_connection = True


def chunked(handler, chunks, terminate=True, how="close"):
    """An HTTP/1.1 chunked body; unless terminate, the connection ends without the last (empty) chunk."""
    handler.protocol_version = "HTTP/1.1"
    handler.send_response(200)
    handler.send_header("Content-Type", "text/csv")
    handler.send_header("Transfer-Encoding", "chunked")
    handler.send_header("Connection", "close")
    handler.end_headers()
    for chunk in chunks:
        handler.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
    if terminate:
        handler.wfile.write(b"0\r\n\r\n")
    handler.wfile.flush()
    time.sleep(0.05)
    handler.close_connection = True
    if not terminate and how == "reset":
        reset(handler)
    else:
        handler.connection.shutdown(socket.SHUT_WR)


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, context=None):
        super().__init__(("127.0.0.1", 0), Handler)
        if context:
            self.socket = context.wrap_socket(self.socket, server_side=True)
        self.routes = {}
        self.requests = []
        self.scheme = "https" if context else "http"
        threading.Thread(target=self.serve_forever, daemon=True).start()

    send = staticmethod(send)
    reset = staticmethod(reset)
    drip = staticmethod(drip)
    cut_short = staticmethod(cut_short)
    chunked = staticmethod(chunked)

    def handle_error(self, request, client_address):
        pass

    def url(self, path):
        return f"{self.scheme}://127.0.0.1:{self.server_address[1]}{path}"

    def route(self, path, function):
        """Serve path with function(handler); returns its URL."""
        self.routes[urllib.parse.urlsplit(path).path] = function
        return self.url(path)

    def content(self, path, body, content_type="text/csv", headers=None):
        return self.route(path, lambda h: send(h, 200, body, content_type, headers))

    def hits(self, path):
        return sum(1 for p in self.requests if urllib.parse.urlsplit(p).path == path)


@pytest.fixture(scope="session")
def http_server():
    server = Server()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def https_server(tmp_path_factory):
    """A TLS server whose certificate is self-signed, made with openssl for this run."""
    directory = tmp_path_factory.mktemp("tls")
    key, cert = directory / "key.pem", directory / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=127.0.0.1"],
        check=True,
        capture_output=True,
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server = Server(context)
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def unresponsive_port():
    """A port whose listen queue is full, so a new connection never completes (a connect timeout)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    for _ in range(4):
        s = socket.socket()
        s.setblocking(False)
        with contextlib.suppress(BlockingIOError):
            s.connect(("127.0.0.1", port))
        fillers.append(s)
    time.sleep(0.05)
    yield port
    for s in fillers + [listener]:
        s.close()


@pytest.fixture
def options():
    """Fast settings: half-second timeouts, two quick retries, a 1 MB limit."""
    return Options(connect_timeout=0.5, read_timeout=0.5, retries=2, backoff=0.01, max_bytes=1_000_000)


class Collection:
    """A collection directory with an endpoint.csv that tests add rows to."""

    def __init__(self, path):
        self.path = str(path)
        os.makedirs(self.path, exist_ok=True)
        with open(os.path.join(self.path, "endpoint.csv"), "w") as f:
            f.write(HEADER)

    def add(self, url, plugin="", parameters="", start="", end="", endpoint=None):
        endpoint = endpoint or endpoint_hash(url)
        quoted = '"' + parameters.replace('"', '""') + '"' if parameters else ""
        with open(os.path.join(self.path, "endpoint.csv"), "a") as f:
            f.write(f"{endpoint},{url},{quoted},{plugin},2020-01-01T00:00:00Z,{start},{end}\n")
        return endpoint

    @property
    def resource_dir(self):
        return os.path.join(self.path, "resource")

    def resources(self):
        """Every file in resource/, checked to be named by the sha256 of its content (no temp files)."""
        if not os.path.isdir(self.resource_dir):
            return {}
        found = {}
        for name in os.listdir(self.resource_dir):
            assert re.fullmatch(r"[0-9a-f]{64}", name), f"stray file in resource/: {name}"
            with open(os.path.join(self.resource_dir, name), "rb") as f:
                content = f.read()
            assert hashlib.sha256(content).hexdigest() == name
            found[name] = content
        return found


@pytest.fixture
def collection(tmp_path):
    return Collection(tmp_path / "collection" / "test-collection")
