"""Kafka clients shared by the processes: an acknowledged producer and the topic admin.

Example:
    >>> producer = RecordProducer(settings.kafka)  # doctest: +SKIP
    >>> await producer.send_all("metrics.raw", [(b"k", b"v")])  # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable, Collection, Mapping, Sequence

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, MessageSizeTooLargeError, RecordListTooLargeError
from aiokafka.partitioner import murmur2

from streams.errors import PulselineError, TopicError
from streams.settings import KafkaSettings

log = logging.getLogger(__name__)


class ProduceError(PulselineError):
    """Kafka did not acknowledge a record (the broker is down, slow or refused it)."""


class RecordTooLargeError(ProduceError):
    """A record is larger than the producer's or the broker's message size limit: sending it
    again cannot succeed.

    Attributes:
        size: the largest record value of the send, in bytes.
    """

    def __init__(self, message: str, *, size: int) -> None:
        super().__init__(message)
        self.size = size


@functools.lru_cache(maxsize=100_000)
def key_hash(key: str) -> int:
    """Kafka's partitioning hash of a record key (murmur2, made positive)."""
    return int(murmur2(key.encode())) & 0x7FFFFFFF


class RecordProducer:
    """Produces records with ``acks=all`` and returns only once all are acknowledged.

    The producer connects lazily and reconnects by itself: while the broker is away,
    :meth:`send_all` raises :class:`ProduceError` and the caller answers 503.
    """

    def __init__(self, settings: KafkaSettings) -> None:
        self._settings = settings
        self._producer: AIOKafkaProducer | None = None
        self._lock = asyncio.Lock()

    @property
    def ready(self) -> bool:
        """Whether the producer has connected at least once."""
        return self._producer is not None

    async def start(self) -> None:
        """Connect; raises :class:`ProduceError` when the broker cannot be reached."""
        async with self._lock:
            if self._producer is not None:
                return
            s = self._settings
            producer = AIOKafkaProducer(
                bootstrap_servers=s.bootstrap_servers,
                acks="all",
                enable_idempotence=s.enable_idempotence,
                compression_type=None if s.compression == "none" else s.compression,
                linger_ms=2,
                max_batch_size=1024 * 1024,
                max_request_size=s.max_record_bytes + 64 * 1024,
                request_timeout_ms=int(s.request_timeout_s * 1000),
            )
            try:
                await producer.start()
            except (KafkaError, OSError) as exc:
                await producer.stop()
                raise ProduceError(f"cannot reach Kafka at {s.broker}: {exc}") from None
            self._producer = producer

    async def send_all(self, topic: str, records: Sequence[tuple[bytes, bytes]]) -> None:
        """Send every ``(key, value)`` and wait until Kafka acknowledged all of them.

        Raises:
            RecordTooLargeError: the producer or the broker refused a record as too large.
            ProduceError: at least one record was not acknowledged; some others may have
                been (a retry of the whole request then writes them again, harmlessly).
        """
        if self._producer is None:
            await self.start()
        assert self._producer is not None
        try:
            futures = [
                await self._producer.send(topic, value=value, key=key) for key, value in records
            ]
            await asyncio.gather(*futures)
        except (MessageSizeTooLargeError, RecordListTooLargeError) as exc:
            size = max((len(value) for _, value in records), default=0)
            raise RecordTooLargeError(
                f"Kafka refused a record of {size} bytes for {topic!r} as too large ({exc}); "
                "kafka.max_record_bytes must stay below the broker's message.max.bytes",
                size=size,
            ) from None
        except KafkaError as exc:
            raise ProduceError(f"Kafka did not acknowledge a record for {topic!r}: {exc}") from None

    async def partition_of(self, topic: str) -> Callable[[str], int]:
        """Which partition of ``topic`` a record with a given key goes to, as the producer's
        partitioner (Kafka's: murmur2 of the key) places it.

        Raises:
            ProduceError: the broker cannot be reached.
        """
        if self._producer is None:
            await self.start()
        assert self._producer is not None
        try:
            partitions = sorted(await self._producer.partitions_for(topic))
        except KafkaError as exc:
            raise ProduceError(f"no partitions of {topic!r}: {exc}") from None
        return lambda key: partitions[key_hash(key) % len(partitions)]

    async def stop(self) -> None:
        """Flush and disconnect."""
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None


async def ensure_topics(
    settings: KafkaSettings, layout: Mapping[str, int], compacted: Collection[str] = ()
) -> list[str]:
    """Create the topics of ``layout`` (name to partition count) that are missing.

    Returns the names created, each with :attr:`KafkaSettings.topic_configs` (its
    ``min.insync.replicas``); those named in ``compacted`` keep only the newest record of
    each key (``cleanup.policy=compact``). Existing topics are left alone when their
    partition count matches.

    Raises:
        TopicError: an existing topic has another partition count, or creation failed.
    """
    admin = AIOKafkaAdminClient(
        bootstrap_servers=settings.bootstrap_servers,
        request_timeout_ms=int(settings.request_timeout_s * 1000),
    )
    try:
        await admin.start()
    except (KafkaError, OSError) as exc:
        raise TopicError(f"cannot reach Kafka at {settings.broker}: {exc}") from None
    try:
        existing = set(await admin.list_topics())
        missing = [n for n in layout if n not in existing]
        if missing:
            response = await admin.create_topics(
                [
                    NewTopic(
                        n,
                        layout[n],
                        settings.replication_factor,
                        topic_configs={
                            **settings.topic_configs,
                            **({"cleanup.policy": "compact"} if n in compacted else {}),
                        },
                    )
                    for n in missing
                ]
            )
            for name, code, message in response.topic_errors:
                if code not in (0, 36):  # 36: created meanwhile by someone else
                    raise TopicError(f"cannot create topic {name!r}: error {code} {message}")
        described = await admin.describe_topics(list(layout))
        for _ in range(50):  # a topic just created may be described before its partitions
            if all(d["partitions"] for d in described):
                break
            await asyncio.sleep(0.2)
            described = await admin.describe_topics(list(layout))
        wrong = [
            f"{d['topic']!r} has {len(d['partitions'])}, not {layout[d['topic']]}"
            for d in described
            if len(d["partitions"]) != layout[d["topic"]]
        ]
        if wrong:
            raise TopicError(
                "partition count differs from the configuration: "
                + ", ".join(wrong)
                + " (partitions of a table-backed topic cannot change; use new topic names"
                " or set kafka.partitions to match)"
            )
        return missing
    finally:
        await admin.close()
