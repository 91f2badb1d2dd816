"""HTTP(S) GETs: connect and read timeouts, redirects (with loop detection), proxies, retries.

Standard library only: http.client gives control over timeouts, streaming, redirects and what is
logged. Every fault becomes a FetchError. Retries (5xx, dropped connections) wrap a whole attempt,
body included. Each attempt has an overall deadline (options.deadline) covering its connections,
redirects, headers and body, enforced while a read is blocked (see deadline.py).
"""
import http.client
import ssl
import time
import urllib.parse
import urllib.request

from .deadline import Deadline
from .faults import FetchError, fault, split_url
from .response import Response

REDIRECTS = (301, 302, 303, 307, 308)


def request_headers(options):
    return {"Accept": "*/*", "Accept-Encoding": "gzip, deflate", "Connection": "close", "User-Agent": options.user_agent}


RETRY_STATUSES = (429, 500, 502, 503, 504, 507, 509)


def with_retries(options, attempt):
    """Call attempt(last) until it succeeds or fails for good; transient failures are retried with backoff.

    `last` is True on the final attempt, when a retryable status should be returned, not retried.
    """
    for n in range(options.retries + 1):
        try:
            return attempt(n == options.retries)
        except FetchError as error:
            if not error.transient or n == options.retries:
                raise
        time.sleep(options.backoff * (2**n))


def get(url, options, consume, headers=None):
    """GET url and return consume(response), retrying retryable statuses and dropped connections.

    consume() gets every final response (200, 404, 503 after the last retry, ...) and may read its body.
    """

    def attempt(last):
        with Deadline(options.deadline) as deadline:
            response = open_http(url, options, headers, deadline)
            try:
                if response.status in RETRY_STATUSES and not last:
                    raise FetchError(f"HTTP {response.status}", transient=True, response=response)
                return consume(response)
            finally:
                response.close()

    return with_retries(options, attempt)


def quote_url(url):
    """Percent-encode what a server must not see raw (spaces, non-ASCII), leaving existing escapes alone."""
    return urllib.parse.quote(url, safe="!#$%&'()*+,/:;=?@[]~")


def open_http(url, options, headers=None, deadline=None):
    """GET url following redirects; returns a Response (status 200 or an error status) or raises FetchError.

    deadline: the Deadline the connections, headers and (when the Response is read) body must meet.
    """
    deadline = deadline or Deadline(options.deadline)
    headers = dict(headers or request_headers(options))
    cookies = {}
    seen = set()
    for _ in range(options.max_redirects + 1):
        key = (url, tuple(sorted(cookies.items())))
        if key in seen:
            raise FetchError("TooManyRedirects", f"redirect loop at {url}")
        seen.add(key)
        if cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in sorted(cookies.items()))
        response = _get(url, headers, options, deadline)
        location = response.header("Location")
        if response.status not in REDIRECTS or not location:
            return response
        for name, value in response.raw.getheaders():
            if name.lower() == "set-cookie" and "=" in value:
                k, v = value.split(";")[0].split("=", 1)
                cookies[k.strip()] = v.strip()
        response.close()
        try:
            url = urllib.parse.urljoin(url, location)
        except ValueError:
            raise FetchError("InvalidRedirect", f"redirect to {location!r}") from None
        if split_url(url).scheme not in ("http", "https"):
            raise FetchError("InvalidRedirect", f"redirect to {url}")
    raise FetchError("TooManyRedirects", f"more than {options.max_redirects} redirects")


def _connection(parts, options, timeout):
    try:
        host = parts.hostname.encode("idna").decode("ascii") if parts.hostname else ""
        port = parts.port
    except (UnicodeError, ValueError) as error:
        raise FetchError("InvalidURL", str(error)) from error
    if not host:
        raise FetchError("InvalidURL", "no host")
    proxy = _proxy(parts.scheme, host)
    if parts.scheme == "https":
        context = ssl.create_default_context()
        if proxy:
            connection = http.client.HTTPSConnection(*proxy, timeout=timeout, context=context)
            connection.set_tunnel(host, port)
        else:
            connection = http.client.HTTPSConnection(host, port, timeout=timeout, context=context)
        return connection, False
    if parts.scheme == "http":
        if proxy:
            return http.client.HTTPConnection(*proxy, timeout=timeout), True
        return http.client.HTTPConnection(host, port, timeout=timeout), False
    raise FetchError("InvalidSchema", f"unsupported scheme {parts.scheme!r}")


def _proxy(scheme, host):
    """(host, port) of the proxy the environment asks for (http_proxy, https_proxy, no_proxy), or None."""
    proxy = urllib.request.getproxies().get(scheme)
    if not proxy or urllib.request.proxy_bypass(host):
        return None
    parts = urllib.parse.urlsplit(proxy if "//" in proxy else "http://" + proxy)
    return parts.hostname, parts.port or 8080


def _get(url, headers, options, deadline):
    url = quote_url(url)
    parts = split_url(url)
    deadline.check()
    timeout = max(0.001, min(options.connect_timeout, deadline.remaining()))
    connection, absolute = _connection(parts, options, timeout)
    target = url.split("#")[0] if absolute else (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        try:
            connection.connect()
        except TimeoutError as error:
            deadline.check()
            raise FetchError("ConnectTimeout", f"no connection in {options.connect_timeout}s") from error
        sock = connection.sock
        deadline.watch(sock)
        sock.settimeout(options.read_timeout)
        connection.sock_timeout = options.read_timeout
        connection.request("GET", target, headers=headers)
        return Response(url, connection, connection.getresponse(), deadline)
    except FetchError:
        connection.close()
        raise
    except Exception as error:
        connection.close()
        if deadline.expired:
            raise deadline.error() from error
        failure = fault(error)
        if failure is None:
            raise
        raise failure from error
    except BaseException:
        connection.close()
        raise
