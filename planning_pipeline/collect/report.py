"""What bin/collect-endpoint prints: one plain line per endpoint, or a live byte count on a terminal."""
import os
import signal
import sys
import time

from .fetch import ALREADY_FETCHED, NOT_LIVE, collect_endpoint
from .log import failure_reason
from .options import Options


def human(n):
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000


class TerminalProgress:
    """Rewrites one terminal line with the bytes received, at most five times a second."""

    def __init__(self, stream, prefix):
        self.stream, self.prefix, self.shown = stream, prefix, 0.0

    def __call__(self, received):
        now = time.monotonic()
        if now - self.shown >= 0.2:
            self.shown = now
            self.stream.write(f"\r{self.prefix} ... {human(received)}\x1b[K")
            self.stream.flush()

    def clear(self):
        if self.shown:
            self.stream.write("\r\x1b[K")


def describe(result):
    """The outcome of one collect_endpoint() call, as the end of a line."""
    if result.outcome == NOT_LIVE:
        return f"not live on {result.date} ({result.detail})"
    if result.outcome == ALREADY_FETCHED:
        return f"already collected on {result.date}"
    log = result.log
    if result.resource:
        return f"{log.get('status', '')} {'new' if result.new else 'existing'} resource {result.resource[:12]} ({log['elapsed']}s)".lstrip()
    reason = failure_reason(log)
    detail = f": {result.detail}" if result.detail and result.detail != reason else ""
    return f"failed {reason}{detail} ({log['elapsed']}s)"


def collect_and_report(collection_dir, endpoint, date=None, refill=False, label="", options=None, stream=None):
    """collect_endpoint() with its one-line report on stream (stdout)."""
    stream = stream or sys.stdout
    collection = os.path.basename(os.path.normpath(collection_dir))
    prefix = f"collect {collection}" + (f" [{label}]" if label else "")
    progress = None
    options = options or Options()
    if stream.isatty():
        progress = TerminalProgress(stream, f"{prefix} {endpoint[:12]}")
        options = options.replace(progress=progress)
    result = collect_endpoint(collection_dir, endpoint, date=date, refill=refill, options=options)
    if progress:
        progress.clear()
    print(f"{prefix} {result.url} -> {describe(result)}", file=stream, flush=True)
    return result


def terminate_cleanly():
    """Treat SIGTERM like Ctrl-C, so temporary files are removed on the way out."""

    def handler(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)
