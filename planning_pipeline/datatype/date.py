"""datetime values -> YYYY-MM-DD.

The value is stripped of whitespace, '"' and ',' and fractions of a second beyond 6 digits are
dropped. Then the formats of ``FORMATS`` are tried in order and the first that parses wins, as
upstream does: ISO dates with or without a time, zone and fraction; ``%Y %m %d`` and ``%Y.%m.%d``;
the ambiguous ``%Y-%d-%m`` only once ``%Y-%m-%d`` has failed; year-month and year forms; day-first
forms; month names; the ambiguous ``%m/%d/%Y`` only once ``%d/%m/%Y`` has failed; 8 and 14 digit
compact forms; then 9-13 digit unix timestamps (11-13 digits are milliseconds; 9-10 digits are
seconds and must land in 1800-2100). The date is taken as written, with no time zone conversion.

Speed, with the same results as trying every format in order:
- the commonest shapes (``2020-05-06``, ``6/5/2020``, ISO date-times) are parsed by one regular
  expression each, and only when every field is in range (else the full list decides);
- otherwise the value's shape (digits -> 9, letters -> a) selects, once per shape, the formats
  that could possibly match it, and only those are tried, still in order;
- results are cached per value.

Deterministic everywhere: the RFC 2822 form accepts only the zone names GMT, UTC, UT and Z
(strptime's %Z would also accept the local machine's zone names).
"""
import functools
import re
from datetime import date, datetime, timezone

FAR_PAST_DATE = date(1799, 12, 31)
FAR_FUTURE_YEARS = 50

_STRIP = " \t\n\r\f\v\",\u00a0"
_FRACTION = re.compile(r"(\d:\d\d\.\d{6})\d+")


def _iso_formats():
    formats = ["%Y-%m-%d", "%Y/%m/%d"]
    for sep in "-/":
        for t in ("T", " "):
            for clock in ("%H:%M:%S.%f", "%H:%M:%S", "%H:%M"):
                for zone in ("%z", "Z", ""):
                    formats.append(f"%Y{sep}%m{sep}%d{t}{clock}{zone}")
    return formats


def _rfc2822(value):
    head, _, zone = value.rpartition(" ")
    if zone.upper() not in ("GMT", "UTC", "UT", "Z"):
        return None
    return _strptime(head.rstrip(), "%a, %d %b %Y %H:%M:%S")


def _compact(length, fmt):
    def parse(value):
        return _strptime(value, fmt) if len(value) == length and value.isascii() else None

    return parse


def _timestamp(value):
    if not (value.isascii() and value.isdigit() and 9 <= len(value) <= 13):
        return None
    number = int(value)
    try:
        if len(value) >= 11:
            return datetime.fromtimestamp(number / 1000, tz=timezone.utc).date()
        result = datetime.fromtimestamp(number, tz=timezone.utc).date()
    except (OverflowError, OSError, ValueError):
        return None
    return result if 1800 <= result.year <= 2100 else None


# (name, parser or None for datetime.strptime(value, name), shape pattern for a custom parser)
FORMATS = (
    [(f, None, None) for f in _iso_formats()]
    + [(f, None, None) for f in ("%Y-%m-%d %H:%M:%S", "%Y %m %d", "%Y.%m.%d")]
    + [("%Y-%d-%m", None, None)]
    + [(f, None, None) for f in ("%Y-%m", "%Y.%m", "%Y/%m", "%Y %m", "%Y", "%Y.0")]
    + [(f, None, None) for f in ("%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d-%m-%Y", "%d-%m-%y",
                                 "%d.%m.%Y", "%d.%m.%y", "%d/%m/%Y", "%d/%m/%y")]
    + [(f, None, None) for f in ("%d-%b-%Y", "%d-%b-%y", "%d %B %Y")]
    + [("rfc2822", _rfc2822, r"a+, [ 9]?9 +a+ +9999 +[ 9]?9:[ 9]?9:[ 9]?9 +a+")]
    + [(f, None, None) for f in ("%b %d, %Y", "%b %d, %y", "%b-%y", "%B %Y")]
    + [("%m/%d/%Y", None, None)]
    + [("%Y%m%d", _compact(8, "%Y%m%d"), r"9{8}"),
       ("%Y%m%d%H%M%S", _compact(14, "%Y%m%d%H%M%S"), r"9{14}"),
       ("timestamp", _timestamp, r"9{9,13}")]
)


def _strptime(value, fmt):
    try:
        return datetime.strptime(value, fmt).date()
    except ValueError:
        return None


# --- shapes: a superset of what strptime's own pattern for each directive accepts ---------------
_LOOSE = {
    "Y": "9999", "y": "99", "m": "[ 9]?9", "d": "[ 9]?9", "H": "[ 9]?9", "M": "[ 9]?9", "S": "[ 9]?9",
    "f": "9{1,6}", "z": r"(?:[+-]99:?99(?::?99(?:\.9{1,6})?)?|a)", "a": "a+", "b": "a+", "B": "a+",
}


def _shape_pattern(fmt):
    out, i = [], 0
    while i < len(fmt):
        ch = fmt[i]
        if ch == "%":
            out.append(_LOOSE[fmt[i + 1]])
            i += 2
            continue
        if ch.isspace():
            if not out or out[-1] != " +":
                out.append(" +")
        elif ch.isalpha():
            out.append("a")
        elif ch.isdigit():
            out.append("9")
        else:
            out.append(re.escape(ch))
        i += 1
    return "".join(out)


_ENTRIES = []
for _name, _parser, _shape in FORMATS:
    if _parser is None:
        _parser = functools.partial(_strptime, fmt=_name)
        _shape = _shape_pattern(_name)
    _ENTRIES.append((re.compile(_shape), _parser))

_DIGIT, _LETTER, _SPACE = re.compile(r"\d"), re.compile(r"[^\W\d_]"), re.compile(r"\s")
_ASCII_SHAPE = {}
for _c in range(128):
    _ch = chr(_c)
    if _DIGIT.match(_ch):
        _ASCII_SHAPE[_c] = "9"
    elif _LETTER.match(_ch):
        _ASCII_SHAPE[_c] = "a"
    elif _SPACE.match(_ch):
        _ASCII_SHAPE[_c] = " "


def shape(value):
    """digits -> 9, letters -> a, whitespace -> ' ' (Unicode-aware, as strptime's patterns are)."""
    if value.isascii():
        return value.translate(_ASCII_SHAPE)
    return _SPACE.sub(" ", _LETTER.sub("a", _DIGIT.sub("9", value)))


@functools.lru_cache(maxsize=4096)
def _candidates(value_shape):
    return tuple(parse for pattern, parse in _ENTRIES if pattern.fullmatch(value_shape))


def parse_slow(value):
    """Try every format that could match, in order (value already cleaned)."""
    for parse in _candidates(shape(value)):
        result = parse(value)
        if result is not None:
            return result
    return None


def parse_all_formats(value):
    """Reference implementation: every format in order, no shortcuts (for tests)."""
    for pattern, parse in _ENTRIES:
        result = parse(value)
        if result is not None:
            return result
    return None


# --- fast paths: only return when the full list would give the same date ------------------------
_ISO_DATE = re.compile(r"(\d{4})-(\d\d)-(\d\d)", re.ASCII)
_DMY = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})", re.ASCII)
_ISO_DATETIME = re.compile(
    r"(\d{4})([-/])(\d\d)\2(\d\d)[T ](\d\d):(\d\d)(?::(\d\d)(?:\.\d{1,6})?)?(?:Z|[+-](\d\d):?(\d\d))?",
    re.ASCII,
)


def _date(year, month, day):
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        return None


def _fast(value):
    m = _ISO_DATE.fullmatch(value)
    if m:
        return _date(*m.groups())
    m = _DMY.fullmatch(value)
    if m:
        return _date(m[3], m[2], m[1])
    m = _ISO_DATETIME.fullmatch(value)
    if m:
        year, _, month, day, hour, minute, second, zh, zm = m.groups()
        if (int(hour) < 24 and int(minute) < 60 and (second is None or int(second) < 60)
                and (zh is None or (int(zh) < 24 and int(zm) < 60))):
            return _date(year, month, day)
    return None


def clean(value):
    value = value.strip(_STRIP)
    if "." in value:
        value = _FRACTION.sub(r"\1", value)
    return value


@functools.lru_cache(maxsize=65536)
def parse_date(value):
    """The date a cleaned value stands for, or None."""
    return _fast(value) or parse_slow(value)


def _years_from(day, years):
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


class DateNormaliser:
    __slots__ = ("field", "far_past", "far_future")

    def __init__(self, field="date", far_past_date=None, far_future_date=None):
        self.field = field
        self.far_past = far_past_date or FAR_PAST_DATE
        self.far_future = far_future_date or _years_from(date.today(), FAR_FUTURE_YEARS)

    def __call__(self, value, issues=None):
        if not value:
            return ""
        text = clean(value)
        if not text:
            return ""
        result = parse_date(text)
        if result is None:
            if issues is not None:
                issues.log("invalid date", value, f"{self.field} must be a real date")
            return ""
        if result < self.far_past:
            if issues is not None:
                issues.log("far-past-date", value, f"{self.field} must be after {self.far_past.isoformat()}")
            return ""
        if result > self.far_future:
            if issues is not None:
                issues.log("far-future-date", value, f"{self.field} must be before {self.far_future.isoformat()}")
            return ""
        return result.isoformat()
