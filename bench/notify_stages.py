"""Where a breach's time went on pulseline's side, from the Kafka timestamps of its records.

A breach is pushed at a wall-clock instant; the collector produces its ``metrics.raw`` record,
the rule agents its firing event on ``alerts.events`` and, routing its alert themselves, its
record on ``alerts.groups`` (at once: the two records' timestamps are about the same), and
the alert manager decides and sends the notification, which the webhook capture stamps on
arrival. The differences between these instants are the time each stage
took (:data:`STAGES`), as :func:`stage_times` reads them back after the run.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from notify_scenario import cut
from private_stack import Stack

from streams.alertmanager.engine.intake import Grouped

STAGES = ("collector", "rules", "routing", "dispatch+send")


async def stage_times(
    pipeline: Stack, pushed: dict[str, float], arrived: dict[str, float]
) -> list[tuple[float, ...]]:
    """Each breach's time (ms) in each of :data:`STAGES`, from the wall clock of its push,
    the Kafka timestamps of its ``metrics.raw`` record, of its firing event on
    ``alerts.events`` and of its record on ``alerts.groups``, and its notification's arrival."""
    topics, partitions = pipeline.settings.topics, pipeline.settings.kafka.partitions
    events: dict[str, tuple[int, dict[str, Any]]] = {}
    grouped: dict[str, int] = {}
    raw: dict[str, int] = {}
    consumer = AIOKafkaConsumer(bootstrap_servers=pipeline.broker, enable_auto_commit=False)
    await consumer.start()
    try:
        async for message in whole(consumer, topics.alerts, partitions):
            event = orjson.loads(message.value or b"")
            host = event["labels"].get("host")
            if event["rule"] == "Breach" and event["state"] == "firing" and host in pushed:
                events.setdefault(host, (message.timestamp, event["sources"][0]))
        async for message in whole(consumer, topics.alert_groups, partitions):
            for alert in Grouped.decode(message.value or b"").alerts:
                host = alert.label_map().get("host")
                if alert.name == "Breach" and alert.ends_at is None and host in pushed:
                    grouped.setdefault(host, message.timestamp)
        for host, (_, source) in events.items():
            tp = TopicPartition(source["topic"], source["partition"])
            consumer.assign([tp])
            consumer.seek(tp, source["offset"])
            raw[host] = (await consumer.getone()).timestamp
    finally:
        await consumer.stop()
    return [
        (
            raw[h] - pushed[h],
            events[h][0] - raw[h],
            grouped[h] - events[h][0],
            arrived[h] - grouped[h],
        )
        for h in sorted(pushed)
    ]


async def whole(
    consumer: AIOKafkaConsumer, topic: str, partitions: int
) -> AsyncIterator[ConsumerRecord[Any, Any]]:
    """Every record of ``topic``'s partitions, from the beginning to the end as it is now."""
    tps = [TopicPartition(topic, p) for p in range(partitions)]
    consumer.assign(tps)
    await consumer.seek_to_beginning(*tps)
    ends = await consumer.end_offsets(tps)
    for tp in tps:
        while await consumer.position(tp) < ends[tp]:
            for message in (await consumer.getmany(tp, timeout_ms=1000)).get(tp, []):
                if message.offset < ends[tp]:
                    yield message


def stages(splits: list[tuple[float, ...]]) -> str:
    """p50 and p99 of the time each stage took, and where the slowest breach spent it."""
    by_stage = ", ".join(
        f"{name} p50 {cut(list(values), 50):.1f} p99 {cut(list(values), 99):.1f}"
        for name, values in zip(STAGES, zip(*splits, strict=True), strict=True)
    )
    slowest = max(splits, key=sum)
    where = ", ".join(f"{n} {v:.1f}" for n, v in zip(STAGES, slowest, strict=True))
    return f"{by_stage} ms; the slowest: {where} ms"
