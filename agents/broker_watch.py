"""Watches for a broker that came back empty; then recreates the topics and starts over.

Every ``kafka.loss_check_s`` the worker asks the broker which topics it has and where the
partitions this worker consumes end, and gives that to a
:class:`~streams.broker_loss.LossDetector` with the offsets the group committed. When the
detector confirms a loss, the worker logs it once, stops committing, stops, creates the
pipeline's topics again (as ``pulseline topics create``) and starts over in place
(:class:`agents.restart.Restart`): the new start finds no committed offsets and reads the new
topics from their beginning.

Example::

    watch = BrokerWatch(settings, KafkaProbe(settings.kafka), committed, restart.request,
                        halt_commits=lambda: halt_commits(app._consumer))
    every(app, settings.kafka.loss_check_s, name="broker-watch")(watch.check)
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Collection, Coroutine, Mapping
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError

from streams.broker_loss import BrokerState, LossDetector, Partition
from streams.errors import TopicError
from streams.kafka import ensure_topics
from streams.settings import KafkaSettings, Settings

log = logging.getLogger(__name__)

Probe = Callable[[Collection[Partition]], Awaitable[BrokerState]]


class KafkaProbe:
    """Reads the broker's topics and end offsets with a consumer outside any group.

    Args:
        kafka: where the broker is; the consumer starts at the first look and reconnects by
            itself after the broker went away.
    """

    def __init__(self, kafka: KafkaSettings) -> None:
        self._kafka = kafka
        self._consumer: AIOKafkaConsumer | None = None

    async def __call__(self, partitions: Collection[Partition]) -> BrokerState:
        if self._consumer is None:
            consumer = AIOKafkaConsumer(
                bootstrap_servers=self._kafka.bootstrap_servers,
                group_id=None,
                enable_auto_commit=False,
                request_timeout_ms=int(self._kafka.request_timeout_s * 1000),
            )
            try:
                await consumer.start()
            except BaseException:
                await consumer.stop()
                raise
            self._consumer = consumer
        topics = frozenset(await self._consumer.topics())
        asked = [TopicPartition(t, p) for t, p in partitions if t in topics]
        ends = await self._consumer.end_offsets(asked) if asked else {}
        return BrokerState(topics, {(tp.topic, tp.partition): int(o) for tp, o in ends.items()})

    async def close(self) -> None:
        """Stop the consumer."""
        if self._consumer is not None:
            await self._consumer.stop()
            self._consumer = None


def committed_offsets(consumer: Any, topics: Collection[str]) -> dict[Partition, int]:
    """The offsets Faust's ``consumer`` committed for its assigned partitions of ``topics``."""
    if consumer is None:
        return {}
    try:
        committed = consumer._committed_offset  # Faust keeps what it committed here
        return {
            (tp.topic, tp.partition): int(offset)
            for tp in consumer.assignment()
            if tp.topic in topics and (offset := committed.get(tp)) is not None
        }
    except Exception as exc:  # not started, stopping, mid-rebalance: nothing to compare
        log.debug("committed offsets unavailable: %s", exc)
        return {}


def halt_commits(consumer: Any) -> None:
    """Stop the commits of Faust's ``consumer`` (a worker's :class:`LedgerConsumer`)."""
    if consumer is not None:
        consumer.halt_commits()


class BrokerWatch:
    """One look at the broker per :meth:`check`; acts once on a confirmed loss.

    Args:
        settings: the pipeline settings (the broker, the topics to recreate).
        probe: reads the broker's state (:class:`KafkaProbe`; tests pass a fake).
        committed: the offsets this worker's group committed, by partition.
        restart: called with the reason and what to do once the worker stopped (create
            the topics again: not before, or the stopping worker's last commits would land
            on them).
        recreate: creates the pipeline's topics (default: :func:`ensure_topics`).
        halt_commits: stops this worker's commits at once: its offsets belong to the lost
            logs, and committed to the recreated topics they would make the new start skip
            records (see :meth:`agents.consumer.LedgerConsumer.halt_commits`).
    """

    def __init__(
        self,
        settings: Settings,
        probe: Probe,
        committed: Callable[[], Mapping[Partition, int]],
        restart: Callable[[str, Callable[[], object]], None],
        recreate: Callable[[], Coroutine[Any, Any, object]] | None = None,
        halt_commits: Callable[[], object] = lambda: None,
    ) -> None:
        self._settings = settings
        self._layout = settings.topics.pipeline(settings.kafka.partitions)
        self._detector = LossDetector(self._layout)
        self._probe = probe
        self._committed = committed
        self._restart = restart
        self._recreate = recreate or self._ensure_topics
        self._halt_commits = halt_commits
        self.lost: str | None = None

    async def check(self) -> None:
        """Look at the broker once; on a confirmed loss, log, recreate topics and restart."""
        if self.lost is not None:
            return
        committed = self._committed()
        try:
            state = await self._probe(committed.keys())
        except (KafkaError, OSError) as exc:  # the broker is away: nothing to compare yet
            log.debug("broker check skipped: %s", exc)
            return
        finding = self._detector.look(state, committed)
        if finding is None:
            return
        self.lost = finding
        self._halt_commits()
        log.error(
            "Kafka at %s came back empty (%s): acknowledged records the workers had not "
            "processed are gone with it. Stopping, creating the pipeline's topics again and "
            "starting over from the beginning of the new topics.",
            self._settings.kafka.broker,
            finding,
        )
        self._restart(finding, self.recreate_now)

    def recreate_now(self) -> None:
        """Create the pipeline's topics (blocking: the worker's event loop is gone)."""
        try:
            asyncio.run(self._recreate())
        except TopicError as exc:
            log.error("recreating the topics failed: %s", exc)

    async def _ensure_topics(self) -> list[str]:
        return await ensure_topics(
            self._settings.kafka, self._layout, self._settings.topics.compacted()
        )
