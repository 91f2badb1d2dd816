"""What kind of file a resource is, judged by its content (collected resources have no extension)."""
import re

SIGNATURES = (
    (b"SQLite format 3\x00", "sqlite"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "ole2"),  # xls (and other old Office files)
    (b"PK\x03\x04", "zip"),
    (b"PK\x05\x06", "zip"),  # empty archive
    (b"%PDF", "pdf"),
    (b"\x1f\x8b", "gzip"),
    (b"\x89PNG", "image"),
    (b"\xff\xd8\xff", "image"),
    (b"GIF8", "image"),
    (b"Rar!", "rar"),
    (b"7z\xbc\xaf", "7z"),
)

UNSUPPORTED = {
    "pdf": "PDF document",
    "gzip": "gzip-compressed file",
    "image": "image file",
    "rar": "RAR archive",
    "7z": "7-Zip archive",
}

GEOPACKAGE_IDS = (b"GPKG", b"GP10", b"GP11")


def signature(head):
    """The kind named by the file's first bytes, or None."""
    for magic, kind in SIGNATURES:
        if head.startswith(magic):
            return kind
    return None


def is_geopackage(head):
    return head[68:72] in GEOPACKAGE_IDS


_PROLOG = re.compile(r"\s*(?:<\?.*?\?>|<!--.*?-->|<!DOCTYPE(?:[^\[>]|\[.*?\])*>)", re.S | re.I)
_ELEMENT = re.compile(r"\s*<([A-Za-z_][\w.\-]*:)?([A-Za-z_][\w.\-]*)")


def xml_root(text):
    """The local name of the first element of the XML text (lowercase), or '' if not found."""
    position = 0
    while True:
        match = _PROLOG.match(text, position)
        if not match or match.end() == position:
            break
        position = match.end()
    match = _ELEMENT.match(text, position)
    return match.group(2).lower() if match else ""


def looks_binary(text):
    """True when a decoded sample is mostly control characters: not text at all."""
    sample = text[:4096]
    if not sample:
        return False
    controls = sum(1 for c in sample if c < " " and c not in "\t\n\r\f\v\x1a")
    return controls > 0.1 * len(sample)


def text_kind(text):
    """html, xml, json, or csv, from the start of the decoded text (NULs already removed)."""
    start = text.lstrip("\ufeff \t\r\n")
    lower = start[:1024].lower()
    if lower.startswith("<!doctype") or re.match(r"<html[\s>]", lower):
        return "html"
    if start.startswith("<"):
        return "html" if xml_root(start) == "html" else "xml"
    # "[{", "[[" or "[]" is JSON; a bare "[" may be a CSV header such as "[Reference],[Name]"
    if start.startswith("{") or re.match(r"\[\s*[\[{\]]", start):
        return "json"
    return "csv"
