"""Which offsets each reader of a partition finished, and the offset the group may commit.

A Kafka consumer group commits one number per partition: "every record below this offset is
done". Faust derives it from the acknowledgements of the messages it delivered, merged over
every stream that reads the topic, and that merge can pass a record some reader never
processed:

- a stream acknowledges a message it *skipped* (fetched in an older rebalance generation),
  and the message counts as done once the other streams processed it;
- a record the fetcher dropped around a rebalance leaves a hole, and Faust's commit steps
  over a hole of exactly one offset at the committed position (faust-streaming issue 606);
- its take buffers keep acknowledging after the taking generator closed.

:class:`OffsetLedger` decides the offset instead, from what each reader states about itself:
which offset it expects next, and which offsets it finished. The committable offset of a
partition is the smallest, over the topic's readers, of the first offset each has not
finished. A record missing from a reader's sequence is noticed when a later one arrives: the
ledger asks the log (:class:`Log`) for the first record at or after the missing offset. If
there is one below the record that arrived, the partition is sought back to it and read
again; if there is none (retention deleted them, a compacted topic, transaction markers),
the offsets are finished as absent.

Facts only move the committable offset forward: "reader r finished offset o" stays true
across rebalances, so a late acknowledgement is never wrong, only possibly unneeded.

Example:
    >>> ledger = OffsetLedger()
    >>> ledger.register("metrics.raw", "sink")
    >>> ledger.register("metrics.raw", "rules")
    >>> tp = ("metrics.raw", 0)
    >>> ledger.start({tp: 31}, generation=7)
    >>> [ledger.offer("sink", tp, o) for o in (31, 32)], ledger.offer("rules", tp, 32)
    ([<Offer.HAND: 'hand'>, <Offer.HAND: 'hand'>], <Offer.GAP: 'gap'>)
    >>> ledger.finish("sink", tp, 31); ledger.finish("sink", tp, 32)
    >>> ledger.committable(tp)  # "rules" has not finished 31: nothing new may be committed
    31
"""

from __future__ import annotations

import asyncio
import bisect
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Protocol

log = logging.getLogger(__name__)

Partition = tuple[str, int]
"""A topic and a partition number (Faust's ``TP`` is such a tuple)."""


class Offer(Enum):
    """What to do with a record a reader received."""

    HAND = "hand"
    """The reader's next record: process it."""
    SKIP = "skip"
    """Already handed, or from a partition not assigned here: release it unprocessed."""
    GAP = "gap"
    """Records before it were never handed: see :meth:`OffsetLedger.admit`."""


class Log(Protocol):
    """What the ledger asks of the partitions' log."""

    async def first_offset(self, tp: Partition, at: int) -> int | None:
        """The offset of the first record at or after ``at`` (None: there is none)."""

    async def seek(self, tp: Partition, offset: int) -> None:
        """Make the consumer fetch ``tp`` from ``offset`` again."""

    def end_offset(self, tp: Partition) -> int | None:
        """The offset after the last record the consumer knows of in ``tp`` (None: unknown)."""


def _add_range(ranges: list[list[int]], start: int, end: int) -> None:
    """Insert ``[start, end)`` into sorted disjoint ranges, merging what touches it."""
    i = bisect.bisect_left(ranges, [start, start])
    if i > 0 and ranges[i - 1][1] >= start:
        i -= 1
        start = ranges[i][0]
    j = i
    while j < len(ranges) and ranges[j][0] <= end:
        end = max(end, ranges[j][1])
        j += 1
    ranges[i:j] = [[start, end]]


@dataclass(slots=True)
class Progress:
    """One reader's way through one partition since the partition was assigned.

    Attributes:
        handed: the offset to hand the reader next.
        done_to: every offset below it is finished (processed, or absent from the log).
        ahead: finished ranges ``[start, end)`` above ``done_to``, sorted and disjoint.

    Example:
        >>> p = Progress(handed=10, done_to=10)
        >>> p.finish(11, 12); p.done_to
        10
        >>> p.finish(10, 11); p.done_to, p.ahead
        (12, [])
    """

    handed: int
    done_to: int
    ahead: list[list[int]] = field(default_factory=list)

    def finish(self, start: int, end: int) -> None:
        """Record the offsets ``[start, end)`` as finished."""
        start = max(start, self.done_to)
        if start >= end:
            return
        if start == self.done_to and not self.ahead:
            self.done_to = end
            return
        _add_range(self.ahead, start, end)
        while self.ahead and self.ahead[0][0] <= self.done_to:
            self.done_to = max(self.done_to, self.ahead.pop(0)[1])


@dataclass(slots=True)
class LedgerStats:
    """Counters of the ledger (exposed on ``/metrics``).

    Attributes:
        gaps: records that arrived after a hole in a reader's sequence.
        seeks: partitions sought back to read missing records again.
        absent: offsets finished because the log has no record there.
        stale: records released unprocessed (already handed, or not assigned here).
    """

    gaps: int = 0
    seeks: int = 0
    absent: int = 0
    stale: int = 0


class OffsetLedger:
    """Per partition, what each registered reader finished; what may be committed.

    Args:
        log: the log, for holes in a reader's sequence; may be attached later
            (:meth:`attach`), since the consumer exists only once the app runs.
        seek_patience_s: how long a seek back may take to bring its first record before a
            new hole is looked into again.
        clock: monotonic seconds (tests inject one).
    """

    def __init__(
        self,
        log: Log | None = None,
        *,
        seek_patience_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.generation: int | None = None
        self.stats = LedgerStats()
        self._log = log
        self._consuming = False
        self._patience = seek_patience_s
        self._clock = clock
        self._readers: dict[str, set[str]] = {}
        self._bases: dict[Partition, int] = {}
        self._parts: dict[Partition, dict[str, Progress]] = {}
        self._absent: dict[Partition, list[list[int]]] = {}
        self._seeks: dict[Partition, tuple[int, float]] = {}
        self._probed: dict[Partition, tuple[int, int | None]] = {}
        self._next_start: asyncio.Future[None] | None = None

    def attach(self, log: Log) -> None:
        """Use ``log`` for the holes found from now on."""
        self._log = log

    def consuming(self) -> None:
        """Say that a consumer runs: records come only from assignments from now on, and
        one delivered before the first :meth:`start` is released (the start's seek brings
        it again). Until then (in tests without a broker) every record is handed."""
        self._consuming = True

    def register(self, topic: str, reader: str) -> None:
        """Declare that ``reader`` processes every record of ``topic``.

        Every reader of a topic must be registered before anything of it is committed: an
        unregistered one would not hold the committed offset back.
        """
        self._readers.setdefault(topic, set()).add(reader)

    def manages(self, topic: str) -> bool:
        """Whether the ledger decides the committed offsets of ``topic``."""
        return topic in self._readers

    def partitions(self) -> list[Partition]:
        """The partitions assigned at the last :meth:`start`."""
        return list(self._bases)

    def start(self, bases: Mapping[Partition, int], generation: int | None) -> None:
        """Begin an assignment: consumption of each partition restarts at its base offset.

        The consumer was just sought to the bases, so records already on their way from
        further on are released until the seek's first records arrive, as after any seek.

        Args:
            bases: each assigned partition of a managed topic, and the offset the consumer
                was sought to (the committed offset, or the log's start when none is).
            generation: the rebalance generation the records of this assignment carry.
        """
        self.generation = generation
        self._bases = {(tp[0], tp[1]): offset for tp, offset in bases.items()}
        self._parts = {tp: {} for tp in self._bases}
        self._absent = {tp: r for tp, r in self._absent.items() if tp in self._bases}
        now = self._clock()
        self._seeks = {tp: (base, now) for tp, base in self._bases.items()}
        self._probed.clear()
        if self._next_start is not None and not self._next_start.done():
            self._next_start.set_result(None)
        self._next_start = None

    async def started(self, generation: int) -> bool:
        """Wait until the assignment of ``generation`` started; False if another one did.

        A record fetched for an assignment whose :meth:`start` is still to come (the
        consumer delivers while it seeks) waits for it rather than being dropped.
        """
        while self.generation != generation:
            if self._next_start is None:
                self._next_start = asyncio.get_running_loop().create_future()
            await asyncio.shield(self._next_start)
            if self.generation != generation:
                return False
        return True

    def _progress(self, reader: str, tp: Partition) -> Progress | None:
        readers = self._parts.get(tp)
        if readers is None:
            return None
        progress = readers.get(reader)
        if progress is None:
            if reader not in self._readers.get(tp[0], ()):
                raise ValueError(f"reader {reader!r} is not registered for topic {tp[0]!r}")
            base = self._bases[tp]
            progress = readers[reader] = Progress(handed=base, done_to=base)
        return progress

    def offer(self, reader: str, tp: Partition, offset: int) -> Offer:
        """Decide about a record ``reader`` received; a handed record moves ``handed`` on.

        Before the first :meth:`start` nothing can be committed, so nothing can be lost:
        records are released while a consumer runs (:meth:`consuming`), handed otherwise.
        """
        if self.generation is None:
            if self._consuming:
                self.stats.stale += 1
                return Offer.SKIP
            return Offer.HAND
        progress = self._progress(reader, tp)
        if progress is None or offset < progress.handed:
            self.stats.stale += 1
            return Offer.SKIP
        if offset > progress.handed and not self._known_absent(tp, progress.handed, offset):
            return Offer.GAP
        if offset > progress.handed:
            self._skip_absent(progress, offset)
        progress.handed = offset + 1
        seek = self._seeks.get(tp)
        if seek is not None and offset >= seek[0] and self._all_past(tp, seek[0]):
            del self._seeks[tp]  # every reader got what the seek was for
        return Offer.HAND

    async def admit(
        self,
        reader: str,
        tp: Partition,
        offset: int,
        generation: int | None = None,
        current: int | None = None,
    ) -> bool:
        """Whether to hand a received record to ``reader``; looks into holes before it.

        A hole is looked into once: the log is asked for its first record at or after the
        reader's expected offset. Offsets with no record are finished as absent; records
        that exist but never reached the reader make the partition be sought back to them,
        and the record received now is released (it comes again, after them).

        Args:
            reader: the reader that received the record.
            tp: its partition.
            offset: its offset.
            generation: the rebalance generation it was fetched in (None: unknown).
            current: the consumer's generation now; a record of it waits for its
                assignment's :meth:`start`. Records of any other generation are released.
        """
        if (
            self._consuming
            and generation is not None
            and generation != self.generation
            and (generation != current or not await self.started(generation))
        ):
            self.stats.stale += 1
            return False
        verdict = self.offer(reader, tp, offset)
        if verdict is not Offer.GAP:
            return verdict is Offer.HAND
        progress = self._progress(reader, tp)
        assert progress is not None  # offer() answered GAP, so the partition is assigned
        expected = progress.handed
        probed = self._probed.get(tp)
        if probed is not None and probed[0] == expected and self._seek_under_way(tp, expected):
            first = probed[1]  # looked into already; the seek under way brings the rest
        else:
            self.stats.gaps += 1
            first = await self._first_offset(tp, expected)
            if self._progress(reader, tp) is not progress or progress.handed != expected:
                return await self.admit(reader, tp, offset)  # reassigned meanwhile
            self._probed[tp] = (expected, first)
        if first is None or first >= offset:
            self._note_absent(tp, expected, offset)
            self._skip_absent(progress, offset)
            progress.handed = offset + 1
            return True
        if first > expected:
            self._note_absent(tp, expected, first)
            self._skip_absent(progress, first)
        progress.handed = first
        if self._seek_under_way(tp, first):
            return False  # a seek back (or the assignment's) brings the records again
        log.warning(
            "%s[%d]: %s received offset %d but never %d..%d; reading them again",
            tp[0],
            tp[1],
            reader,
            offset,
            first,
            offset - 1,
        )
        self._seeks[tp] = (first, self._clock())
        self.stats.seeks += 1
        if self._log is not None:
            await self._log.seek(tp, first)
        return False

    def _all_past(self, tp: Partition, offset: int) -> bool:
        readers = self._parts.get(tp, {})
        return all(
            r in readers and readers[r].handed > offset for r in self._readers.get(tp[0], ())
        )

    def _seek_under_way(self, tp: Partition, at: int) -> bool:
        """Whether a seek to ``at`` or before it was made lately (within the patience)."""
        seek = self._seeks.get(tp)
        return seek is not None and seek[0] <= at and self._clock() - seek[1] < self._patience

    async def _first_offset(self, tp: Partition, at: int) -> int | None:
        if self._log is None:
            return at  # no way to know: assume the records exist (never skip one)
        try:
            return await self._log.first_offset(tp, at)
        except Exception as exc:  # the broker is away: assume they exist, look again later
            log.warning("%s[%d]: cannot read offset %d from the log: %r", tp[0], tp[1], at, exc)
            return at

    def _known_absent(self, tp: Partition, start: int, end: int) -> bool:
        return any(a <= start and end <= b for a, b in self._absent.get(tp, ()))

    def _note_absent(self, tp: Partition, start: int, end: int) -> None:
        _add_range(self._absent.setdefault(tp, []), start, end)

    def _skip_absent(self, progress: Progress, to: int) -> None:
        self.stats.absent += to - progress.handed
        progress.finish(progress.handed, to)

    async def idle(self, reader: str) -> None:
        """``reader`` received nothing for a while: look for records it waits for in vain.

        A record lost on its way is noticed when a later one arrives; when none follows (a
        quiet partition, the end of a backlog), the log's end says more exist.
        """
        if self._log is None or self.generation is None:
            return
        now = self._clock()
        for tp, readers in list(self._parts.items()):
            progress = readers.get(reader)
            if progress is None and reader in self._readers.get(tp[0], ()):
                progress = self._progress(reader, tp)
            if progress is None:
                continue
            end = self._log.end_offset(tp)
            seek = self._seeks.get(tp)
            if end is None or end <= progress.handed:
                continue
            if seek is not None and now - seek[1] < self._patience:
                continue
            log.warning(
                "%s[%d]: %s waits for offset %d, the log ends at %d; reading again from it",
                tp[0],
                tp[1],
                reader,
                progress.handed,
                end,
            )
            self._seeks[tp] = (progress.handed, now)
            self.stats.seeks += 1
            await self._log.seek(tp, progress.handed)

    def finish(self, reader: str, tp: Partition, offset: int) -> None:
        """Record that ``reader`` processed the record at ``offset`` (any generation)."""
        progress = self._progress(reader, tp)
        if progress is not None:
            progress.finish(offset, offset + 1)

    def committable(self, tp: Partition) -> int | None:
        """The offset the group may commit for ``tp``: every reader finished all below it.

        None when the partition is not assigned here.
        """
        base = self._bases.get(tp)
        readers = self._parts.get(tp)
        if base is None or readers is None:
            return None
        done = [readers[r].done_to if r in readers else base for r in self._readers.get(tp[0], ())]
        return min(done, default=None)

    def waiting(self, tp: Partition) -> Iterable[tuple[str, int]]:
        """Each reader of ``tp`` and the first offset it has not finished (for diagnostics)."""
        base = self._bases.get(tp)
        readers = self._parts.get(tp, {})
        for r in sorted(self._readers.get(tp[0], ())):
            progress = readers.get(r)
            yield r, progress.done_to if progress is not None else (base or 0)
