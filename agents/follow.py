"""Follow a whole topic in every worker: each process reads every partition, from the start.

Some state must be known to every worker, not only to the owner of a partition: silences
(any worker answers ``GET /api/v2/silences``) and the alerts of every aggregation group
(inhibition and ``GET /api/v2/alerts`` look across groups). Such state lives in compacted
topics; :class:`TopicFollower` reads one without a consumer group, so each worker sees all
of it, and hands every record to a callback. :attr:`caught_up` is set once the records that
existed at start were read.

Example:
    >>> follower = TopicFollower(settings, "alerts.silences", on_record)  # doctest: +SKIP
    >>> app.task(follower.run)  # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError

from streams.settings import Settings

log = logging.getLogger(__name__)

FETCH_MAX_WAIT_MS = 200
"""How long the broker may hold a follower's fetch while nothing new is there. A record
that arrives ends the wait at once; a short wait only makes an idle worker poll more (at
20 ms, the two followers took about a fifth of an idle worker's processor time)."""

OnRecord = Callable[[bytes | None, bytes | None], None]
"""Called with each record's key and value (None: a tombstone)."""


class TopicFollower:
    """Reads every partition of one topic from its beginning, for ever."""

    def __init__(self, settings: Settings, topic: str, on_record: OnRecord) -> None:
        self.topic = topic
        self.caught_up = asyncio.Event()
        self._settings = settings
        self._on_record = on_record

    async def _assign(self, consumer: AIOKafkaConsumer) -> list[TopicPartition]:
        while True:
            partitions = consumer.partitions_for_topic(self.topic)
            if partitions:
                return [TopicPartition(self.topic, p) for p in sorted(partitions)]
            await consumer.force_metadata_update()
            await asyncio.sleep(0.5)  # the topic is created by the owner's start-up

    async def run(self) -> None:
        """Follow the topic until cancelled; reconnects while Kafka is away."""
        while True:
            consumer = AIOKafkaConsumer(
                bootstrap_servers=self._settings.kafka.bootstrap_servers,
                group_id=None,
                enable_auto_commit=False,
                fetch_max_wait_ms=FETCH_MAX_WAIT_MS,
            )
            try:
                await consumer.start()
                await self._follow(consumer)
            except KafkaError as exc:
                log.warning("following %s: %r; reconnecting", self.topic, exc)
                await asyncio.sleep(1.0)
            finally:
                await consumer.stop()

    async def _follow(self, consumer: AIOKafkaConsumer) -> None:
        tps = await self._assign(consumer)
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        pending = {tp for tp in tps if ends[tp] > 0}
        if not pending:
            self.caught_up.set()
        while True:
            batches = await consumer.getmany(timeout_ms=1000)
            for tp, messages in batches.items():
                for message in messages:
                    try:
                        self._on_record(message.key, message.value)
                    except Exception:  # a bad record must not stop the follower
                        log.exception(
                            "%s[%d]@%d not applied", tp.topic, tp.partition, message.offset
                        )
                    if message.offset + 1 >= ends.get(tp, 0):
                        pending.discard(tp)
            if pending:
                positions = {tp: await consumer.position(tp) for tp in pending}
                if all(positions[tp] >= ends[tp] for tp in pending):
                    pending.clear()
            if not pending:
                self.caught_up.set()
