"""The worker's alert manager: routed alerts enter their groups at the instant they arrived."""

from pathlib import Path

import pytest

from streams.alertmanager.engine.intake import Grouped
from streams.alertmanager.engine.runtime import AlertManager, load
from streams.alertmanager.model import Alert

CONFIG = """
route:
  receiver: hook
  group_by: [alertname]
  group_wait: 1s
  group_interval: 2s
receivers:
  - name: hook
    webhook_configs:
      - url: http://127.0.0.1:9/hook
"""


@pytest.fixture
def am(tmp_path: Path) -> AlertManager:
    path = tmp_path / "alertmanager.yml"
    path.write_text(CONFIG)
    am = AlertManager(load(path))
    am.dispatcher(0, list)
    return am


def _grouped(am: AlertManager, received: float) -> Grouped:
    # Posted without startsAt: the API stamps it with the arrival.
    alert = Alert.create({"alertname": "Down"}, starts_at=received, updated_at=received)
    (grouped,) = am.route(alert)
    return grouped


def test_a_group_waits_from_the_alerts_arrival_not_from_its_reading(am: AlertManager) -> None:
    # Received by the API at 10.0, read from Kafka by the owner at 10.6: group_wait (1 s)
    # ends at 11.0, as in an Alertmanager that got the alert at 10.0.
    assert am.insert(0, _grouped(am, received=10.0), now=10.6)
    assert am.dispatchers[0].next_due() == 11.0
    assert am.dispatchers[0].due(now=10.9) == []
    assert len(am.dispatchers[0].due(now=11.0)) == 1


def test_an_alert_read_after_its_group_wait_flushes_at_once(am: AlertManager) -> None:
    assert am.insert(0, _grouped(am, received=10.0), now=12.5)
    assert am.dispatchers[0].next_due() == 11.0  # due: the next look flushes it
    assert len(am.dispatchers[0].due(now=12.5)) == 1


def test_an_arrival_ahead_of_this_clock_counts_as_now(am: AlertManager) -> None:
    assert am.insert(0, _grouped(am, received=20.0), now=10.0)
    assert am.dispatchers[0].next_due() == 11.0


def test_an_alert_of_a_route_gone_with_a_reload_is_handed_back(am: AlertManager) -> None:
    grouped = _grouped(am, received=10.0)
    gone = Grouped(grouped.group_key, "no-such-route", grouped.group_labels, grouped.alerts)
    assert not am.insert(0, gone, now=10.0)
    assert am.dispatchers[0].groups == {}


def test_the_alerts_of_one_request_travel_one_record_per_group(am: AlertManager) -> None:
    a1, a2, b1 = (
        Alert.create({"alertname": name, "i": i}, starts_at=10.0, updated_at=t)
        for name, i, t in (("A", "1", 10.0), ("A", "2", 10.2), ("B", "1", 10.1))
    )
    grouped = am.route_all([a1, b1, a2])
    assert [(g.group_key, g.alerts) for g in grouped] == [
        ('{}:{alertname="A"}', (a1, a2)),
        ('{}:{alertname="B"}', (b1,)),
    ]
    # Each alert of a record is received at its own instant.
    assert am.insert(0, grouped[0], now=10.6)
    (group,) = am.dispatchers[0].groups.values()
    assert group.created_at == 10.0 and sorted(group.alerts) == sorted(
        [a1.fingerprint, a2.fingerprint]
    )
