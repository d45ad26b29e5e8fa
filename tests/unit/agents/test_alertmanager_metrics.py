"""The alert manager's gauge of held alerts, by name and state, on a worker's ``/metrics``."""

from __future__ import annotations

from collections.abc import Mapping

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from agents.alertmanager_metrics import AlertmanagerCollector
from streams.alertmanager.engine.muting import Muting
from streams.alertmanager.engine.runtime import AlertManager, load
from streams.alertmanager.model import Alert

NOW = 1_700_000_000.0


class SilencedNames:
    """Silences every alert whose name is one of ``names``."""

    def __init__(self, *names: str) -> None:
        self.names = names

    def mutes(self, labels: Mapping[str, str], at: float) -> list[str]:
        return ["silence-1"] if labels.get("alertname") in self.names else []


def alerts_gauge(am: AlertManager, muting: Muting) -> dict[tuple[str, str], float]:
    registry = CollectorRegistry()
    registry.register(AlertmanagerCollector(am, {}, lambda: muting, clock=lambda: NOW))
    text = generate_latest(registry).decode()
    return {
        (s.labels["alertname"], s.labels["state"]): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == "pulseline_alertmanager_alerts"
    }


def held(*alerts: Alert) -> AlertManager:
    am = AlertManager(load(None))
    dispatcher_partition = 0
    am.dispatcher(dispatcher_partition, list)
    for alert in alerts:
        for grouped in am.route(alert):
            assert am.insert(dispatcher_partition, grouped, NOW)
    return am


def alert(name: str, host: str, **times: float | None) -> Alert:
    return Alert.create(
        {"alertname": name, "host": host}, starts_at=NOW - 60, updated_at=NOW - 1, **times
    )


def test_unresolved_alerts_are_counted_by_name_active_or_suppressed() -> None:
    am = held(
        alert("HostDown", "a"),
        alert("HostDown", "b"),
        alert("DiskFull", "a"),
        alert("HostDown", "c", ends_at=NOW - 5),  # resolved: not counted
    )
    gauge = alerts_gauge(am, Muting(silences=SilencedNames("DiskFull")))
    assert gauge == {("DiskFull", "suppressed"): 1, ("HostDown", "active"): 2}


def test_an_inhibited_alert_is_suppressed() -> None:
    am = held(alert("HostDown", "a"))
    assert alerts_gauge(am, Muting(inhibitor=SilencedNames("HostDown"))) == {
        ("HostDown", "suppressed"): 1
    }


def test_no_alerts_no_series() -> None:
    assert alerts_gauge(held(), Muting()) == {}
