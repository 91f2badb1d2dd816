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


BINARY_SHARE = 0.02  # real text, even badly encoded, has almost no such characters; random bytes ~12%


def looks_binary(text):
    """True when a decoded sample is not text: more than a few control characters (other than
    whitespace), replacement characters or C1 controls (what bytes no Western text holds decode to).
    Random or compressed bytes named .csv decode, in Windows-1252, to about 12% of those."""
    sample = text[:4096]
    if not sample:
        return False
    odd = sum(1 for c in sample if (c < " " and c not in "\t\n\r\f\v\x1a") or "\x7f" <= c <= "\x9f" or c == "\ufffd")
    return odd > BINARY_SHARE * len(sample)


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


# --- XML entities -----------------------------------------------------------------------------
# GDAL's parsers never fetch an external entity and stop at an entity expansion bomb, but either way
# they go on to give what they could read: a document with its values silently missing, or none at
# all and "success". The document type declaration (the only place entities are declared) is read
# here first, and a document that needs an entity expanded that we refuse to expand is refused whole.

ENTITY_EXPANSION_LIMIT = 1 << 20  # characters one entity may expand to
PROLOG_BYTES = 1 << 22  # a longer prolog (before the root element) is left to GDAL's own limits
_REFERENCE = re.compile(r"&([^;&\s]+);")


class _RootReached(Exception):
    pass


class _Cycle(Exception):
    pass


def xml_entity_refusal(chunks):
    """Why the XML document whose bytes `chunks` yields must not be converted, or '' when its
    entities (if any) are all internal and expand to a sensible size. Reads only up to the root
    element; a document expat cannot read there is left for GDAL to judge."""
    import xml.parsers.expat as expat

    internal, external = {}, []

    def declared(name, is_parameter, value, base, system_id, public_id, notation):
        if system_id is not None or public_id is not None or notation is not None:
            external.append(("%" if is_parameter else "&") + name + ";")
        elif not is_parameter:
            internal[name] = value or ""

    def root(*_):
        raise _RootReached()

    parser = expat.ParserCreate()
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.EntityDeclHandler = declared
    parser.StartElementHandler = root
    read = 0
    try:
        for data in chunks:
            parser.Parse(data, False)
            read += len(data)
            if read > PROLOG_BYTES:
                break
    except _RootReached:
        pass
    except (expat.ExpatError, ValueError):
        pass  # not ours to judge: GDAL reports what it cannot read
    if external:
        return f"XML entity expansion refused: the document declares external entities ({', '.join(external[:3])})"
    sizes = {}

    def size(name, stack=()):
        if name in sizes:
            return sizes[name]
        if name in stack:
            raise _Cycle(name)
        value = internal[name]
        total = len(_REFERENCE.sub("", value))
        for reference in _REFERENCE.findall(value):
            if reference in internal:
                total += size(reference, stack + (name,))
                if total > ENTITY_EXPANSION_LIMIT:
                    break
        sizes[name] = total
        return total

    for name in internal:
        try:
            if size(name) > ENTITY_EXPANSION_LIMIT:
                return f"XML entity expansion refused: &{name}; expands to over {ENTITY_EXPANSION_LIMIT} characters (an entity expansion bomb)"
        except _Cycle:
            return f"XML entity expansion refused: &{name}; refers to itself"
        except RecursionError:
            return f"XML entity expansion refused: &{name}; is nested too deeply"
    return ""
