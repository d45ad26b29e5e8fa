"""Counters of notifications per receiver and integration, for a worker's ``GET /metrics``.

:class:`NotifyStats` is counted by :func:`~streams.alertmanager.notify.deliver`;
:class:`NotifyCollector` exposes it (register it on the worker's registry):

- ``pulseline_notifications_sent_total{receiver, integration}``: notifications accepted;
- ``pulseline_notifications_failed_total{receiver, integration, retryable}``: failed
  attempts (each retry that fails counts once);
- ``pulseline_notifications_skipped_total{receiver, integration}``: notifications with
  nothing to send (only resolved alerts, and ``send_resolved`` false).

Every integration of the configuration in force has its series from the start, at 0 (and
``failed`` both ``retryable`` values), so that ``increase()`` sees a first notification as
one and a dashboard shows 0 rather than no data; a receiver added by a reload gets its
series at the next scrape. Counts of integrations a reload removed stay.

Example:
    >>> from streams.alertmanager.config.receivers import Integration, WebhookConfig
    >>> hook = Integration("ops", "webhook", 0, WebhookConfig(url="http://127.0.0.1:9/"))
    >>> stats = NotifyStats()
    >>> stats.sent[("ops", "webhook")] += 1
    >>> sent, failed, _ = NotifyCollector(stats, lambda: {"ops": (hook,)}).collect()
    >>> [(s.labels, s.value) for s in sent.samples if s.name.endswith("_total")]
    [({'receiver': 'ops', 'integration': 'webhook'}, 1)]
    >>> [(s.labels["retryable"], s.value) for s in failed.samples if s.name.endswith("_total")]
    [('false', 0), ('true', 0)]
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector

from streams.alertmanager.config.receivers import Integration

Configured = Callable[[], Mapping[str, Sequence[Integration]]]
"""Returns each receiver's integrations in the configuration in force, by receiver name."""


@dataclass
class NotifyStats:
    """Counts keyed by ``(receiver, integration kind)``; failures also by retryability."""

    sent: Counter[tuple[str, str]] = field(default_factory=Counter)
    failed: Counter[tuple[str, str, bool]] = field(default_factory=Counter)
    skipped: Counter[tuple[str, str]] = field(default_factory=Counter)


def _nothing() -> Mapping[str, Sequence[Integration]]:
    return {}


class NotifyCollector(Collector):
    """Exposes one :class:`NotifyStats`.

    Args:
        stats: the counts.
        configured: the receivers' integrations in force, read at every scrape (after a
            reload, the new ones); each has its series at 0 until counted.
    """

    def __init__(self, stats: NotifyStats, configured: Configured = _nothing) -> None:
        self._stats = stats
        self._configured = configured

    def collect(self) -> Iterator[Metric]:
        s = self._stats
        known = {
            (i.receiver, i.kind)
            for integrations in self._configured().values()
            for i in integrations
        }
        sent = CounterMetricFamily(
            "pulseline_notifications_sent",
            "Notifications a receiver's integration accepted (a 2xx answer, or the mail "
            "server took the message).",
            labels=["receiver", "integration"],
        )
        for (receiver, kind), value in sorted((dict.fromkeys(known, 0) | s.sent).items()):
            sent.add_metric([receiver, kind], value)
        failed = CounterMetricFamily(
            "pulseline_notifications_failed",
            "Attempts to notify that failed (retryable: whether another attempt may succeed).",
            labels=["receiver", "integration", "retryable"],
        )
        zeros = {(r, k, retryable): 0 for r, k in known for retryable in (False, True)}
        for (receiver, kind, retryable), value in sorted((zeros | s.failed).items()):
            failed.add_metric([receiver, kind, str(retryable).lower()], value)
        skipped = CounterMetricFamily(
            "pulseline_notifications_skipped",
            "Notifications with nothing to send (resolved alerts without send_resolved).",
            labels=["receiver", "integration"],
        )
        for (receiver, kind), value in sorted((dict.fromkeys(known, 0) | s.skipped).items()):
            skipped.add_metric([receiver, kind], value)
        yield from (sent, failed, skipped)
