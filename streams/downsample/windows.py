"""The downsampling engine: event-time windows over batches of points, per partition.

Pure Python, no Faust, Kafka or I/O: an agent feeds it the points of each record and writes
the rows it returns. Semantics, in one place:

- **Series.** Each numeric field of a point is a sample of the series measurement + tags +
  field. Booleans count as 0/1; strings are counted (``non_numeric``) and skipped.
- **Windows** are event-time, aligned to the epoch (``[k*W, (k+1)*W)``). The finest tier
  is built from samples, each further tier from the final rows of the tier before it.
- **Watermark**, per partition: the partition's event time minus the allowed lateness,
  moved after each batch (so one batch never makes its own samples late), by
  :meth:`WindowEngine.advance`, or by :meth:`WindowEngine.tick` on a quiet partition. The
  event time is the median of its sources' newest timestamps
  (:mod:`streams.downsample.eventtime`): one source with a wrong clock cannot move it for the
  others. A window closes when the watermark reaches its end; see
  :mod:`streams.downsample.closing`.
- **Rows** carry the window's *start* as timestamp (see :mod:`streams.downsample.rows`).
- **Out of order** samples in an open window are placed exactly: the open windows' samples
  are buffered sorted, and aggregates are computed when a window closes.
- **Duplicates**: a sample with the series and timestamp of one already counted is not
  counted again; the first value wins. Exact while its window is open or correctable.
- **Replays** after a crash: a batch added with an ``offset`` at or below the partition's
  highest added offset is skipped whole (``replayed_records``).
- **Counters** (series the counter test names) also get ``_increase``: each sample adds its
  rise over the sample before it in time, or its whole value when it dropped below it (a
  reset, read as Prometheus' ``increase`` does, without its extrapolation). The sample before
  a window's first is the series' previous sample, in whatever earlier window, so the
  increases of consecutive windows add up exactly to the increase over their union; a
  cascaded window's increase is the sum of its finer windows'. A series' very first sample,
  or its first after being forgotten (no sample for ``idle_s`` and no open window), adds 0.
- **Late** samples: see :mod:`streams.downsample.late`. **Snapshots** and what to persist
  when: see :mod:`streams.downsample.snapshot`.
- **Bounded state**: a series holds one array: its cascaded blocks, its predecessor sample,
  and the samples (16 bytes each) of its finest windows that are open or still correctable:
  at most 6 with a 15 s interval and default settings, 90 with a 1 s interval. Final windows
  are freed at each close.
- **Not thread-safe**: one engine per worker, called from its event loop.
"""

from __future__ import annotations

import sys
import time
from array import array
from collections.abc import Callable, Container, Iterable, Mapping, Sequence
from dataclasses import replace

from streams.downsample import snapshot as _snapshot
from streams.downsample.closing import Closer
from streams.downsample.config import WindowPlan
from streams.downsample.late import Corrections, insert
from streams.downsample.layout import COUNTER, NO_TS, template
from streams.downsample.rows import Late, Row, RowSink, late_point
from streams.downsample.state import DownsampleStats, PartitionState
from streams.records import FieldValue, Point
from streams.settings import DEFAULT_TIERS, DownsampleSettings, TierSettings

CounterTest = Callable[[str, Mapping[str, str], str], bool] | Container[tuple[str, str]]
"""Which series are counters: ``f(measurement, tags, field)``, or ``(measurement, field)`` pairs.

Asked once, when a series is first seen.
"""


def _wall_ms() -> int:
    return time.time_ns() // 1_000_000


class WindowEngine:
    """Downsamples points into min/max/sum/count/mean/last(/increase) rows per tier.

    Args:
        tiers: the storage tiers; the raw one (no window) is skipped.
        settings: lateness, correction horizon, idle and future limits.
        counters: default counter test for :meth:`add_points`.
        clock: wall clock in ms (for :meth:`tick` and the future limit).
        source_quiet_ms: a source not heard from for this long stops counting for its
            partition's event time.

    Example:
        >>> engine = WindowEngine(settings=DownsampleSettings(lateness_s=0, correction_s=0))
        >>> engine.add_points(0, [Point("cpu", {"host": "a"}, {"busy": 2.0}, 60_000)])
        []
        >>> [r.fields["busy_max"] for r in engine.advance(0, 120_000)]
        [2.0]
    """

    def __init__(
        self,
        tiers: Sequence[TierSettings] = DEFAULT_TIERS,
        settings: DownsampleSettings | None = None,
        *,
        counters: CounterTest | None = None,
        clock: Callable[[], int] = _wall_ms,
        source_quiet_ms: int = 120_000,
    ) -> None:
        self.plan = WindowPlan.from_tiers(tiers)
        self.source_quiet_ms = source_quiet_ms
        self.settings = settings or DownsampleSettings()
        self.counters = counters
        self.clock = clock
        s = self.settings
        self._lateness = round(s.lateness_s * 1000)
        self._future = round(s.max_future_s * 1000)
        self._sink = RowSink(self.plan.names)
        self._closer = Closer(
            self.plan.windows_ms, round(s.correction_s * 1000), round(s.idle_s * 1000), self._sink
        )
        self._late = Corrections(self._closer)
        self._template = template(len(self.plan.windows_ms) - 1)
        self._counter_template = self._template[:]
        self._counter_template[0] = COUNTER
        self._parts: dict[int, PartitionState] = {}

    def _part(self, partition: int) -> PartitionState:
        p = self._parts.get(partition)
        if p is None:
            p = self._parts[partition] = PartitionState(self.clock(), self.source_quiet_ms)
        return p

    def add_points(
        self,
        partition: int,
        points: Iterable[Point],
        *,
        offset: int | None = None,
        counters: CounterTest | None = None,
        source: str = "",
    ) -> list[Row]:
        """Count a batch of points; return the rows of windows that closed (or were corrected).

        Args:
            partition: the source partition; state and watermark are per partition.
            points: the batch, typically one Kafka record's.
            offset: the record's offset; a batch at or below the highest added is a replay.
            counters: overrides the engine's counter test for series first seen here.
            source: who sent the batch (the record's key: a host, a target), for the
                partition's event time.
        """
        p = self._part(partition)
        if offset is not None:
            if p.offset is not None and offset <= p.offset:
                p.stats.replayed_records += 1
                return []
            p.offset = offset
        now = self.clock()
        test = self.counters if counters is None else counters
        series = p.series
        get = series.get
        open_from = p.closed_to
        future = now + self._future
        maxts = NO_TS
        intern = sys.intern
        offered = dups = nonnum = 0
        for m, tags, fields, ts in points:
            offered += len(fields)
            if ts < open_from or ts > future:
                self._slow(p, m, tags, fields, ts, test, ts > future)
                continue
            if ts > maxts:
                maxts = ts
            pk = (m, *tags, *tags.values())
            for f, v in fields.items():
                key = (pk, f)
                a = get(key)
                if a is None:
                    if isinstance(v, str):
                        nonnum += 1
                        continue
                    pk = (*map(intern, pk),)  # shared tag values cost once; later fields reuse it
                    key = (pk, intern(f))
                    a = series[key] = self._new(m, tags, f, test)
                if ts > a[-2]:
                    a.append(ts)
                    try:
                        # A string raises here; cheaper than checking every value's type.
                        a.append(v)  # type: ignore[arg-type]
                    except TypeError:
                        del a[-1]
                        nonnum += 1
                elif ts == a[-2]:
                    dups += 1
                else:
                    outcome = insert(a, ts, v)
                    if outcome == 1:
                        dups += 1
                    elif outcome == 2:
                        nonnum += 1
        stats = p.stats
        stats.samples += offered
        stats.duplicates += dups
        stats.non_numeric += nonnum
        self._late.flush(p)
        p.last_arrival = now
        if maxts != NO_TS:
            p.sources.observe(source, maxts, now)
            if now - p.sources_checked >= self.source_quiet_ms // 4:
                p.sources.forget_quiet(now)
                p.sources_checked = now
            event_time = p.sources.time()
            if event_time > p.max_ts:
                p.max_ts = event_time
                self._closer.advance(p, event_time - self._lateness)
        return self._take(p)

    def _new(
        self, m: str, tags: Mapping[str, str], f: str, test: CounterTest | None
    ) -> array[float]:
        counter = False
        if test is not None:
            counter = test(m, tags, f) if callable(test) else (m, f) in test
        return (self._counter_template if counter else self._template)[:]

    def _slow(
        self,
        p: PartitionState,
        m: str,
        tags: Mapping[str, str],
        fields: Mapping[str, FieldValue],
        ts: int,
        test: CounterTest | None,
        future: bool,
    ) -> None:
        pk = (sys.intern(m), *map(sys.intern, tags), *map(sys.intern, tags.values()))
        if future:
            for f, v in fields.items():
                if isinstance(v, str):
                    p.stats.non_numeric += 1
                else:
                    p.stats.future += 1
                    p.late.append(Late(late_point(pk, f, v, ts), "future"))
            return
        w = self._closer.w
        too_old = ts - ts % w + w <= p.final_to
        for f, v in fields.items():
            if isinstance(v, str):  # as on the fast path: counted, never a sample, never late
                p.stats.non_numeric += 1
                continue
            key = (pk, sys.intern(f))
            a = p.series.get(key)
            if a is None:
                if too_old:
                    self._late.refuse(p, key, ts, v)
                    continue
                a = p.series[key] = self._new(m, tags, f, test)
            self._late.add(p, key, a, ts, v)

    def _take(self, p: PartitionState) -> list[Row]:
        rows = self._sink.take()
        p.stats.rows += len(rows)
        return rows

    def advance(self, partition: int, watermark_ms: int) -> list[Row]:
        """Move a partition's watermark forward (never back); return rows of closed windows."""
        p = self._part(partition)
        self._closer.advance(p, watermark_ms)
        return self._take(p)

    def tick(self, partition: int, now_ms: int | None = None) -> list[Row]:
        """Timer for quiet partitions: let event time run on with the clock.

        The watermark becomes ``max_ts + (now - last_arrival) - lateness``: as if event time
        had advanced with the wall clock since the last batch. Call it every few seconds, but
        only while the partition's agent is idle, not while it is blocked on a sink: a
        watermark run ahead of a backlog would make the backlog late.
        """
        p = self._parts.get(partition)
        if p is None or p.max_ts == NO_TS:
            return []
        now = self.clock() if now_ms is None else now_ms
        quiet = now - p.last_arrival
        if quiet > 0:
            self._closer.advance(p, p.max_ts + quiet - self._lateness)
        return self._take(p)

    def take_late(self, partition: int) -> list[Late]:
        """The refused samples of a partition since the last call; send them to the late output."""
        p = self._parts.get(partition)
        if p is None:
            return []
        late, p.late = p.late, []
        return late

    def stats(self, partition: int) -> DownsampleStats:
        """A copy of a partition's counters."""
        p = self._parts.get(partition)
        return replace(p.stats) if p is not None else DownsampleStats()

    def series_count(self, partition: int) -> int:
        """How many series a partition holds state for."""
        p = self._parts.get(partition)
        return len(p.series) if p is not None else 0

    def watermark(self, partition: int) -> int | None:
        """A partition's watermark in ms, None before its first sample."""
        p = self._parts.get(partition)
        return None if p is None or p.wm == NO_TS else p.wm

    def offset(self, partition: int) -> int | None:
        """The highest source offset added to a partition (what a snapshot covers)."""
        p = self._parts.get(partition)
        return None if p is None else p.offset

    def needs_snapshot(self, partition: int) -> bool:
        """Whether windows closed since the partition's last snapshot or restore."""
        p = self._parts.get(partition)
        return p is not None and p.transitions > 0

    def snapshot(self, partition: int) -> bytes:
        """The partition's whole state as bytes (see :mod:`streams.downsample.snapshot`)."""
        p = self._part(partition)
        data = _snapshot.encode(p, self.plan)
        p.transitions = 0
        return data

    def restore(self, partition: int, data: bytes) -> None:
        """Replace a partition's state by a snapshot.

        Raises:
            SnapshotError: the data is not a snapshot of an engine with the same tiers.
        """
        p = PartitionState(self.clock(), self.source_quiet_ms)
        _snapshot.decode(data, p, self.plan)
        self._parts[partition] = p

    def drop(self, partition: int) -> None:
        """Forget a partition (after it was revoked from this worker)."""
        self._parts.pop(partition, None)
