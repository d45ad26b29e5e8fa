"""Poison next to a good stream: what cannot be stored is refused at the door or
dead-lettered, and the good stream is complete.

At the collector: a body with a line that is not line protocol (400), a body that claims
gzip and is not (400), a point larger than a Kafka record may be (413). Straight into the
raw topic, as a broken producer would write them: a value that is not JSON, a batch cut in
the middle, and a good host's record carrying one point the store cannot take (a label value
ending in a backslash): the first two are dead letters as they came, the third's bad point
is one dead letter and its good points are stored.
"""

from __future__ import annotations

import time

import pytest
from faultkit import FaultRun, load_for
from sequences import produce
from servers import Pipeline, Tsdb

from streams.records import Point, decode_batch, encode_batch

pytestmark = pytest.mark.integration


def test_poison_is_refused_or_dead_lettered_and_the_good_stream_is_complete(
    full: bool,
    pipeline: Pipeline,
    tsdb: Tsdb,
    minute_store: Tsdb,
    broker: str,
    request: pytest.FixtureRequest,
) -> None:
    load = load_for(request, hosts=300 if full else 40, minutes=10 if full else 4)
    run = FaultRun("poison inputs", pipeline, tsdb, minute_store, broker, load, full)
    pipeline.collector(env={"PULSELINE_KAFKA__MAX_RECORD_BYTES": "16384"})
    pipeline.worker()
    half = load.minutes // 2
    # Minute 0 of host 0 carries a point no store can take; the rest of the first half as is.
    [(key, value), *rest] = list(load.records(range(1)))
    mixed = [*decode_batch(value), Point("poison", {"host": "bad\\"}, {"value": 1.0}, load.ts(0))]
    run.acknowledged += 60 * produce(broker, pipeline.raw_topic, [(key, encode_batch(mixed))])
    run.acknowledged += 60 * produce(broker, pipeline.raw_topic, rest)
    run.produce(range(1, half))

    now = time.time_ns() // 1_000_000
    bad_line = f"poison,host=a value=1 {now}\nthis is not line protocol\n".encode()
    assert pipeline.push(bad_line)[0] == 400
    not_gzip = pipeline.push(b"poison,host=a value=1", headers={"Content-Encoding": "gzip"})
    assert not_gzip[0] == 400
    fields = ",".join(f"f{i}=1" for i in range(3000))
    assert pipeline.push(f"poison,host=big {fields} {now}".encode())[0] == 413
    whole = encode_batch([Point("poison", {"host": "cut"}, {"value": 1.0}, now)])
    broken = [(b"garbage", b"\x00\x01 not json"), (b"cut", whole[: len(whole) // 2])]
    produce(broker, pipeline.raw_topic, broken)
    since, before = time.monotonic(), run.written()

    run.produce(range(half, load.minutes))
    run.settle(since, before).assert_clean(dlq=3)
    assert tsdb.count('{__name__=~"poison.*"}') == 0
