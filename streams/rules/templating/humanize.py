"""Prometheus' template functions, with Prometheus' output.

The same names as in Prometheus templates, so ``{{ $value | humanize }}`` renders as it does
in Prometheus and promtool. Numbers may be given as floats, ints or numeric strings.

Example:
    >>> humanize(1234567.0), humanize1024(2048), humanizePercentage(0.1234)
    ('1.235M', '2ki', '12.34%')
    >>> humanizeDuration(93784), printf("%.2f%%", 12.3456)
    ('1d 2h 3m 4s', '12.35%')
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from decimal import Decimal

_BIG = ("k", "M", "G", "T", "P", "E", "Z", "Y")
_BIG_1024 = ("ki", "Mi", "Gi", "Ti", "Pi", "Ei", "Zi", "Yi")
_SMALL = ("m", "u", "n", "p", "f", "a", "z", "y")
_VERB = re.compile(r"%[-+# 0]*(?:\d+|\*)?(?:\.\d+)?[a-zA-Z%]")


def _float(value: object) -> float:
    if isinstance(value, bool):
        raise TypeError(f"expected a number, got {value!r}")
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            raise ValueError(f"{value!r} is not a number") from None
    raise TypeError(f"expected a number, got {type(value).__name__}")


def _g4(value: float) -> str:
    """Go's ``%.4g``: like C's, but Inf and NaN spelled the Go way."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return f"{value:.4g}"


def go_float(value: float) -> str:
    """Format a float as Go's ``%v`` does: shortest digits, exponent from 1e+06 and below 1e-04.

    Example:
        >>> go_float(100.0), go_float(123456789.0), go_float(0.00001), go_float(float("inf"))
        ('100', '1.23456789e+08', '1e-05', '+Inf')
    """
    if not math.isfinite(value):
        return _g4(value)
    if value == 0:
        return "-0" if math.copysign(1, value) < 0 else "0"
    sign, digits, exponent = Decimal(repr(value)).as_tuple()
    text = "".join(map(str, digits)).rstrip("0") or "0"
    point = len(digits) + int(exponent)  # digits before the decimal point
    minus = "-" if sign else ""
    if point - 1 < -4 or point - 1 >= 6:
        mantissa = text[0] + ("." + text[1:] if len(text) > 1 else "")
        return f"{minus}{mantissa}e{point - 1:+03d}"
    if point <= 0:
        return f"{minus}0.{'0' * -point}{text}"
    if point >= len(text):
        return minus + text + "0" * (point - len(text))
    return f"{minus}{text[:point]}.{text[point:]}"


def _shrink(value: float, prefixes: tuple[str, ...]) -> tuple[float, str]:
    prefix = ""
    for p in prefixes:
        if abs(value) >= 1:
            break
        prefix = p
        value *= 1000
    return value, prefix


def humanize(value: object) -> str:
    """A number with an SI prefix and four significant digits: ``1.235M``, ``12m``."""
    v = _float(value)
    if v == 0 or not math.isfinite(v):
        return _g4(v)
    if abs(v) >= 1:
        prefix = ""
        for p in _BIG:
            if abs(v) < 1000:
                break
            prefix = p
            v /= 1000
        return _g4(v) + prefix
    v, prefix = _shrink(v, _SMALL)
    return _g4(v) + prefix


def humanize1024(value: object) -> str:
    """A number with a binary prefix: ``1ki`` for 1024, ``1.5Mi``."""
    v = _float(value)
    if abs(v) <= 1 or not math.isfinite(v):
        return _g4(v)
    prefix = ""
    for p in _BIG_1024:
        if abs(v) < 1024:
            break
        prefix = p
        v /= 1024
    return _g4(v) + prefix


def humanizePercentage(value: object) -> str:
    """A ratio as a percentage: ``0.1234`` -> ``12.34%``."""
    return _g4(_float(value) * 100) + "%"


def _quo(a: int, b: int) -> int:
    """Go's integer division: truncates toward zero."""
    return abs(a) // b * (1 if a >= 0 else -1)


def _rem(a: int, b: int) -> int:
    """Go's ``%``: the sign of the dividend."""
    return a - _quo(a, b) * b


def humanizeDuration(value: object) -> str:
    """Seconds as ``1d 2h 3m 4s``, ``2m 5s``, ``1.5s`` or ``250ms``."""
    v = _float(value)
    if not math.isfinite(v):
        return _g4(v)
    if v == 0:
        return _g4(v) + "s"
    if abs(v) >= 1:
        sign = "-" if v < 0 else ""
        v = abs(v)
        whole = int(v) if v < 2**63 else -(2**63)  # Go's int64(v) on amd64 overflows so
        seconds, minutes = _rem(whole, 60), _rem(_quo(whole, 60), 60)
        hours, days = _rem(_quo(whole, 3600), 24), _quo(whole, 86400)
        if days:
            return f"{sign}{days}d {hours}h {minutes}m {seconds}s"
        if hours:
            return f"{sign}{hours}h {minutes}m {seconds}s"
        if minutes:
            return f"{sign}{minutes}m {seconds}s"
        return f"{sign}{_g4(v)}s"
    v, prefix = _shrink(v, _SMALL)
    return f"{_g4(v)}{prefix}s"


def humanizeTimestamp(value: object) -> str:
    """A Unix time in seconds as UTC, like Go prints it: ``2024-01-02 03:04:05.5 +0000 UTC``.

    Raises:
        ValueError: the time does not fit in int64 nanoseconds (years 1678 to 2262), as in
            Prometheus.
    """
    v = _float(value)
    if not math.isfinite(v):
        return _g4(v)
    nanos = v * 1e9
    if not -(2**63) <= nanos < 2**63:
        msg = f"{go_float(v)} cannot be represented as a nanoseconds timestamp"
        raise ValueError(msg + " since it overflows int64")
    seconds, millis = divmod(_quo(int(nanos), 10**6), 1000)  # Prometheus keeps milliseconds
    stamp = dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(seconds=seconds)
    text = stamp.strftime("%Y-%m-%d %H:%M:%S")
    if millis:
        text += f".{millis:03d}".rstrip("0")
    return text + " +0000 UTC"


def printf(fmt: str, *args: object) -> str:
    """Go's ``printf`` for the common verbs: ``%s %v %q %d %f %e %g %x %%`` with flags.

    Floats print as Go prints them under ``%v``, ``%s`` and ``%g`` without a precision.

    Raises:
        ValueError: too few or too many arguments for the format.

    Example:
        >>> printf("%s is at %.1f%% (%v)", "web-1", 93.27, 1e6)
        'web-1 is at 93.3% (1e+06)'
    """
    rest = list(args)

    def verb(m: re.Match[str]) -> str:
        text = m.group()
        if text == "%%":
            return "%"
        if not rest:
            raise ValueError(f"printf {fmt!r}: no argument left for {text}")
        arg, spec, kind = rest.pop(0), text[:-1], text[-1]
        if kind == "q":
            return (spec + "s") % json.dumps(str(arg))
        if isinstance(arg, float) and not math.isfinite(arg) and kind in "eEfFgG":
            return (re.sub(r"\.\d+", "", spec) + "s") % _g4(arg)
        if kind in "vs" or (kind in "gG" and "." not in spec and isinstance(arg, float)):
            shown = go_float(arg) if isinstance(arg, float) else str(arg)
            return (spec + "s") % shown
        return text % (arg,)

    out = _VERB.sub(verb, fmt)
    if rest:
        raise ValueError(f"printf {fmt!r}: {len(rest)} argument(s) left over")
    return out


def stripPort(hostport: str) -> str:
    """``host:port`` -> ``host``; ``[::1]:80`` -> ``::1``; anything else unchanged."""
    if hostport.startswith("[") and "]" in hostport:
        return hostport[1 : hostport.index("]")]
    host, sep, port = hostport.rpartition(":")
    return host if sep and port.isdigit() and ":" not in host else hostport


def title(text: str) -> str:
    """Upper-case the first letter of each word."""
    return re.sub(r"\b\w", lambda m: m.group().upper(), text)


def toUpper(text: str) -> str:
    """Upper-case ``text``."""
    return text.upper()


def toLower(text: str) -> str:
    """Lower-case ``text``."""
    return text.lower()


FUNCTIONS = {
    "humanize": humanize,
    "humanize1024": humanize1024,
    "humanizePercentage": humanizePercentage,
    "humanizeDuration": humanizeDuration,
    "humanizeTimestamp": humanizeTimestamp,
    "printf": printf,
    "stripPort": stripPort,
    "title": title,
    "toUpper": toUpper,
    "toLower": toLower,
}
"""The functions templates can call, by their Prometheus names."""
