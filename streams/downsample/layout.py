"""The state of one series: a single ``array('d')``, and the arithmetic on it.

One series (measurement + tags + field) keeps all its window state in one array of
doubles, so a million series cost a million small objects and no per-sample objects::

    [flags,
     count, min, max, sum, last, increase,     # one block per cascaded tier (1h, ...)
     pred_ts, pred_value,                      # the newest sample of the final windows
     ts, value, ts, value, ...]                # the samples of windows not yet final

The samples are kept sorted by timestamp with no timestamp twice. They belong to the
finest tier's windows that are open, or closed but still correctable; when a window becomes
final its aggregate is folded into the first cascaded block and its samples are deleted
except the newest, which moves into ``pred``. So ``a[-2]`` is always the newest counted
timestamp of the series, and the sample before any buffered sample (``a[i-2], a[i-1]``) is
its predecessor, which a counter's increase needs across window boundaries.

Timestamps are exact as doubles (integers below 2**53 ms). Values are doubles: integers
above 2**53 lose precision, booleans count as 0 and 1.
"""

from __future__ import annotations

from array import array

from streams.downsample.rows import Agg

NO_TS = -(2**62)
"""Timestamp of "no sample": below every real timestamp, exact as a double."""

COUNTER = 1.0
"""Flag bit in ``a[0]``: the series is a counter and gets ``_increase``."""

BLOCK = 6
"""Doubles per cascaded-tier block: count, min, max, sum, last, increase."""


def header_size(cascaded: int) -> int:
    """Index of the first buffered sample for ``cascaded`` cascaded tiers."""
    return 3 + BLOCK * cascaded


def template(cascaded: int) -> array[float]:
    """The array of a series that has seen nothing yet."""
    return array("d", [0.0] * (1 + BLOCK * cascaded) + [float(NO_TS), 0.0])


def segment_end(a: array[float], i: int, end: float) -> int:
    """Index past the buffered samples from ``i`` with timestamps below ``end``."""
    n = len(a)
    while i < n and a[i] < end:
        i += 2
    return i


def find_segment(a: array[float], hdr: int, start: float, end: float) -> tuple[int, int]:
    """Indices ``(i, j)`` of the buffered samples in ``[start, end)``."""
    i = hdr
    n = len(a)
    while i < n and a[i] < start:
        i += 2
    return i, segment_end(a, i, end)


def purge_nonfinite(a: array[float], i: int, j: int) -> int:
    """Delete the samples with a NaN or infinite value in ``[i, j)``; return how many."""
    gone = 0
    k = j - 1
    while k > i:
        v = a[k]
        if v - v != 0.0:
            del a[k - 1 : k + 1]
            gone += 1
        k -= 2
    return gone


def aggregate(a: array[float], i: int, j: int, counter: bool) -> Agg:
    """The aggregate of the buffered samples ``[i, j)`` (finite, at least one).

    The increase of a counter adds, for each sample, its rise over the sample before it,
    or its whole value when it is below that sample (a reset, as Prometheus' ``increase``
    reads it). The sample before the first is ``a[i-2], a[i-1]``, possibly in an earlier
    window; a series' very first sample has none and adds nothing.
    """
    vals = a[i + 1 : j : 2]
    inc = 0.0
    if counter:
        prev = a[i - 1]
        if a[i - 2] == NO_TS:
            prev = vals[0]
        for x in vals:
            inc += x - prev if x >= prev else x
            prev = x
    return (j - i) >> 1, min(vals), max(vals), sum(vals), vals[-1], inc


def merge_block(a: array[float], base: int, agg: Agg) -> None:
    """Fold an aggregate into the block at ``base``."""
    count, lo, hi, total, last, inc = agg
    if a[base] == 0.0:
        a[base : base + BLOCK] = array("d", (count, lo, hi, total, last, inc))
        return
    a[base] += count
    if lo < a[base + 1]:
        a[base + 1] = lo
    if hi > a[base + 2]:
        a[base + 2] = hi
    a[base + 3] += total
    a[base + 4] = last
    a[base + 5] += inc


def block_agg(a: array[float], base: int) -> Agg:
    """The aggregate held in the block at ``base``."""
    return int(a[base]), a[base + 1], a[base + 2], a[base + 3], a[base + 4], a[base + 5]
