"""The dispatcher's state survives a restart: pending notifications are sent again, once."""

import json

from streams.alertmanager.engine.dispatch import Dispatcher
from streams.alertmanager.engine.simulate import StaticRoute, Timeline, webhook
from streams.alertmanager.model import Alert

ROUTE = StaticRoute("hook", group_wait=1.0, group_interval=2.0, repeat_interval=3600.0)
RECEIVERS = {"hook": [webhook("hook"), webhook("hook", index=1, send_resolved=False)]}


def _saved(d: Dispatcher) -> dict:
    """What a changelog keeps: JSON text, read back."""
    return json.loads(json.dumps(d.to_dict()))


def _firing(instance: str, at: float = 0.0) -> Alert:
    return Alert.create({"alertname": "T", "instance": instance}, starts_at=at, updated_at=at)


def test_crash_between_decide_and_deliver_resends_the_same_notification_once() -> None:
    d = Dispatcher(RECEIVERS)
    t = Timeline(d, deliver=False)
    t.insert(_firing("a"), ROUTE)
    t.advance(1.0)
    decided = d.pending()
    assert len(decided) == 2
    saved = _saved(d)  # the state was written; the worker dies before any delivery

    restarted = Dispatcher.from_dict(saved, RECEIVERS)
    assert restarted.pending() == decided  # same keys, same alerts: sent again as they were
    t2 = Timeline(restarted, deliver=False, now=1.0)
    t2.advance(5.0)  # two flushes while the receivers are still down
    assert restarted.pending() == decided and restarted.stats.decided == 0
    for n in decided:
        assert restarted.delivered(n.key, 5.2)
    t2.deliver = True
    t2.advance(60.0)
    assert t2.sent == []  # decided once, delivered once, never decided again


def test_a_decision_lost_before_it_was_saved_gets_the_same_key() -> None:
    d = Dispatcher(RECEIVERS)
    t = Timeline(d, deliver=False)
    t.insert(_firing("a"), ROUTE)
    before = _saved(d)
    t.advance(1.0)
    keys = [n.key for n in d.pending()]
    again = Dispatcher.from_dict(before, RECEIVERS)  # the flush was never written
    Timeline(again, deliver=False).advance(1.0)
    assert [n.key for n in again.pending()] == keys


def test_keys_differ_between_flushes_and_group_incarnations() -> None:
    d = Dispatcher({"hook": [webhook("hook")]})
    t = Timeline(d)
    t.insert(_firing("a"), ROUTE)
    t.advance(1.0)
    t.insert(_firing("b", 1.5), ROUTE)
    t.advance(3.0)
    t.insert(Alert.create({"alertname": "T", "instance": "a"}, ends_at=3.5, updated_at=3.5), ROUTE)
    t.insert(Alert.create({"alertname": "T", "instance": "b"}, ends_at=3.5, updated_at=3.5), ROUTE)
    t.advance(40.0)  # resolved, notified, group removed at maintenance
    assert d.groups == {}
    t.insert(_firing("a", 40.0), ROUTE)  # a new incarnation of the same group key
    t.advance(42.0)
    keys = [s.key for s in t.sent]
    assert [s.at for s in t.sent] == [1.0, 3.0, 5.0, 41.0]
    assert len(set(keys)) == 4


def test_saving_by_changed_key_rebuilds_the_same_state() -> None:
    d = Dispatcher(RECEIVERS, retention=100.0)
    copy = Dispatcher(RECEIVERS, retention=100.0)
    t = Timeline(d)

    def sync() -> None:
        for key, state in d.changes().items():
            copy.load(key, json.loads(json.dumps(state)))

    t.insert(_firing("a"), ROUTE)
    t.insert(Alert.create({"alertname": "U"}, starts_at=0.0), ROUTE)
    sync()
    t.advance(1.0)
    sync()
    assert copy.to_dict()["keys"] == d.to_dict()["keys"] and copy.pending() == d.pending() == []
    t.insert(Alert.create({"alertname": "U"}, ends_at=1.5, updated_at=1.5), ROUTE)
    t.advance(40.0)  # U resolved, notified, its group removed; its log entries stay
    sync()
    assert copy.to_dict()["keys"] == d.to_dict()["keys"]
    assert copy.group('{}:{alertname="U"}') is None
    assert copy.state_of('{}:{alertname="U"}')["nflog"]
    t.advance(130.0)  # past retention (and a maintenance): the key is gone
    changes = d.changes()
    assert changes['{}:{alertname="U"}'] is None
    for key, state in changes.items():
        copy.load(key, state)
    assert copy.to_dict()["keys"] == d.to_dict()["keys"]
    assert list(copy.to_dict()["keys"]) == ['{}:{alertname="T"}']


def test_state_is_bounded_once_everything_resolved() -> None:
    d = Dispatcher({"hook": [webhook("hook")]}, retention=600.0)
    t = Timeline(d, tick=1.0)
    for i in range(50):
        t.insert(Alert.create({"alertname": f"A{i % 5}", "n": str(i)}, starts_at=0.0), ROUTE)
    t.advance(10.0)
    for i in range(50):
        resolved = Alert.create({"alertname": f"A{i % 5}", "n": str(i)}, ends_at=10.0)
        t.insert(resolved.with_times(updated_at=10.0), ROUTE)
    t.advance(700.0)
    assert d.to_dict()["keys"] == {} and d.groups == {}
