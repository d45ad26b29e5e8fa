"""The downsampling stage between Kafka and the tier buckets, free of Faust.

:class:`Downsampler` feeds each record to a :class:`~streams.downsample.WindowEngine`, writes
the rows it returns through one acknowledged, retrying :class:`~streams.sinks.batch.BatchSink`
per tier, sends refused samples to the late-data output, persists snapshots, and says which
records may be acknowledged. The order is the one :mod:`streams.downsample.snapshot`
prescribes, so a worker killed at any moment loses no window and counts no sample twice:

1. rows and late samples are written and acknowledged;
2. then a snapshot is persisted when windows closed since the last one (or when a record has
   waited ``snapshot_max_s`` for one);
3. only then are the records the snapshot covers released for acknowledgement.

Records are held (not acknowledged) until a snapshot covers them; an agent acknowledges the
tokens :meth:`Downsampler.process` and :meth:`Downsampler.tick` return. After a restart the
partition's snapshot is restored and the records after it are consumed again.

Sending late samples and saving a snapshot are retried until they succeed
(:func:`streams.retry.retry`, jittered backoff): their failures are Kafka being away, not bad
data, and the partition waits meanwhile, as it waits for the database.

Example:
    >>> stage = Downsampler(engine, sinks, late, store)  # doctest: +SKIP
    >>> ack = await stage.process([(record, event), ...])  # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from streams.codecs.lineprotocol import render_lines
from streams.downsample.rows import Late, Row
from streams.downsample.windows import CounterTest, WindowEngine
from streams.errors import RecordDecodeError, SnapshotError
from streams.names import Render
from streams.records import FieldValue, Point, decode_record
from streams.retry import retry
from streams.sinks.batch import BatchSink, Pending, RecordRef
from streams.sinks.raw import InRecord

log = logging.getLogger(__name__)

T = TypeVar("T")

COUNTER_TYPES = frozenset({"counter"})
"""Metric types whose every series is a counter."""
COUNTER_PARTS = frozenset({"histogram", "gaugehistogram", "summary"})
"""Metric types whose ``_bucket``, ``_count`` and ``_sum`` series are counters."""
_PART_SUFFIXES = ("_bucket", "_count", "_sum")


def counter_test(types: Mapping[str, str]) -> CounterTest | None:
    """Which series of a record are counters, from the metric types the collector sent.

    Example:
        >>> test = counter_test({"http_requests_total": "counter", "temp": "gauge"})
        >>> test("http_requests_total", {}, "value"), test("temp", {}, "value")
        (True, False)
    """
    if not types:
        return None

    def test(measurement: str, tags: Mapping[str, str], field: str) -> bool:
        kind = types.get(measurement)
        if kind in COUNTER_TYPES:
            return True
        return kind in COUNTER_PARTS and measurement.endswith(_PART_SUFFIXES)

    return test


class SnapshotStore(Protocol):
    """Where partition snapshots are kept (a changelog-backed table in a worker)."""

    def load(self, partition: int) -> bytes | None:
        """The newest persisted snapshot of a partition, or None."""

    async def save(self, partition: int, data: bytes) -> None:
        """Persist a snapshot; return once it is durable."""


LateOutput = Callable[[int, Sequence[Late]], Awaitable[None]]
"""Sends a partition's refused samples on (to the late-data topic); returns once acknowledged."""


@dataclass(slots=True)
class StageStats:
    """Counters of the stage beyond the engine's per-partition ones."""

    records: int = 0
    undecodable: int = 0
    rows_refused: int = 0
    late_sent: int = 0
    snapshots: int = 0
    snapshot_bytes: int = 0
    restores: int = 0
    failed_records: int = 0


class Downsampler(Generic[T]):
    """Runs a :class:`WindowEngine` against Kafka records, tier sinks and a snapshot store.

    Args:
        engine: the window engine.
        sinks: the sink of each windowed tier, by tier name.
        late: where refused samples go.
        store: where snapshots are persisted and restored from.
        snapshot_max_s: longest time a record waits for a snapshot.
        clock: monotonic seconds (injected by tests).
        retry_min_s: first wait after a failed late send or snapshot save.
        retry_max_s: longest wait between attempts.
        sleep: how to wait (tests pass one that returns at once).
        render: how rows become lines for the store (``streams.names.RENDERERS``).
    """

    def __init__(
        self,
        engine: WindowEngine,
        sinks: Mapping[str, BatchSink],
        late: LateOutput,
        store: SnapshotStore,
        *,
        snapshot_max_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        retry_min_s: float = 0.5,
        retry_max_s: float = 30.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        render: Render = render_lines,
    ) -> None:
        missing = set(engine.plan.names) - set(sinks)
        if missing:
            raise ValueError(f"no sink for tiers {sorted(missing)}")
        self.engine = engine
        self.sinks = sinks
        self.stats = StageStats()
        self._late = late
        self._store = store
        self._snapshot_max = snapshot_max_s
        self._clock = clock
        self._retry = functools.partial(
            retry, min_s=retry_min_s, max_s=retry_max_s, sleep=sleep, logger=log
        )
        # Per partition: records added to the engine but not yet covered by a snapshot,
        # as (offset, token, when taken), in offset order.
        self._held: dict[int, deque[tuple[int, T, float]]] = defaultdict(deque)
        self._restored: set[int] = set()
        self._render_lines = render

    @property
    def partitions(self) -> frozenset[int]:
        """The partitions this stage holds state for."""
        return frozenset(self._restored)

    def held(self, partition: int) -> int:
        """How many records of a partition wait for a snapshot."""
        held = self._held.get(partition)
        return len(held) if held else 0

    async def process(self, records: Sequence[tuple[InRecord, T]]) -> list[T]:
        """Downsample records (in offset order per partition); return the tokens to acknowledge.

        Returns only when every row is written (or refused and counted). Undecodable records
        are counted and skipped: the raw sink sends them to the DLQ.
        """
        rows: list[Row] = []
        touched: set[int] = set()
        now = self._clock()
        engine = self.engine
        for record, token in records:
            p, offset = record.ref.partition, record.ref.offset
            self._restore(p)
            self.stats.records += 1
            try:
                batch = decode_record(record.value or b"")
            except RecordDecodeError:
                self.stats.undecodable += 1
                batch = None
            points = batch.points if batch is not None else ()
            test = counter_test(batch.types) if batch is not None else None
            source = record.key.decode("utf-8", "replace") if record.key else ""
            rows += engine.add_points(p, points, offset=offset, counters=test, source=source)
            self._held[p].append((offset, token, now))
            touched.add(p)
        return await self._finish(rows, touched)

    async def tick(self, caught_up: Callable[[int], bool]) -> list[T]:
        """Close windows of quiet partitions; return the tokens to acknowledge.

        Args:
            caught_up: whether a partition has no records waiting in Kafka; a partition with
                a backlog is not ticked (its backlog would become late).
        """
        rows: list[Row] = []
        quiet = [p for p in sorted(self._restored) if caught_up(p)]
        for p in quiet:
            rows += self.engine.tick(p)
        return await self._finish(rows, quiet)

    def assign(self, partitions: Iterable[int]) -> None:
        """Resume the state of partitions now owned (a quiet one has no record to trigger it)."""
        for p in partitions:
            self._restore(p)

    def revoke(self, partitions: Iterable[int]) -> None:
        """Forget partitions assigned elsewhere now; their held records are not acknowledged."""
        for p in partitions:
            self.engine.drop(p)
            self._held.pop(p, None)
            self._restored.discard(p)

    def _restore(self, p: int) -> None:
        if p in self._restored:
            return
        self._restored.add(p)
        data = self._store.load(p)
        if data is None:
            log.info("partition %d: no downsampling state saved; starting afresh", p)
            return
        try:
            self.engine.restore(p, data)
        except SnapshotError as exc:
            # Unusable state (other tiers configured): start afresh rather than crash-loop.
            log.error("partition %d: cannot resume downsampling state: %s", p, exc)
            return
        self.stats.restores += 1
        log.info(
            "partition %d: downsampling state restored up to offset %s (%d series)",
            p,
            self.engine.offset(p),
            self.engine.series_count(p),
        )

    async def _finish(self, rows: list[Row], touched: Iterable[int]) -> list[T]:
        await self._write(rows)
        for p in touched:
            late = self.engine.take_late(p)
            if late:
                await self._retry(
                    functools.partial(self._late, p, late),
                    what=f"partition {p}: sending {len(late)} late samples",
                )
                self.stats.late_sent += len(late)
        now = self._clock()
        ack: list[T] = []
        for p in touched:
            held = self._held.get(p)
            if not held:
                continue
            if self.engine.needs_snapshot(p) or now - held[0][2] >= self._snapshot_max:
                data = self.engine.snapshot(p)
                await self._retry(
                    functools.partial(self._store.save, p, data),
                    what=f"partition {p}: saving a snapshot of {len(data)} bytes",
                )
                self.stats.snapshots += 1
                self.stats.snapshot_bytes += len(data)
                covered = self.engine.offset(p)
                while held and covered is not None and held[0][0] <= covered:
                    ack.append(held.popleft()[1])
        return ack

    async def _write(self, rows: list[Row]) -> None:
        by_tier: dict[str, list[Point]] = defaultdict(list)
        for row in rows:
            fields: dict[str, FieldValue] = row.fields  # type: ignore[assignment]
            by_tier[row.tier].append(Point(row.measurement, row.tags, fields, row.ts_ms))
        for tier, points in by_tier.items():
            # One pending item per line: a refused write is narrowed down to the rows at fault.
            ref = RecordRef(f"downsample:{tier}", -1, -1)
            lines = self._render(tier, points)
            dead = await self.sinks[tier].write([Pending(ref, line, 1) for line in lines])
            if dead:
                self.stats.rows_refused += len(dead)
                log.error(
                    "%s: %d rows refused by the database: %s", tier, len(dead), dead[0].reason
                )

    def _render(self, tier: str, points: list[Point]) -> list[str]:
        try:
            return self._render_lines(points).split("\n")
        except ValueError:
            pass
        lines: list[str] = []
        for point in points:  # find the rows line protocol cannot express; keep the rest
            try:
                lines.append(self._render_lines((point,)))
            except ValueError as exc:
                self.stats.rows_refused += 1
                log.error("%s: row %s cannot be written: %s", tier, point, exc)
        return lines
