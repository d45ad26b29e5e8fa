"""Samples from a wrong clock next to a good stream: the other hosts' windows stay exact.

Halfway through the good stream, one host sends a sample 9 minutes ahead of the clock
(inside ``downsample.max_future_s``, so it passes the door and the worker) and another one
2 hours ahead straight into Kafka (past the door's bound, as a producer other than the
collector could); through the collector, a sample a day ahead is refused (400). One source
ahead must not move its partition's event time for the others: every good sample is stored
and every 1-minute row of the good hosts is exact.
"""

from __future__ import annotations

import time

import pytest
from faultkit import FaultRun, load_for
from sequences import produce
from servers import Pipeline, Tsdb

from streams.records import Point, encode_batch

pytestmark = pytest.mark.integration


def test_future_samples_cost_other_hosts_nothing(
    full: bool,
    pipeline: Pipeline,
    tsdb: Tsdb,
    minute_store: Tsdb,
    broker: str,
    request: pytest.FixtureRequest,
) -> None:
    load = load_for(request, hosts=300 if full else 40, minutes=10 if full else 4)
    run = FaultRun("far- and near-future samples", pipeline, tsdb, minute_store, broker, load, full)
    pipeline.collector()
    pipeline.worker()
    half = load.minutes // 2
    run.produce(range(half))

    now = time.time_ns() // 1_000_000
    assert pipeline.push(f"ahead,host=day value=1 {now + 86_400_000}".encode())[0] == 400
    skewed = [
        (b"near", encode_batch([Point("ahead", {"host": "near"}, {"value": 1.0}, now + 540_000)])),
        (b"far", encode_batch([Point("ahead", {"host": "far"}, {"value": 1.0}, now + 7_200_000)])),
    ]
    produce(broker, pipeline.raw_topic, skewed)
    since, before = time.monotonic(), run.written()

    run.produce(range(half, load.minutes))
    run.settle(since, before).assert_clean()
