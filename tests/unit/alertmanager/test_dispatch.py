"""Aggregation groups on hand-worked timelines (group_wait, group_interval, repeat, resolves).

The timelines marked "Alertmanager 0.25" were played on a real Alertmanager with the same
configuration and alerts posted at the same offsets; its webhook receivers got exactly the
notifications asserted here (times within a few milliseconds).
"""

import orjson

from streams.alertmanager.engine.dispatch import Dispatcher, Limits
from streams.alertmanager.engine.simulate import StaticRoute, Timeline, webhook
from streams.alertmanager.model import Alert
from streams.alertmanager.wire import format_time, parse_postable


def _post(t: Timeline, route: StaticRoute, timeout: float = 5.0, **alert: object) -> None:
    """POST /api/v2/alerts at the timeline's now (resolve_timeout ``timeout``)."""
    for field in ("startsAt", "endsAt"):
        if isinstance(alert.get(field), float):
            alert[field] = format_time(alert[field])  # type: ignore[arg-type]
    (posted,), errors = parse_postable(orjson.dumps([alert]), t.now, timeout)
    assert errors == []
    t.insert(posted, route)


def _fp(instance: str, name: str = "T") -> str:
    return Alert.create({"alertname": name, "instance": instance}).fingerprint


def _seen(t: Timeline, integration: str | None = None) -> list[tuple[float, list[tuple[str, str]]]]:
    """(time, [(instance, status)]) per delivered notification."""
    names = {_fp(i): i for i in "abcdefgh"}
    return [
        (s.at, [(names[fp], st) for fp, st in s.alerts])
        for s in t.sent
        if integration is None or s.integration == integration
    ]


def test_send_resolved_true_and_false_timeline() -> None:
    # Alertmanager 0.25: group_by [alertname], group_wait 1s, group_interval 2s,
    # repeat_interval 60s, resolve_timeout 5s, two webhooks (send_resolved true / false).
    route = StaticRoute("hook", group_wait=1.0, group_interval=2.0, repeat_interval=60.0)
    hooks = [webhook("hook", index=0), webhook("hook", index=1, send_resolved=False)]
    t = Timeline(Dispatcher({"hook": hooks}))
    lab = {"a": {"alertname": "T", "instance": "a"}}
    lab.update({i: {"alertname": "T", "instance": i} for i in "bc"})
    _post(t, route, labels=lab["a"])  # no endsAt: resolves at 5 unless re-posted
    t.advance(0.5)
    _post(t, route, labels=lab["b"], endsAt=100.0)
    t.advance(1.5)
    _post(t, route, labels=lab["c"], endsAt=100.0)
    t.advance(3.0)
    _post(t, route, labels=lab["a"])  # re-posted: now resolves at 8
    t.advance(4.5)
    _post(t, route, labels=lab["b"], startsAt=0.5, endsAt=4.5)
    t.advance(9.5)
    _post(t, route, labels=lab["c"], startsAt=1.5, endsAt=9.5)
    t.advance(15.0)
    firing, resolved = "firing", "resolved"
    assert _seen(t, "webhook[0]") == [
        (1.0, [("a", firing), ("b", firing)]),
        (3.0, [("a", firing), ("b", firing), ("c", firing)]),
        (5.0, [("a", firing), ("b", resolved), ("c", firing)]),
        (9.0, [("a", resolved), ("c", firing)]),
        (11.0, [("c", resolved)]),
    ]
    assert _seen(t, "webhook[1]") == [
        (1.0, [("a", firing), ("b", firing)]),
        (3.0, [("a", firing), ("b", firing), ("c", firing)]),
    ]
    resolved_a = next(n for n in t.sent if n.at == 9.0)
    assert resolved_a.reason == "resolved"
    # everything resolved and notified: the group is empty, and removed at maintenance
    assert not t.dispatcher.group('{}:{alertname="T"}').alerts
    t.advance(46.0)
    assert t.dispatcher.groups == {}


def test_repeat_comes_at_the_first_flush_after_repeat_interval() -> None:
    # Alertmanager 0.25 (resolve_timeout 5m): group_wait 1s, group_interval 2s,
    # repeat_interval 4s: the log
    # entry of the flush at 1 is not older than 4s at 5, so repeats come at 7 and 13.
    route = StaticRoute("hook", group_wait=1.0, group_interval=2.0, repeat_interval=4.0)
    t = Timeline(Dispatcher({"hook": [webhook("hook")]}))
    _post(t, route, 300.0, labels={"alertname": "T", "instance": "a"})
    t.advance(14.5)
    _post(t, route, 300.0, labels={"alertname": "T", "instance": "a"}, startsAt=0.0, endsAt=14.5)
    t.advance(20.0)
    assert [(s.at, s.status, s.reason) for s in t.sent] == [
        (1.0, "firing", "first"),
        (7.0, "firing", "repeat"),
        (13.0, "firing", "repeat"),
        (15.0, "resolved", "all-resolved"),
    ]


def test_group_wait_batches_and_old_alerts_flush_at_once() -> None:
    route = StaticRoute("hook", group_wait=30.0, group_interval=300.0)
    t = Timeline(Dispatcher({"hook": [webhook("hook")]}), tick=1.0)
    t.advance(100.0)
    t.insert(Alert.create({"alertname": "T", "instance": "a"}, starts_at=100.0), route)
    t.advance(110.0)
    t.insert(Alert.create({"alertname": "T", "instance": "b"}, starts_at=110.0), route)
    t.advance(140.0)
    assert _seen(t) == [(130.0, [("a", "firing"), ("b", "firing")])]
    # a new group whose first alert started more than group_wait ago flushes at once
    t.insert(Alert.create({"alertname": "U", "instance": "c"}, starts_at=50.0), route)
    assert [n.group_key for n in t.run_due()] == ['{}:{alertname="U"}']
    # ... but only before the group's first flush: then group_interval rules
    t.insert(Alert.create({"alertname": "U", "instance": "d"}, starts_at=50.0), route)
    assert t.run_due() == []
    assert t.dispatcher.group('{}:{alertname="U"}').next_flush == 440.0


def test_resolved_alert_re_received_after_the_flush_stays() -> None:
    route = StaticRoute("hook", group_wait=1.0, group_interval=2.0)
    d = Dispatcher({"hook": [webhook("hook")]})
    t = Timeline(d, deliver=False)
    a = Alert.create({"alertname": "T", "instance": "a"}, starts_at=0.0, ends_at=None)
    t.insert(a, route)
    t.advance(1.0)
    t.deliver_pending()
    t.insert(a.with_times(ends_at=2.0, updated_at=2.0), route)
    t.advance(3.0)  # decides the resolve; not delivered yet
    (pending,) = d.pending()
    t.insert(a.with_times(ends_at=2.0, updated_at=3.0), route)  # Prometheus re-sends it
    d.delivered(pending.key, 3.5)
    group = d.group('{}:{alertname="T"}')
    assert list(group.alerts) == [_fp("a")]  # kept: received again since the flush
    t.advance(5.0)
    assert d.pending() == []  # nothing new to say
    assert group.alerts == {}  # now carried by a flush that succeeded


def test_an_alert_received_again_unchanged_keeps_the_pending_key() -> None:
    # A rule evaluated again after a worker crash announces its firing alert once more (a
    # repeat); an API client re-posts an alert with a later endsAt. The receiver would be
    # told the same: the pending notification keeps its key.
    route = StaticRoute("hook", group_wait=1.0, group_interval=2.0)
    d = Dispatcher({"hook": [webhook("hook")]})
    t = Timeline(d, deliver=False)
    labels = {"alertname": "T", "instance": "a"}
    t.insert(Alert.create(labels, starts_at=0.0, ends_at=60.0, updated_at=0.0), route)
    t.advance(1.0)
    (first,) = d.pending()
    t.advance(2.5)
    t.insert(Alert.create(labels, starts_at=0.0, ends_at=90.0, updated_at=2.5), route)
    t.advance(9.0)  # three flushes after it
    assert d.pending() == [first] and d.stats.superseded == 0


def test_a_down_receiver_keeps_one_key_until_the_content_changes() -> None:
    route = StaticRoute("hook", group_wait=1.0, group_interval=2.0)
    d = Dispatcher({"hook": [webhook("hook")]})
    t = Timeline(d, deliver=False)
    t.insert(Alert.create({"alertname": "T", "instance": "a"}, starts_at=0.0), route)
    t.advance(1.0)
    (first,) = d.pending()
    t.advance(5.0)  # two more flushes with the same content
    assert d.pending() == [first] and d.is_pending(first.key)
    t.insert(Alert.create({"alertname": "T", "instance": "b"}, starts_at=5.5), route)
    t.advance(7.0)
    (second,) = d.pending()
    assert second.supersedes == first.key and second.key != first.key
    assert not d.is_pending(first.key) and not d.delivered(first.key, 7.5)
    assert d.delivered(second.key, 7.5)
    assert d.stats.superseded == 1
    t.deliver = True
    t.advance(20.0)
    assert t.sent == []  # the log has both alerts: nothing more until repeat_interval


def test_limits_refuse_and_count() -> None:
    route = StaticRoute("hook")
    d = Dispatcher({"hook": []}, limits=Limits(max_groups=1, max_alerts_per_group=2))
    t = Timeline(d)
    for name, instance in [("A", "1"), ("A", "2"), ("A", "3"), ("B", "1"), ("A", "1")]:
        t.insert(Alert.create({"alertname": name, "instance": instance}), route)
    assert list(d.groups) == [('{}:{alertname="A"}', "{}")]
    assert len(d.group('{}:{alertname="A"}').alerts) == 2
    assert d.stats.refused == 2


def test_receiver_without_integrations_drops_resolved_alerts() -> None:
    route = StaticRoute("null", group_wait=1.0, group_interval=2.0)
    d = Dispatcher({"null": []})
    t = Timeline(d)
    t.insert(Alert.create({"alertname": "T"}, starts_at=0.0, ends_at=0.5, updated_at=0.5), route)
    t.advance(1.0)
    assert d.group('{}:{alertname="T"}').alerts == {}


def test_reroute_drops_groups_of_removed_routes() -> None:
    old, kept = StaticRoute("hook", id="0", key="{}/0"), StaticRoute("hook", id="1", key="{}/1")
    d = Dispatcher({"hook": [webhook("hook")]})
    t = Timeline(d)
    t.insert(Alert.create({"alertname": "A"}), old)
    t.insert(Alert.create({"alertname": "B"}), kept)
    faster = StaticRoute("hook", group_interval=10.0, id="1", key="{}/1")
    orphans = d.reroute({"1": faster}.get)
    assert [a.name for a in orphans] == ["A"]
    assert list(d.groups) == [('{}/1:{alertname="B"}', "1")]
    assert d.group('{}/1:{alertname="B"}').opts.group_interval == 10.0
