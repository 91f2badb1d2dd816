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
  that could possibly match it, and only those are tried, still in order, each with strptime's own
  regular expression compiled once (StrptimeDate; tests compare it with datetime.strptime);
- results (as ISO text) are cached per value.

Deterministic everywhere: the RFC 2822 form accepts only the zone names GMT, UTC, UT and Z
(strptime's %Z would also accept the local machine's zone names).
"""
import _strptime
import functools
import re
from datetime import date, datetime, timedelta, timezone

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


def strptime_date(value, fmt):
    """The reference: datetime.strptime(value, fmt).date(), or None."""
    try:
        return datetime.strptime(value, fmt).date()
    except ValueError:
        return None


# --- strptime without its cache: the stdlib keeps only 5 compiled formats, fewer than a messy
# column uses, so it recompiled a format's regex for most values. Here each format's regex (the
# stdlib's own, for the locale at first use) is compiled once, with strptime's conversions and checks.
_FAST_DIRECTIVES = frozenset("YymdbBHMSfza")
_time_re = None


def _zone(z):
    """strptime's %z conversion: a timezone, or ValueError where strptime raises one."""
    if z == "Z":
        return timezone.utc
    if z[3] == ":":
        z = z[:3] + z[4:]
        if len(z) > 5:
            if z[5] != ":":
                raise ValueError(f"inconsistent use of : in {z}")
            z = z[:5] + z[6:]
    offset = int(z[1:3]) * 3600 + int(z[3:5]) * 60 + int(z[5:7] or 0)
    fraction = int(z[8:] + "0" * (6 - len(z[8:])))
    if z.startswith("-"):
        offset, fraction = -offset, -fraction
    return timezone(timedelta(seconds=offset, microseconds=fraction))


def _year(found):
    return int(found["Y"])


def _short_year(found):
    year = int(found["y"])
    return year + (2000 if year <= 68 else 1900)


def _name_month(group, names):
    """%b or %B: the month's index among the locale's lower-case names (a match can differ in case
    folding, e.g. a long s, and then strptime fails too)."""
    index = dict(reversed([(name, i) for i, name in enumerate(names)]))

    def month(found):
        number = index.get(found[group].lower())
        if number is None:
            raise ValueError("not a month name")
        return number

    return month


class StrptimeDate:
    """strptime_date(value, fmt) for a format of _FAST_DIRECTIVES with a year, without datetime.strptime.

    After the match only what strptime's conversion can still reject is checked: the day of the
    month, a second of 60 or 61 (datetime() rejects them), the time zone (%z) and names that matched
    only by case folding (%a, %b, %B); the regex bounds every other field."""

    __slots__ = ("fmt", "directives", "regex", "year", "month", "weekdays", "seconds", "zone")

    def __init__(self, fmt):
        directives = set(re.findall("%(.)", fmt))
        if not directives <= _FAST_DIRECTIVES or not directives & {"Y", "y"}:
            raise ValueError(f"{fmt!r} needs datetime.strptime")
        self.fmt, self.directives, self.regex = fmt, directives, None

    def _compile(self):
        global _time_re
        if _time_re is None:
            _time_re = _strptime.TimeRE()
        locale_time, directives = _time_re.locale_time, self.directives
        self.year = _year if "Y" in directives else _short_year
        self.month = None
        if "b" in directives:
            self.month = _name_month("b", locale_time.a_month)
        elif "B" in directives:
            self.month = _name_month("B", locale_time.f_month)
        self.weekdays = frozenset(locale_time.a_weekday) if "a" in directives else None
        self.seconds, self.zone = "S" in directives, "z" in directives
        self.regex = _time_re.compile(self.fmt)

    def __call__(self, value):
        if self.regex is None:
            self._compile()
        found = self.regex.match(value)
        # as strptime: the first match, which must then be the whole value (no backtracking)
        if found is None or found.end() != len(value):
            return None
        found = found.groupdict()
        try:
            if self.seconds and int(found["S"]) > 59:
                return None
            if self.weekdays is not None and found["a"].lower() not in self.weekdays:
                return None
            if self.zone:
                _zone(found["z"])
            month = self.month(found) if self.month else int(found.get("m") or 1)
            return date(self.year(found), month, int(found.get("d") or 1))
        except ValueError:
            return None


def _fast_parser(fmt):
    try:
        return StrptimeDate(fmt)
    except ValueError:
        return functools.partial(strptime_date, fmt=fmt)


_FAST = {}


def fast_strptime(value, fmt):
    """strptime_date(value, fmt), faster."""
    parse = _FAST.get(fmt)
    if parse is None:
        parse = _FAST[fmt] = _fast_parser(fmt)
    return parse(value)


# custom parsers: parse(value, strptime), strptime being strptime_date or fast_strptime
def _rfc2822(value, strptime):
    head, _, zone = value.rpartition(" ")
    if zone.upper() not in ("GMT", "UTC", "UT", "Z"):
        return None
    return strptime(head.rstrip(), "%a, %d %b %Y %H:%M:%S")


def _compact(length, fmt):
    def parse(value, strptime):
        return strptime(value, fmt) if len(value) == length and value.isascii() else None

    return parse


def _timestamp(value, strptime=None):
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


# (name, custom parser or None for strptime with the format name, shape pattern for a custom parser)
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


_ENTRIES = []  # (shape regex, parser, reference parser using datetime.strptime)
for _name, _parser, _shape in FORMATS:
    if _parser is None:
        _ENTRIES.append((re.compile(_shape_pattern(_name)), _fast_parser(_name),
                         functools.partial(strptime_date, fmt=_name)))
    else:
        _ENTRIES.append((re.compile(_shape), functools.partial(_parser, strptime=fast_strptime),
                         functools.partial(_parser, strptime=strptime_date)))

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


_ASCII_BYTES = bytes(ord(_ASCII_SHAPE.get(_c, chr(_c))) for _c in range(256))  # bytes.translate is faster


def shape(value):
    """digits -> 9, letters -> a, whitespace -> ' ' (Unicode-aware, as strptime's patterns are)."""
    if value.isascii():
        return value.encode("ascii").translate(_ASCII_BYTES).decode("ascii")
    return _SPACE.sub(" ", _LETTER.sub("a", _DIGIT.sub("9", value)))


@functools.lru_cache(maxsize=4096)
def _candidates(value_shape):
    return tuple(parse for pattern, parse, _ in _ENTRIES if pattern.fullmatch(value_shape))


def parse_slow(value):
    """Try every format that could match, in order (value already cleaned)."""
    for parse in _candidates(shape(value)):
        result = parse(value)
        if result is not None:
            return result
    return None


def parse_all_formats(value):
    """Reference implementation: every format in order with datetime.strptime, no shortcuts (for tests)."""
    for _, _, parse in _ENTRIES:
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
    # the three patterns exclude one another; lengths pick the one worth trying
    if len(value) <= 10:
        m = _ISO_DATE.fullmatch(value) if len(value) == 10 else None
        if m:
            return _date(*m.groups())
        m = _DMY.fullmatch(value)
        if m:
            return _date(m[3], m[2], m[1])
        return None
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
def _parsed(value):
    """The ISO text (YYYY-MM-DD, which sorts as the dates do) of a cleaned value's date, or None."""
    day = _fast(value) or parse_slow(value)
    return None if day is None else day.isoformat()


def parse_date(value):
    """The date a cleaned value stands for, or None."""
    parsed = _parsed(value)
    return None if parsed is None else date.fromisoformat(parsed)


def _years_from(day, years):
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


class DateNormaliser:
    __slots__ = ("field", "far_past", "far_future", "earliest", "latest")

    def __init__(self, field="date", far_past_date=None, far_future_date=None):
        self.field = field
        self.far_past = far_past_date or FAR_PAST_DATE
        self.far_future = far_future_date or _years_from(date.today(), FAR_FUTURE_YEARS)
        # the bounds as ISO text, compared with the cached ISO text (4-digit years: same order)
        self.earliest, self.latest = self.far_past.isoformat(), self.far_future.isoformat()

    def __call__(self, value, issues=None):
        if not value:
            return ""
        text = value.strip(_STRIP)  # clean(), inlined
        if "." in text:
            text = _FRACTION.sub(r"\1", text)
        if not text:
            return ""
        result = _parsed(text)
        if result is None:
            if issues is not None:
                issues.log("invalid date", value, f"{self.field} must be a real date")
            return ""
        if result < self.earliest:
            if issues is not None:
                issues.log("far-past-date", value, f"{self.field} must be after {self.earliest}")
            return ""
        if result > self.latest:
            if issues is not None:
                issues.log("far-future-date", value, f"{self.field} must be before {self.latest}")
            return ""
        return result
