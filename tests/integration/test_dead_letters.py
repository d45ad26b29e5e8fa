"""Records the worker cannot write go to the DLQ with the reason; the rest is written."""

from __future__ import annotations

import asyncio
import time

import pytest
from aiokafka import AIOKafkaProducer
from conftest import Pipeline, Tsdb, read_topic, wait_for

from streams.records import Point, decode_batch, encode_batch

pytestmark = pytest.mark.integration


async def _produce(broker: str, topic: str, records: list[tuple[bytes, bytes]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=broker, acks="all")
    await producer.start()
    try:
        for key, value in records:
            await producer.send_and_wait(topic, value, key=key)
    finally:
        await producer.stop()


def test_undecodable_record_goes_to_the_dlq_with_reason_and_provenance(
    pipeline: Pipeline, tsdb: Tsdb, broker: str
) -> None:
    ts = (int(time.time()) - 120) * 1000
    good = encode_batch([Point("dlqcheck", {"host": "a"}, {"value": 42.0}, ts)])
    asyncio.run(_produce(broker, pipeline.raw_topic, [(b"a", b"not a batch"), (b"a", good)]))
    pipeline.worker()
    wait_for(lambda: tsdb.count('{__name__="dlqcheck"}') == 1, 90, "the good record")
    letters = read_topic(broker, pipeline.raw_topic + ".dlq", expect=1)
    assert len(letters) == 1
    value, headers = letters[0]
    assert value == b"not a batch"
    assert headers["pulseline-reason"].startswith(b"undecodable record: value is not JSON")
    assert headers["pulseline-stage"] == b"raw-sink"
    assert headers["pulseline-source"].startswith(pipeline.raw_topic.encode() + b"[")


def test_a_point_that_cannot_be_written_goes_to_the_dlq_alone(
    pipeline: Pipeline, tsdb: Tsdb, broker: str
) -> None:
    ts = (int(time.time()) - 120) * 1000
    points = [Point("dlqmixed", {"host": f"h{i}"}, {"value": float(i)}, ts) for i in range(50)]
    points[17] = Point("dlqmixed", {"host": "line\nbreak"}, {"value": -1.0}, ts)
    asyncio.run(_produce(broker, pipeline.raw_topic, [(b"mixed", encode_batch(points))]))
    pipeline.worker()
    wait_for(lambda: tsdb.count('{__name__="dlqmixed"}') == 49, 90, "the 49 good points")
    letters = read_topic(broker, pipeline.raw_topic + ".dlq", expect=1)
    assert len(letters) == 1
    value, headers = letters[0]
    assert decode_batch(value) == [points[17]]
    assert headers["pulseline-reason"].startswith(b"unwritable point: dlqmixed")
