"""FetchError: every way a transfer can fail, named by the short reason the log records.

Reasons follow the exception class names upstream logs (ConnectTimeout, ReadTimeout, SSLError,
ConnectionError, TooManyRedirects, ...), plus this project's own (HTMLResponse, ContentTooLarge, ...).
"""
import http.client
import socket
import ssl
import urllib.parse


class FetchError(Exception):
    """A failed transfer. `reason` is the short name logged as the exception."""

    def __init__(self, reason, detail="", transient=False, response=None):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail
        self.transient = transient
        self.response = response  # the response, when one arrived


def fault(error):
    """The FetchError for an exception raised while connecting or waiting for a response, or None."""
    if isinstance(error, TimeoutError):
        return FetchError("ReadTimeout", "no response in time")
    if isinstance(error, ssl.SSLError):
        return FetchError("SSLError", getattr(error, "verify_message", None) or str(error))
    if isinstance(error, socket.gaierror):
        return FetchError("ConnectionError", f"name lookup failed: {error}")
    if isinstance(error, (ConnectionError, http.client.RemoteDisconnected, http.client.IncompleteRead)):
        return FetchError("ConnectionError", str(error) or type(error).__name__, transient=True)
    if isinstance(error, http.client.InvalidURL):
        return FetchError("InvalidURL", str(error))
    if isinstance(error, (http.client.HTTPException, OSError)):
        return FetchError("ConnectionError", str(error) or type(error).__name__)
    return None


def split_url(url):
    """urllib.parse.urlsplit, with a malformed URL (bad IPv6 literal, port, ...) as a FetchError."""
    try:
        parts = urllib.parse.urlsplit(url)
        parts.port
    except ValueError as error:
        raise FetchError("InvalidURL", f"{url}: {error}") from None
    return parts
