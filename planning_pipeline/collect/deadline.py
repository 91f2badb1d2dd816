"""An overall deadline for one download, enforced even while a read is blocked.

Per-read timeouts never end a transfer whose server sends a byte now and then. A Deadline is a
timer: when it fires, the sockets it watches are shut down, so whatever read is waiting returns at
once, and the code around it reports DeadlineExceeded instead of what the cut socket looked like.
"""
import contextlib
import socket
import threading
import time

from .faults import FetchError


class Deadline:
    def __init__(self, seconds):
        self.seconds = seconds
        self.expires = time.monotonic() + seconds
        self.expired = False
        self._sockets = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True
        self._timer.start()

    def remaining(self):
        return max(0.0, self.expires - time.monotonic())

    def watch(self, sock):
        """Shut sock down when the deadline passes (at once, if it has)."""
        with self._lock:
            self._sockets.append(sock)
            expired = self.expired
        if expired:
            _cut(sock)
        self.check()

    def _expire(self):
        with self._lock:
            self.expired = True
            sockets = list(self._sockets)
        for sock in sockets:
            _cut(sock)

    def error(self, received=None, response=None):
        after = f" ({received} bytes received)" if received is not None else ""
        return FetchError("DeadlineExceeded", f"download not finished in {self.seconds:g}s{after}", response=response)

    def check(self, received=None, response=None):
        """Raise DeadlineExceeded once the deadline has passed."""
        if self.expired or time.monotonic() >= self.expires:
            raise self.error(received, response)

    def cancel(self):
        self._timer.cancel()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.cancel()


def _cut(sock):
    # socket.socket's own shutdown, also for an SSLSocket (whose shutdown would drop its TLS state
    # under a reader in another thread): the reader sees end of file or an error, never a hang
    with contextlib.suppress(OSError, ValueError):
        socket.socket.shutdown(sock, socket.SHUT_RDWR)
