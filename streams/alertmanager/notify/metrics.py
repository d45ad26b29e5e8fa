"""Counters of notifications per receiver and integration, for a worker's ``GET /metrics``.

:class:`NotifyStats` is counted by :func:`~streams.alertmanager.notify.deliver`;
:class:`NotifyCollector` exposes it (register it on the worker's registry):

- ``pulseline_notifications_sent_total{receiver, integration}``: notifications accepted;
- ``pulseline_notifications_failed_total{receiver, integration, retryable}``: failed
  attempts (each retry that fails counts once);
- ``pulseline_notifications_skipped_total{receiver, integration}``: notifications with
  nothing to send (only resolved alerts, and ``send_resolved`` false).

Example:
    >>> stats = NotifyStats()
    >>> stats.sent[("ops", "webhook")] += 1
    >>> sent = next(iter(NotifyCollector(stats).collect()))
    >>> sent.samples[0].name, sent.samples[0].labels, sent.samples[0].value
    ('pulseline_notifications_sent_total', {'receiver': 'ops', 'integration': 'webhook'}, 1)
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector


@dataclass
class NotifyStats:
    """Counts keyed by ``(receiver, integration kind)``; failures also by retryability."""

    sent: Counter[tuple[str, str]] = field(default_factory=Counter)
    failed: Counter[tuple[str, str, bool]] = field(default_factory=Counter)
    skipped: Counter[tuple[str, str]] = field(default_factory=Counter)


class NotifyCollector(Collector):
    """Exposes one :class:`NotifyStats`."""

    def __init__(self, stats: NotifyStats) -> None:
        self._stats = stats

    def collect(self) -> Iterator[Metric]:
        s = self._stats
        sent = CounterMetricFamily(
            "pulseline_notifications_sent",
            "Notifications a receiver accepted.",
            labels=["receiver", "integration"],
        )
        for (receiver, kind), value in sorted(s.sent.items()):
            sent.add_metric([receiver, kind], value)
        failed = CounterMetricFamily(
            "pulseline_notifications_failed",
            "Attempts to notify that failed (retryable: whether another attempt may succeed).",
            labels=["receiver", "integration", "retryable"],
        )
        for (receiver, kind, retryable), value in sorted(s.failed.items()):
            failed.add_metric([receiver, kind, str(retryable).lower()], value)
        skipped = CounterMetricFamily(
            "pulseline_notifications_skipped",
            "Notifications with nothing to send (resolved alerts without send_resolved).",
            labels=["receiver", "integration"],
        )
        for (receiver, kind), value in sorted(s.skipped.items()):
            skipped.add_metric([receiver, kind], value)
        yield from (sent, failed, skipped)
