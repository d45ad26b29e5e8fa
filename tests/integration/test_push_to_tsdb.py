"""Push -> collector -> Kafka -> worker -> TSDB on real processes, through crashes and outages."""

from __future__ import annotations

import json
import os
import random
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from conftest import Pipeline, Tsdb, topic_size, wait_for

from streams.codecs.remotewrite import encode_write_request
from streams.stack import components
from streams.stack.processes import free_port

pytestmark = [pytest.mark.integration, pytest.mark.long(150)]

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
    for key, samples in tsdb.export('{__name__="itest"}').items():
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

    wait_for(lambda: tsdb.count('{__name__="itest"}') >= len(expected), 180, "all samples")
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
    wait_for(lambda: tsdb.count('{__name__="marker"}') == 1, 60, "the marker")
    assert tsdb.count('{__name__="refused"}') == 0


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


def test_points_the_store_would_drop_are_refused_at_the_door(
    pipeline: Pipeline, tsdb: Tsdb
) -> None:
    # VictoriaMetrics would answer 2xx to each of these and drop or garble them.
    pipeline.collector()
    pipeline.worker()
    ts = (int(time.time()) - 60) * 1000
    many_tags = ",".join(f"t{i}=x" for i in range(10_000))
    bodies = {
        "year 2100": f"doorcheck,host=a value=1 {ts}\ndoorcheck,host=b value=1 4102444800000",
        "before 1970": f"doorcheck,host=a value=1 {ts}\ndoorcheck,host=b value=1 -1000",
        "10,000 tags": f"doorcheck,host=a value=1 {ts}\ndoorcheck,{many_tags} value=1 {ts}",
    }
    for what, body in bodies.items():
        status, text = pipeline.push(body.encode())
        assert status == 400, what
        assert _message(text).startswith("1 point(s) refused: line 2: doorcheck{"), what
    series = [
        ({"__name__": "doorcheck_rw", "host": "a"}, [(1.0, ts)]),
        ({"__name__": "doorcheck_rw", "host": "b", "path": "C:\\tmp\\"}, [(1.0, ts)]),
    ]
    status, text = _post(
        f"{pipeline.collector_url}/api/v1/write",
        encode_write_request(series),
        {"Content-Encoding": "snappy", "Content-Type": "application/x-protobuf"},
    )
    assert status == 400 and 'doorcheck_rw{host="b",path="C:\\\\tmp\\\\"}' in _message(text)

    status, text = pipeline.push(f"marker,host=door value=1 {ts}".encode())
    assert status == 204, text
    wait_for(lambda: tsdb.count('{__name__="marker",host="door"}') == 1, 60, "the marker")
    assert tsdb.count('{__name__=~"doorcheck.*"}') == 0


def test_a_point_over_the_record_limit_is_413_naming_its_series(pipeline: Pipeline) -> None:
    pipeline.collector()
    ts = (int(time.time()) - 60) * 1000
    big = f'big,host=a text="{"x" * 1_200_000}" {ts}'.encode()  # over kafka.max_record_bytes
    status, text = pipeline.push(big)
    assert status == 413, text
    message = _message(text)
    assert 'big{host="a"} (fields text)' in message and "kafka.max_record_bytes" in message

    # With the collector's limit above the broker's: Apache Kafka refuses a record over its
    # message.max.bytes (1 MB by default), which is a 413 too, never a 503 to retry for ever;
    # Tansu has no such limit and takes it.
    port = free_port()
    pipeline.collector(
        "collect-big",
        env={
            "PULSELINE_COLLECTOR__LISTEN": f"127.0.0.1:{port}",
            "PULSELINE_KAFKA__MAX_RECORD_BYTES": "8000000",
        },
    )
    status, text = _post(
        f"http://127.0.0.1:{port}/api/v2/write?precision=ms",
        f'big,host=b text="{"x" * 2_000_000}" {ts}'.encode(),
    )
    assert status in (204, 413), text
    if status == 413:
        message = _message(text)
        assert "as too large" in message and 'the largest point is of big{host="b"}' in message


def _post(url: str, body: bytes, headers: dict[str, str] | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url, data=body, method="POST", headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=60) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def _message(text: str) -> str:
    """The message of a collector's JSON error."""
    message = json.loads(text)["message"]
    assert isinstance(message, str)
    return message
