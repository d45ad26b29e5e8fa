"""Float arithmetic as Go (and so Prometheus) does it, where Python's differs.

Python raises where Go returns an IEEE 754 result (division by zero, ``fmod`` of infinities,
``pow`` overflow), and ``math.pow`` is the C library's while Go has its own ``math.Pow``.
These functions return exactly what Go returns, so rule results agree with Prometheus to the
bit. The one exception is :func:`go_pow` with a non-integer exponent other than ±0.5: Go
computes ``Exp(yf * Log(x))`` with its own assembly ``Exp`` and ``Log``, which may differ from
the C library's in the last bit.

Example:
    >>> go_div(1.0, 0.0), go_div(-1.0, 0.0), go_div(0.0, 0.0)
    (inf, -inf, nan)
    >>> go_mod(5.5, 2.0), go_mod(math.inf, 2.0)
    (1.5, nan)
    >>> go_pow(2.0, 10.0), go_pow(-8.0, 1 / 3)
    (1024.0, nan)
"""

from __future__ import annotations

import math

INF = math.inf
NAN = math.nan


def go_div(a: float, b: float) -> float:
    """``a / b`` as Go divides float64s."""
    if b == 0.0:
        if a == 0.0 or a != a:
            return NAN
        return math.copysign(INF, a) * math.copysign(1.0, b)
    return a / b


def go_mod(a: float, b: float) -> float:
    """Go's ``math.Mod``: exact, with the sign of ``a``; NaN for ``b == 0`` or infinite ``a``."""
    if b == 0.0 or math.isinf(a) or a != a or b != b:
        return NAN
    return math.fmod(a, b)


def _is_odd_int(x: float) -> bool:
    if abs(x) >= 1 << 53:
        return False
    frac, whole = math.modf(x)
    return frac == 0 and int(whole) & 1 == 1


def _ldexp(frac: float, exp: int) -> float:
    try:
        return math.ldexp(frac, exp)
    except OverflowError:
        return math.copysign(INF, frac)


def _sqrt(x: float) -> float:
    return NAN if x < 0 else math.sqrt(x)


def go_pow(x: float, y: float) -> float:
    """Go's ``math.Pow`` (Go 1.19), special cases and repeated squaring included."""
    if y == 0 or x == 1:
        return 1.0
    if y == 1:
        return x
    if x != x or y != y:
        return NAN
    if x == 0:
        if y < 0:
            return -INF if math.copysign(1.0, x) < 0 and _is_odd_int(y) else INF
        return x if math.copysign(1.0, x) < 0 and _is_odd_int(y) else 0.0
    if math.isinf(y):
        if x == -1:
            return 1.0
        return 0.0 if (abs(x) < 1) == (y > 0) else INF
    if math.isinf(x):
        if x < 0:
            return go_pow(1 / x, -y)  # Pow(-0, -y)
        return 0.0 if y < 0 else INF
    if y == 0.5:
        return _sqrt(x)
    if y == -0.5:
        return go_div(1.0, _sqrt(x))

    yf, yi = math.modf(abs(y))
    if yf != 0 and x < 0:
        return NAN
    if yi >= 2.0**63:
        if x == -1:
            return 1.0
        return 0.0 if (abs(x) < 1) == (y > 0) else INF

    a1 = 1.0
    ae = 0
    if yf != 0:
        if yf > 0.5:
            yf -= 1
            yi += 1
        a1 = math.exp(yf * math.log(x))

    x1, xe = math.frexp(x)
    i = int(yi)
    while i != 0:
        if xe < -(1 << 12) or xe > (1 << 12):
            ae += xe
            break
        if i & 1 == 1:
            a1 *= x1
            ae += xe
        x1 *= x1
        xe <<= 1
        if x1 < 0.5:
            x1 += x1
            xe -= 1
        i >>= 1

    if y < 0:
        a1 = go_div(1.0, a1)
        ae = -ae
    return _ldexp(a1, ae)


def duration_seconds(ms: int) -> float:
    """``time.Duration.Seconds()`` of a duration given in milliseconds."""
    sec, rest = divmod(ms, 1000) if ms >= 0 else (-((-ms) // 1000), -((-ms) % 1000))
    return float(sec) + float(rest * 1_000_000) / 1e9
