"""Samples in closed windows: corrections inside the horizon, refusals beyond it.

A sample whose finest window ``[s, s+W)`` is already closed (``s+W <= closed_to``) is
*accepted as a correction* when both hold:

1. the window is not final by time: ``s+W > final_to`` (the watermark has not passed its end
   plus the correction horizon), and
2. the window is not older than the series' newest window (the window of the newest sample
   counted for the series).

Condition 2 is what keeps state small and results exact: the samples of the series' newest
window are still buffered (so duplicates are recognised and a counter's increase is
recomputed from the neighbours), while older windows of the series were folded into the
cascaded tiers and freed. It covers the usual late data: a source that fell behind sends
samples newer than anything it sent before. A late sample older than the series' newest
window is refused, like one beyond the horizon: counted as ``late`` and put on the
late-data output (:class:`~streams.downsample.rows.Late`). A duplicate of a sample in a
final window cannot be recognised any more and is also refused as ``late``.

An accepted correction re-emits the window's full row (same timestamp, so it overwrites);
rows are emitted once per window per batch, after the batch.
"""

from __future__ import annotations

from array import array

from streams.downsample.closing import Closer
from streams.downsample.rows import Late, SeriesKey, late_point
from streams.downsample.state import PartitionState
from streams.records import FieldValue


def insert(a: array[float], ts: int, v: FieldValue) -> int:
    """Insert an older sample into the sorted buffer of ``a``.

    The caller guarantees ``ts < a[-2]`` and that ``ts`` is newer than ``pred``.

    Returns:
        0 inserted, 1 a duplicate (timestamp present, first value kept), 2 not numeric.
    """
    i = len(a) - 4
    while a[i] > ts:
        i -= 2
    if a[i] == ts:
        return 1
    try:
        a[i + 2 : i + 2] = array("d", (ts, v))  # type: ignore[arg-type,type-var]  # str raises
    except TypeError:
        return 2
    return 0


class Corrections:
    """Late samples of one batch: accept or refuse each, then re-emit corrected rows."""

    __slots__ = ("closer", "pending")

    def __init__(self, closer: Closer) -> None:
        self.closer = closer
        self.pending: dict[int, tuple[SeriesKey, array[float], float]] = {}

    def add(
        self, p: PartitionState, key: SeriesKey, a: array[float], ts: int, v: FieldValue
    ) -> None:
        """Handle one sample of a closed window (``ts < closed_to``) of series ``a``."""
        c = self.closer
        w = c.w
        ws = ts - ts % w
        stats = p.stats
        if ws + w <= p.final_to:
            self.refuse(p, key, ts, v)
            return
        newest = a[-2]
        nw = newest - newest % w
        if ts > newest:
            if ws > nw and len(a) > c.hdr:
                self.flush_one(p, a)
                c.close_segments(p, ((key, a),), p.closed_to, ws)  # older windows: final
            a.append(ts)
            try:
                a.append(v)  # type: ignore[arg-type]  # a string raises TypeError
            except TypeError:
                del a[-1]
                stats.non_numeric += 1
                return
        elif ts == newest:
            stats.duplicates += 1
            return
        elif ws != nw or ts <= a[c.pred]:
            self.refuse(p, key, ts, v)
            return
        else:
            outcome = insert(a, ts, v)
            if outcome == 1:
                stats.duplicates += 1
                return
            if outcome == 2:
                stats.non_numeric += 1
                return
        self.pending[id(a)] = (key, a, ws)

    def refuse(self, p: PartitionState, key: SeriesKey, ts: int, v: FieldValue) -> None:
        """Count a late sample and put it on the late-data output."""
        if isinstance(v, str):
            p.stats.non_numeric += 1
            return
        p.stats.late += 1
        p.late.append(Late(late_point(key[0], key[1], v, ts), "late"))

    def flush_one(self, p: PartitionState, a: array[float]) -> None:
        """Emit the pending correction of one series before its window is folded away."""
        item = self.pending.pop(id(a), None)
        if item is not None:
            self.closer.correct(p, item[0], item[1], item[2])

    def flush(self, p: PartitionState) -> None:
        """Emit every pending correction of the batch."""
        for key, a, start in self.pending.values():
            self.closer.correct(p, key, a, start)
        self.pending.clear()
