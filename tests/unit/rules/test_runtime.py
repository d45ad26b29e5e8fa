"""Routing samples to rule groups, and evaluating groups in the stream: restarts, timer, reload."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from streams.errors import RecordDecodeError
from streams.records import Point
from streams.rules import RuleError, load_rule_files
from streams.rules.evaluation.routing import Router, decode_forward, encode_forward, partition_of
from streams.rules.evaluation.runtime import Outcome, RuleRuntime, state_key

T0 = 1_700_000_000_000
RULES = """
groups:
  - name: temps
    rules:
      - alert: Hot
        expr: room_celsius{site!="lab"} > 30
        for: 1m
        labels: {severity: critical}
        annotations: {summary: "{{ $labels.room }} at {{ $value }}"}
      - record: site:room_celsius:max
        expr: max by (site) (room_celsius)
  - name: doors
    rules:
      - alert: DoorOpen
        expr: door_open == 1
"""


@pytest.fixture
def router(tmp_path: Path) -> Router:
    path = tmp_path / "rules.yml"
    path.write_text(RULES)
    return Router(load_rule_files([path]))


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> int:
        return self.now


def forward(router: Router, points: list[Point], offset: int) -> list[Any]:
    return [
        decode_forward(encode_forward(g, [("metrics.raw", 0, offset)], [(0, x) for x in s]))
        for g, s in router.route(points).items()
    ]


def temp(room: str, value: float, ts: int, site: str = "hq") -> Point:
    return Point("room", {"room": room, "site": site}, {"celsius": value}, ts)


def test_only_selected_samples_are_routed_to_their_groups(router: Router) -> None:
    routed = router.route(
        [
            temp("a", 20.0, T0),
            Point("room", {"room": "b"}, {"celsius": 21.0, "name": "text", "humid": 3.0}, T0),
            Point("door", {"door": "1"}, {"open": True}, T0),
            Point("cpu", {"host": "x"}, {"usage": 1.0}, T0),
        ]
    )
    assert {g: [(dict(lb)["__name__"], v) for lb, _, v in s] for g, s in routed.items()} == {
        "temps": [("room_celsius", 20.0), ("room_celsius", 21.0)],
        "doors": [("door_open", 1.0)],
    }


def test_forwarded_records_round_trip_and_bad_ones_are_refused(router: Router) -> None:
    [record] = forward(router, [temp("a", 20.5, T0)], offset=7)
    labels = (("__name__", "room_celsius"), ("room", "a"), ("site", "hq"))
    assert record.group == "temps"
    assert record.samples == [(labels, T0, 20.5, ("metrics.raw", 0, 7))]
    two = encode_forward(
        "g", [("t", 0, 1), ("t", 0, 2)], [(1, (labels, T0, 1.0)), (0, (labels, T0, 2.0))]
    )
    assert [s[3] for s in decode_forward(two).samples] == [("t", 0, 2), ("t", 0, 1)]
    with pytest.raises(RecordDecodeError):
        decode_forward(b'{"v": 2}')
    assert 0 <= partition_of("temps", 8) < 8 and partition_of("temps", 8) == partition_of(
        "temps", 8
    )


def test_group_names_must_be_unique_across_files(tmp_path: Path) -> None:
    for name in ("a.yml", "b.yml"):
        (tmp_path / name).write_text(RULES)
    with pytest.raises(RuleError, match='group "temps": is also defined in'):
        Router(load_rule_files([tmp_path / "a.yml", tmp_path / "b.yml"]))


def states_of(*outcomes: Outcome) -> dict[bytes, bytes]:
    table: dict[bytes, bytes] = {}
    for outcome in outcomes:
        table.update({state_key(g): s for g, s in outcome.states.items()})
    return table


def test_a_breach_goes_pending_then_firing_and_a_restart_keeps_it(router: Router) -> None:
    table: dict[bytes, bytes] = {}
    clock = Clock()
    runtime = RuleRuntime(router, 1, table, clock=clock)
    first = runtime.on_records(0, forward(router, [temp("a", 35.0, T0)], 1))
    assert [(e["rule"], e["state"], e["value"]) for e in first.events] == [("Hot", "pending", 35.0)]
    event = first.events[0]
    assert event["labels"] == {
        "alertname": "Hot",
        "room": "a",
        "severity": "critical",
        "site": "hq",
    }
    assert event["annotations"] == {"summary": "a at 35"}
    assert event["sources"] == [{"topic": "metrics.raw", "partition": 0, "offset": 1}]
    assert [p.measurement for p in first.recorded] == ["site:room_celsius:max"]
    table.update(states_of(first))

    # A new worker: same table, samples read again from history; pending keeps its start.
    history = forward(router, [temp("a", 35.0, T0)], 1)
    restarted = RuleRuntime(router, 1, table, clock=clock)
    restarted.add_history(0, history)
    clock.now = T0 + 60_000
    later = restarted.on_records(0, forward(router, [temp("a", 36.0, T0 + 60_000)], 2))
    assert [(e["state"], e["startsAt"]) for e in later.events] == [("firing", event["startsAt"])]
    table.update(states_of(later))

    again = RuleRuntime(router, 1, table, clock=clock)
    again.add_history(0, history + forward(router, [temp("a", 36.0, T0 + 60_000)], 2))
    clock.now = T0 + 90_000
    quiet = again.on_records(0, forward(router, [temp("a", 37.0, T0 + 90_000)], 3))
    assert quiet.events == []  # still firing: not announced again


def test_events_link_to_their_expression_on_the_graph_page_and_templates_see_the_url(
    tmp_path: Path,
) -> None:
    path = tmp_path / "rules.yml"
    path.write_text(
        "groups:\n  - name: g\n    rules:\n      - alert: Hot\n"
        "        expr: room_celsius > 30\n"
        "        annotations: {see: '{{ $externalURL }}/alerts'}\n"
    )
    router = Router(load_rule_files([path]))
    runtime = RuleRuntime(router, 1, {}, clock=Clock(), external_url="http://w1:6066")
    [event] = runtime.on_records(0, forward(router, [temp("a", 35.0, T0)], 1)).events
    assert event["generatorURL"] == "http://w1:6066/graph?query=room_celsius+%3E+30&range=1h"
    assert event["annotations"] == {"see": "http://w1:6066/alerts"}
    bare = RuleRuntime(router, 1, {}, clock=Clock())  # no external URL: no link
    assert (
        bare.on_records(0, forward(router, [temp("a", 35.0, T0)], 1)).events[0]["generatorURL"]
        == ""
    )


def test_the_timer_resolves_an_alert_whose_series_went_away(router: Router) -> None:
    clock = Clock()
    runtime = RuleRuntime(router, 1, {}, clock=clock, interval_s=10)
    runtime.on_records(0, forward(router, [Point("door", {}, {"open": 1.0}, T0)], 1))
    clock.now = T0 + 295_000  # inside the 5-minute lookback: still open
    assert runtime.tick(0).events == []
    clock.now = T0 + 304_000  # gone, but the group's interval is not up
    assert runtime.due(0) == []
    assert runtime.tick(0).events == []
    clock.now = T0 + 305_000
    assert runtime.due(0) == ["temps", "doors"]
    resolved = runtime.tick(0)
    assert [(e["rule"], e["state"]) for e in resolved.events] == [("DoorOpen", "resolved")]
    assert resolved.events[0]["endsAt"] == "2023-11-14T22:18:25.000Z"


def test_the_timer_fires_a_pending_alert_on_time_without_a_new_sample(router: Router) -> None:
    clock = Clock()
    runtime = RuleRuntime(router, 1, {}, clock=clock, interval_s=3600)
    runtime.tick(0)  # the first whole evaluation: the next is an hour away
    first = runtime.on_records(0, forward(router, [temp("a", 35.0, T0 + 1)], 1))
    assert [e["state"] for e in first.events] == ["pending"]
    clock.now = T0 + 60_000
    assert runtime.due(0) == []
    clock.now = T0 + 60_001  # `for: 1m` ran out
    assert runtime.due(0) == ["temps"]
    fired = runtime.tick(0)
    assert [(e["state"], e["evaluatedAt"]) for e in fired.events] == [
        ("firing", "2023-11-14T22:14:20.001Z")
    ]
    assert fired.recorded == []  # only the alert was evaluated
    assert runtime.due(0) == []


def test_evaluation_time_never_goes_back(router: Router) -> None:
    clock = Clock()
    clock.now = T0 + 600_000
    runtime = RuleRuntime(router, 1, {}, clock=clock)
    runtime.tick(0)
    # A sample older than the last evaluation is evaluated just after that evaluation.
    outcome = runtime.on_records(
        0, forward(router, [Point("door", {}, {"open": 1.0}, T0 + 590_000)], 1)
    )
    assert [e["evaluatedAt"] for e in outcome.events] == ["2023-11-14T22:23:20.001Z"]
    again = runtime.on_records(
        0, forward(router, [Point("door", {}, {"open": 0.0}, T0 + 595_000)], 2)
    )
    assert [e["evaluatedAt"] for e in again.events] == ["2023-11-14T22:23:20.002Z"]


def test_a_sample_from_a_clock_ahead_does_not_move_evaluation_into_the_future(
    router: Router,
) -> None:
    clock = Clock()
    runtime = RuleRuntime(router, 1, {}, clock=clock)
    runtime.on_records(0, forward(router, [temp("a", 20.0, T0)], 1))
    # A room whose sensor's clock is nine minutes ahead: not evaluated before its time.
    skewed = runtime.on_records(0, forward(router, [temp("b", 50.0, T0 + 540_000)], 2))
    assert skewed.events == []
    # Room a breaches 15 s later: seen at its own time, not against a stale series
    # (evaluated nine minutes ahead, its sample would be past the 5-minute lookback).
    clock.now = T0 + 15_000
    breach = runtime.on_records(0, forward(router, [temp("a", 35.0, T0 + 15_000)], 3))
    assert [(e["labels"]["room"], e["state"], e["evaluatedAt"]) for e in breach.events] == [
        ("a", "pending", "2023-11-14T22:13:35.000Z")
    ]
    clock.now = T0 + 540_000  # the skewed sample's time comes: it is evaluated then
    assert ("b", "pending") in {(e["labels"]["room"], e["state"]) for e in runtime.tick(0).events}


def test_a_reload_keeps_the_state_of_alerts_that_remain(router: Router, tmp_path: Path) -> None:
    clock = Clock()
    runtime = RuleRuntime(router, 1, {}, clock=clock)
    runtime.on_records(0, forward(router, [Point("door", {}, {"open": 1.0}, T0)], 1))
    path = tmp_path / "new.yml"
    path.write_text(RULES.replace("door_open == 1", "door_open > 0"))
    fresh = Router(load_rule_files([path]))
    runtime.reload(fresh)
    outcome = runtime.on_records(
        0, forward(fresh, [Point("door", {}, {"open": 1.0}, T0 + 10_000)], 2)
    )
    assert outcome.events == []  # the same alert, still firing
