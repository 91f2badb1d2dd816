"""decimal, integer, latitude and longitude values.

Deviation from upstream (a known defect, reference section 13): decimals and integers have no
default minimum. Upstream defaults both to a minimum of 0, so every negative value was rejected
as "too small"; here a bound applies only when one is given (``normaliser(..., minimum=0)``).
Decimals that are not finite (NaN, Infinity) are an "invalid decimal" rather than passing through.
"""
import re
from decimal import ROUND_HALF_EVEN, Context, Decimal, InvalidOperation

# ASCII digits only: Decimal() and int() also accept underscores and non-ASCII digits
_DECIMAL = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d{1,2})?", re.ASCII)
_INTEGER = re.compile(r"[+-]?\d+", re.ASCII)
_TRAILING_ZERO_FRACTION = re.compile(r"\.0+$")
_PLAIN = re.compile(r"(\d+)(?:\.(\d*))?", re.ASCII)
_CONTEXT = Context(prec=400, rounding=ROUND_HALF_EVEN, Emax=999999, Emin=-999999)


def _bound(value):
    return None if value is None or value == "" else Decimal(str(value))


class DecimalNormaliser:
    """Remove the characters in `remove` (',' and '£' for decimal), parse, bound, round to
    `precision` places (half-even) and write without exponent or trailing zeros: 1.500000 -> 1.5."""

    __slots__ = ("field", "minimum", "maximum", "quantum", "remove", "plain")

    def __init__(self, field, minimum=None, maximum=None, precision=6, remove="£,"):
        self.field = field
        self.minimum = _bound(minimum)
        self.maximum = _bound(maximum)
        self.quantum = Decimal(1).scaleb(-int(precision))
        # unbounded: plain digits with no more decimal places than kept are written without Decimal
        unbounded = self.minimum is None and self.maximum is None and int(precision) >= 0
        self.plain = int(precision) if unbounded else None
        self.remove = tuple(dict.fromkeys(remove))

    def __call__(self, value, issues=None):
        if not value:
            return ""
        text = value
        for ch in self.remove:  # str.replace, not translate: far faster when the character is absent
            text = text.replace(ch, "")
        text = text.strip()
        if not text:
            return ""
        if len(text) > 200 or not _DECIMAL.fullmatch(text):
            if issues is not None:
                issues.log("invalid decimal", value, f"{self.field} must be a decimal number")
            return ""
        if self.plain is not None:
            plain = _plain(text, self.plain)
            if plain is not None:
                return plain
        number = Decimal(text)
        if _out_of_bounds(self, number, value, issues):
            return ""
        try:
            number = number.quantize(self.quantum, context=_CONTEXT).normalize(_CONTEXT)
        except InvalidOperation:  # not reachable: <= 200 characters and |exponent| < 100 fit the context
            if issues is not None:
                issues.log("invalid decimal", value, f"{self.field} must be a decimal number")
            return ""
        text = f"{number:f}"
        return "0" if text == "-0" else text


def _plain(text, precision):
    """What quantize and normalize write for digits with at most `precision` decimal places (no
    rounding then): no leading zeros, no trailing fraction zeros. None for any other text."""
    m = _PLAIN.fullmatch(text)
    if m is None or (m[2] and len(m[2]) > precision):
        return None
    whole = m[1].lstrip("0") or "0"
    fraction = (m[2] or "").rstrip("0")
    return f"{whole}.{fraction}" if fraction else whole


def _out_of_bounds(normaliser, number, value, issues):
    """Log "too small" or "too large" when number is outside the normaliser's optional bounds."""
    if normaliser.minimum is not None and number < normaliser.minimum:
        if issues is not None:
            issues.log("too small", value, f"{normaliser.field} must be at least {normaliser.minimum}")
        return True
    if normaliser.maximum is not None and number > normaliser.maximum:
        if issues is not None:
            issues.log("too large", value, f"{normaliser.field} must be at most {normaliser.maximum}")
        return True
    return False


class IntegerNormaliser:
    """Drop a trailing '.0', '.00', ...; parse; bound; write as a plain integer ("+007" -> "7")."""

    __slots__ = ("field", "minimum", "maximum")

    def __init__(self, field, minimum=None, maximum=None):
        self.field = field
        self.minimum = None if minimum in (None, "") else int(minimum)
        self.maximum = None if maximum in (None, "") else int(maximum)

    def __call__(self, value, issues=None):
        if not value:
            return ""
        text = _TRAILING_ZERO_FRACTION.sub("", value.strip())
        if not text:
            return ""
        if len(text) > 4000 or not _INTEGER.fullmatch(text):
            if issues is not None:
                issues.log("invalid integer", value, f"{self.field} must be a whole number")
            return ""
        number = int(text)
        if _out_of_bounds(self, number, value, issues):
            return ""
        return str(number)
