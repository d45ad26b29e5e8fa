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
    """Reads every tier sink's :class:`SinkStats` (and the raw sink's :class:`RawStats`).

    One collector for all tiers, so each metric family is exposed once, labelled by tier.
    """

    def __init__(self) -> None:
        self._tiers: dict[str, tuple[SinkStats, RawStats | None]] = {}

    def add(self, tier: str, sink: SinkStats, raw: RawStats | None = None) -> None:
        """Expose the counters of a tier's sink."""
        self._tiers[tier] = (sink, raw)

    def collect(self) -> Iterator[Metric]:
        families = {
            name: CounterMetricFamily(name, doc, labels=["tier"])
            for name, doc in (
                ("pulseline_sink_records", "Kafka records consumed by the sink."),
                ("pulseline_sink_points", "Points decoded from consumed records."),
                ("pulseline_sink_samples", "Field values decoded from consumed records."),
                ("pulseline_sink_undecodable_records", "Records sent to the DLQ undecoded."),
                ("pulseline_sink_lines_written", "Lines acknowledged by the database."),
                ("pulseline_sink_write_requests", "Write requests sent."),
                ("pulseline_sink_write_retries", "Writes retried after a transient error."),
                ("pulseline_sink_dead_letters", "Records (or rows) the database refused."),
            )
        }
        failures = CounterMetricFamily(
            "pulseline_sink_write_failures",
            "Failed write requests by HTTP status (none: no answer).",
            labels=["tier", "status"],
        )
        blocked = GaugeMetricFamily(
            "pulseline_sink_blocked",
            "1 while the sink is retrying a write and holding its partitions.",
            labels=["tier"],
        )
        for tier, (s, r) in self._tiers.items():
            if r is not None:
                families["pulseline_sink_records"].add_metric([tier], r.records)
                families["pulseline_sink_points"].add_metric([tier], r.points)
                families["pulseline_sink_samples"].add_metric([tier], r.samples)
                families["pulseline_sink_undecodable_records"].add_metric([tier], r.undecodable)
            families["pulseline_sink_lines_written"].add_metric([tier], s.lines_written)
            families["pulseline_sink_write_requests"].add_metric([tier], s.requests)
            families["pulseline_sink_write_retries"].add_metric([tier], s.retries)
            families["pulseline_sink_dead_letters"].add_metric([tier], s.dead_letters)
            for status, count in sorted(s.failures_by_status.items()):
                failures.add_metric([tier, status], count)
            blocked.add_metric([tier], 1 if s.blocked else 0)
        yield from families.values()
        yield failures
        yield blocked


def worker_registry() -> CollectorRegistry:
    """A registry with the process collector (CPU seconds, memory)."""
    registry = CollectorRegistry()
    ProcessCollector(registry=registry)
    return registry
