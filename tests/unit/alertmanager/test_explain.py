"""``pulseline alerts why``: groups, muting and deliveries of one alert."""

import json

from streams.alertmanager.config.matchers import parse_matchers
from streams.alertmanager.engine.dispatch import Dispatcher
from streams.alertmanager.engine.explain import explain, groups_of
from streams.alertmanager.engine.muting import Muting
from streams.alertmanager.engine.silences import Silence, Silences
from streams.alertmanager.engine.simulate import StaticRoute, Timeline, webhook
from streams.alertmanager.model import Alert

FAST = StaticRoute("team", 1.0, 2.0, 3600.0, id="0", key="{}/0")
BY_JOB = StaticRoute("ops", 1.0, 2.0, 3600.0, group_by=("job",), id="1", key="{}/1")


def _setup() -> tuple[Timeline, Silences, Alert, Alert]:
    silences = Silences(new_id=iter(["s1"]).__next__)
    d = Dispatcher({"team": [webhook("team")], "ops": [webhook("ops"), webhook("ops", index=1)]})
    t = Timeline(d, muting=Muting(silences=silences))
    db = Alert.create({"alertname": "Down", "job": "db"}, starts_at=0.0)
    web = Alert.create({"alertname": "Down", "job": "web"}, starts_at=0.0)
    for alert in (db, web):
        t.insert(alert, FAST)  # a route with continue: the alert is in two groups
        t.insert(alert, BY_JOB)
    t.advance(1.0)
    silences.set(Silence("", parse_matchers("job=web"), 1.0, 100.0, "me", "deploy"), now=1.0)
    t.insert(web.with_times(ends_at=2.5, updated_at=2.5), FAST)
    t.insert(web.with_times(ends_at=2.5, updated_at=2.5), BY_JOB)
    t.advance(3.0)
    return t, silences, db, web


def test_deliveries_per_group_and_integration() -> None:
    t, _, db, _ = _setup()
    why = explain(db.fingerprint, t.dispatcher.groups.values())
    assert [(g.group_key, g.receiver, g.route_id) for g in why.groups] == [
        ('{}/0:{alertname="Down"}', "team", "0"),
        ('{}/1:{job="db"}', "ops", "1"),
    ]
    team, ops = why.groups
    assert [(d.integration, d.delivered_at, d.carried, d.reason) for d in team.deliveries] == [
        ("webhook[0]", 1.0, "firing", "first")
    ]
    assert [d.integration for d in ops.deliveries] == ["webhook[0]", "webhook[1]"]
    assert team.muted is None and not team.flapping and team.alert == db


def test_a_silenced_resolve_is_explained_and_the_alert_leaves() -> None:
    t, _, _, web = _setup()
    groups = t.dispatcher.groups.values()
    # the alert left its groups: what mutes it now is asked with its labels
    assert explain(web.fingerprint, groups, muting=t.muting, at=3.0).silenced_by == ()
    why = explain(web.fingerprint, groups, labels=web.label_map(), muting=t.muting, at=3.0)
    assert why.silenced_by == ("s1",) and why.inhibited_by == ()
    team = why.groups[0]
    assert team.group_key == '{}/0:{alertname="Down"}'
    # the flush at 3 found it resolved and silenced: not told, and gone from the group
    assert team.alert is None and team.muted is None
    assert [(d.delivered_at, d.carried) for d in team.deliveries] == [(1.0, "firing")]


def test_explained_from_saved_states_as_from_live_groups() -> None:
    t, _, db, _ = _setup()
    states = [json.loads(json.dumps(s)) for s in t.dispatcher.to_dict()["keys"].values()]
    live = explain(db.fingerprint, t.dispatcher.groups.values()).to_dict()
    assert explain(db.fingerprint, groups_of(states)).to_dict() == live
    assert live["groups"][0]["deliveries"][0]["carried"] == "firing"


def test_an_unknown_alert_is_in_no_group() -> None:
    t, _, _, _ = _setup()
    assert explain("0000000000000000", t.dispatcher.groups.values()).groups == ()
