"""The differential scenarios, played on the engine alone with a simulated clock.

The scenarios (``tests/integration/alertmanager/oracle_scenarios.py``) are checked against
a real Alertmanager 0.25 by the integration tests. Here their alertmanager.yml is loaded,
alerts are routed with the configured route tree, and the dispatcher, the silences and the
inhibitor decide on an exact clock: every notification must come at the very tick the
outline says, with the same alerts.
"""

import sys
from pathlib import Path

import orjson
import pytest

sys.path.insert(0, str(Path(__file__).parents[2] / "integration" / "alertmanager"))

from oracle import Expire, Post, Scenario
from oracle import Silence as SilenceStep
from oracle_normal import _alert_text, _text
from oracle_scenarios import SCENARIOS

from streams.alertmanager.api.silencejson import parse_postable as parse_silence
from streams.alertmanager.config.loader import parse_config
from streams.alertmanager.config.route import group_key
from streams.alertmanager.engine.dispatch import Dispatcher
from streams.alertmanager.engine.inhibit import Inhibitor
from streams.alertmanager.engine.muting import Muting
from streams.alertmanager.engine.silences import Silences
from streams.alertmanager.engine.simulate import Timeline
from streams.alertmanager.wire import format_time, parse_postable

TICK = 0.1


def _play(scenario: Scenario) -> dict[str, list[tuple[float, str]]]:
    config = parse_config(scenario.config_for("http://127.0.0.1:9"), scenario.name)
    receivers = {name: r.integrations() for name, r in config.receivers.items()}
    silences = Silences()
    inhibitor = Inhibitor(config.inhibit_rules)
    t = Timeline(
        Dispatcher(receivers, time_intervals=config.time_intervals),
        tick=TICK,
        muting=Muting(silences=silences, inhibitor=inhibitor),
    )
    named: dict[str, str] = {}
    for step in scenario.steps:
        t.advance(step.at)
        if isinstance(step, Post):
            body = orjson.dumps([a.body(0.0) for a in step.alerts])
            alerts, errors = parse_postable(body, t.now, config.global_.resolve_timeout)
            assert errors == []
            for alert in alerts:
                inhibitor.put(alert)
                labels = alert.label_map()
                for route in config.route.match(labels):
                    grouped = route.group_labels(labels)
                    key = group_key(route, grouped)
                    t.dispatcher.insert(alert, route, key, grouped, t.now)
        elif isinstance(step, SilenceStep):
            body = {
                "matchers": [
                    {"name": m.name, "value": m.value, "isRegex": m.regex, "isEqual": m.equal}
                    for m in step.matchers
                ],
                "startsAt": format_time(t.now),
                "endsAt": format_time(step.ends),
                "createdBy": "scenario",
                "comment": step.name,
            }
            named[step.name] = silences.set(parse_silence(body, t.now), t.now)[-1].id
        else:
            assert isinstance(step, Expire)
            silences.expire(named[step.name], t.now)
            t.dispatcher.silences_ended([named[step.name]], t.now)
    t.advance(scenario.end)
    outline: dict[str, list[tuple[float, str]]] = {}
    for sent in t.sent:
        n = sent.notification
        alerts = " ".join(
            sorted(_alert_text(a.labels, a.status(n.decided_at), n.group_labels) for a in n.alerts)
        )
        outline.setdefault(f"/{n.receiver}", []).append(
            (round(sent.at, 6), f"{_text(n.group_labels)}: {alerts}")
        )
    return {path: sorted(found) for path, found in outline.items()}


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_scenario_on_a_simulated_clock(scenario: Scenario) -> None:
    expected = {path: sorted(found) for path, found in scenario.expected.items()}
    assert _play(scenario) == expected
