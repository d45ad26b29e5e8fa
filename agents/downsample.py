"""The downsampling agent: ``metrics.raw`` to the 1-minute and 1-hour buckets.

It moves data only; :class:`~streams.downsample.processor.Downsampler` decides. Records are
acknowledged once a snapshot of the window state that covers them is in the
``downsample-state`` table (changelog-backed, co-partitioned with ``metrics.raw``), so a
restarted worker resumes from the snapshot and consumes the records after it again. A timer
closes the windows of partitions that went quiet. Samples refused as late go to
``metrics.late`` with the reason in the ``pulseline-reason`` header. Late sends and snapshot
saves that fail are retried (Kafka is away; the partition waits); any other failure of a
batch sends its records to ``metrics.raw.dlq`` (stage ``downsample``) before they are
acknowledged, so nothing is dropped silently.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict
from typing import Any

import faust
from faust.types import TP
from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from agents.dlq import DeadLetterSender
from agents.raw_sink import in_record
from agents.tables import TableKeyValue
from agents.takes import Takes
from agents.timers import every
from streams.downsample import DownsampleStats, Late, WindowEngine
from streams.downsample.counters import counter_help
from streams.downsample.processor import Downsampler
from streams.downsample.store import ChunkedStore
from streams.names import RENDERERS
from streams.offsets import OffsetLedger
from streams.records import Point, encode_batch
from streams.settings import Settings
from streams.sinks.batch import BatchSink, DeadLetter
from streams.sinks.influx import LineWriter, tier_writer
from streams.sinks.metrics import SinkCollector

log = logging.getLogger(__name__)

TABLE = "downsample-state"


class LateSender:
    """Sends refused samples to the late-data topic, records of at most ``points`` samples
    per reason, and awaits them (the stage retries a failed send)."""

    def __init__(self, app: faust.App, topic: str, points: int = 2000) -> None:
        self._topic = app.topic(topic)
        self._points = points

    async def __call__(self, partition: int, late: Sequence[Late]) -> None:
        by_reason: dict[str, list[Point]] = defaultdict(list)
        for item in late:
            by_reason[item.reason].append(item.point)
        futures = []
        for reason, points in by_reason.items():
            for i in range(0, len(points), self._points):
                futures.append(
                    await self._topic.send(
                        key=str(partition).encode(),
                        value=encode_batch(points[i : i + self._points]),
                        headers=[("pulseline-reason", reason.encode())],
                        force=True,
                    )
                )
        for future in futures:
            await future


class DownsampleCollector(Collector):
    """Exposes the engine's counters (summed over partitions) and the stage's own."""

    def __init__(self, stage: Downsampler[Any]) -> None:
        self._stage = stage

    def collect(self) -> Iterator[Metric]:
        stage, engine = self._stage, self._stage.engine
        total = DownsampleStats()
        series = held = 0
        for p in stage.partitions:
            for name, value in asdict(engine.stats(p)).items():
                setattr(total, name, getattr(total, name) + value)
            series += engine.series_count(p)
            held += stage.held(p)
        for name, value in asdict(total).items():
            family = CounterMetricFamily(f"pulseline_downsample_{name}", counter_help(name))
            family.add_metric([], value)
            yield family
        for name, value in asdict(stage.stats).items():
            if name == "records":
                continue  # the tier sinks' records counters say it
            family = CounterMetricFamily(f"pulseline_downsample_{name}", counter_help(name))
            family.add_metric([], value)
            yield family
        yield GaugeMetricFamily(
            "pulseline_downsample_series", "Series with window state on this worker.", value=series
        )
        yield GaugeMetricFamily(
            "pulseline_downsample_held_records",
            "Records consumed but not yet covered by a state snapshot (not acknowledged).",
            value=held,
        )


def register_downsampler(
    app: faust.App,
    settings: Settings,
    ledger: OffsetLedger,
    registry: CollectorRegistry,
    sinks_metrics: SinkCollector,
    writers: Mapping[str, LineWriter] | None = None,
) -> Any:
    """Register the downsampling agent, its timer and its table on ``app``.

    Args:
        app: the Faust app.
        settings: the pipeline settings; nothing is registered when downsampling is off or
            no tier has a window.
        ledger: the worker's offset ledger (the agent reads through it).
        registry: where the agent's counters are exposed.
        sinks_metrics: where the tier sinks' counters are exposed.
        writers: each windowed tier's writer by name (tests inject fakes); default an
            :func:`~streams.sinks.influx.tier_writer` per tier.

    Returns:
        The agent, or None.
    """
    tiers = [t for t in settings.tiers if t.window_s is not None]
    ds = settings.downsample
    if not ds.enabled or not tiers:
        return None
    influx = settings.influx
    if writers is None:
        writers = {t.name: tier_writer(settings, t) for t in tiers}
    sinks = {
        name: BatchSink(
            writer,
            batch_lines=influx.batch_lines,
            retry_min_s=influx.retry_min_s,
            retry_max_s=influx.retry_max_s,
        )
        for name, writer in writers.items()
    }
    partitions = settings.kafka.partitions
    table = app.Table(
        TABLE,
        partitions=partitions,
        key_type=bytes,
        value_type=bytes,  # bytes keys and values: the raw codec
        extra_topic_configs=settings.kafka.topic_configs,
        help="Downsampling window state snapshots, per metrics.raw partition.",
    )
    stage: Downsampler[Any] = Downsampler(
        WindowEngine(settings.tiers, ds),
        sinks,
        LateSender(app, settings.topics.late),
        ChunkedStore(TableKeyValue(table), chunk_bytes=ds.snapshot_chunk_bytes),
        snapshot_max_s=ds.snapshot_max_s,
        retry_min_s=influx.retry_min_s,
        retry_max_s=influx.retry_max_s,
        render=RENDERERS[influx.store],
    )
    dlq_topic = settings.topics.dlq(settings.topics.raw)
    dlq = DeadLetterSender(app, dlq_topic, stage="downsample")
    for name, sink in sinks.items():
        sinks_metrics.add(name, sink.stats)
    registry.register(DownsampleCollector(stage))
    raw = settings.topics.raw
    topic = app.topic(raw, partitions=partitions)
    takes = Takes(
        ledger,
        "downsample",
        raw,
        max_records=settings.worker.take_records,
        within_s=settings.worker.take_within_s,
    )
    # One batch or one tick at a time: the engine is not re-entrant, and a tick while a
    # batch waits on a sink would run event time ahead of the backlog.
    lock = asyncio.Lock()
    started = asyncio.Event()
    revoked: set[int] = set()

    def assigned() -> set[int]:
        return {tp.partition for tp in app.assignor.assigned_actives() if tp.topic == raw}

    @app.agent(topic, name="downsample", concurrency=1)
    async def downsample(stream: Any) -> None:
        started.set()
        async for events in takes.batches(stream):
            async with lock:
                # Events of a partition revoked meanwhile are consumed again after the
                # rebalance, by whichever worker owns it then.
                records = [(in_record(e), e) for e in events if e.message.partition not in revoked]
                try:
                    tokens = await stage.process(records)
                except Exception as exc:  # not Kafka being away: the stage retries that
                    log.exception(
                        "downsampling failed on %d records; sending them to %s",
                        len(records),
                        dlq_topic,
                    )
                    stage.stats.failed_records += len(records)
                    refs = {r.ref: r for r, _ in records}
                    reason = f"downsampling error: {exc!r}"
                    await dlq.send([DeadLetter(ref, reason) for ref in refs], refs)
                    tokens = [e for _, e in records]
                takes.ack(tokens)

    @every(app, ds.tick_s, name="downsample-tick")
    async def tick() -> None:
        if not started.is_set() or app.rebalancing or app.in_recovery:
            return
        async with lock:  # after the batch in hand: a turn is late, never lost
            mine = assigned()
            try:
                stage.assign(mine)
                tokens = await stage.tick(lambda p: p in mine and caught_up(p))
            except Exception:
                log.exception("downsampling tick failed; retrying at the next tick")
                return
            takes.ack(tokens)

    def caught_up(partition: int) -> bool:
        offset = stage.engine.offset(partition)
        highwater = app.consumer.highwater(TP(raw, partition))
        return highwater is None or offset is None or offset + 1 >= highwater

    @app.on_partitions_revoked.connect  # type: ignore[arg-type]
    async def on_revoked(app: faust.App, tps: set[TP], **kwargs: Any) -> None:
        async with lock:
            lost = {tp.partition for tp in tps if tp.topic == raw}
            revoked.update(lost)
            stage.revoke(lost)

    @app.on_partitions_assigned.connect  # type: ignore[arg-type]
    async def on_assigned(app: faust.App, tps: set[TP], **kwargs: Any) -> None:
        revoked.difference_update(tp.partition for tp in tps if tp.topic == raw)

    @app.on_before_shutdown.connect  # type: ignore[arg-type]
    async def close_writers(app: faust.App, **kwargs: Any) -> None:
        for writer in writers.values():
            await writer.close()

    return downsample
