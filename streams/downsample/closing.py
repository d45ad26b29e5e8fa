"""Closing windows: emit rows when the watermark passes them, fold final ones upwards.

With ``W`` the finest window, ``H`` the correction horizon and ``wm`` a partition's
watermark:

- A finest window ``[s, s+W)`` *closes* when ``wm >= s+W``: its row is emitted.
- It becomes *final* when ``wm >= s+W+H``, or at once when the series already has a sample
  in a later window (a late sample can then only be older than the series' newest, and such
  samples are refused, see :mod:`streams.downsample.late`). Final windows are folded into the
  first cascaded tier's block and their samples freed (the newest stays as predecessor).
- A cascaded window ``[S, S+V)`` closes when ``wm >= S+V+H``: every finest window in it is
  final by then, so cascaded rows never need a correction. Its row is emitted and folded into
  the next cascaded tier. A series' cascaded window also closes as soon as a final window of
  that series falls into the next cascaded window (nothing can reach it any more).

All of this happens in :meth:`Closer.scan`, one pass over the partition's series whenever a
finest-window boundary of ``closed_to`` or ``final_to`` is crossed.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable

from streams.downsample.layout import (
    BLOCK,
    COUNTER,
    NO_TS,
    aggregate,
    block_agg,
    find_segment,
    header_size,
    merge_block,
    purge_nonfinite,
)
from streams.downsample.rows import Agg, RowSink, SeriesKey
from streams.downsample.state import PartitionState


class Closer:
    """Window arithmetic of one engine: boundaries, scans, folds and corrections."""

    __slots__ = ("cascaded", "hdr", "horizon", "idle", "pred", "sink", "w")

    def __init__(
        self, windows_ms: tuple[int, ...], horizon_ms: int, idle_ms: int, sink: RowSink
    ) -> None:
        self.w = windows_ms[0]
        self.cascaded = windows_ms[1:]
        self.hdr = header_size(len(self.cascaded))
        self.pred = self.hdr - 2
        self.horizon = horizon_ms
        self.idle = idle_ms
        self.sink = sink

    def advance(self, p: PartitionState, wm: int) -> None:
        """Move the watermark to ``wm`` (never back) and close what it passes."""
        if wm <= p.wm:
            return
        p.wm = wm
        w = self.w
        closed = wm - wm % w
        fin = wm - self.horizon
        fin -= fin % w
        if closed > p.closed_to or fin > p.final_to:
            closed_prev, final_prev = p.closed_to, p.final_to
            p.closed_to, p.final_to = closed, fin
            self.scan(p, closed_prev, final_prev)

    def scan(self, p: PartitionState, closed_prev: int, final_prev: int) -> None:
        """One pass over the series after ``closed_to`` or ``final_to`` moved."""
        hdr = self.hdr
        final_to = p.final_to
        blocks = any(final_to // v != final_prev // v for v in self.cascaded)
        sweep = blocks or final_to // self.idle != final_prev // self.idle
        evict_before = p.wm - self.idle
        pred = self.pred
        self.close_segments(p, p.series.items(), closed_prev)
        dead: list[SeriesKey] = []
        if sweep:
            for key, a in p.series.items():
                if blocks:
                    self.close_blocks(key, a, final_to)
                if len(a) == hdr and a[pred] < evict_before and not any(a[1:pred:BLOCK]):
                    dead.append(key)
        for key in dead:
            del p.series[key]
        p.stats.evicted += len(dead)
        p.transitions += 1

    def segment(self, p: PartitionState, a: array[float], i: int, j: int) -> tuple[Agg, int]:
        """Aggregate of samples ``[i, j)`` after dropping non-finite ones; new ``j``.

        The count is 0 when no finite sample was left.
        """
        agg = aggregate(a, i, j, a[0] == COUNTER)
        if agg[3] - agg[3] != 0.0:  # NaN or Inf among the values (or an overflowing sum)
            gone = purge_nonfinite(a, i, j)
            p.stats.non_finite += gone
            j -= 2 * gone
            if i == j:
                return (0, 0.0, 0.0, 0.0, 0.0, 0.0), j
            agg = aggregate(a, i, j, a[0] == COUNTER)
        return agg, j

    def close_segments(
        self,
        p: PartitionState,
        series: Iterable[tuple[SeriesKey, array[float]]],
        closed_prev: int,
        newest_w: float | None = None,
    ) -> None:
        """Emit newly closed finest windows of series and fold the final ones.

        Args:
            p: the partition.
            series: the series to look at, with their state.
            closed_prev: ``closed_to`` before this pass; windows ending after it are new.
            newest_w: start of a newer window the (single) series just got a sample in;
                default: the window of its newest sample. Closed windows before it are final.
        """
        hdr = self.hdr
        w = self.w
        closed_to = p.closed_to
        final_to = p.final_to
        v1 = self.cascaded[0] if self.cascaded else 0
        emit = self.sink.emit
        for key, a in series:
            if len(a) <= hdr or a[hdr] >= closed_to:
                continue
            if newest_w is None:
                newest = a[-2]
                nw = newest - newest % w
            else:
                nw = newest_w
            counter = a[0] == COUNTER
            while True:
                n = len(a)
                if n <= hdr:
                    break
                t0 = a[hdr]
                s = t0 - t0 % w
                e = s + w
                if e > closed_to:
                    break
                j = n
                while a[j - 2] >= e:
                    j -= 2
                vals = a[hdr + 1 : j : 2]
                total = sum(vals)
                if total - total != 0.0:  # NaN or Inf among the values (or an overflowing sum)
                    agg, j = self.segment(p, a, hdr, j)
                    if agg[0] == 0:
                        continue
                else:
                    inc = 0.0
                    if counter:
                        prev = vals[0] if a[hdr - 2] == NO_TS else a[hdr - 1]
                        for x in vals:
                            inc += x - prev if x >= prev else x
                            prev = x
                    agg = ((j - hdr) >> 1, min(vals), max(vals), total, vals[-1], inc)
                if e > closed_prev:
                    emit(0, key[0], key[1], s, agg, counter)
                if s >= nw and e > final_to:
                    break  # the series' newest window, still correctable
                if v1:
                    pred = a[hdr - 2]
                    if a[1] != 0.0 and pred - pred % v1 == s - s % v1:
                        # The common case inline: the block is of this window's cascaded window.
                        a[1] += agg[0]
                        if agg[1] < a[2]:
                            a[2] = agg[1]
                        if agg[2] > a[3]:
                            a[3] = agg[2]
                        a[4] += agg[3]
                        a[5] = agg[4]
                        a[6] += agg[5]
                    else:
                        self.fold(key, a, agg, s)
                del a[hdr - 2 : j - 2]

    def fold(self, key: SeriesKey, a: array[float], agg: Agg, start: float) -> None:
        """Fold a final finest window into the first cascaded block.

        Called before ``pred`` moves to the window's newest sample, so ``pred`` still lies in
        the window of every non-empty block; blocks of an older window are closed first.
        """
        pred = a[self.pred]
        if pred != NO_TS:
            for j, v in enumerate(self.cascaded):
                old = pred - pred % v
                if old == start - start % v:
                    break
                if a[1 + BLOCK * j] != 0.0:
                    self.close_block(key, a, j, old)
        count, lo, hi, total, last, inc = agg
        if a[1] == 0.0:
            a[1] = count
            a[2] = lo
            a[3] = hi
            a[4] = total
            a[5] = last
            a[6] = inc
            return
        a[1] += count
        if lo < a[2]:
            a[2] = lo
        if hi > a[3]:
            a[3] = hi
        a[4] += total
        a[5] = last
        a[6] += inc

    def close_block(self, key: SeriesKey, a: array[float], j: int, start: float) -> None:
        """Emit the block of cascaded tier ``j`` and fold it into the next one."""
        base = 1 + BLOCK * j
        agg = block_agg(a, base)
        self.sink.emit(j + 1, key[0], key[1], start, agg, a[0] == COUNTER)
        if j + 1 < len(self.cascaded):
            merge_block(a, base + BLOCK, agg)
        a[base] = 0.0

    def close_blocks(self, key: SeriesKey, a: array[float], final_to: int) -> None:
        """Close the series' cascaded windows that end at or before ``final_to``."""
        pred = a[self.pred]
        for j, v in enumerate(self.cascaded):
            if a[1 + BLOCK * j] != 0.0:
                start = pred - pred % v
                if start + v <= final_to:
                    self.close_block(key, a, j, start)

    def correct(self, p: PartitionState, key: SeriesKey, a: array[float], start: float) -> None:
        """Emit again the row of the closed finest window at ``start`` (it took samples)."""
        i, j = find_segment(a, self.hdr, start, start + self.w)
        agg, _ = self.segment(p, a, i, j)
        if agg[0]:
            self.sink.emit(0, key[0], key[1], start, agg, a[0] == COUNTER)
            p.stats.corrections += 1
