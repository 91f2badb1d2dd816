"""datetime values: the formats, in upstream's order, to YYYY-MM-DD; far past and far future; and the
fast paths giving exactly what trying every format in order gives."""
import datetime
import random

import pytest

from planning_pipeline.datatype import ListIssues, normaliser
from planning_pipeline.datatype.date import clean, parse_all_formats, parse_date, parse_slow


def run(value):
    issues = ListIssues()
    return normaliser("datetime", "start-date")(value, issues), issues.issues


@pytest.mark.parametrize("value, expected", [
    ("2020-05-06", "2020-05-06"),
    ("2020/05/06", "2020-05-06"),
    ("2020-05-06T10:11:12", "2020-05-06"),
    ("2020-05-06T10:11:12Z", "2020-05-06"),
    ("2020-05-06T10:11:12.123Z", "2020-05-06"),
    ("2020-05-06T10:11:12.123456789+01:00", "2020-05-06"),  # fraction beyond 6 digits dropped
    ("2020-05-06T23:30:00-05:00", "2020-05-06"),  # as written: no time zone conversion
    ("2020-05-06 10:11:12", "2020-05-06"),
    ("2020/05/06 10:11", "2020-05-06"),
    ("2020 05 06", "2020-05-06"),
    ("2020.05.06", "2020-05-06"),
    ("2020-05", "2020-05-01"),
    ("2020.05", "2020-05-01"),
    ("2020/05", "2020-05-01"),
    ("2020 05", "2020-05-01"),
    ("2020", "2020-01-01"),
    ("2020.0", "2020-01-01"),
    ("06/05/2020 10:11:12", "2020-05-06"),
    ("06/05/2020 10:11", "2020-05-06"),
    ("06-05-2020", "2020-05-06"),
    ("06-05-20", "2020-05-06"),
    ("06.05.2020", "2020-05-06"),
    ("06.05.20", "2020-05-06"),
    ("06/05/2020", "2020-05-06"),
    ("6/5/2020", "2020-05-06"),
    ("06/05/20", "2020-05-06"),
    ("06-May-2020", "2020-05-06"),
    ("06-may-20", "2020-05-06"),
    ("6 May 2020", "2020-05-06"),
    ("6 December 2020", "2020-12-06"),
    ("Wed, 06 May 2020 10:11:12 GMT", "2020-05-06"),
    ("May 06, 2020", "2020-05-06"),
    ("May 06, 20", "2020-05-06"),
    ("May-20", "2020-05-01"),
    ("May 2020", "2020-05-01"),
    ("20200506", "2020-05-06"),
    ("20200506101112", "2020-05-06"),
    ("1588723200", "2020-05-06"),  # unix seconds
    ("1588723200000", "2020-05-06"),  # unix milliseconds
    (' "2020-05-06", ', "2020-05-06"),
    ("1800-01-01", "1800-01-01"),
])
def test_each_format_becomes_an_iso_date(value, expected):
    assert run(value) == (expected, [])


def test_ambiguous_formats_are_tried_only_after_the_unambiguous_ones_fail():
    assert run("2020-05-06")[0] == "2020-05-06"  # %Y-%m-%d first
    assert run("2020-13-05")[0] == "2020-05-13"  # then %Y-%d-%m
    assert run("05/06/2020")[0] == "2020-06-05"  # %d/%m/%Y first
    assert run("12/25/2020")[0] == "2020-12-25"  # then %m/%d/%Y


@pytest.mark.parametrize("value", ["31/02/2020", "2020-02-30", "2020-13-13", "not a date", "13/13/2020",
                                   "2020-05-06T25:00:00", "32 May 2020", "4133980800", "12345678901234567",
                                   "Wed, 06 May 2020 10:11:12 XYZ", "٢٠٢٠-٠١-٠٢"])
def test_impossible_dates_are_an_invalid_date(value):
    assert run(value) == ("", [("invalid date", value, "start-date must be a real date")])


def test_dates_before_1800_are_far_past_and_beyond_fifty_years_far_future():
    assert run("1799-12-30")[1][0][:2] == ("far-past-date", "1799-12-30")
    assert run("1799-12-31") == ("1799-12-31", [])
    later = datetime.date.today().year + 51
    assert run(f"{later}-01-01")[1][0][:2] == ("far-future-date", f"{later}-01-01")
    assert run(f"{later - 2}-01-01") == (f"{later - 2}-01-01", [])


def test_far_past_and_far_future_can_be_set():
    fn = normaliser("datetime", "x", far_past_date=datetime.date(2000, 1, 1), far_future_date=datetime.date(2030, 1, 1))
    issues = ListIssues()
    assert [fn(v, issues) for v in ("1999-12-31", "2031-01-01", "2020-01-01")] == ["", "", "2020-01-01"]
    assert issues.types == ["far-past-date", "far-future-date"]


def test_empty_values_are_empty_without_an_issue():
    assert run("") == ("", [])
    assert run('  ", ') == ("", [])


def _corpus(n, seed=7):
    rng = random.Random(seed)
    months = ["Jan", "feb", "MAR", "April", "May", "june", "Sept", "Oct", "November", "Dec", "Foo"]
    pieces = [
        lambda: str(rng.randint(0, 9999)).zfill(rng.choice([1, 2, 4])),
        lambda: str(rng.randint(0, 99)).zfill(rng.choice([1, 2])),
        lambda: str(rng.randint(0, 39)),
        lambda: rng.choice(months),
        lambda: rng.choice(["T", "Z", "GMT", "UTC", "Mon,", "BST"]),
        lambda: f"{rng.randint(0, 30):02d}:{rng.randint(0, 70):02d}" + rng.choice(["", f":{rng.randint(0, 70):02d}"]),
        lambda: "." + "".join(rng.choice("0123456789") for _ in range(rng.randint(1, 9))),
        lambda: rng.choice(["+01:00", "-0500", "+99:00", "Z"]),
    ]
    seps = ["-", "/", ".", " ", ", ", "", "T", "  "]
    out = []
    for _ in range(n):
        parts = [rng.choice(pieces)() for _ in range(rng.randint(1, 4))]
        out.append("".join(p + rng.choice(seps) for p in parts).strip())
    # realistic shapes with random (often impossible) numbers
    for _ in range(n):
        y, m, d = rng.randint(1700, 2200), rng.randint(0, 14), rng.randint(0, 33)
        h, mi, s = rng.randint(0, 25), rng.randint(0, 61), rng.randint(0, 61)
        out.append(rng.choice([
            f"{y}-{m:02d}-{d:02d}", f"{d}/{m}/{y}", f"{d:02d}/{m:02d}/{y}", f"{y}-{m:02d}-{d:02d}T{h:02d}:{mi:02d}:{s:02d}Z",
            f"{y}/{m:02d}/{d:02d} {h:02d}:{mi:02d}", f"{y}-{m:02d}-{d:02d} {h:02d}:{mi:02d}:{s:02d}.{rng.randint(0, 10**9)}",
            f"{y}-{m:02d}-{d:02d}T{h:02d}:{mi:02d}:{s:02d}+{rng.randint(0, 30):02d}:{rng.randint(0, 70):02d}",
            f"{y}{m:02d}{d:02d}", f"{rng.randint(10**8, 10**13)}", f"{d}-{m}-{y % 100:02d}",
        ]))
    return out


def test_fast_paths_and_shape_filter_give_what_every_format_in_order_gives():
    for raw in _corpus(1500):
        value = clean(raw)
        if not value:
            continue
        expected = parse_all_formats(value)
        assert parse_date(value) == expected, raw
        assert parse_slow(value) == expected, raw


def _strptime_corpus(n, seed=11):
    """Values near every format: in and out of range numbers, zones, fractions, names, spacing."""
    from planning_pipeline.datatype.date import FORMATS

    rng = random.Random(seed)
    fill = {
        "Y": lambda: rng.choice(["2020", "0000", "1899", "9999", "٢٠٢٠", "202", "20201"]),
        "y": lambda: rng.choice(["00", "68", "69", "99", "5", "123"]),
        "m": lambda: rng.choice(["1", "01", "09", "12", "13", "00", " 5", "١٢"]),
        "d": lambda: rng.choice(["1", "01", " 1", "28", "29", "30", "31", "32", "00"]),
        "H": lambda: rng.choice(["0", "00", "23", "24", "7"]),
        "M": lambda: rng.choice(["0", "00", "59", "60"]),
        "S": lambda: rng.choice(["0", "00", "59", "60", "61", "62"]),
        "f": lambda: rng.choice(["1", "123456", "1234567", ""]),
        "z": lambda: rng.choice(["Z", "z", "+01:00", "-0500", "+23:59", "+24:00", "-2400", "+99:00", "+05:3045",
                                 "+0530:45", "+05:30:45", "+05:30:45.5", "+053045.123456", "+0560", ""]),
        "b": lambda: rng.choice(["Jan", "feb", "MAR", "Sep", "Sept", "May", "Foo", "ſep", "", "\u212aan"]),
        "B": lambda: rng.choice(["January", "may", "SEPTEMBER", "Sept", "Jun", "auguſt"]),
        "a": lambda: rng.choice(["Wed", "wed", "Thu", "Xyz", "ſun", "Tue"]),
    }
    out = []
    for _ in range(n):
        name = rng.choice([f for f, parser, _ in FORMATS if parser is None or f == "rfc2822"])
        fmt = "%a, %d %b %Y %H:%M:%S" if name == "rfc2822" else name
        text, i = [], 0
        while i < len(fmt):
            if fmt[i] == "%":
                text.append(fill[fmt[i + 1]]())
                i += 2
            else:
                text.append(rng.choice([fmt[i], fmt[i], fmt[i] * 2, "x"]) if rng.random() < 0.1 else fmt[i])
                i += 1
        out.append((fmt, "".join(text)))
    return out


def test_the_compiled_formats_parse_exactly_as_datetime_strptime():
    from planning_pipeline.datatype.date import fast_strptime, strptime_date

    for fmt, value in _strptime_corpus(20000):
        assert fast_strptime(value, fmt) == strptime_date(value, fmt), (fmt, value)
    # what only datetime() or strptime's %z conversion rejects
    for value in ("2020-05-06T10:11:60+01:00", "2020-05-06T10:11:12+24:00", "2020-05-06T10:11:12+05:3045",
                  "2020-05-06T10:11:12+0530:45", "2020-02-30T10:11:12Z"):
        assert strptime_date(value, "%Y-%m-%dT%H:%M:%S%z") is None, value
        assert fast_strptime(value, "%Y-%m-%dT%H:%M:%S%z") is None, value
    assert fast_strptime("2020-05-06T10:11:12+23:59", "%Y-%m-%dT%H:%M:%S%z") == datetime.date(2020, 5, 6)


def test_a_cached_date_still_gets_each_normalisers_bounds_and_its_own_issue():
    bounded = normaliser("datetime", "end-date", far_past_date=datetime.date(2021, 1, 1))
    default = normaliser("datetime", "start-date")
    for _ in range(2):  # the second round is served from the cache
        issues = ListIssues()
        assert default(" 2020-06-01 ", issues) == "2020-06-01"
        assert bounded("2020-06-01", issues) == ""
        assert default("01/06/2020", issues) == "2020-06-01"
        assert bounded("01/06/2020", issues) == ""
        assert default("32/13/2020", issues) == "" and bounded("32/13/2020", issues) == ""
        assert issues.issues == [
            ("far-past-date", "2020-06-01", "end-date must be after 2021-01-01"),
            ("far-past-date", "01/06/2020", "end-date must be after 2021-01-01"),
            ("invalid date", "32/13/2020", "start-date must be a real date"),
            ("invalid date", "32/13/2020", "end-date must be a real date"),
        ]
