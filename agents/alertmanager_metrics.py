"""The alert manager's metrics on the worker's ``/metrics``: the dispatchers' counters and the
alerts of the groups this worker owns."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import fields

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from streams.alertmanager.engine.dispatch import DISPATCH_HELP, DispatchStats
from streams.alertmanager.engine.muting import Muting
from streams.alertmanager.engine.runtime import AlertManager


class AlertmanagerCollector(Collector):
    """The dispatchers' counters, summed over the partitions this worker owns.

    ``pulseline_alertmanager_alerts{alertname, state}`` counts the unresolved alerts of the
    groups this worker owns (as Alertmanager's ``alertmanager_alerts``): ``suppressed`` when
    a silence or an inhibition of ``muting`` mutes them, else ``active``. Workers own
    disjoint groups, so a sum over the workers is the cluster's count (an alert routed into
    several groups counts in each).
    """

    def __init__(
        self,
        am: AlertManager,
        failures: dict[str, int],
        muting: Callable[[], Muting] = Muting,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._am = am
        self._failures = failures
        self._muting = muting
        self._clock = clock

    def collect(self) -> Iterator[Metric]:
        for f in fields(DispatchStats):
            family = CounterMetricFamily(f"pulseline_alertmanager_{f.name}", DISPATCH_HELP[f.name])
            total = sum(getattr(d.stats, f.name) for d in self._am.dispatchers.values())
            family.add_metric([], total)
            yield family
        yield self._alerts()
        groups = sum(len(d.groups) for d in self._am.dispatchers.values())
        yield GaugeMetricFamily(
            "pulseline_alertmanager_groups",
            "Aggregation groups held by the partitions of alerts.groups this worker owns.",
            groups,
        )
        family = CounterMetricFamily(
            "pulseline_alertmanager_send_failures",
            "Failed attempts to send a notification, by receiver.",
            labels=["receiver"],
        )
        for receiver in sorted(self._am.loaded.config.receivers):
            family.add_metric([receiver], self._failures.get(receiver, 0))
        yield family

    def _alerts(self) -> Metric:
        now, muting = self._clock(), self._muting()
        counts: dict[tuple[str, str], int] = defaultdict(int)
        for dispatcher in list(self._am.dispatchers.values()):
            for group in list(dispatcher.groups.values()):
                for alert in list(group.alerts.values()):
                    if alert.ends_at is not None and alert.ends_at <= now:
                        continue
                    labels = alert.label_map()
                    muted = muting.silences.mutes(labels, now) or muting.inhibitor.mutes(
                        labels, now
                    )
                    counts[alert.name, "suppressed" if muted else "active"] += 1
        family = GaugeMetricFamily(
            "pulseline_alertmanager_alerts",
            "Unresolved alerts in the aggregation groups this worker owns, by name and state "
            "(suppressed: silenced or inhibited).",
            labels=["alertname", "state"],
        )
        for (name, state), count in sorted(counts.items()):
            family.add_metric([name, state], count)
        return family
