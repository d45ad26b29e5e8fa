"""The collector's own counters, served on ``GET /metrics``.

Every labelled counter exists from the start, at 0, for each label value it can take (the
endpoints and the statuses they answer, every refusal and drop reason, every scrape job), so
that ``rate()`` and ``increase()`` see the first event as an increase and a dashboard shows 0
rather than no data.

Example:
    >>> from prometheus_client import generate_latest
    >>> text = generate_latest(CollectorMetrics().registry).decode()
    >>> 'pulseline_collector_refused_points_total{reason="too_old"} 0.0' in text
    True
"""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.process_collector import ProcessCollector

from streams.collector.door import REASONS

ENDPOINT_LABELS = ("/api/v2/write", "/write", "/api/v1/write")
"""The paths of the write endpoints."""
WRITE_CODES = ("204", "400", "401", "404", "413", "415", "503")
"""The statuses a write endpoint answers."""
DROP_REASONS = ("stale", "nan", "inf", "histograms")
"""Why a Prometheus sample is not stored (see :mod:`streams.codecs.remotewrite`)."""


class CollectorMetrics:
    """Prometheus counters of one collector, on a registry of its own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        ProcessCollector(registry=self.registry)
        r = self.registry
        self.requests = Counter(
            "pulseline_collector_requests",
            "Write requests by endpoint and HTTP status: 204 written to Kafka; 400 a bad line "
            "or a refused point (nothing of the body written); 401 no valid token; 404 another "
            "bucket or organization; 413 a body or point too large; 415 an unknown "
            "Content-Encoding; 503 Kafka did not acknowledge (clients retry).",
            ["endpoint", "code"],
            registry=r,
        )
        self.points = Counter(
            "pulseline_collector_points",
            "Points Kafka acknowledged, from pushes (a line-protocol line or a remote-write "
            "sample each); scrapes are counted in pulseline_collector_scrapes_total.",
            registry=r,
        )
        self.samples = Counter(
            "pulseline_collector_samples",
            "Field values of the points Kafka acknowledged: each is one stored sample.",
            registry=r,
        )
        self.bad_lines = Counter(
            "pulseline_collector_bad_lines",
            "Line-protocol lines that do not parse; their whole body was refused (400).",
            registry=r,
        )
        self.refused = Counter(
            "pulseline_collector_refused_points",
            "Points refused because the store could not keep them as they are, by reason: "
            "too_old (past the raw tier's retention), too_new (beyond downsample.max_future_s), "
            "too_many_labels, too_long (a label name or value), unwritable (a newline or "
            "trailing backslash in a name). A push with one is refused whole (400); a scrape "
            "drops them.",
            ["reason"],
            registry=r,
        )
        self.records = Counter(
            "pulseline_collector_records",
            "Kafka records produced and acknowledged for pushes (a body is split by source key).",
            registry=r,
        )
        self.produce_failures = Counter(
            "pulseline_collector_produce_failures",
            "Pushes answered 503 because Kafka did not acknowledge every record: the broker "
            "is down or slow, and the client is asked to retry.",
            registry=r,
        )
        self.dropped = Counter(
            "pulseline_collector_dropped_samples",
            "Prometheus samples (remote write and scrapes) not stored because InfluxDB cannot "
            "hold them, by reason: stale (staleness markers), nan, inf, histograms (native "
            "histogram samples). The rest of the request is stored.",
            ["reason"],
            registry=r,
        )
        self.scrapes = Counter(
            "pulseline_collector_scrapes",
            "Scrapes by job and result: up (the page was stored), down (the target failed or "
            "the page was refused whole; only up=0 was stored).",
            ["job", "result"],
            registry=r,
        )
        self.not_found = Counter(
            "pulseline_collector_not_found_requests",
            "Requests to a path the collector does not serve (404): usually a client "
            "configured with a wrong URL, whose data never arrives.",
            registry=r,
        )
        self.body_bytes = Counter(
            "pulseline_collector_body_bytes",
            "Bytes of write request bodies as received (compressed, when they are).",
            registry=r,
        )
        self.latency = Histogram(
            "pulseline_collector_request_seconds",
            "Time to answer a write request, from the body received to the answer (mostly "
            "waiting for Kafka's acknowledgement).",
            registry=r,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )
        for endpoint in ENDPOINT_LABELS:
            for code in WRITE_CODES:
                self.requests.labels(endpoint, code)
        for reason in REASONS:
            self.refused.labels(reason)
        for reason in DROP_REASONS:
            self.dropped.labels(reason)

    def expect_jobs(self, jobs: Iterable[str]) -> None:
        """Create the scrape counters of ``jobs`` at 0, so they exist before a first scrape."""
        for job in jobs:
            for result in ("up", "down"):
                self.scrapes.labels(job, result)
