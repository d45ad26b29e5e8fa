"""Flap damping: an alert bouncing more than N times in a window is held firing."""

from streams.alertmanager.engine.dispatch import Dispatcher
from streams.alertmanager.engine.flapping import FlapSettings, FlapState
from streams.alertmanager.engine.simulate import StaticRoute, Timeline, webhook
from streams.alertmanager.model import Alert

SETTINGS = FlapSettings(changes=2, window=20.0, hold=10.0)
ROUTE = StaticRoute("hook", 1.0, 2.0, 3600.0, flap_detection=SETTINGS)


def _a(instance: str, start: float, end: float | None = None) -> Alert:
    labels = {"alertname": "T", "instance": instance}
    return Alert.create(labels, starts_at=start, ends_at=end, updated_at=end or start)


def test_flapping_alert_is_held_firing_until_stable_for_the_hold_time() -> None:
    t = Timeline(Dispatcher({"hook": [webhook("hook")]}))
    t.insert(_a("a", 0.0), ROUTE)
    bounces = [_a("a", 0.0, 2.5), _a("a", 4.5), _a("a", 4.5, 6.5), _a("a", 8.5), _a("a", 8.5, 10.5)]
    for alert in bounces:
        t.advance(alert.updated_at)
        t.insert(alert, ROUTE)
    t.advance(12.0)
    t.insert(_a("b", 12.0), ROUTE)
    t.advance(25.0)
    a, b = _a("a", 0).fingerprint, _a("b", 0).fingerprint
    assert [(s.at, s.reason, s.alerts) for s in t.sent] == [
        (1.0, "first", ((a, "firing"),)),
        (3.0, "all-resolved", ((a, "resolved"),)),
        (5.0, "new-firing", ((a, "firing"),)),
        # the resolves at 6.5 and 10.5 and the re-fire at 8.5 are not told
        (13.0, "new-firing", ((a, "firing"), (b, "firing"))),
        # stable since 10.5: at 21 the hold is over and the resolve is told
        (21.0, "resolved", ((a, "resolved"), (b, "firing"))),
    ]
    held = t.sent[3].notification.alerts[0]
    assert dict(held.annotations) == {"flapping": "true"} and held.ends_at is None
    assert "flapping" not in dict(t.sent[4].notification.alerts[0].annotations)


def test_changes_outside_the_window_do_not_count() -> None:
    state = FlapState.start("firing", 0.0)
    for at, status in [(0.0, "resolved"), (15.0, "firing"), (30.0, "resolved")]:
        state.observe(status, at, SETTINGS)
    assert not state.flapping  # 0.0 fell out of the 20 s window before the third change
    state.observe("firing", 31.0, SETTINGS)
    assert state.flapping and len(state.changes) == 3


def test_any_change_flaps_with_zero_changes_allowed() -> None:
    state = FlapState.start("firing", 0.0)
    state.observe("resolved", 1.0, FlapSettings(changes=0, window=10.0, hold=5.0))
    assert state.flapping


def test_flap_states_are_saved_with_the_group() -> None:
    d = Dispatcher({"hook": [webhook("hook")]})
    t = Timeline(d)
    t.insert(_a("a", 0.0), ROUTE)
    for alert in (_a("a", 0.0, 1.0), _a("a", 2.0), _a("a", 2.0, 3.0)):
        t.advance(alert.updated_at)
        t.insert(alert, ROUTE)
    again = Dispatcher.from_dict(d.to_dict(), {"hook": [webhook("hook")]})
    (group,) = again.groups.values()
    assert group.flapping(_a("a", 0).fingerprint)
    assert group.opts.flap == SETTINGS
