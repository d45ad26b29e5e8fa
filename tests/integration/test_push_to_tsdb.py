"""Push -> collector -> Kafka -> worker -> TSDB on real processes, through crashes and outages."""

from __future__ import annotations

import os
import random
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from conftest import Pipeline, Tsdb, topic_size, wait_for

from streams.stack import components
from streams.stack.processes import free_port

pytestmark = pytest.mark.integration

SERIES = 1_000
STEPS = 100  # 1,000 series x 100 timestamps = 100,000 samples


def _workload(seed: int) -> tuple[list[bytes], dict[tuple[str, int], float]]:
    """One request body per timestamp, and every expected sample by (series, ts_ms)."""
    rng = random.Random(seed)
    start = (int(time.time()) - 3600) * 1000
    bodies, expected = [], {}
    for step in range(STEPS):
        ts = start + step * 10_000
        lines = []
        for i in range(SERIES):
            # VictoriaMetrics keeps 12 significant digits; stay inside so "exact" is exact.
            value = round(rng.uniform(-1e6, 1e6), 4)
            lines.append(f"itest,host=h{i % 50:02d},series=s{i:04d} value={value!r} {ts}")
            expected[(f"s{i:04d}", ts)] = value
        bodies.append("\n".join(lines).encode())
    return bodies, expected


def _stored(tsdb: Tsdb) -> dict[tuple[str, int], float]:
    out = {}
    for key, samples in tsdb.export('{__name__="itest_value"}').items():
        series = key.split('"series": "')[1].split('"')[0]
        for ts, value in samples.items():
            out[(series, ts)] = value
    return out


def test_every_sample_lands_through_worker_kill_and_tsdb_outage(
    pipeline: Pipeline, tsdb: Tsdb, broker: str
) -> None:
    bodies, expected = _workload(seed=7)
    pipeline.collector()
    worker = pipeline.worker()
    outage_started = 0.0
    for step, body in enumerate(bodies):
        if step == 30:
            worker.kill()  # SIGKILL mid-stream: its uncommitted records must be replayed
        if step == 40:
            worker = pipeline.worker()
        if step == 60:
            tsdb.process.stop()  # the TSDB goes away; Kafka keeps what arrives meanwhile
            outage_started = time.monotonic()
        status, text = pipeline.push(body)
        assert status == 204, text
    time.sleep(max(0.0, outage_started + 20 - time.monotonic()))
    tsdb.process.start().wait_ready(30)

    wait_for(lambda: tsdb.count('{__name__="itest_value"}') >= len(expected), 180, "all samples")
    stored = _stored(tsdb)
    missing = [k for k in expected if k not in stored]
    wrong = [
        (k, expected[k], stored[k]) for k in expected if k in stored and stored[k] != expected[k]
    ]
    assert not missing, f"{len(missing)} samples missing, e.g. {missing[:5]}"
    assert not wrong, f"{len(wrong)} samples differ, e.g. {wrong[:5]}"
    assert len(stored) == len(expected)
    assert topic_size(broker, pipeline.raw_topic + ".dlq") == 0


def test_malformed_body_is_refused_whole_and_names_the_line(pipeline: Pipeline, tsdb: Tsdb) -> None:
    pipeline.collector()
    pipeline.worker()
    ts = (int(time.time()) - 60) * 1000
    body = (
        f"refused,host=a value=1 {ts}\n"
        f"refused,host=b value=2 {ts}\n"
        f"refused,host=c value=oops {ts}\n"
    ).encode()
    status, text = pipeline.push(body)
    assert status == 400
    assert "line 3" in text and "value" in text

    status, text = pipeline.push(f"marker,host=a value=1 {ts}".encode())
    assert status == 204, text
    wait_for(lambda: tsdb.count('{__name__="marker_value"}') == 1, 60, "the marker")
    assert tsdb.count('{__name__="refused_value"}') == 0


def test_collector_answers_503_without_kafka(tmp_path: Path) -> None:
    listen = free_port()
    env = {
        **os.environ,
        "PULSELINE_KAFKA__BROKER": f"kafka://127.0.0.1:{free_port()}",
        "PULSELINE_KAFKA__REQUEST_TIMEOUT_S": "2",
        "PULSELINE_COLLECTOR__LISTEN": f"127.0.0.1:{listen}",
    }
    base = f"http://127.0.0.1:{listen}"
    process = components.pulseline("collect", tmp_path, env, ready_url=f"{base}/ping")
    process.start().wait_ready(30)
    try:
        request = urllib.request.Request(f"{base}/api/v2/write", data=b"m value=1", method="POST")
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(request, timeout=30)
        assert err.value.code == 503
        assert err.value.headers["Retry-After"] == "1"
        assert "Kafka" in err.value.read().decode()
    finally:
        process.stop()
