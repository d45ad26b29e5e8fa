"""The raw-sink agent: ``metrics.raw`` to the raw bucket, dead letters to ``metrics.raw.dlq``.

Records are taken many at a time (:class:`~agents.takes.Takes`) and acknowledged only after
the database acknowledged their points (or they were sent to the DLQ), so an offset is never
committed before its data is stored. Nothing escapes the agent body: an unexpected error
sends the records in hand to the DLQ with the error as the reason.
"""

from __future__ import annotations

import logging
from typing import Any

import faust

from agents.dlq import DeadLetterSender
from agents.takes import Takes
from streams.names import RENDERERS
from streams.offsets import OffsetLedger
from streams.settings import Settings
from streams.sinks.batch import BatchSink, DeadLetter, RecordRef
from streams.sinks.influx import LineWriter, tier_writer
from streams.sinks.metrics import SinkCollector
from streams.sinks.raw import InRecord, RawSink

log = logging.getLogger(__name__)


def register_raw_sink(
    app: faust.App,
    settings: Settings,
    ledger: OffsetLedger,
    sinks: SinkCollector,
    writer: LineWriter | None = None,
) -> Any:
    """Register the raw-sink agent on ``app`` and its counters on ``sinks``.

    Args:
        app: the Faust app.
        settings: the pipeline settings.
        ledger: the worker's offset ledger (the agent reads through it).
        sinks: where the sink's counters are exposed.
        writer: the raw bucket's writer; default an :class:`InfluxWriter` from ``settings``.

    Returns:
        The agent.
    """
    tier = settings.tiers[0]
    influx = settings.influx
    if writer is None:
        writer = tier_writer(settings, tier)
    sink = RawSink(
        BatchSink(
            writer,
            batch_lines=influx.batch_lines,
            retry_min_s=influx.retry_min_s,
            retry_max_s=influx.retry_max_s,
        ),
        RENDERERS[influx.store],
    )
    sinks.add(tier.name, sink.sink.stats, sink.stats)
    topic = app.topic(settings.topics.raw, partitions=settings.kafka.partitions)
    dlq = DeadLetterSender(app, settings.topics.dlq(settings.topics.raw), stage="raw-sink")
    takes = Takes(
        ledger,
        "raw-sink",
        settings.topics.raw,
        max_records=settings.worker.take_records,
        within_s=settings.worker.take_within_s,
    )

    @app.agent(topic, name="raw-sink", concurrency=1)
    async def raw_sink(stream: Any) -> None:
        async for events in takes.batches(stream):
            records = [in_record(event) for event in events]
            try:
                dead = await sink.process(records)
            except Exception as exc:  # the error policy: never lose, never crash-loop
                log.exception(
                    "raw sink failed on %d records; sending them to the DLQ", len(records)
                )
                dead = [DeadLetter(r.ref, f"processing error: {exc!r}") for r in records]
            await dlq.send(dead, {r.ref: r for r in records})
            takes.ack(events)

    @app.on_before_shutdown.connect  # type: ignore[arg-type]
    async def close_writer(app: faust.App, **kwargs: Any) -> None:
        await writer.close()

    return raw_sink


def in_record(event: Any) -> InRecord:
    """The Kafka record of a Faust event."""
    message = event.message
    return InRecord(
        RecordRef(message.topic, message.partition, message.offset), message.key, message.value
    )
