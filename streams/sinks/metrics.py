"""Exposes sink counters on a worker's ``GET /metrics``."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector

from streams.sinks.batch import SinkStats
from streams.sinks.raw import RawStats


class SinkCollector(Collector):
    """Reads :class:`SinkStats` and :class:`RawStats` at scrape time."""

    def __init__(self, tier: str, sink: SinkStats, raw: RawStats) -> None:
        self._tier = tier
        self._sink = sink
        self._raw = raw

    def collect(self) -> Iterator[Metric]:
        tier, s, r = self._tier, self._sink, self._raw
        counters = [
            ("pulseline_sink_records", "Kafka records consumed by the sink.", r.records),
            ("pulseline_sink_points", "Points decoded from consumed records.", r.points),
            ("pulseline_sink_samples", "Field values decoded from consumed records.", r.samples),
            (
                "pulseline_sink_undecodable_records",
                "Records sent to the DLQ undecoded.",
                r.undecodable,
            ),
            (
                "pulseline_sink_lines_written",
                "Lines acknowledged by the database.",
                s.lines_written,
            ),
            ("pulseline_sink_write_requests", "Write requests sent.", s.requests),
            ("pulseline_sink_write_retries", "Writes retried after a transient error.", s.retries),
            ("pulseline_sink_dead_letters", "Records sent to the DLQ.", s.dead_letters),
        ]
        for name, doc, value in counters:
            family = CounterMetricFamily(name, doc, labels=["tier"])
            family.add_metric([tier], value)
            yield family
        failures = CounterMetricFamily(
            "pulseline_sink_write_failures",
            "Failed write requests by HTTP status (none: no answer).",
            labels=["tier", "status"],
        )
        for status, count in sorted(s.failures_by_status.items()):
            failures.add_metric([tier, status], count)
        yield failures
        blocked = GaugeMetricFamily(
            "pulseline_sink_blocked",
            "1 while the sink is retrying a write and holding its partitions.",
            labels=["tier"],
        )
        blocked.add_metric([tier], 1 if s.blocked else 0)
        yield blocked


def worker_registry() -> CollectorRegistry:
    """A registry with the process collector (CPU seconds, memory)."""
    registry = CollectorRegistry()
    ProcessCollector(registry=registry)
    return registry
