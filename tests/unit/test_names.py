"""Metric names: one mapping for rules, stores and dashboards (streams.names)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Summary
from prometheus_client.exposition import generate_latest
from prometheus_client.openmetrics.exposition import generate_latest as generate_openmetrics

from streams.codecs.lineprotocol import parse_lines
from streams.collector.exposition import parse_scrape
from streams.names import (
    RENDERERS,
    STORE_FLAGS,
    influx_names,
    metric_name,
    named_point,
    without_created,
)
from streams.promql.series import point_samples
from streams.records import Point, encode_batch
from streams.settings import Settings
from streams.sinks.batch import BatchSink, RecordRef
from streams.sinks.raw import InRecord, RawSink
from streams.testing import CollectingWriter


def test_the_value_field_is_the_measurement_and_other_fields_are_suffixed() -> None:
    assert metric_name("up", "value") == "up"
    assert metric_name("host:cpu_busy:percent_avg5m", "value") == "host:cpu_busy:percent_avg5m"
    assert metric_name("cpu", "usage_idle") == "cpu_usage_idle"
    assert metric_name("up", "value_max") == "up_value_max"  # a tier's field
    assert influx_names("up") == ("up", "value")


def test_rules_read_the_names_the_victoriametrics_lines_carry() -> None:
    point = Point("up", {"job": "node"}, {"value": 1.0}, 5)
    line_point = Point("cpu", {"host": "a"}, {"usage_idle": 97.5, "value": 2.0}, 5)
    for p in (point, line_point):
        rules = sorted(dict(labels)["__name__"] for labels, _, _ in point_samples(*p))
        assert rules == sorted(named_point(p).fields)


def test_victoriametrics_lines_key_each_field_by_its_series_and_influxdb_lines_are_as_is() -> None:
    points = [
        Point("up", {"job": "node"}, {"value": 1.0}, 5),
        Point("cpu", {"host": "a"}, {"usage_idle": 97.5, "n": 3}, 6),
    ]
    assert RENDERERS["victoriametrics"](points) == (
        "up,job=node up=1.0 5\ncpu,host=a cpu_usage_idle=97.5,cpu_n=3i 6"
    )
    assert RENDERERS["influxdb"](points) == (
        "up,job=node value=1.0 5\ncpu,host=a usage_idle=97.5,n=3i 6"
    )
    back = parse_lines(RENDERERS["victoriametrics"](points), precision="ms", now_ms=0)
    assert [p.fields for p in back] == [{"up": 1.0}, {"cpu_usage_idle": 97.5, "cpu_n": 3}]
    assert STORE_FLAGS["victoriametrics"] == ("-influxSkipMeasurement",)
    assert STORE_FLAGS["influxdb"] == ()


def test_the_default_store_is_the_default_urls_victoriametrics() -> None:
    settings = Settings()
    assert settings.influx.url.endswith(":8428")
    assert settings.influx.store == "victoriametrics"
    assert settings.collector.keep_created is False


async def test_the_raw_sink_writes_with_the_stores_renderer() -> None:
    writer = CollectingWriter()
    sink = RawSink(BatchSink(writer, batch_lines=100), RENDERERS["victoriametrics"])
    points = [Point("up", {"job": "a"}, {"value": 1.0}, 5), Point("bad\nname", {}, {"v": 1}, 5)]
    dead = await sink.process([InRecord(RecordRef("raw", 0, 3), None, encode_batch(points))])
    assert writer.bodies == ["up,job=a up=1.0 5"]
    assert [d.ref.offset for d in dead] == [3]  # the unwritable point alone, by its record


def _registry() -> CollectorRegistry:
    registry = CollectorRegistry()
    Counter("requests", "Requests served.", ["code"], registry=registry).labels("200").inc()
    Histogram("latency_seconds", "Latency.", registry=registry, buckets=(1.0,)).observe(0.5)
    Summary("size_bytes", "Sizes.", registry=registry).observe(3)
    Gauge("jobs_created", "Jobs made so far (a gauge that happens to end in _created).",
          registry=registry).set(4)  # fmt: skip
    return registry


def _scraped(body: bytes, content_type: str) -> tuple[list[Point], dict[str, str]]:
    result = parse_scrape(
        body, content_type, job="j", instance="h:1", target_labels={}, honor_labels=False,
        sample_limit=0, label_limit=0, scrape_ts_ms=1000,
    )  # fmt: skip
    return result.points, result.types


def test_prometheus_client_created_series_are_dropped_in_both_formats() -> None:
    pages = [
        (generate_latest(_registry()), "text/plain; version=0.0.4"),
        (generate_openmetrics(_registry()), "application/openmetrics-text; version=1.0.0"),
    ]
    for body, content_type in pages:
        points, types = _scraped(body, content_type)
        names = {p.measurement for p in points}
        # prometheus_client itself exposes them: the test would pass vacuously otherwise
        assert {"requests_created", "latency_seconds_created", "size_bytes_created"} <= names
        kept = {p.measurement for p in without_created(points, types)}
        assert kept == names - {
            "requests_created",
            "latency_seconds_created",
            "size_bytes_created",
        }, content_type
        assert "jobs_created" in kept and "requests_total" in kept


def test_without_types_nothing_is_dropped() -> None:
    points = [Point("requests_created", {}, {"value": 1.0}, 5)]
    assert without_created(points, {}) == points
