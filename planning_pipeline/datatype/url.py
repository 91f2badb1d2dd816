"""url values: all whitespace removed, then an http, https or ftp URL with a real host, else "invalid URI".

Upstream validates with the `validators` package; this is a self-contained check of the same shape:
a scheme of http/https/ftp, a host that is a DNS name with an alphabetic (or punycode) top-level
label, an IPv4 address or a bracketed IPv6 address, an optional numeric port, and no control
characters anywhere. The value is otherwise kept as given.
"""
import ipaddress
import re
from urllib.parse import urlsplit

_SCHEMES = {"http", "https", "ftp"}
_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)", re.ASCII)
_TLD = re.compile(r"[a-z]{2,63}|xn--[a-z0-9-]{1,59}", re.ASCII)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _valid_host(host):
    if not host:
        return False
    if ":" in host:  # urlsplit only lets an IPv6 address through inside brackets
        try:
            ipaddress.IPv6Address(host.split("%", 1)[0])
            return True
        except ValueError:
            return False
    if host.endswith("."):
        host = host[:-1]
    labels = host.split(".")
    if all(label.isdigit() for label in labels):
        try:
            ipaddress.IPv4Address(host)
            return True
        except ValueError:
            return False
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            return False
        labels = host.split(".")
    if len(labels) < 2 or len(host) > 253:
        return False
    if not all(_LABEL.fullmatch(label) for label in labels):
        return False
    return bool(_TLD.fullmatch(labels[-1]))


def valid_url(url):
    if _CONTROL.search(url):
        return False
    try:
        parts = urlsplit(url)
        if parts.scheme.lower() not in _SCHEMES or not parts.netloc:
            return False
        parts.port  # raises ValueError for a port that is not a number in 0..65535
        return _valid_host(parts.hostname)
    except ValueError:
        return False


def normalise_url(value, issues=None):
    if not value:
        return ""
    url = "".join(value.split())
    if not url:
        return ""
    if valid_url(url):
        return url
    if issues is not None:
        issues.log("invalid URI", value, "must be an http, https or ftp URL")
    return ""
