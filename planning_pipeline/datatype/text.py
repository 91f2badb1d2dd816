"""string, text and address values."""
import re

_WHITESPACE = re.compile(r"\s+")
_QUOTES = str.maketrans("", "", '"\u201d')  # upstream removes " and the right double quote only
_ADDRESS_BREAK = re.compile(r"\r\n|[\r\n;]")
_COMMA_RUN = re.compile(r"\s*,[\s,]*")
_HYPHEN = re.compile(r"\s*-\s*")


def _unquoted(value):
    # str.translate is slow per character: only call it when there is a quote to remove
    return value.translate(_QUOTES) if '"' in value or "\u201d" in value else value


def normalise_string(value, issues=None):
    """Strip, collapse runs of whitespace (newlines included) to one space, remove double quotes."""
    if not value:
        return ""
    return " ".join(_unquoted(value).split())


def normalise_address(value, issues=None):
    """One line: newlines and ';' become ', ', runs of commas collapse, no spaces round '-', no quotes."""
    if not value:
        return ""
    value = _ADDRESS_BREAK.sub(", ", _unquoted(value))
    value = _COMMA_RUN.sub(", ", value)
    value = _HYPHEN.sub("-", value)
    value = _WHITESPACE.sub(" ", value)
    return value.strip(" ,")
