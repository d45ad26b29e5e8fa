"""The recent samples of each ``rules.samples`` partition, read once it is assigned.

After a restart (or a rebalance) the rule agent needs the last horizon of a partition's
samples before it evaluates the partition's groups, so that ``rate`` and ``for`` see what
they saw before. Reading it takes a Kafka round trip or more per partition: done under the
evaluation lock, one partition after another, it stopped every evaluation (and the timer)
for seconds at each start. :class:`Histories` reads them outside the lock, the partitions of
an assignment at once, and hands each to the runtime under the lock when it is complete.

Example::

    histories = Histories(read, apply, lock)
    histories.prefetch([0, 1, 2])      # on assignment
    await histories.ensure(1)           # before evaluating partition 1 (outside the lock)
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable

from aiokafka import AIOKafkaConsumer, TopicPartition

from streams.errors import RecordDecodeError
from streams.rules.evaluation.routing import Forwarded, decode_forward
from streams.settings import Settings

log = logging.getLogger(__name__)

Read = Callable[[int], Awaitable[list[Forwarded]]]
"""Reads a partition's history (retrying while Kafka is away)."""
Apply = Callable[[int, list[Forwarded]], None]
"""Gives a partition's history to the runtime (called under the lock)."""


async def read_history(
    settings: Settings, topic: str, partition: int, since_ms: int
) -> list[Forwarded]:
    """The records of a partition from ``since_ms`` (record time) to its current end."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka.bootstrap_servers,
        enable_auto_commit=False,
        group_id=None,
    )
    await consumer.start()
    try:
        tp = TopicPartition(topic, partition)
        consumer.assign([tp])
        end = (await consumer.end_offsets([tp]))[tp]
        found = (await consumer.offsets_for_times({tp: since_ms}))[tp]
        start = end if found is None else found.offset
        records: list[Forwarded] = []
        if start >= end:
            return records
        consumer.seek(tp, start)
        while (await consumer.position(tp)) < end:
            batch = await consumer.getmany(tp, timeout_ms=1000)
            for message in batch.get(tp, []):
                if message.offset >= end:
                    break
                try:
                    records.append(decode_forward(message.value or b""))
                except RecordDecodeError as exc:
                    log.warning("%s[%d]@%d: %s", topic, partition, message.offset, exc)
        return records
    finally:
        await consumer.stop()


class Histories:
    """Which partitions have their history; reads the others outside the lock.

    Args:
        read: reads a partition's history.
        apply: gives it to the runtime; called under ``lock``, once per assignment.
        lock: the evaluation lock.
    """

    def __init__(self, read: Read, apply: Apply, lock: asyncio.Lock) -> None:
        self.loaded: set[int] = set()
        self._read = read
        self._apply = apply
        self._lock = lock
        self._reading: dict[int, asyncio.Task[list[Forwarded]]] = {}
        self._assigned: set[int] = set()

    def prefetch(self, partitions: Iterable[int]) -> None:
        """The partitions were assigned: start reading their histories, all at once."""
        for p in partitions:
            self._assigned.add(p)
            if p not in self.loaded and p not in self._reading:
                self._start(p)

    async def ensure(self, partition: int) -> bool:
        """Wait until ``partition``'s history is with the runtime (reading it if needed);
        False if the partition was revoked meanwhile. Call it without holding the lock."""
        if partition in self.loaded:
            return True
        self._assigned.add(partition)
        task = self._reading.get(partition) or self._start(partition)
        try:
            history = await asyncio.shield(task)
        except asyncio.CancelledError:
            if task.cancelled():
                return False  # revoked while it was being read
            raise
        except Exception:
            if self._reading.get(partition) is task:
                del self._reading[partition]  # the next call reads again
            raise
        async with self._lock:
            if partition not in self._assigned:
                return False
            if partition not in self.loaded:
                self._apply(partition, history)
                self.loaded.add(partition)
                self._reading.pop(partition, None)
        return True

    def drop(self, partitions: Iterable[int]) -> None:
        """The partitions were revoked: forget them and stop reading their histories."""
        for p in partitions:
            self._assigned.discard(p)
            self.loaded.discard(p)
            task = self._reading.pop(p, None)
            if task is not None:
                task.cancel()

    def _start(self, partition: int) -> asyncio.Task[list[Forwarded]]:
        task = self._reading[partition] = asyncio.ensure_future(self._read(partition))
        task.add_done_callback(_retrieve)
        return task


def _retrieve(task: asyncio.Task[list[Forwarded]]) -> None:
    """Take a finished read's error, so a read nobody awaits any more is not reported as
    an exception never retrieved (the awaiting caller still gets it)."""
    if not task.cancelled():
        task.exception()
