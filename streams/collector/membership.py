"""Collector membership through Kafka: heartbeats on a topic, no extra server.

Every collector sends a heartbeat (its id and state) to the members topic every
``heartbeat_s`` and reads every heartbeat of the others. A member is live while its last
heartbeat arrived less than ``timeout_s`` ago, measured on the reader's own clock, so clock
skew between hosts does not matter. A collector that stops sends a ``leaving`` heartbeat, and
the others drop it at once; one that dies is dropped after ``timeout_s``. Every collector thus
computes the same live set, and from it the same hash ring.

Example:
    >>> table = MemberTable(timeout_s=10)
    >>> table.saw("c1", "up", now=0.0); table.saw("c2", "up", now=5.0)
    >>> sorted(table.live(now=12.0))
    ['c2']
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError

from streams.kafka import ProduceError, RecordProducer
from streams.settings import KafkaSettings

log = logging.getLogger(__name__)


class MemberTable:
    """When each member was last seen, and which are live."""

    def __init__(self, timeout_s: float) -> None:
        self.timeout_s = timeout_s
        self._seen: dict[str, float] = {}

    def saw(self, member: str, state: str, now: float) -> None:
        """Record a heartbeat; a ``leaving`` one removes the member."""
        if state == "leaving":
            self._seen.pop(member, None)
        else:
            self._seen[member] = now

    def live(self, now: float) -> frozenset[str]:
        """Members whose last heartbeat is younger than the timeout."""
        return frozenset(m for m, t in self._seen.items() if now - t < self.timeout_s)


class Membership:
    """Sends this collector's heartbeats and follows everyone's.

    Args:
        producer: the collector's producer (heartbeats are acknowledged records).
        kafka: broker settings, for the heartbeat reader.
        topic: the members topic (one partition).
        member_id: this collector's id, unique in the cluster.
        heartbeat_s: seconds between heartbeats.
        timeout_s: a member without a heartbeat for this long is gone.
    """

    def __init__(
        self,
        producer: RecordProducer,
        kafka: KafkaSettings,
        topic: str,
        member_id: str,
        *,
        heartbeat_s: float,
        timeout_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.member_id = member_id
        self.table = MemberTable(timeout_s)
        self.changed = asyncio.Event()
        self._kafka = kafka
        self._topic = topic
        self._heartbeat_s = heartbeat_s
        self._clock = clock
        self._producer = producer
        self._live: frozenset[str] = frozenset()

    def live(self) -> frozenset[str]:
        """The live members now."""
        return self.table.live(self._clock())

    async def run(self, stop: asyncio.Event) -> None:
        """Heartbeat and follow until ``stop``; then announce leaving."""
        consumer = await self._follow()
        try:
            while not stop.is_set():
                await self._beat("up")
                deadline = self._clock() + self._heartbeat_s
                while not stop.is_set() and self._clock() < deadline:
                    await self._read(consumer, timeout_s=min(0.5, self._heartbeat_s))
        finally:
            await consumer.stop()
            await self._beat("leaving")

    async def _follow(self) -> AIOKafkaConsumer:
        while True:
            consumer = AIOKafkaConsumer(
                bootstrap_servers=self._kafka.bootstrap_servers, enable_auto_commit=False
            )
            try:
                await consumer.start()
                tp = TopicPartition(self._topic, 0)
                consumer.assign([tp])
                since = int(time.time() * 1000 - self.table.timeout_s * 1000)
                found = await consumer.offsets_for_times({tp: since})
                if found.get(tp) is not None:
                    consumer.seek(tp, found[tp].offset)
                else:
                    await consumer.seek_to_end(tp)
                return consumer
            except (KafkaError, OSError) as exc:
                await consumer.stop()
                log.warning("cannot follow %s (%s); retrying in 2s", self._topic, exc)
                await asyncio.sleep(2)

    async def _beat(self, state: str) -> None:
        value = orjson.dumps({"member": self.member_id, "state": state})
        try:
            await self._producer.send_all(self._topic, [(self.member_id.encode(), value)])
        except ProduceError as exc:
            log.warning("heartbeat not sent: %s", exc)

    async def _read(self, consumer: AIOKafkaConsumer, timeout_s: float) -> None:
        try:
            batches = await consumer.getmany(timeout_ms=int(timeout_s * 1000))
        except KafkaError as exc:
            log.warning("reading heartbeats failed: %s", exc)
            await asyncio.sleep(timeout_s)
            return
        now = self._clock()
        for messages in batches.values():
            for message in messages:
                try:
                    beat = orjson.loads(message.value or b"")
                    self.table.saw(str(beat["member"]), str(beat["state"]), now)
                except (orjson.JSONDecodeError, KeyError, TypeError):
                    log.warning("ignoring a malformed heartbeat at offset %s", message.offset)
        live = self.table.live(now)
        if live != self._live:
            log.info("collectors live: %s", ", ".join(sorted(live)) or "none")
            self._live = live
            self.changed.set()
