"""Reading a dead-letter topic and sending its records back: the Kafka side of ``pulseline dlq``.

:func:`read_letters` reads every partition from the first record at or after a time up to
the end offsets it saw when it started, so records dead-lettered again while a replay runs
are not read again in the same run. :class:`Replayer` produces records with ``acks=all``
(and Kafka's idempotence when the settings ask for it) and returns once all are acknowledged.

Example:
    >>> async for letter in read_letters(settings.kafka, "metrics.raw.dlq"):  # doctest: +SKIP
    ...     print(letter.reason)
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import KafkaError

from streams.dlq.letters import REPLAY_HEADER, Letter
from streams.errors import PulselineError
from streams.settings import KafkaSettings


class DeadLetterError(PulselineError):
    """A dead-letter topic could not be read, or a replayed record was not acknowledged."""


async def read_letters(
    kafka: KafkaSettings, topic: str, since_ms: int | None = None
) -> AsyncIterator[Letter]:
    """The records of ``topic`` dead-lettered at or after ``since_ms`` (None: all), partition
    by partition in offset order, up to the end offsets at the start.

    Raises:
        DeadLetterError: Kafka cannot be reached or ``topic`` does not exist.
    """
    consumer = AIOKafkaConsumer(
        bootstrap_servers=kafka.bootstrap_servers,
        enable_auto_commit=False,
        request_timeout_ms=int(kafka.request_timeout_s * 1000),
    )
    try:
        await consumer.start()
    except (KafkaError, OSError) as exc:
        await consumer.stop()
        raise DeadLetterError(f"cannot reach Kafka at {kafka.broker}: {exc}") from None
    try:
        await consumer._client.force_metadata_update()
        partitions = consumer.partitions_for_topic(topic)
        if not partitions:
            raise DeadLetterError(f"topic {topic!r} does not exist at {kafka.broker}")
        tps = [TopicPartition(topic, p) for p in sorted(partitions)]
        consumer.assign(tps)
        ends = await consumer.end_offsets(tps)
        starts = await _starts(consumer, tps, since_ms)
        for tp in tps:
            start = starts[tp]
            if start is None or start >= ends[tp]:
                continue
            consumer.seek(tp, start)
            while await consumer.position(tp) < ends[tp]:
                batch = await consumer.getmany(tp, timeout_ms=1000)
                for m in batch.get(tp, []):
                    if m.offset >= ends[tp]:
                        break
                    yield Letter(
                        m.partition, m.offset, m.timestamp, m.key, m.value, tuple(m.headers)
                    )
    except KafkaError as exc:
        raise DeadLetterError(f"reading {topic!r}: {exc}") from None
    finally:
        await consumer.stop()


async def _starts(
    consumer: AIOKafkaConsumer, tps: Sequence[TopicPartition], since_ms: int | None
) -> dict[TopicPartition, int | None]:
    """Where to start in each partition: its beginning, or the first offset at ``since_ms``."""
    if since_ms is None:
        beginnings = await consumer.beginning_offsets(list(tps))
        return {tp: beginnings[tp] for tp in tps}
    found = await consumer.offsets_for_times({tp: since_ms for tp in tps})
    return {tp: None if found.get(tp) is None else found[tp].offset for tp in tps}


class Replayer:
    """Sends dead letters back to their source topic; every send is awaited at :meth:`flush`.

    Args:
        kafka: the broker settings.
        topic: the topic to send to (the dead-letter topic's source).
        dlq_topic: the dead-letter topic, named in each replayed record's header.
    """

    def __init__(self, kafka: KafkaSettings, topic: str, dlq_topic: str) -> None:
        self._kafka = kafka
        self._topic = topic
        self._dlq = dlq_topic
        self._producer = AIOKafkaProducer(
            bootstrap_servers=kafka.bootstrap_servers,
            acks="all",
            enable_idempotence=kafka.enable_idempotence,
            max_request_size=kafka.max_record_bytes + 64 * 1024,
            request_timeout_ms=int(kafka.request_timeout_s * 1000),
        )
        self._pending: list[object] = []

    async def __aenter__(self) -> Replayer:
        try:
            await self._producer.start()
        except (KafkaError, OSError) as exc:
            await self._producer.stop()
            raise DeadLetterError(f"cannot reach Kafka at {self._kafka.broker}: {exc}") from None
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._producer.stop()

    async def send(self, letter: Letter) -> None:
        """Queue ``letter``'s key and value for the source topic, with a header naming it."""
        origin = f"{self._dlq}[{letter.partition}]@{letter.offset}".encode()
        try:
            self._pending.append(
                await self._producer.send(
                    self._topic, letter.value, key=letter.key, headers=[(REPLAY_HEADER, origin)]
                )
            )
        except KafkaError as exc:
            raise DeadLetterError(
                f"replaying {origin.decode()} to {self._topic!r}: {exc}"
            ) from None

    async def flush(self) -> None:
        """Wait until Kafka acknowledged every record sent.

        Raises:
            DeadLetterError: one was not acknowledged (sending them all again is harmless).
        """
        pending, self._pending = self._pending, []
        for future in pending:
            try:
                await future  # type: ignore[misc]
            except KafkaError as exc:
                raise DeadLetterError(
                    f"Kafka did not acknowledge a replayed record for {self._topic!r}: {exc}"
                ) from None
