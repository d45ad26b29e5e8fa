from __future__ import annotations

import gzip
import logging
import time
import zlib
from collections.abc import AsyncIterator, Callable, Sequence

import pytest
from aiohttp.test_utils import TestClient, TestServer

from streams.codecs.remotewrite import encode_write_request
from streams.collector.batching import encode_records
from streams.collector.metrics import CollectorMetrics
from streams.collector.push import create_push_app
from streams.kafka import ProduceError, RecordTooLargeError
from streams.records import Point, decode_batch, decode_record
from streams.settings import Settings

SNAPPY = {"Content-Encoding": "snappy", "Content-Type": "application/x-protobuf"}
NOW = 1700000000.5
"""The collector's clock in these tests."""
T = 1700000000000
"""A timestamp in ms the door accepts at NOW."""


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
    app = create_push_app(Settings.load(None), producer, CollectorMetrics(), clock=lambda: NOW)  # type: ignore[arg-type]
    async with TestClient(TestServer(app)) as c:
        yield c


async def test_v2_write_produces_keyed_records_then_answers_204(
    client: TestClient, producer: FakeProducer
) -> None:
    body = (
        "cpu,host=a,cpu=0 user=1.5,idle=98i 1700000000000000000\nmem,host=b used=3u\nload value=1"
    )
    response = await client.post("/api/v2/write?org=pulseline&bucket=metrics", data=body)
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
    body = f"cpu,host=a u=1 {T}\ncpu,host=b u=2 {T}\ncpu,host=c u=3 {T}\nmem,host=a u=4 {T}"
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
    body = gzip.compress(f"m,host=z v=1 {T}\n".encode(), mtime=0)
    headers = {"Content-Encoding": "gzip"}
    response = await client.post("/api/v2/write?precision=ms", data=body, headers=headers)
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
    assert "after inflating gzip" in (await response.json())["message"]


async def test_kafka_unavailable_is_503_with_retry_after(
    client: TestClient, producer: FakeProducer
) -> None:
    producer.fail = True
    response = await client.post("/api/v2/write", data="m v=1")
    assert response.status == 503
    assert response.headers["Retry-After"] == "1"
    assert "Kafka" in (await response.json())["message"]


async def test_metrics_count_requests_and_samples(client: TestClient) -> None:
    await client.post("/api/v2/write", data="m a=1,b=2\nm a=3")
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
        [({"__name__": "http_requests_total", "instance": "web:80", "job": "api"}, [(3.0, T)])]
    )
    response = await client.post("/api/v1/write", data=body, headers=SNAPPY)
    assert response.status == 204
    ((_, _, value),) = producer.sent
    batch = decode_record(value)
    assert batch.types == {"http_requests_total": "counter"}
    assert batch.points == [
        Point("http_requests_total", {"instance": "web:80", "job": "api"}, {"value": 3.0}, T)
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
        assert (await c.post("/api/v2/write", data="m v=1")).status == 401
        wrong = {"Authorization": "Bearer nope"}
        assert (await c.post("/write", data="m v=1", headers=wrong)).status == 401
        good = {"Authorization": "Bearer s3cret"}
        assert (await c.post("/api/v2/write", data="m v=1", headers=good)).status == 204
        influx_style = {"Authorization": "Token s3cret"}
        assert (await c.post("/write", data="m v=1", headers=influx_style)).status == 204
        body = encode_write_request([({"__name__": "up"}, [(1.0, int(time.time() * 1000))])])
        assert (await c.post("/api/v1/write", data=body, headers=SNAPPY)).status == 401
        assert (await c.get("/metrics")).status == 200


@pytest.mark.parametrize("path", ["/api/v2/write", "/write"])
@pytest.mark.parametrize("body", [b"", b"  \n\t\n", b"\r\n", b"# only a comment\n"])
async def test_a_body_without_points_is_400(
    client: TestClient, producer: FakeProducer, path: str, body: bytes
) -> None:
    # InfluxDB 2 answers {"code":"invalid","message":"writing requires points"}.
    response = await client.post(path, data=body)
    assert response.status == 400
    error = await response.json()
    assert error["code"] == "invalid"
    assert error["message"].startswith("writing requires points")
    assert producer.sent == []


async def test_a_remote_write_of_metadata_only_is_still_204(client: TestClient) -> None:
    # Prometheus sends metadata in requests of their own.
    body = encode_write_request([], {"up": "gauge"})
    assert (await client.post("/api/v1/write", data=body, headers=SNAPPY)).status == 204


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("", 204),
        ("?bucket=metrics", 204),
        ("?bucket=metrics&org=pulseline", 204),
        ("?bucket=metrics_1m", 404),
        ("?bucket=telegraf&org=pulseline", 404),
        ("?org=acme", 404),
    ],
)
async def test_v2_writes_only_the_raw_bucket_of_the_configured_org(
    client: TestClient, producer: FakeProducer, query: str, status: int
) -> None:
    response = await client.post(f"/api/v2/write{query}", data="m v=1")
    assert response.status == status
    if status == 404:
        error = await response.json()
        assert error["code"] == "not found"
        assert producer.sent == []


async def test_a_v2_bucket_refusal_names_the_bucket_and_the_accepted_one(
    client: TestClient,
) -> None:
    response = await client.post("/api/v2/write?bucket=metrics_1m", data="m v=1")
    message = (await response.json())["message"]
    assert message.startswith('bucket "metrics_1m" not found: ')
    assert 'writes to bucket "metrics"' in message and "downsampler" in message
    response = await client.post("/api/v2/write?org=acme", data="m v=1")
    assert (await response.json())["message"].startswith('organization name "acme" not found')


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("", 204),
        ("?db=metrics", 204),
        ("?db=metrics&rp=autogen", 204),
        ("?db=telegraf", 404),
        ("?db=metrics&rp=weekly", 404),
    ],
)
async def test_v1_db_and_rp_map_to_the_raw_bucket(
    client: TestClient, query: str, status: int
) -> None:
    response = await client.post(f"/write{query}", data="m v=1")
    assert response.status == status
    if status == 404:
        assert "not found" in (await response.json())["message"]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (f"m v=1 {T}\nm v=2 {T}\nm v=3 4102444800000", "too_new"),  # 2100-01-01
        (f"m v=1 {T}\nm v=2 {T}\nm v=3 -1", "too_old"),  # before 1970
        (f"m v=1 {T}\nm v=2 {T}\nm v=3 {T - 8 * 86_400_000}", "too_old"),  # past 7d
        (
            f"m v=1 {T}\n\n# c\nm," + ",".join(f"t{i}=x" for i in range(31)) + " v=3",
            "too_many_labels",
        ),
    ],
)
async def test_points_the_store_would_drop_are_refused_naming_the_line(
    client: TestClient, producer: FakeProducer, body: str, reason: str
) -> None:
    response = await client.post("/api/v2/write?precision=ms", data=body)
    assert response.status == 400
    message = (await response.json())["message"]
    line = 3 if "\n\n# c" not in body else 4
    assert message.startswith(f"1 point(s) refused: line {line}: m{{")
    assert producer.sent == []
    metrics = await (await client.get("/metrics")).text()
    assert f'pulseline_collector_refused_points_total{{reason="{reason}"}} 1.0' in metrics


async def test_a_line_with_ten_thousand_tags_is_refused(producer: FakeProducer) -> None:
    app = create_push_app(Settings.load(None), producer, CollectorMetrics(), clock=lambda: NOW)  # type: ignore[arg-type]
    tags = ",".join(f"t{i}=x" for i in range(10_000))
    async with TestClient(TestServer(app)) as c:
        response = await c.post("/api/v2/write", data=f"m,{tags} v=1")
        assert response.status == 400
        message = (await response.json())["message"]
    assert "10001 labels (the name and 10000 tags)" in message
    assert producer.sent == []


@pytest.mark.parametrize(
    ("labels", "words"),
    [
        ({"__name__": "up", "job": "a\nb"}, 'up{job="a\\nb"}'),
        ({"__name__": "up", "job": "path\\"}, "has a backslash at the end"),
        ({"__name__": "up", "job": "x" * 16385}, "collector.max_label_value_length"),
    ],
)
async def test_remote_write_series_that_cannot_be_stored_are_refused_naming_them(
    client: TestClient, producer: FakeProducer, labels: dict[str, str], words: str
) -> None:
    good = ({"__name__": "up", "job": "fine"}, [(1.0, T)])
    body = encode_write_request([good, (labels, [(1.0, T)])])
    response = await client.post("/api/v1/write", data=body, headers=SNAPPY)
    assert response.status == 400
    message = (await response.json())["message"]
    assert message.startswith("1 point(s) refused: up{") and words in message
    assert producer.sent == []


async def test_remote_write_timestamps_are_checked(client: TestClient) -> None:
    body = encode_write_request([({"__name__": "up"}, [(1.0, 4102444800000)])])
    response = await client.post("/api/v1/write", data=body, headers=SNAPPY)
    assert response.status == 400
    assert "2100-01-01T00:00:00.000Z" in (await response.json())["message"]


async def test_a_refusal_lists_ten_points_and_counts_the_rest(client: TestClient) -> None:
    body = "\n".join(f"m,i=i{i} v=1 1" for i in range(25))
    response = await client.post("/api/v2/write?precision=s", data=body)
    message = (await response.json())["message"]
    assert message.startswith("25 point(s) refused: line 1: ")
    assert "line 10: " in message and "line 11: " not in message
    assert message.endswith("; and 15 more")


async def test_unknown_paths_are_a_json_404_listing_the_write_endpoints(
    client: TestClient,
) -> None:
    response = await client.post("/api/v1/push", data="m v=1")
    assert response.status == 404
    error = await response.json()
    assert error["code"] == "not found"
    assert "'/api/v1/push' not found" in error["message"]
    assert list(error["write_endpoints"]) == [
        "POST /api/v2/write",
        "POST /write",
        "POST /api/v1/write",
    ]
    assert (await client.get("/nope")).status == 404
    metrics = await (await client.get("/metrics")).text()
    assert "pulseline_collector_not_found_requests_total 2.0" in metrics


async def test_bodies_that_are_not_their_encoding_are_400_without_a_traceback(
    client: TestClient, producer: FakeProducer, caplog: pytest.LogCaptureFixture
) -> None:
    gz = {"Content-Encoding": "gzip"}
    whole = gzip.compress(f"m v=1 {T}".encode())
    for body in (b"not gzip at all", whole[:-6], whole + b"junk"):
        response = await client.post("/api/v2/write?precision=ms", data=body, headers=gz)
        assert response.status == 400, body
        assert "gzip" in (await response.json())["message"]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    # The connection pool and the server are fine afterwards.
    response = await client.post("/api/v2/write?precision=ms", data=whole, headers=gz)
    assert response.status == 204
    assert len(producer.points()) == 1


async def test_deflate_in_zlib_and_raw_form_and_concatenated_gzip(
    client: TestClient, producer: FakeProducer
) -> None:
    line = f"m v=1 {T}\n".encode()
    raw = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    for body, encoding in (
        (zlib.compress(line), "deflate"),
        (raw.compress(line) + raw.flush(), "deflate"),
        (gzip.compress(line) + gzip.compress(line), "gzip"),
    ):
        headers = {"Content-Encoding": encoding}
        response = await client.post("/api/v2/write?precision=ms", data=body, headers=headers)
        assert response.status == 204, await response.text()
    assert len(producer.points()) == 4


async def test_a_small_body_that_inflates_past_the_limit_is_413(client: TestClient) -> None:
    bomb = gzip.compress(b"#" * 1_000_000)  # about 1 KB; 1 MB inflated, limit 4096 here
    assert len(bomb) < 4096
    response = await client.post("/api/v2/write", data=bomb, headers={"Content-Encoding": "gzip"})
    assert response.status == 413


async def test_a_point_larger_than_a_record_may_be_is_413_naming_the_series(
    producer: FakeProducer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PULSELINE_KAFKA__MAX_RECORD_BYTES", "2048")
    app = create_push_app(Settings.load(None), producer, CollectorMetrics(), clock=lambda: NOW)  # type: ignore[arg-type]
    async with TestClient(TestServer(app)) as c:
        body = f'm,host=a v=1 {T}\nlog,host=b text="{"x" * 3000}" {T}'
        response = await c.post("/api/v2/write?precision=ms", data=body)
        assert response.status == 413
        message = (await response.json())["message"]
        assert (
            'log{host="b"} (fields text)' in message and "kafka.max_record_bytes (2048)" in message
        )
        assert producer.sent == []


async def test_a_record_the_broker_refuses_as_too_large_is_413_not_503(
    client: TestClient, producer: FakeProducer
) -> None:
    async def refuse(topic: str, records: Sequence[tuple[bytes, bytes]]) -> None:
        raise RecordTooLargeError("Kafka refused a record of 900 bytes as too large", size=900)

    producer.send_all = refuse  # type: ignore[method-assign]
    body = f'm,host=a v=1 {T}\nlog,host=b text="{"x" * 500}" {T}'
    response = await client.post("/api/v2/write?precision=ms", data=body)
    assert response.status == 413
    assert 'the largest point is of log{host="b"}' in (await response.json())["message"]


async def test_unauthenticated_writes_are_logged_once_at_start(
    producer: FakeProducer, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="streams.collector.push"):
        create_push_app(Settings.load(None), producer, CollectorMetrics())  # type: ignore[arg-type]
        monkeypatch.setenv("PULSELINE_COLLECTOR__TOKENS", '{"prometheus": "s3cret"}')
        create_push_app(Settings.load(None), producer, CollectorMetrics())  # type: ignore[arg-type]
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 1
    assert warnings[0].startswith("collector.tokens is empty: writes are not authenticated")


async def test_labelled_counters_exist_at_zero_before_any_write(client: TestClient) -> None:
    text = await (await client.get("/metrics")).text()
    for reason in ("too_old", "too_new", "too_many_labels", "too_long", "unwritable"):
        assert f'pulseline_collector_refused_points_total{{reason="{reason}"}} 0.0' in text
    for reason in ("stale", "nan", "inf", "histograms"):
        assert f'pulseline_collector_dropped_samples_total{{reason="{reason}"}} 0.0' in text
    for endpoint in ("/api/v2/write", "/write", "/api/v1/write"):
        for code in ("204", "400", "401", "404", "413", "415", "503"):
            line = f'pulseline_collector_requests_total{{code="{code}",endpoint="{endpoint}"}} 0.0'
            assert line in text
