"""The collector's own counters, served on ``GET /metrics``."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.process_collector import ProcessCollector


class CollectorMetrics:
    """Prometheus counters of one collector, on a registry of its own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        ProcessCollector(registry=self.registry)
        r = self.registry
        self.requests = Counter(
            "pulseline_collector_requests",
            "HTTP write requests by endpoint and status code.",
            ["endpoint", "code"],
            registry=r,
        )
        self.points = Counter(
            "pulseline_collector_points", "Points accepted and acknowledged by Kafka.", registry=r
        )
        self.samples = Counter(
            "pulseline_collector_samples",
            "Field values accepted and acknowledged by Kafka.",
            registry=r,
        )
        self.bad_lines = Counter(
            "pulseline_collector_bad_lines", "Lines refused as malformed (400).", registry=r
        )
        self.records = Counter(
            "pulseline_collector_records", "Kafka records produced and acknowledged.", registry=r
        )
        self.produce_failures = Counter(
            "pulseline_collector_produce_failures",
            "Requests answered 503 because Kafka did not acknowledge.",
            registry=r,
        )
        self.dropped = Counter(
            "pulseline_collector_dropped_samples",
            "Remote-write samples not stored: stale markers, NaN, Inf, native histograms.",
            ["reason"],
            registry=r,
        )
        self.scrapes = Counter(
            "pulseline_collector_scrapes",
            "Scrapes by job and result (up: success, down: failed whole).",
            ["job", "result"],
            registry=r,
        )
        self.body_bytes = Counter(
            "pulseline_collector_body_bytes", "Bytes of request bodies, as received.", registry=r
        )
        self.latency = Histogram(
            "pulseline_collector_request_seconds",
            "Write request time, from body received to answer.",
            registry=r,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )
