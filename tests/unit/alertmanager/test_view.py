"""The cluster view's answers to GET /api/v2/alerts, /alerts/groups and alerts why.

The configuration and alerts below were posted to a real Alertmanager 0.25; the expected
fingerprints, receivers, states, group order and alert order are what it answered, for the
unfiltered queries and for each filter (tests/integration/alertmanager/test_view_oracle.py
compares the two live).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson
import pytest

from streams.alertmanager.api.view import ClusterView
from streams.alertmanager.config.loader import AlertmanagerConfig, parse_config
from streams.alertmanager.config.route import group_key
from streams.alertmanager.engine.dispatch import Dispatcher
from streams.alertmanager.engine.simulate import webhook
from streams.alertmanager.model import Alert
from streams.alertmanager.wire import ApiError
from streams.errors import RecordDecodeError

CONFIG = parse_config(
    """
route:
  receiver: ops
  group_by: [alertname]
  group_wait: 1h
  routes:
    - matchers: ['severity="critical"']
      receiver: pager
      continue: true
    - matchers: ['team=~"db|web"']
      receiver: team
      group_by: [team]
receivers:
  - name: ops
  - name: pager
  - name: team
inhibit_rules:
  - source_matchers: ['severity="critical"']
    target_matchers: ['severity="warning"']
    equal: [cluster]
""",
    "am.yml",
)

DOWN = Alert.create(
    {"alertname": "Down", "severity": "critical", "cluster": "a", "team": "db"},
    {"summary": "s"},
    starts_at=100.0,
    ends_at=400.0,
    updated_at=100.0,
    timeout=True,
)
SLOW_A = Alert.create(
    {"alertname": "Slow", "severity": "warning", "cluster": "a"},
    starts_at=100.0,
    ends_at=400.0,
    updated_at=100.0,
    timeout=True,
)
SLOW_B = Alert.create(
    {"alertname": "Slow", "severity": "warning", "cluster": "b", "job": "x"},
    starts_at=100.0,
    ends_at=400.0,
    updated_at=100.0,
    timeout=True,
    generator_url="http://g/x",
)
FP_DOWN, FP_SLOW_A, FP_SLOW_B = "2d1abd75b4ef5934", "13d9f32f0d9e6f99", "6d0e9bfddcde34bf"


def route_into(
    dispatcher: Dispatcher, config: AlertmanagerConfig, alerts: Iterable[Alert], now: float
) -> None:
    """What the intake does: one insert per route the alert matches, keyed by group key."""
    for alert in alerts:
        labels = alert.label_map()
        for route in config.route.match(labels):
            group_labels = route.group_labels(labels)
            dispatcher.insert(alert, route, group_key(route, group_labels), group_labels, now)


def follow(view: ClusterView, dispatcher: Dispatcher) -> None:
    """What every worker's follower of the dispatch changelog does (through JSON)."""
    for key, state in dispatcher.changes().items():
        view.apply_group_state(key, None if state is None else orjson.loads(orjson.dumps(state)))


def cluster(*alerts: Alert, config: AlertmanagerConfig = CONFIG) -> tuple[ClusterView, Dispatcher]:
    view, owner = ClusterView(config, new_id=iter(["s1", "s2", "s3"]).__next__), Dispatcher()
    route_into(owner, config, alerts, now=100.0)
    follow(view, owner)
    return view, owner


def summary(alerts: list[dict[str, Any]]) -> list[tuple[str, list[str], str]]:
    return [
        (a["fingerprint"], [r["name"] for r in a["receivers"]], a["status"]["state"])
        for a in alerts
    ]


def group_summary(groups: list[dict[str, Any]]) -> list[tuple[dict[str, str], str, list[Any]]]:
    return [
        (
            g["labels"],
            g["receiver"]["name"],
            [(a["fingerprint"], [r["name"] for r in a["receivers"]]) for a in g["alerts"]],
        )
        for g in groups
    ]


def test_alerts_as_alertmanager_lists_them() -> None:
    view, _ = cluster(DOWN, SLOW_A, SLOW_B)
    alerts = view.alerts([], {}, "", now=200.0)
    assert summary(alerts) == [
        (FP_SLOW_A, ["ops"], "suppressed"),
        (FP_DOWN, ["pager", "team"], "active"),
        (FP_SLOW_B, ["ops"], "active"),
    ]
    assert alerts[0]["status"] == {
        "inhibitedBy": [FP_DOWN],
        "silencedBy": [],
        "state": "suppressed",
    }
    assert alerts[2]["generatorURL"] == "http://g/x"
    assert alerts[1]["endsAt"] == "1970-01-01T00:06:40.000Z"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"receiver": "ops"}, [(FP_SLOW_A, ["ops"], "suppressed"), (FP_SLOW_B, ["ops"], "active")]),
        ({"receiver": "pag.*"}, [(FP_DOWN, ["pager", "team"], "active")]),
        ({"receiver": "team"}, [(FP_DOWN, ["pager", "team"], "active")]),
        ({"flags": {"active": False}}, [(FP_SLOW_A, ["ops"], "suppressed")]),
        (
            {"flags": {"inhibited": False}},
            [(FP_DOWN, ["pager", "team"], "active"), (FP_SLOW_B, ["ops"], "active")],
        ),
        (
            {"filters": ['severity="warning"']},
            [(FP_SLOW_A, ["ops"], "suppressed"), (FP_SLOW_B, ["ops"], "active")],
        ),
        ({"filters": ["a=b,c"]}, []),
    ],
)
def test_alert_filters(query: dict[str, Any], expected: list[Any]) -> None:
    view, _ = cluster(DOWN, SLOW_A, SLOW_B)
    found = view.alerts(
        query.get("filters", []), query.get("flags", {}), query.get("receiver", ""), now=200.0
    )
    assert summary(found) == expected


def test_groups_as_alertmanager_lists_them() -> None:
    view, _ = cluster(DOWN, SLOW_A, SLOW_B)
    assert group_summary(view.groups([], {}, "", now=200.0)) == [
        ({"team": "db"}, "team", [(FP_DOWN, ["pager", "team"])]),
        ({"alertname": "Down"}, "pager", [(FP_DOWN, ["pager", "team"])]),
        ({"alertname": "Slow"}, "ops", [(FP_SLOW_B, ["ops"]), (FP_SLOW_A, ["ops"])]),
    ]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"receiver": "pag.*"}, [({"alertname": "Down"}, "pager", [(FP_DOWN, ["pager"])])]),
        ({"receiver": "team"}, [({"team": "db"}, "team", [(FP_DOWN, ["team"])])]),
        (
            {"flags": {"active": False}},
            [({"alertname": "Slow"}, "ops", [(FP_SLOW_A, ["ops"])])],
        ),
        (
            {"flags": {"inhibited": False}},
            [
                ({"team": "db"}, "team", [(FP_DOWN, ["pager", "team"])]),
                ({"alertname": "Down"}, "pager", [(FP_DOWN, ["pager", "team"])]),
                ({"alertname": "Slow"}, "ops", [(FP_SLOW_B, ["ops"])]),
            ],
        ),
    ],
)
def test_group_filters(query: dict[str, Any], expected: list[Any]) -> None:
    view, _ = cluster(DOWN, SLOW_A, SLOW_B)
    found = view.groups(
        query.get("filters", []), query.get("flags", {}), query.get("receiver", ""), now=200.0
    )
    assert group_summary(found) == expected


def test_ended_alerts_are_not_listed_but_one_ending_now_is() -> None:
    view, _ = cluster(DOWN, SLOW_A, SLOW_B)
    assert len(view.alerts([], {}, "", now=400.0)) == 3
    assert view.alerts([], {}, "", now=400.001) == []
    assert view.groups([], {}, "", now=400.001) == []


def test_invalid_parameters_get_alertmanagers_messages() -> None:
    view, _ = cluster(DOWN)
    for call in (view.alerts, view.groups):
        with pytest.raises(ApiError, match=r"^bad matcher format: foo$") as caught:
            call(["foo"], {}, "", 0.0)
        assert caught.value.status == 400
        with pytest.raises(ApiError, match=r'^matcher value contains unescaped double quote: "b$'):
            call(['a="b'], {}, "", 0.0)
        with pytest.raises(ApiError, match=r"^failed to parse receiver param: "):
            call([], {}, "(", 0.0)


def test_an_alert_in_several_groups_is_one_alert_and_the_latest_copy_stands() -> None:
    view, owner = cluster(DOWN)
    newer = DOWN.with_times(updated_at=150.0, ends_at=450.0)
    # Only the pager group hears of the newer copy yet (its owner is another partition).
    pager_route = CONFIG.route.routes[0]
    key = group_key(pager_route, pager_route.group_labels(DOWN.label_map()))
    owner.insert(newer, pager_route, key, pager_route.group_labels(DOWN.label_map()), 150.0)
    follow(view, owner)
    [alert] = view.alerts([], {}, "", now=420.0)
    assert alert["endsAt"] == "1970-01-01T00:07:30.000Z"
    indexed = view.index.get(FP_DOWN)
    assert indexed is not None and indexed.receivers == ("pager", "team")


def test_inhibition_follows_the_source_alert_coming_and_going() -> None:
    view, _ = cluster(DOWN, SLOW_A)
    labels = SLOW_A.label_map()
    assert view.muting().inhibitor.mutes(labels, 200.0) == [FP_DOWN]
    indexed = view.index.get(FP_DOWN)
    assert indexed is not None
    for key in {key for key, _ in indexed.groups}:
        view.apply_group_state(key, None)
    assert view.index.get(FP_DOWN) is None
    assert view.muting().inhibitor.mutes(labels, 200.0) == []
    assert summary(view.alerts([], {}, "", now=200.0)) == [(FP_SLOW_A, ["ops"], "active")]


def test_a_reload_rebuilds_the_inhibitor_with_the_alerts_held() -> None:
    view, _ = cluster(DOWN, SLOW_A)
    view.configure(parse_config("route: {receiver: ops}\nreceivers: [{name: ops}]\n", "am.yml"))
    assert view.muting().inhibitor.mutes(SLOW_A.label_map(), 200.0) == []
    view.configure(CONFIG)
    assert view.muting().inhibitor.mutes(SLOW_A.label_map(), 200.0) == [FP_DOWN]


def test_a_state_that_is_not_one_is_refused_and_changes_nothing() -> None:
    view, _ = cluster(DOWN)
    with pytest.raises(RecordDecodeError, match="group key k"):
        view.apply_group_state("k", {"nflog": "nonsense"})
    assert len(view.alerts([], {}, "", now=200.0)) == 1


def test_receivers_in_file_order() -> None:
    assert ClusterView(CONFIG).receivers() == ["ops", "pager", "team"]


def test_why_names_routes_groups_mutes_and_deliveries() -> None:
    config = parse_config(
        "route: {receiver: ops, group_by: [alertname], group_wait: 10s}\n"
        "receivers: [{name: ops}]\n",
        "am.yml",
    )
    view = ClusterView(config, new_id=iter(["s1"]).__next__)
    owner = Dispatcher({"ops": [webhook("ops")]})
    down = Alert.create({"alertname": "Down", "job": "db"}, starts_at=100.0, updated_at=100.0)
    route_into(owner, config, [down], now=100.0)
    [sent] = owner.due(now=110.0)
    owner.delivered(sent.key, now=111.0)
    follow(view, owner)
    body = orjson.dumps(
        {
            "matchers": [{"name": "job", "value": "db", "isRegex": False}],
            "startsAt": "1970-01-01T00:02:00Z",
            "endsAt": "1970-01-01T01:00:00Z",
            "createdBy": "me",
            "comment": "known",
        }
    )
    for key, value in view.prepare_silence(body, now=115.0):
        view.apply_silence(key.encode(), value)

    why = view.why(down.fingerprint, now=130.0)

    assert why is not None
    assert why["alert"]["status"] == {
        "inhibitedBy": [],
        "silencedBy": ["s1"],
        "state": "suppressed",
    }
    assert why["routes"] == [
        {"id": "{}", "key": "{}", "receiver": "ops", "group_key": '{}:{alertname="Down"}'}
    ]
    assert [s["id"] for s in why["silences"]] == ["s1"]
    [group] = why["groups"]
    assert group["group_key"] == '{}:{alertname="Down"}' and group["receiver"] == "ops"
    assert [(d["integration"], d["delivered_at"], d["carried"]) for d in group["deliveries"]] == [
        ("webhook[0]", 111.0, "firing")
    ]
    assert view.why("0000000000000000", now=130.0) is None


def test_why_still_tells_of_an_alert_gone_from_its_group() -> None:
    config = parse_config(
        "route: {receiver: ops, group_by: [alertname], group_wait: 10s, group_interval: 1m}\n"
        "receivers: [{name: ops}]\n",
        "am.yml",
    )
    view, owner = ClusterView(config), Dispatcher({"ops": [webhook("ops")]})
    down = Alert.create({"alertname": "Down"}, starts_at=100.0, updated_at=100.0)
    route_into(owner, config, [down], now=100.0)
    for at, later in ((110.0, down.with_times(ends_at=120.0, updated_at=120.0)), (170.0, None)):
        [sent] = owner.due(now=at)
        owner.delivered(sent.key, now=at)
        if later is not None:
            route_into(owner, config, [later], now=later.updated_at)
    follow(view, owner)
    assert view.alerts([], {}, "", now=171.0) == []

    why = view.why(down.fingerprint, now=171.0)

    assert why is not None and why["alert"] is None and why["routes"] == []
    [group] = why["groups"]
    assert group["alert"] is None
    assert [(d["delivered_at"], d["carried"]) for d in group["deliveries"]] == [
        (110.0, "firing"),
        (170.0, "resolved"),
    ]


def test_a_new_owner_puts_its_table_in_place_of_what_was_followed() -> None:
    view, _ = cluster(DOWN, SLOW_A, SLOW_B)
    # The previous owner of the Slow group left it with SLOW_B alone; the follower had not
    # read that yet when this worker took the partition over from its table.
    previous = Dispatcher()
    route_into(previous, CONFIG, [SLOW_B], now=100.0)
    table = [(k, s) for k, s in previous.changes().items() if s is not None]
    assert [k for k, _ in table] == ['{}:{alertname="Slow"}']
    view.take_over(lambda key: key in dict(table), table)
    assert summary(view.alerts([], {}, "", now=200.0)) == [
        (FP_DOWN, ["pager", "team"], "active"),
        (FP_SLOW_B, ["ops"], "active"),
    ]


def test_a_new_owner_forgets_keys_its_table_no_longer_holds() -> None:
    view, _ = cluster(DOWN, SLOW_A, SLOW_B)
    # The Slow group key was deleted (a tombstone not followed yet): the table has nothing.
    view.take_over(lambda key: 'alertname="Slow"' in key, [])
    assert summary(view.alerts([], {}, "", now=200.0)) == [(FP_DOWN, ["pager", "team"], "active")]
    # Keys it does not own are left as followed.
    view.take_over(lambda key: False, [])
    assert summary(view.alerts([], {}, "", now=200.0)) == [(FP_DOWN, ["pager", "team"], "active")]
