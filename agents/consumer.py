"""The worker's Kafka consumer: Faust's aiokafka consumer, committing what the ledger allows.

Faust commits the offsets its message acknowledgements add up to; for the topics the
:class:`~streams.offsets.OffsetLedger` manages (those read through :class:`agents.takes.Takes`)
:class:`LedgerConsumer` commits the ledger's offsets instead, and after every rebalance it
tells the ledger where each partition's consumption restarts. For other topics it keeps
Faust's rule, without stepping over an unacknowledged offset at the committed position
(faust-streaming issue 606).

It also fetches with a short wait (:data:`FETCH_MAX_WAIT_MS`), see :class:`PromptConsumerThread`.

Example:
    >>> app.transport.Consumer = consumer_class(ledger, settings)  # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import fields
from typing import Any, ClassVar

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import CommitFailedError
from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread
from faust.transport.drivers.aiokafka import Consumer as AIOKafkaConsumer_
from faust.types import TP
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector

from streams.offsets import OffsetLedger, Partition
from streams.settings import KafkaSettings

log = logging.getLogger(__name__)

FETCH_MAX_WAIT_MS = 20
"""How long the broker may hold a worker's fetch for data to arrive."""


class PromptConsumerThread(AIOKafkaConsumerThread):
    """Faust's consumer thread with a short fetch wait (Faust fixes it at 1.5 s).

    The consumer has one fetch in flight per broker, for the partitions that have no records
    waiting to be taken. A record produced meanwhile to another partition (a rule group's
    samples, forwarded by this very worker) waits until that fetch returns: up to the fetch
    wait. A short wait bounds that hop's latency; an idle worker fetches more often.
    """

    def _create_worker_consumer(self, transport: Any) -> Any:
        consumer = super()._create_worker_consumer(transport)
        consumer._fetch_max_wait_ms = FETCH_MAX_WAIT_MS
        return consumer


class KafkaLog:
    """The :class:`~streams.offsets.Log` of a worker: its consumer seeks, a side reader looks.

    Args:
        consumer: the worker's Faust consumer.
        kafka: where the broker is; the side reader is a consumer without a group, started
            at the first look and kept until :meth:`close`.
    """

    def __init__(self, consumer: Any, kafka: KafkaSettings) -> None:
        self._consumer = consumer
        self._kafka = kafka
        self._reader: AIOKafkaConsumer | None = None
        self._lock = asyncio.Lock()

    async def first_offset(self, tp: Partition, at: int) -> int | None:
        """The offset of the first record at or after ``at``, read from the broker."""
        async with self._lock:
            if self._reader is None:
                reader = AIOKafkaConsumer(
                    bootstrap_servers=self._kafka.bootstrap_servers,
                    group_id=None,
                    enable_auto_commit=False,
                    auto_offset_reset="earliest",
                    fetch_max_wait_ms=100,
                )
                try:
                    await reader.start()
                except BaseException:
                    await reader.stop()
                    raise
                self._reader = reader
            reader = self._reader
            part = TopicPartition(tp[0], tp[1])
            reader.assign([part])
            start = (await reader.beginning_offsets([part]))[part]
            end = (await reader.end_offsets([part]))[part]
            if at >= end:
                return None
            if at <= start:
                return int(start)
            reader.seek(part, at)
            batch = await reader.getmany(part, timeout_ms=10_000, max_records=1)
            records = batch.get(part, [])
            return int(records[0].offset) if records else at

    async def seek(self, tp: Partition, offset: int) -> None:
        """Fetch ``tp`` from ``offset`` again (ignored if it is no longer assigned here)."""
        part = TP(tp[0], tp[1])
        if part not in self._consumer.assignment():
            return
        await self._consumer.seek(part, offset)

    def end_offset(self, tp: Partition) -> int | None:
        """The partition's high watermark as the consumer last saw it."""
        try:
            end = self._consumer.highwater(TP(tp[0], tp[1]))
        except Exception:  # not assigned (any more), or no fetch yet
            return None
        return None if end is None else int(end)

    async def close(self) -> None:
        """Stop the side reader."""
        async with self._lock:
            if self._reader is not None:
                await self._reader.stop()
                self._reader = None


class ReadOffsets(defaultdict[TP, int | None]):
    """Faust's read positions, blind for the topics the ledger manages.

    Faust's fetch loop drops a record below the position it last read and treats a jump
    past it as a hole it may commit over. The position is set by seeks and by every
    delivered record, so a record still on its way when a seek lands (or a rebalance's
    seek to the committed offset) moves it past the records the seek is meant to bring, and
    those are then dropped. For managed topics the position reads as unknown: every record
    is delivered, and the ledger finds holes and duplicates itself.
    """

    def __init__(self, managed: Callable[[str], bool]) -> None:
        super().__init__(lambda: None)
        self._managed = managed

    def __getitem__(self, tp: TP) -> int | None:
        if self._managed(tp.topic):
            return None
        return super().__getitem__(tp)


async def refuse_commit(assignment: Any, offsets: Any) -> None:
    """Stands in for aiokafka's commit request once commits are halted: a commit that
    fails for good, so that a commit being retried stops. Faust takes a failed commit whose
    message says the group "already rebalanced" as a refusal; any other crashes the worker.
    """
    raise CommitFailedError(
        "commits are halted: the broker lost its data, the group already rebalanced there"
    )


class LedgerConsumer(AIOKafkaConsumer_):
    """Faust's aiokafka consumer whose commits, for managed topics, come from the ledger."""

    ledger: OffsetLedger
    kafka: KafkaSettings

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._read_offset = ReadOffsets(self.ledger.manages)
        self._log = KafkaLog(self, self.kafka)
        self._held_back: set[TP] = set()
        self._halted = False

    def _new_consumer_thread(self) -> AIOKafkaConsumerThread:
        return PromptConsumerThread(self, loop=self.loop, beacon=self.beacon)

    async def on_start(self) -> None:
        await super().on_start()
        self.ledger.attach(self._log)
        self.ledger.consuming()

    async def on_stop(self) -> None:
        await super().on_stop()
        await self._log.close()

    def halt_commits(self) -> None:
        """Commit nothing more: the offsets this worker holds belong to a log that is gone
        (see :mod:`agents.broker_watch`), and committed to recreated topics they would make
        the next start skip their records.

        A commit already in flight ends too: aiokafka retries a commit to a missing topic
        until it succeeds, which it would once the topics are created again (and meanwhile
        the retries hold up the worker's stop).
        """
        self._halted = True
        client = getattr(self._thread, "_consumer", None)
        coordinator = getattr(client, "_coordinator", None)
        if coordinator is not None:
            coordinator._do_commit_offsets = refuse_commit  # aiokafka's retry loop calls it

    async def _commit(self, offsets: Any) -> bool:
        if self._halted:
            return False
        return bool(await super()._commit(offsets))

    def ack(self, message: Any) -> bool:
        if not self.ledger.manages(message.topic):
            return bool(super().ack(message))
        # The ledger decides what is committed: keep only what shutdown waits on.
        if message.acked:
            return False
        message.acked = True
        self._unacked_messages.discard(message)
        return True

    def resume_flow(self) -> None:
        """Let records flow again; the partitions a seek held back too, unless the tables are
        being read back: Faust resumes the flow to read the changelogs, and an agent given
        records then would find its state not restored yet (and start afresh)."""
        super().resume_flow()
        if self.app.in_recovery:
            return
        held, self._held_back = self._held_back, set()
        if held:
            self.resume_partitions(held & set(self.assignment()))

    def _new_offset(self, tp: TP) -> int | None:
        if self.ledger.manages(tp.topic):
            return self.ledger.committable(tp)
        committed = self._committed_offset[tp]
        acked = self._acked[tp]
        if committed is not None and acked and min(acked) > committed:
            return None  # the committed offset itself is not acknowledged yet
        offset: int | None = super()._new_offset(tp)
        return offset

    def _filter_tps_with_pending_acks(self, topics: Any = None) -> Iterator[TP]:
        seen = set()
        for tp in super()._filter_tps_with_pending_acks(topics):
            seen.add(tp)
            yield tp
        for topic, partition in self.ledger.partitions():
            tp = TP(topic, partition)
            if tp not in seen and (topics is None or tp in topics or topic in topics):
                yield tp

    async def perform_seek(self) -> None:
        """Seek to the committed offsets, then tell the ledger where each partition restarts.

        A partition with no committed offset is sought to the start of its log (Faust leaves
        such a partition wherever its fetcher was), and so is one whose committed offset lies
        beyond the end of its log: that offset belongs to a log the broker lost. The managed
        partitions are not fetched from until the flow resumes: Faust resumes the flow after
        this seek by emptying every stream's buffer, and records fetched meanwhile would be
        dropped there.
        """
        managed = [tp for tp in self.assignment() if self.ledger.manages(tp.topic)]
        self.pause_partitions(managed)
        self._held_back.update(managed)
        await super().perform_seek()
        bases: dict[Partition, int] = {}
        fresh: list[TP] = []
        ends = await self.highwaters(*managed) if managed else {}
        for tp in managed:
            committed = self._committed_offset.get(tp)
            end = ends.get(tp)
            if committed and end is not None and committed > end:
                log.error(
                    "%s[%s]: the group committed offset %s but the partition ends at %s: the "
                    "log was lost (the broker lost its data); reading it from its start",
                    tp.topic,
                    tp.partition,
                    committed,
                    end,
                )
                self._committed_offset[tp] = None
                committed = None
            if committed:
                bases[tp] = committed
            else:
                fresh.append(tp)
        if fresh:
            earliest = await self.earliest_offsets(*fresh)
            for tp in fresh:
                bases[tp] = earliest[tp]
                await self.seek(tp, earliest[tp])
        self.ledger.attach(self._log)
        self.ledger.start(bases, generation=self.app.consumer_generation_id)
        log.info(
            "consumption restarts at %s (generation %s)",
            _describe(bases.items()),
            self.app.consumer_generation_id,
        )


def _describe(bases: Iterable[tuple[Partition, int]]) -> str:
    return ", ".join(f"{t}[{p}]@{o}" for (t, p), o in sorted(bases)) or "nothing"


class LedgerCollector(Collector):
    """Exposes the ledger's counters as ``pulseline_offsets_*_total``."""

    HELP: ClassVar[dict[str, str]] = {
        "gaps": "Records that arrived after a hole in an agent's sequence.",
        "seeks": "Partitions sought back to read records that never reached an agent.",
        "absent": "Offsets finished because the log holds no record there.",
        "stale": "Records released unprocessed: handed already, or fetched for another assignment.",
    }

    def __init__(self, ledger: OffsetLedger) -> None:
        self._ledger = ledger

    def collect(self) -> Iterator[Metric]:
        stats = self._ledger.stats
        for f in fields(stats):
            family = CounterMetricFamily(f"pulseline_offsets_{f.name}", self.HELP[f.name])
            family.add_metric([], getattr(stats, f.name))
            yield family


def consumer_class(ledger: OffsetLedger, kafka: KafkaSettings) -> type[LedgerConsumer]:
    """A :class:`LedgerConsumer` class bound to ``ledger`` (Faust instantiates it)."""
    return type("WorkerConsumer", (LedgerConsumer,), {"ledger": ledger, "kafka": kafka})
