"""Exposes sink counters on a worker's ``GET /metrics``.

``pulseline_sink_write_failures_total{tier,status}`` exists from the start at 0 for each of
:data:`KNOWN_STATUSES`, so ``increase()`` sees a first failure as one.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector

from streams.sinks.batch import SinkStats
from streams.sinks.raw import RawStats

KNOWN_STATUSES = ("none", "400", "401", "403", "404", "413", "422", "429", "500", "502", "503",
                  "504")  # fmt: skip
"""The statuses ``pulseline_sink_write_failures_total`` shows from the start, at 0: no answer,
those the sink's error policy names (:mod:`streams.sinks.policy`) and the usual 5xx. Others
appear when seen."""


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
                (
                    "pulseline_sink_records",
                    "Kafka records of metrics.raw the raw sink consumed (one push or scrape batch "
                    "each).",
                ),
                ("pulseline_sink_points", "Points decoded from the consumed records."),
                (
                    "pulseline_sink_samples",
                    "Field values of the decoded points: each becomes one stored sample.",
                ),
                (
                    "pulseline_sink_undecodable_records",
                    "Records that are not pulseline batches, sent to the dead-letter topic as "
                    "they came.",
                ),
                (
                    "pulseline_sink_dead_points",
                    "Points of decodable records that line protocol cannot carry or the database "
                    "refused, each sent to the dead-letter topic in a batch of its record's "
                    "refused points; the record's other points are written.",
                ),
                (
                    "pulseline_sink_lines_written",
                    "Line-protocol lines the database acknowledged (2xx); only then is the "
                    "offset committed.",
                ),
                (
                    "pulseline_sink_write_requests",
                    "Write requests sent to the database, retries included.",
                ),
                (
                    "pulseline_sink_write_retries",
                    "Writes sent again after a transient failure (no answer, 429, 5xx, 401, 403, "
                    "404) while the partition waits: Kafka holds the data meanwhile.",
                ),
                (
                    "pulseline_sink_dead_letters",
                    "Records (or rows) with data refused (400, 413, 422, or unwritable points), "
                    "sent to the dead-letter topic with the reason: whole when undecodable, "
                    "else their refused points.",
                ),
            )
        }
        failures = CounterMetricFamily(
            "pulseline_sink_write_failures",
            "Failed write requests by HTTP status of the database's answer ('none': no answer, "
            "such as a refused connection or a timeout); retried or dead-lettered as "
            "pulseline_sink_write_retries and pulseline_sink_dead_letters say.",
            labels=["tier", "status"],
        )
        blocked = GaugeMetricFamily(
            "pulseline_sink_blocked",
            "1 while the sink is retrying a write and holds its partitions (nothing reaches the "
            "database; Kafka keeps the data), else 0.",
            labels=["tier"],
        )
        for tier, (s, r) in self._tiers.items():
            if r is not None:
                families["pulseline_sink_records"].add_metric([tier], r.records)
                families["pulseline_sink_points"].add_metric([tier], r.points)
                families["pulseline_sink_samples"].add_metric([tier], r.samples)
                families["pulseline_sink_undecodable_records"].add_metric([tier], r.undecodable)
                families["pulseline_sink_dead_points"].add_metric([tier], r.dead_points)
            families["pulseline_sink_lines_written"].add_metric([tier], s.lines_written)
            families["pulseline_sink_write_requests"].add_metric([tier], s.requests)
            families["pulseline_sink_write_retries"].add_metric([tier], s.retries)
            families["pulseline_sink_dead_letters"].add_metric([tier], s.dead_letters)
            counts = dict.fromkeys(KNOWN_STATUSES, 0) | s.failures_by_status
            for status, count in sorted(counts.items()):
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
