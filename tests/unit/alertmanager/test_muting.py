"""Silences, inhibition and time intervals keep alerts out of notifications; records say why."""

from collections.abc import Mapping

from streams.alertmanager.config.matchers import parse_matchers
from streams.alertmanager.config.timeintervals import TimeInterval, TimePeriod, parse_time_range
from streams.alertmanager.engine.dispatch import Dispatcher
from streams.alertmanager.engine.inhibit import Inhibitor
from streams.alertmanager.engine.muting import Muting
from streams.alertmanager.engine.simulate import StaticRoute, Timeline, webhook
from streams.alertmanager.model import Alert

ROUTE = StaticRoute("hook", group_wait=1.0, group_interval=2.0, repeat_interval=3600.0)
GROUP = '{}:{alertname="T"}'


class FakeSilences:
    """Silences by id: matcher text, active or not."""

    def __init__(self) -> None:
        self.active: dict[str, str] = {}

    def mutes(self, labels: Mapping[str, str], at: float) -> list[str]:
        return sorted(
            sid
            for sid, text in self.active.items()
            if all(m.matches(labels) for m in parse_matchers(text))
        )


def _alert(instance: str, at: float = 0.0, **more: str) -> Alert:
    return Alert.create({"alertname": "T", "instance": instance, **more}, starts_at=at)


def _timeline(**kw: object) -> tuple[Timeline, FakeSilences]:
    silences = FakeSilences()
    t = Timeline(Dispatcher({"hook": [webhook("hook")]}), muting=Muting(silences=silences), **kw)
    return t, silences


def _fp(instance: str) -> str:
    return _alert(instance).fingerprint


def test_silenced_alerts_are_left_out_and_the_record_says_by_what() -> None:
    t, silences = _timeline()
    silences.active["s1"] = "instance=~b|c"
    t.insert(_alert("a"), ROUTE)
    t.insert(_alert("b"), ROUTE)
    t.advance(1.0)
    (sent,) = t.sent
    assert [fp for fp, _ in sent.alerts] == [_fp("a")]
    muted = t.dispatcher.group(GROUP).muted
    assert list(muted) == [_fp("b")] and muted[_fp("b")].silenced_by == ("s1",)


def test_negative_matcher_silence_mutes_everything_else() -> None:
    t, silences = _timeline()
    silences.active["s1"] = 'alertname="T", instance!="a"'
    for i in "abc":
        t.insert(_alert(i), ROUTE)
    t.advance(1.0)
    assert [fp for fp, _ in t.sent[0].alerts] == [_fp("a")]


def test_alert_resolved_while_silenced_is_never_notified_and_leaves() -> None:
    t, silences = _timeline()
    silences.active["s1"] = "instance=b"
    t.insert(_alert("a"), ROUTE)
    t.insert(_alert("b"), ROUTE)
    t.advance(1.0)
    t.insert(_alert("b").with_times(ends_at=1.5, updated_at=1.5), ROUTE)
    t.advance(3.0)
    assert len(t.sent) == 1
    assert list(t.dispatcher.group(GROUP).alerts) == [_fp("a")]


def test_a_never_notified_alert_is_announced_at_the_next_flush_when_its_silence_ends() -> None:
    # as Alertmanager 0.25 does: it is a new firing alert for the notification log
    t, silences = _timeline()
    silences.active["s1"] = "instance=b"
    t.insert(_alert("a"), ROUTE)
    t.insert(_alert("b"), ROUTE)
    t.advance(2.0)
    del silences.active["s1"]
    assert t.dispatcher.silences_ended(["s1"], t.now) == []  # b is news: no hurry
    t.advance(3.0)
    assert [(s.at, s.reason, len(s.alerts)) for s in t.sent] == [
        (1.0, "first", 1),
        (3.0, "new-firing", 2),
    ]


def test_an_alert_silenced_after_it_was_notified_is_told_again_when_the_silence_ends() -> None:
    # Alertmanager would wait for repeat_interval (1 h here); pulseline tells at once
    t, silences = _timeline()
    t.insert(_alert("a"), ROUTE)
    t.advance(1.0)
    silences.active["s1"] = "instance=a"
    t.advance(10.0)
    assert len(t.sent) == 1
    del silences.active["s1"]
    t.advance(10.5)
    assert t.dispatcher.silences_ended(["s1"], t.now) == [GROUP]
    t.run_due()
    assert [(s.at, s.reason) for s in t.sent] == [(1.0, "first"), (10.5, "unsilenced")]
    t.advance(20.0)
    assert len(t.sent) == 2  # told once, then back to repeat_interval


def test_without_the_hook_the_next_flush_tells() -> None:
    t, silences = _timeline()
    t.insert(_alert("a"), ROUTE)
    t.advance(1.0)
    silences.active["s1"] = "instance=a"
    t.advance(4.0)
    del silences.active["s1"]
    t.advance(6.0)
    assert [(s.at, s.reason) for s in t.sent] == [(1.0, "first"), (5.0, "unsilenced")]


class _Rule:
    def __init__(self, source: str, target: str, equal: tuple[str, ...]) -> None:
        self.source_matchers = parse_matchers(source)
        self.target_matchers = parse_matchers(target)
        self.equal = equal


def test_inhibited_alert_is_notified_once_its_source_resolves() -> None:
    inhibitor = Inhibitor([_Rule("severity=critical", "severity=warning", ("cluster",))])
    t = Timeline(Dispatcher({"hook": [webhook("hook")]}), muting=Muting(inhibitor=inhibitor))
    route = StaticRoute("hook", group_wait=1.0, group_interval=2.0, group_by=("severity",))
    down = Alert.create({"alertname": "Down", "severity": "critical", "cluster": "a"})
    slow_a = Alert.create({"alertname": "Slow", "severity": "warning", "cluster": "a"})
    slow_b = Alert.create({"alertname": "Slow", "severity": "warning", "cluster": "b"})
    for alert in (down, slow_a, slow_b):
        inhibitor.put(alert)
        t.insert(alert, route)
    t.advance(1.0)
    warnings = t.dispatcher.group('{}:{severity="warning"}')
    assert warnings.muted[slow_a.fingerprint].inhibited_by == (down.fingerprint,)
    resolved = down.with_times(ends_at=1.5, updated_at=1.5)
    inhibitor.put(resolved)
    t.insert(resolved, route)
    t.advance(3.0)
    by_group = [(s.at, s.group_key, sorted(fp for fp, _ in s.alerts)) for s in t.sent]
    assert by_group == [
        (1.0, '{}:{severity="critical"}', [down.fingerprint]),
        (1.0, '{}:{severity="warning"}', [slow_b.fingerprint]),
        (3.0, '{}:{severity="critical"}', [down.fingerprint]),
        (3.0, '{}:{severity="warning"}', sorted([slow_a.fingerprint, slow_b.fingerprint])),
    ]


def _minutes(name: str, start: str, end: str) -> TimeInterval:
    return TimeInterval(name, (TimePeriod(times=(parse_time_range(start, end),)),))


def test_active_time_intervals_mute_outside_them() -> None:
    intervals = {"office": _minutes("office", "00:01", "00:03")}
    route = StaticRoute("hook", 1.0, 10.0, 3600.0, active_time_intervals=("office",))
    t = Timeline(Dispatcher({"hook": [webhook("hook")]}, time_intervals=intervals))
    t.insert(_alert("a"), route)
    t.advance(60.0)
    assert t.sent == []
    record = t.dispatcher.group(GROUP).muted[_fp("a")]
    assert record.time_muted == ("outside active_time_intervals: office",)
    t.advance(62.0)
    assert [s.at for s in t.sent] == [61.0]


def test_mute_time_intervals_mute_inside_them() -> None:
    intervals = {"night": _minutes("night", "00:00", "00:01")}
    route = StaticRoute("hook", 1.0, 10.0, 3600.0, mute_time_intervals=("night",))
    t = Timeline(Dispatcher({"hook": [webhook("hook")]}, time_intervals=intervals))
    t.insert(_alert("a"), route)
    t.advance(59.5)
    assert t.sent == []
    assert t.dispatcher.group(GROUP).muted[_fp("a")].time_muted == ("mute_time_intervals: night",)
    t.advance(62.0)
    assert [s.at for s in t.sent] == [61.0]
    assert t.dispatcher.group(GROUP).muted == {}
