"""Text as Prometheus prints it: label sets, floats, durations, quoted strings.

Rule unit test output and evaluation errors read like promtool's, so users can compare them.

Example:
    >>> labels_string((("__name__", "up"), ("job", 'a"b')))
    '{__name__="up", job="a\\\\"b"}'
    >>> format_float_e(35.0), format_float_e(0.1), format_float_e(-math.inf)
    ('3.5E+01', '1E-01', '-Inf')
    >>> go_duration(300_000), model_duration(300_000), model_duration(8 * 86_400_000)
    ('5m0s', '5m', '8d')
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from decimal import Decimal

_ESCAPES = {
    "\a": "\\a",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\v": "\\v",
    "\\": "\\\\",
    '"': '\\"',
}


def go_quote(text: str) -> str:
    """Go's ``strconv.Quote``: double quotes, Go escapes for what is not printable."""
    out = ['"']
    for ch in text:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif ch == " " or ch.isprintable():
            out.append(ch)
        elif ord(ch) < 0x80:
            out.append(f"\\x{ord(ch):02x}")
        elif ord(ch) < 0x10000:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(f"\\U{ord(ch):08x}")
    out.append('"')
    return "".join(out)


def labels_string(labels: Iterable[tuple[str, str]]) -> str:
    """Prometheus' ``labels.Labels.String()``: ``{a="1", b="2"}``."""
    return "{" + ", ".join(f"{name}={go_quote(value)}" for name, value in labels) + "}"


def format_float_e(value: float) -> str:
    """Go's ``strconv.FormatFloat(v, 'E', -1, 64)``: the shortest exact digits, E notation."""
    if value != value:
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    sign, digits, exponent = Decimal(repr(value)).as_tuple()
    assert isinstance(exponent, int)
    numerals = "".join(map(str, digits)).rstrip("0")
    exponent += len(digits) - 1  # of the first digit
    if not numerals:
        numerals, exponent = "0", 0
    mantissa = numerals[0] + ("." + numerals[1:] if len(numerals) > 1 else "")
    return f"{'-' if sign else ''}{mantissa}E{'-' if exponent < 0 else '+'}{abs(exponent):02d}"


def go_duration(ms: int) -> str:
    """Go's ``time.Duration.String()`` of a whole number of milliseconds: ``1h0m30s``."""
    if ms == 0:
        return "0s"
    sign, ms = ("-", -ms) if ms < 0 else ("", ms)
    if ms < 1000:
        return f"{sign}{ms}ms"
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    secs = f"{seconds}.{millis:03d}".rstrip("0") if millis else str(seconds)
    out = f"{hours}h{minutes}m" if hours else (f"{minutes}m" if minutes else "")
    return f"{sign}{out}{secs}s"


_MODEL_UNITS = (
    ("y", 365 * 86_400_000, True),
    ("w", 7 * 86_400_000, True),
    ("d", 86_400_000, False),
    ("h", 3_600_000, False),
    ("m", 60_000, False),
    ("s", 1000, False),
    ("ms", 1, False),
)


def model_duration(ms: int) -> str:
    """Prometheus' ``model.Duration.String()``: ``90s`` is ``1m30s``, years and weeks only
    when exact."""
    if ms == 0:
        return "0s"
    out = ""
    for unit, size, exact in _MODEL_UNITS:
        if exact and ms % size != 0:
            continue
        count = ms // size
        if count > 0:
            out += f"{count}{unit}"
            ms -= count * size
    return out
