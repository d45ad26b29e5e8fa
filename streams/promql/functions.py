"""PromQL's range-vector functions, computed as Prometheus 2.42 computes them.

Each function takes one series' samples in the range (staleness markers already left out)
and returns the value, or None when Prometheus returns no sample for the series. The
operation order is the Go code's (``promql/functions.go``), so results agree to the bit.

Example:
    >>> # a counter scraped every 60 s, reset once, rate over 5 minutes at t = 300 s
    >>> ts = [60_000, 120_000, 180_000, 240_000, 300_000]
    >>> extrapolated_rate(ts, [10.0, 20.0, 5.0, 15.0, 25.0], 0, 300_000, 300_000, True, True)
    0.14583333333333334
"""

from __future__ import annotations

import math
from collections.abc import Callable

from streams.promql.gomath import duration_seconds


def extrapolated_rate(
    ts: list[int],
    values: list[float],
    range_start: int,
    range_end: int,
    range_ms: int,
    is_counter: bool,
    is_rate: bool,
) -> float | None:
    """``rate`` (counter, rate), ``increase`` (counter) and ``delta`` (neither).

    Extrapolates to the range's ends when the first and last samples are within 1.1 average
    intervals of them, else by half an average interval; a counter is never extrapolated
    below zero. Counter resets add the value before the reset.
    """
    if len(ts) < 2:
        return None
    result = values[-1] - values[0]
    if is_counter:
        prev = values[0]
        for v in values[1:]:
            if v < prev:
                result += prev
            prev = v

    duration_to_start = (ts[0] - range_start) / 1000
    duration_to_end = (range_end - ts[-1]) / 1000
    sampled_interval = (ts[-1] - ts[0]) / 1000
    average_interval = sampled_interval / (len(ts) - 1)

    if is_counter and result > 0 and values[0] >= 0:
        duration_to_zero = sampled_interval * (values[0] / result)
        if duration_to_zero < duration_to_start:
            duration_to_start = duration_to_zero

    threshold = average_interval * 1.1
    extrapolate_to = sampled_interval
    if duration_to_start < threshold:
        extrapolate_to += duration_to_start
    else:
        extrapolate_to += average_interval / 2
    if duration_to_end < threshold:
        extrapolate_to += duration_to_end
    else:
        extrapolate_to += average_interval / 2
    factor = extrapolate_to / sampled_interval
    if is_rate:
        factor /= duration_seconds(range_ms)
    return result * factor


def irate(ts: list[int], values: list[float]) -> float | None:
    """Per-second rate between the last two samples (a drop is a counter reset)."""
    if len(ts) < 2:
        return None
    last, previous = values[-1], values[-2]
    result = last if last < previous else last - previous
    interval = ts[-1] - ts[-2]
    if interval == 0:
        return None
    return result / (interval / 1000)


def avg_over_time(values: list[float]) -> float:
    """Incremental mean with Kahan-Neumaier compensation; infinities handled as Go does.

    Each step is Prometheus' ``kahanSumInc``, written out: this runs for every sample in
    range of every series a rule averages.
    """
    mean = c = count = 0.0
    isinf = math.isinf
    for v in values:
        count += 1
        if isinf(mean):
            if isinf(v) and (mean > 0) == (v > 0):
                continue
            if not isinf(v) and v == v:
                continue
        inc = v / count - mean / count
        t = mean + inc
        if abs(mean) >= abs(inc):
            c += (mean - t) + inc
        else:
            c += (inc - t) + mean
        mean = t
    return mean if isinf(mean) else mean + c


def sum_over_time(values: list[float]) -> float:
    """Kahan-Neumaier sum (Prometheus' ``kahanSumInc``, written out)."""
    total = c = 0.0
    for v in values:
        t = total + v
        if abs(total) >= abs(v):
            c += (total - t) + v
        else:
            c += (v - t) + total
        total = t
    return total if math.isinf(total) else total + c


def max_over_time(values: list[float]) -> float:
    """Largest value; NaN only when every value is NaN."""
    best = values[0]
    for v in values:
        if v > best or best != best:
            best = v
    return best


def min_over_time(values: list[float]) -> float:
    """Smallest value; NaN only when every value is NaN."""
    best = values[0]
    for v in values:
        if v < best or best != best:
            best = v
    return best


OVER_TIME: dict[str, Callable[[list[float]], float]] = {
    "avg_over_time": avg_over_time,
    "sum_over_time": sum_over_time,
    "max_over_time": max_over_time,
    "min_over_time": min_over_time,
    "count_over_time": lambda values: float(len(values)),
    "last_over_time": lambda values: values[-1],
}
"""The ``*_over_time`` functions of a range's values (never empty)."""


def range_function(
    func: str, ts: list[int], values: list[float], t_ms: int, range_ms: int
) -> float | None:
    """The value of range function ``func`` (not ``absent_over_time``) at ``t_ms``."""
    if func in OVER_TIME:
        return OVER_TIME[func](values)
    if func == "irate":
        return irate(ts, values)
    counter = func in ("rate", "increase")
    return extrapolated_rate(
        ts, values, t_ms - range_ms, t_ms, range_ms, counter, is_rate=func == "rate"
    )
