from __future__ import annotations

import gzip
from collections.abc import AsyncIterator, Callable, Sequence

import pytest
from aiohttp.test_utils import TestClient, TestServer

from streams.codecs.remotewrite import encode_write_request
from streams.collector.metrics import CollectorMetrics
from streams.collector.push import create_push_app, encode_records
from streams.kafka import ProduceError
from streams.records import Point, decode_batch, decode_record
from streams.settings import Settings

SNAPPY = {"Content-Encoding": "snappy", "Content-Type": "application/x-protobuf"}


class FakeProducer:
    """Collects what would be produced; fails when told to."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes, bytes]] = []
        self.fail = False
        self.ready = True
        self.partitions: dict[str, int] = {}  # keys that share a partition; others: their own

    async def partition_of(self, topic: str) -> Callable[[str], object]:
        return lambda key: self.partitions.get(key, key)

    async def send_all(self, topic: str, records: Sequence[tuple[bytes, bytes]]) -> None:
        if self.fail:
            raise ProduceError("Kafka did not acknowledge a record for 'metrics.raw'")
        self.sent.extend((topic, k, v) for k, v in records)

    def points(self) -> list[tuple[bytes, Point]]:
        return [(k, p) for _, k, v in self.sent for p in decode_batch(v)]


@pytest.fixture
def producer() -> FakeProducer:
    return FakeProducer()


@pytest.fixture
async def client(
    producer: FakeProducer, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[TestClient]:
    monkeypatch.setenv("PULSELINE_COLLECTOR__MAX_BODY_BYTES", "4096")
    app = create_push_app(
        Settings.load(None), producer, CollectorMetrics(), clock=lambda: 1700000000.5
    )  # type: ignore[arg-type]
    async with TestClient(TestServer(app)) as c:
        yield c


async def test_v2_write_produces_keyed_records_then_answers_204(
    client: TestClient, producer: FakeProducer
) -> None:
    body = (
        "cpu,host=a,cpu=0 user=1.5,idle=98i 1700000000000000000\nmem,host=b used=3u\nload value=1"
    )
    response = await client.post("/api/v2/write?org=o&bucket=b", data=body)
    assert response.status == 204
    got = producer.points()
    assert [k for k, _ in got] == [b"a", b"b", b"load"]
    assert got[0][1] == Point(
        "cpu", {"cpu": "0", "host": "a"}, {"user": 1.5, "idle": 98}, 1700000000000
    )
    assert got[1][1].ts_ms == 1700000000500  # no timestamp: the time it arrived
    assert {t for t, _, _ in producer.sent} == {"metrics.raw"}


async def test_keys_of_one_partition_share_a_record(
    client: TestClient, producer: FakeProducer
) -> None:
    producer.partitions = {"a": 0, "c": 0, "b": 1}
    body = "cpu,host=a u=1 1\ncpu,host=b u=2 1\ncpu,host=c u=3 1\nmem,host=a u=4 1"
    response = await client.post("/api/v2/write?precision=ms", data=body)
    assert response.status == 204
    records = [
        (k, [(p.measurement, p.tags["host"]) for p in decode_batch(v)]) for _, k, v in producer.sent
    ]
    assert records == [
        (b"a", [("cpu", "a"), ("cpu", "c"), ("mem", "a")]),
        (b"b", [("cpu", "b")]),
    ]


@pytest.mark.parametrize(
    ("path", "ts", "expected_ms"),
    [
        ("/api/v2/write?precision=s", "1700000000", 1700000000000),
        ("/api/v2/write?precision=ms", "1700000000123", 1700000000123),
        ("/api/v2/write?precision=us", "1700000000123456", 1700000000123),
        ("/write?precision=n", "1700000000123456789", 1700000000123),
        ("/write?precision=h", "472222", 472222 * 3600 * 1000),
    ],
)
async def test_precisions(
    client: TestClient, producer: FakeProducer, path: str, ts: str, expected_ms: int
) -> None:
    response = await client.post(path, data=f"m v=1 {ts}")
    assert response.status == 204
    assert producer.points()[0][1].ts_ms == expected_ms


async def test_unknown_precision_is_400(client: TestClient) -> None:
    response = await client.post("/api/v2/write?precision=h", data="m v=1 1")
    assert response.status == 400
    assert "precision 'h'" in (await response.json())["message"]


async def test_bad_line_refuses_whole_body_and_names_the_line(
    client: TestClient, producer: FakeProducer
) -> None:
    response = await client.post("/api/v2/write", data="m v=1 1\nm v=2 2\nm v= 3\n")
    assert response.status == 400
    error = await response.json()
    assert error["code"] == "invalid"
    assert "line 3" in error["message"]
    assert producer.sent == []


async def test_gzip_body(client: TestClient, producer: FakeProducer) -> None:
    body = gzip.compress(b"m,host=z v=1 1\n")
    response = await client.post("/api/v2/write", data=body, headers={"Content-Encoding": "gzip"})
    assert response.status == 204
    assert producer.points()[0][0] == b"z"


async def test_bad_gzip_is_400(client: TestClient) -> None:
    headers = {"Content-Encoding": "gzip"}
    response = await client.post("/api/v2/write", data=b"nope", headers=headers)
    assert response.status == 400
    assert "gzip" in (await response.json())["message"]


@pytest.mark.parametrize("encoding", ["br", "x-custom"])
async def test_unknown_encoding_is_refused(
    client: TestClient, producer: FakeProducer, encoding: str
) -> None:
    headers = {"Content-Encoding": encoding}
    response = await client.post("/api/v2/write", data=b"m v=1", headers=headers)
    assert response.status in (400, 415)  # aiohttp refuses some encodings before the handler
    assert producer.sent == []


async def test_too_large_bodies_are_413_plain_or_gzipped(client: TestClient) -> None:
    big = ("m v=1 1\n" * 1000).encode()
    response = await client.post("/api/v2/write", data=big)
    assert response.status == 413
    response = await client.post(
        "/api/v2/write", data=gzip.compress(big), headers={"Content-Encoding": "gzip"}
    )
    assert response.status == 413
    assert "after gunzip" in (await response.json())["message"]


async def test_kafka_unavailable_is_503_with_retry_after(
    client: TestClient, producer: FakeProducer
) -> None:
    producer.fail = True
    response = await client.post("/api/v2/write", data="m v=1 1")
    assert response.status == 503
    assert response.headers["Retry-After"] == "1"
    assert "Kafka" in (await response.json())["message"]


async def test_metrics_count_requests_and_samples(client: TestClient) -> None:
    await client.post("/api/v2/write", data="m a=1,b=2 1\nm a=3 2")
    await client.post("/api/v2/write", data="broken")
    text = await (await client.get("/metrics")).text()
    assert 'pulseline_collector_requests_total{code="204",endpoint="/api/v2/write"} 1.0' in text
    assert 'pulseline_collector_requests_total{code="400",endpoint="/api/v2/write"} 1.0' in text
    assert "pulseline_collector_samples_total 3.0" in text
    assert "pulseline_collector_bad_lines_total 1.0" in text
    assert "process_cpu_seconds_total" in text


async def test_health_and_ping(client: TestClient, producer: FakeProducer) -> None:
    assert (await client.get("/ping")).status == 204
    assert (await client.get("/health")).status == 200
    producer.ready = False
    response = await client.get("/health")
    assert response.status == 503
    assert (await response.json())["checks"] == [{"name": "kafka", "status": "fail"}]


def test_oversized_records_are_halved_until_they_fit() -> None:
    points = [Point("m", {"host": "h"}, {"v": float(i)}, i) for i in range(100)]
    records = encode_records([(b"h", points)], limit=1000)
    assert all(len(v) <= 1000 for _, v in records)
    assert [p for _, v in records for p in decode_batch(v)] == points


async def test_remote_write_keeps_metric_types_learnt_from_metadata(
    client: TestClient, producer: FakeProducer
) -> None:
    metadata_only = encode_write_request([], {"http_requests_total": "counter"})
    assert (await client.post("/api/v1/write", data=metadata_only, headers=SNAPPY)).status == 204
    body = encode_write_request(
        [({"__name__": "http_requests_total", "instance": "web:80", "job": "api"}, [(3.0, 1000)])]
    )
    response = await client.post("/api/v1/write", data=body, headers=SNAPPY)
    assert response.status == 204
    ((_, _, value),) = producer.sent
    batch = decode_record(value)
    assert batch.types == {"http_requests_total": "counter"}
    assert batch.points == [
        Point("http_requests_total", {"instance": "web:80", "job": "api"}, {"value": 3.0}, 1000)
    ]
    assert producer.sent[0][1] == b"web:80"


async def test_remote_write_limits_and_garbage_are_400_naming_the_series(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    labels = {"__name__": "wide", **{f"l{i}": "x" for i in range(70)}}
    response = await client.post(
        "/api/v1/write", data=encode_write_request([(labels, [(1.0, 1)])]), headers=SNAPPY
    )
    assert response.status == 400
    assert "wide" in (await response.json())["message"]
    response = await client.post("/api/v1/write", data=b"not snappy", headers=SNAPPY)
    assert response.status == 400
    assert "snappy" in (await response.json())["message"]


async def test_tokens_guard_every_write_endpoint(
    producer: FakeProducer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PULSELINE_COLLECTOR__TOKENS", '{"prometheus": "s3cret"}')
    app = create_push_app(Settings.load(None), producer, CollectorMetrics())  # type: ignore[arg-type]
    async with TestClient(TestServer(app)) as c:
        assert (await c.post("/api/v2/write", data="m v=1 1")).status == 401
        wrong = {"Authorization": "Bearer nope"}
        assert (await c.post("/write", data="m v=1 1", headers=wrong)).status == 401
        good = {"Authorization": "Bearer s3cret"}
        assert (await c.post("/api/v2/write", data="m v=1 1", headers=good)).status == 204
        influx_style = {"Authorization": "Token s3cret"}
        assert (await c.post("/write", data="m v=1 1", headers=influx_style)).status == 204
        body = encode_write_request([({"__name__": "up"}, [(1.0, 1)])])
        assert (await c.post("/api/v1/write", data=body, headers=SNAPPY)).status == 401
        assert (await c.get("/metrics")).status == 200
