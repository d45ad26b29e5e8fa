"""Re-received alerts merge as in Alertmanager 0.25's alert store.

The cases marked "checked on Alertmanager 0.25" were posted to a real Alertmanager and read
back from its ``GET /api/v2/alerts``.
"""

from streams.alertmanager.engine.store import (
    alert_from_dict,
    alert_to_dict,
    merge,
    overlaps,
    presented,
    put,
    sort_alerts,
)
from streams.alertmanager.model import Alert


def _a(
    start: float, end: float | None, updated: float, *, timeout: bool = False, v: str = ""
) -> Alert:
    return Alert.create(
        {"alertname": "A"},
        {"v": v} if v else {},
        starts_at=start,
        ends_at=end,
        updated_at=updated,
        timeout=timeout,
    )


def test_repost_without_times_extends_the_end_and_keeps_the_start() -> None:
    # posted at 0 and at 60 without startsAt/endsAt, resolve_timeout 300
    old = _a(0, 300, 0, timeout=True)
    new = _a(60, 360, 60, timeout=True)
    held = put(old, new, at=60)
    assert (held.starts_at, held.ends_at, held.timeout) == (0, 360, True)


def test_same_start_and_later_end_simply_replaces() -> None:
    # Prometheus re-sends with the same startsAt: no strict overlap, the new copy is taken
    old = _a(0, 240, 0)
    new = _a(0, 300, 60)
    assert not overlaps(old, new)
    assert put(old, new, at=60) == new


def test_explicit_end_in_the_past_resolves() -> None:
    old = _a(0, 300, 0, timeout=True)
    new = _a(0, 100, 100)
    held = put(old, new, at=100)
    assert held.ends_at == 100 and held.resolved(100)


def test_later_explicit_end_beats_a_timeout_end() -> None:
    # checked on Alertmanager 0.25 (M4): the explicit far end survives a post without endsAt
    old = _a(0, 1000, 0)
    new = _a(5, 300, 5, timeout=True)
    assert put(old, new, at=5).ends_at == 1000


def test_timeout_end_does_not_beat_an_explicit_one() -> None:
    # checked on Alertmanager 0.25 (M5): an explicit earlier end replaces a timeout end
    old = _a(0, 300, 0, timeout=True)
    new = _a(5, 100, 5)
    held = put(old, new, at=5)
    assert (held.starts_at, held.ends_at) == (0, 100)


def test_shorter_explicit_end_cannot_shorten_a_firing_alert() -> None:
    # checked on Alertmanager 0.25 (M6): same start, shorter end: ends stay, annotations new
    old = _a(0, 1000, 0, v="1")
    new = _a(0, 100, 10, v="2")
    held = put(old, new, at=10)
    assert held.ends_at == 1000 and dict(held.annotations) == {"v": "2"}


def test_the_younger_alert_wins_even_when_it_arrives_first() -> None:
    held_first = _a(0, 300, 100, v="new")
    late = _a(10, 200, 50, v="old")
    held = put(held_first, late, at=100)
    assert dict(held.annotations) == {"v": "new"}
    assert (held.starts_at, held.ends_at) == (0, 300)


def test_both_resolved_the_latest_explicit_end_wins() -> None:
    old = _a(0, 100, 100)
    new = _a(50, 80, 150)
    assert merge(old, new, at=150).ends_at == 100


def test_a_new_episode_after_a_resolve_replaces() -> None:
    # checked on Alertmanager 0.25 (M7): the start of the new episode is kept
    old = _a(0, 50, 50)
    new = _a(80, 200, 80)
    assert put(old, new, at=80) == new


def test_rule_alert_without_end_resolved_by_its_resolve_event() -> None:
    firing = _a(0, None, 0)
    resolved = _a(0, 100, 100)
    assert put(firing, resolved, at=100).resolved(100)


def test_presented_firing_alert_shows_no_end() -> None:
    assert presented(_a(0, 300, 0, timeout=True), at=10).ends_at is None
    assert presented(_a(0, 5, 5), at=10).ends_at == 5


def test_notification_order_is_job_then_instance_then_labels() -> None:
    def mk(**labels: str) -> Alert:
        return Alert.create({"alertname": "X", **labels})

    alerts = [
        mk(instance="b"),
        mk(job="b", instance="a"),
        mk(job="a", instance="z"),
        mk(),
        mk(job="a"),
        mk(zone="1", instance="b"),
    ]
    order = [a.label_map() for a in sort_alerts(alerts)]
    assert order == [
        {"alertname": "X", "job": "a", "instance": "z"},
        {"alertname": "X", "job": "a"},
        {"alertname": "X", "job": "b", "instance": "a"},
        {"alertname": "X", "instance": "b"},
        {"alertname": "X", "instance": "b", "zone": "1"},
        {"alertname": "X"},
    ]


def test_round_trip() -> None:
    a = _a(1.5, None, 2.5, timeout=True, v="x")
    assert alert_from_dict(alert_to_dict(a)) == a
