"""Rule events become alerts as Prometheus sends them; grouped records round-trip."""

import orjson
import pytest

from streams.alertmanager.engine.intake import (
    TAKEN_IN,
    Grouped,
    from_rule_event,
    rule_alert,
    taken_in,
)
from streams.alertmanager.engine.runtime import AlertManager, load
from streams.alertmanager.engine.store import alert_to_dict
from streams.alertmanager.model import Alert
from streams.errors import RecordDecodeError


def _event(state: str, **extra: object) -> bytes:
    return orjson.dumps(
        {
            "state": state,
            "labels": {"alertname": "Hot", "host": "a"},
            "annotations": {"summary": "hot"},
            "startsAt": "1970-01-01T00:01:40.000Z",
            "endsAt": None,
            "evaluatedAt": "1970-01-01T00:01:50.000Z",
            **extra,
        }
    )


@pytest.mark.parametrize("state", ["pending", "inactive"])
def test_pending_and_inactive_are_not_alerts_yet(state: str) -> None:
    assert from_rule_event(_event(state)) is None


def test_firing_has_no_end_and_resolved_ends_when_the_rule_says() -> None:
    firing = from_rule_event(_event("firing"))
    assert firing is not None and firing.ends_at is None and not firing.timeout
    assert firing.status(at=1e12) == "firing"
    resolved = from_rule_event(_event("resolved", endsAt="1970-01-01T00:02:00.000Z"))
    assert resolved is not None and resolved.ends_at == 120.0
    assert resolved.fingerprint == firing.fingerprint


def test_a_resolved_event_without_an_end_ends_at_its_evaluation() -> None:
    resolved = from_rule_event(_event("resolved"))
    assert resolved is not None and resolved.ends_at == 110.0


@pytest.mark.parametrize(
    "value",
    [b"", b"[]", b'{"state": "firing"}', b'{"state": "firing", "labels": {}, "startsAt": "x"}'],
)
def test_what_is_not_a_rule_event_is_refused(value: bytes) -> None:
    with pytest.raises(RecordDecodeError):
        from_rule_event(value)


def test_grouped_records_round_trip_and_carry_the_route() -> None:
    am = AlertManager(load(None))
    alert = Alert.create({"alertname": "Down", "job": "x"}, {"summary": "s"}, starts_at=1.0)
    (grouped,) = am.route(alert)
    assert Grouped.decode(grouped.encode()) == grouped
    assert grouped.route_id in am.loaded.routes
    with pytest.raises(RecordDecodeError):
        Grouped.decode(b'{"groupKey": 1}')


def test_a_record_of_one_alert_from_before_alerts_travelled_together_is_read() -> None:
    alert = Alert.create({"alertname": "Down"}, starts_at=1.0, updated_at=2.0)
    old = orjson.dumps(
        {"groupKey": "{}:{}", "route": "{}", "groupLabels": {}, "alert": alert_to_dict(alert)}
    )
    assert Grouped.decode(old) == Grouped("{}:{}", "{}", (), (alert,))


@pytest.mark.parametrize("state", ["firing", "resolved", "pending"])
def test_the_rule_agent_takes_in_the_alert_am_intake_would(state: str) -> None:
    """The rule agent routes the event's dict itself; am-intake would have decoded it."""
    value = _event(state)
    assert rule_alert(orjson.loads(value)) == from_rule_event(value)


def test_only_marked_events_are_skipped_by_am_intake() -> None:
    assert taken_in([("other", b""), (TAKEN_IN, b"1")])
    assert not taken_in([("other", b"")]) and not taken_in(())
