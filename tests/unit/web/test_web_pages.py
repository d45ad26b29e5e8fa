"""The models of /alerts, /rules and /silences, from a real rule runtime, and their HTML."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import orjson
import pytest

from streams.alertmanager.api.view import ClusterView
from streams.alertmanager.config.loader import parse_config
from streams.records import Point
from streams.rules import load_rule_files
from streams.rules.evaluation.routing import Router, decode_forward, encode_forward, partition_of
from streams.rules.evaluation.runtime import RuleRuntime
from streams.web.alerts import alerts_page
from streams.web.errors import PageError
from streams.web.render import render
from streams.web.rules import rules_page
from streams.web.silences import SilenceForm, silence_body, silences_page

T0 = 1_700_000_000_000
MIN = 60_000
RULES = """
groups:
  - name: temps
    rules:
      - alert: Hot
        expr: room_celsius > 30
        for: 1m
        labels: {severity: critical}
        annotations: {summary: "{{ $labels.room }} is <hot>"}
      - record: site:pair:sum
        expr: room_celsius + ignoring(room) room_celsius
  - name: doors
    rules:
      - alert: DoorOpen
        expr: door_open == 1
"""


@pytest.fixture
def runtime(tmp_path: Path) -> tuple[RuleRuntime, list[int]]:
    path = tmp_path / "rules.yml"
    path.write_text(RULES)
    router = Router(load_rule_files([path]))
    now = [T0]
    rt = RuleRuntime(router, 2, {}, clock=lambda: now[0], interval_s=60)
    return rt, now


def feed(rt: RuleRuntime, partition: int, points: list[Point]) -> None:
    for group, samples in rt.router.route(points).items():
        record = decode_forward(
            encode_forward(group, [("metrics.raw", 0, 1)], [(0, s) for s in samples])
        )
        rt.on_records(partition_of(group, rt.partitions), [record])


def temps(ts: int, **rooms: float) -> list[Point]:
    return [Point("room", {"room": r}, {"celsius": v}, ts) for r, v in rooms.items()]


def test_rule_alerts_pending_then_firing_with_their_mute_state(runtime: Any) -> None:
    rt, now = runtime
    feed(rt, 0, temps(T0, a=35.0, b=20.0))
    now[0] = T0 + 2 * MIN
    feed(rt, 0, temps(T0 + 2 * MIN, a=36.0, b=20.0, c=40.0))
    managed = [
        {
            "labels": {"alertname": "Hot", "room": "a", "severity": "critical"},
            "annotations": {},
            "startsAt": "2023-11-14T22:13:20.000Z",
            "fingerprint": "x",
            "status": {"state": "suppressed", "silencedBy": ["s-1"], "inhibitedBy": []},
        }
    ]
    page = alerts_page(rt.status(), managed, now_ms=T0 + 3 * MIN)
    owned = [s for s in rt.status() if s.owned]
    hot = next(r for r in page.rules if r.name == "Hot")
    assert hot.state == "firing" and hot.group == "temps"
    # a fired after its minute; c appeared now and is pending; b never breached
    assert [
        (dict(r.labels)["room"], r.state, r.since_ago, r.value, r.silenced_by) for r in hot.alerts
    ] == [
        ("a", "firing", "3m ago", "36", ["s-1"]),
        ("c", "pending", "1m ago", "40", []),
    ]
    assert hot.alerts[0].labels[0] == ("alertname", "Hot")
    assert hot.alerts[0].annotations == [("summary", "a is <hot>")]
    assert (page.firing, page.pending) == (1, 1)
    assert page.elsewhere == sum(1 for s in rt.status() if not s.owned)
    assert len(owned) + page.elsewhere == 2
    assert page.manager[0].state == "silenced"


def test_rules_health_last_evaluation_and_other_workers_groups(runtime: Any) -> None:
    rt, now = runtime
    feed(rt, 0, temps(T0, a=35.0, b=20.0))  # two rooms: the recording rule's matching fails
    page = rules_page(rt.status(), default_interval_s=60.0, now_ms=T0 + 30_000)
    temps_group = next(g for g in page.groups if g.name == "temps")
    assert temps_group.owned and temps_group.last_eval_ago == "30s ago"
    health = {r.name: (r.health, r.error) for r in temps_group.rules}
    assert health["Hot"] == ("ok", "")
    assert health["site:pair:sum"][0] == "err"
    assert "many-to-many" in health["site:pair:sum"][1] or "duplicate" in health["site:pair:sum"][1]
    assert page.unhealthy == 1
    doors = next(g for g in page.groups if g.name == "doors")
    # no sample of doors yet: its partition has no state here (another worker's, as far as
    # this one knows), unless it shares the partition of temps
    assert doors.owned == (partition_of("doors", 2) == partition_of("temps", 2))
    assert doors.last_eval == "never" and {r.health for r in doors.rules} == {"unknown"}
    # once b's sample is older than the lookback, a whole evaluation without the error clears it
    now[0] = T0 + 6 * MIN
    feed(rt, 0, temps(T0 + 6 * MIN, a=35.0))
    for p in rt.owned:
        rt.tick(p)
    page = rules_page(rt.status(), default_interval_s=60.0, now_ms=now[0])
    assert page.unhealthy == 0


def cluster() -> ClusterView:
    config = parse_config("route: {receiver: ops}\nreceivers: [{name: ops}]\n", "am.yml")
    return ClusterView(config, new_id=iter(["s-1", "s-2"]).__next__)


def test_a_silence_made_by_the_form_is_listed_and_expires() -> None:
    view = cluster()
    form = SilenceForm(
        matchers='alertname="Hot", room=~"a|b"',
        duration="1h",
        created_by="ops",
        comment="known <issue>",
    )
    body = orjson.dumps(silence_body(form, now_s=T0 / 1000))
    for key, value in view.prepare_silence(body, now=T0 / 1000):
        view.apply_silence(key.encode(), value)
    page = silences_page(view.silences([], T0 / 1000 + 60), now_ms=T0 + MIN)
    (row,) = page.by_state["active"]
    assert (row.id, row.matchers, row.ends_when, row.comment) == (
        "s-1",
        ['alertname="Hot"', 'room=~"a|b"'],
        "in 59m",
        "known <issue>",
    )
    for key, value in view.prepare_expire("s-1", now=T0 / 1000 + 120):
        view.apply_silence(key.encode(), value)
    page = silences_page(view.silences([], T0 / 1000 + 180), now_ms=T0 + 3 * MIN)
    assert [r.id for r in page.by_state["expired"]] == ["s-1"] and not page.by_state["active"]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"matchers": "", "created_by": "a", "comment": "b"}, "matchers"),
        ({"matchers": "alertname=~(", "created_by": "a", "comment": "b"}, "matchers"),
        ({"matchers": "a=1", "duration": "soon", "created_by": "a", "comment": "b"}, "duration"),
        ({"matchers": "a=1", "created_by": " ", "comment": "b"}, "created_by"),
        ({"matchers": "a=1", "created_by": "a", "comment": ""}, "comment"),
    ],
)
def test_a_bad_form_names_its_field(fields: dict[str, str], field: str) -> None:
    with pytest.raises(PageError) as caught:
        silence_body(SilenceForm.from_fields(fields), now_s=0.0)
    assert caught.value.field == field and str(caught.value).startswith(f"/silences, {field}: ")


def test_an_end_time_instead_of_a_duration() -> None:
    body = silence_body(
        SilenceForm(matchers="a=1", duration="2030-01-01T00:00:00Z", created_by="a", comment="b"),
        now_s=0.0,
    )
    assert body["endsAt"] == "2030-01-01T00:00:00.000Z"


class Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.rows: list[dict[str, str | None]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "tr":
            self.rows.append(dict(attrs))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_the_pages_render_escaped_with_the_nav_bar(runtime: Any) -> None:
    rt, _ = runtime
    feed(rt, 0, temps(T0, a=35.0))
    page = alerts_page(rt.status(), [], now_ms=T0)
    html = render("alerts.html", here="/alerts", title="Alerts", page=page)
    assert "a is &lt;hot&gt;" in html and "<hot>" not in html
    parsed = Collect()
    parsed.feed(html)
    assert {
        "class": "alert rule-alert",
        "data-alertname": "Hot",
        "data-state": "pending",
    } in parsed.rows
    for path in ("/alerts", "/rules", "/silences", "/graph"):
        assert f'href="{path}"' in html
    rules_html = render(
        "rules.html",
        here="/rules",
        title="Rules",
        page=rules_page(rt.status(), default_interval_s=60, now_ms=T0),
    )
    assert 'data-rule="Hot"' in rules_html
    silences_html = render(
        "silences.html",
        here="/silences",
        title="Silences",
        page=silences_page([], now_ms=T0, error="/silences, comment: say why"),
    )
    assert 'id="form-error"' in silences_html and 'name="matchers"' in silences_html
