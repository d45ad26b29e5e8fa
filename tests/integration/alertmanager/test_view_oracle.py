"""The cluster view answers the API as a real Alertmanager 0.25 does, on the same input.

The same alerts and silences go to Debian's ``prometheus-alertmanager`` (through its API) and
to a :class:`~streams.alertmanager.api.view.ClusterView` (alerts routed into a dispatcher as the
intake does, its changelog records followed; silences prepared from the same bodies, with
Alertmanager's ids and instants). The answers to ``GET /api/v2/alerts``, ``/alerts/groups``
(for several filters, flags and receivers) and ``/silences`` must be the same JSON.
"""

from __future__ import annotations

import json
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from streams.alertmanager.api.view import ClusterView
from streams.alertmanager.config.loader import parse_config
from streams.alertmanager.config.route import group_key
from streams.alertmanager.engine.dispatch import Dispatcher
from streams.alertmanager.wire import parse_postable
from streams.stack.peers import alertmanager
from streams.stack.processes import ManagedProcess, free_port

pytestmark = pytest.mark.integration

CONFIG = """
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
    - matchers: ['team="web"']
      receiver: web
receivers:
  - name: ops
  - name: pager
  - name: team
  - name: web
inhibit_rules:
  - source_matchers: ['severity="critical"']
    target_matchers: ['severity="warning"']
    equal: [cluster]
"""

ALERTS: list[dict[str, Any]] = [
    {
        "labels": {"alertname": "Down", "severity": "critical", "cluster": "a", "team": "db"},
        "annotations": {"summary": "db down"},
    },
    {"labels": {"alertname": "Slow", "severity": "warning", "cluster": "a"}},
    {
        "labels": {"alertname": "Slow", "severity": "warning", "cluster": "b", "job": "x"},
        "generatorURL": "http://prometheus.example/graph",
    },
    {"labels": {"alertname": "Slow", "severity": "warning", "job": "x", "instance": "i1"}},
    {"labels": {"alertname": "Slow", "severity": "info", "job": "a", "instance": "i2"}},
    {"labels": {"alertname": "Web", "team": "web", "severity": "warning"}},
    {
        "labels": {"alertname": "Gone", "severity": "warning"},
        "startsAt": "2024-01-01T00:00:00Z",
        "endsAt": "2024-01-01T00:05:00Z",
    },
]

QUERIES: list[tuple[list[str], dict[str, bool], str]] = [
    ([], {}, ""),
    ([], {}, "ops"),
    ([], {}, "pag.*|web"),
    ([], {}, "team"),
    ([], {"active": False}, ""),
    ([], {"silenced": False}, ""),
    ([], {"inhibited": False}, ""),
    ([], {"silenced": False, "inhibited": False, "active": True}, ""),
    (['severity="warning"'], {}, ""),
    (["severity=~warn.*", "cluster!=a"], {}, ""),
    (["job="], {}, ""),
    (["a=b,c"], {}, ""),
]


@pytest.fixture
def real_am(tmp_path: Path) -> Iterator[str]:
    workdir = tmp_path
    config = workdir / "alertmanager.yml"
    config.write_text(CONFIG)
    port = free_port()
    process: ManagedProcess = alertmanager(port, workdir, config)
    process.start().wait_ready(30)
    yield f"http://127.0.0.1:{port}/api/v2"
    process.stop()


def _call(method: str, url: str, body: Any = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data, {"Content-Type": "application/json"}, method=method)
    with urllib.request.urlopen(request, timeout=10) as answer:
        text = answer.read()
    return json.loads(text) if text else None


def _query_url(base: str, path: str, query: tuple[list[str], dict[str, bool], str]) -> str:
    filters, flags, receiver = query
    params = [("filter", f) for f in filters] + [(k, str(v).lower()) for k, v in flags.items()]
    if receiver:
        params.append(("receiver", receiver))
    return f"{base}/{path}?{urllib.parse.urlencode(params)}"


def _time(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def _without_empty_generator_url(data: Any) -> Any:
    """Alertmanager leaves out an empty ``generatorURL`` (its ``omitempty``)."""
    if isinstance(data, list):
        return [_without_empty_generator_url(x) for x in data]
    if isinstance(data, dict):
        return {
            k: _without_empty_generator_url(v)
            for k, v in data.items()
            if not (k == "generatorURL" and v == "")
        }
    return data


class Mirror:
    """A cluster view fed what Alertmanager was given, with Alertmanager's ids and times."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.config = parse_config(CONFIG, "am.yml")
        self.ids: list[str] = []
        self.view = ClusterView(self.config, new_id=lambda: self.ids.pop(0))
        self.owner = Dispatcher()

    def post_alerts(self, alerts: list[dict[str, Any]]) -> None:
        _call("POST", f"{self.base}/alerts", alerts)
        listed = _call("GET", f"{self.base}/alerts")
        received = _time(listed[0]["updatedAt"])  # one request: one arrival instant
        parsed, errors = parse_postable(orjson.dumps(alerts), received, 300.0)
        assert errors == []
        for alert in parsed:
            labels = alert.label_map()
            for route in self.config.route.match(labels):
                found = route.group_labels(labels)
                self.owner.insert(alert, route, group_key(route, found), found, received)
        for key, state in self.owner.changes().items():
            self.view.apply_group_state(key, orjson.loads(orjson.dumps(state)))

    def post_silence(self, body: dict[str, Any]) -> str:
        silence_id = str(_call("POST", f"{self.base}/silences", body)["silenceID"])
        written = _call("GET", f"{self.base}/silence/{silence_id}")
        if body.get("id") != silence_id:
            self.ids.append(silence_id)
        records = self.view.prepare_silence(orjson.dumps(body), _time(written["updatedAt"]))
        assert records[-1][0] == silence_id
        self._apply(records)
        return silence_id

    def expire(self, silence_id: str) -> None:
        _call("DELETE", f"{self.base}/silence/{silence_id}")
        written = _call("GET", f"{self.base}/silence/{silence_id}")
        self._apply(self.view.prepare_expire(silence_id, _time(written["updatedAt"])))

    def _apply(self, records: list[tuple[str, bytes]]) -> None:
        for key, value in records:
            self.view.apply_silence(key.encode(), value)


def _silence(matchers: list[tuple[str, str, bool]], minutes: float, **extra: Any) -> dict[str, Any]:
    now = time.time()
    return {
        "matchers": [{"name": n, "value": v, "isRegex": r} for n, v, r in matchers],
        "startsAt": datetime.fromtimestamp(now - 60).astimezone().isoformat(),
        "endsAt": datetime.fromtimestamp(now + minutes * 60).astimezone().isoformat(),
        "createdBy": "oracle",
        "comment": "compare",
        **extra,
    }


def test_alerts_and_groups_as_alertmanager_answers(real_am: str) -> None:
    mirror = Mirror(real_am)
    mirror.post_alerts(ALERTS)
    mirror.post_silence(_silence([("instance", "i1", False)], 60))
    for query in QUERIES:
        for path, ask in (("alerts", mirror.view.alerts), ("alerts/groups", mirror.view.groups)):
            theirs = _call("GET", _query_url(real_am, path, query))
            ours = ask(*query, time.time())
            assert _without_empty_generator_url(ours) == theirs, (path, query)
    everything = _call("GET", f"{real_am}/alerts")
    assert {a["status"]["state"] for a in everything} == {"active", "suppressed"}


def test_silences_as_alertmanager_answers(real_am: str) -> None:
    mirror = Mirror(real_am)
    first = mirror.post_silence(_silence([("job", "db", False)], 60))
    second = mirror.post_silence(_silence([("team", "web|db", True)], 30))
    body = _call("GET", f"{real_am}/silence/{first}")
    longer = {**body, "endsAt": datetime.fromtimestamp(time.time() + 7200).astimezone().isoformat()}
    del longer["status"], longer["updatedAt"]
    assert mirror.post_silence(longer) == first  # updated in place
    changed = {**longer, "matchers": [{"name": "job", "value": "web", "isRegex": False}]}
    replaced = mirror.post_silence(changed)
    assert replaced != first
    mirror.expire(second)

    theirs = _call("GET", f"{real_am}/silences")
    assert [s["status"]["state"] for s in theirs] == ["active", "expired", "expired"]
    _same(mirror.view.silences([], time.time()), theirs)
    for filters in (['job="web"'], ["team=~web|db"], ["job=db"], ['team=~"web|db"']):
        url = _query_url(real_am, "silences", (filters, {}, ""))
        _same(mirror.view.silences(filters, time.time()), _call("GET", url))


def _same(ours: Any, theirs: Any, where: str = "") -> None:
    """Equal JSON, times within 2 ms: Alertmanager reads its clock anew when it expires the
    silence an update replaces, microseconds after the instant the mirror was given."""
    if isinstance(theirs, dict):
        assert isinstance(ours, dict) and set(ours) == set(theirs), where
        for key in theirs:
            _same(ours[key], theirs[key], f"{where}.{key}")
    elif isinstance(theirs, list):
        assert isinstance(ours, list) and len(ours) == len(theirs), where
        for i, (a, b) in enumerate(zip(ours, theirs, strict=True)):
            _same(a, b, f"{where}[{i}]")
    elif isinstance(theirs, str) and theirs.endswith("Z") and theirs[:4].isdigit():
        assert abs(_time(ours) - _time(theirs)) <= 0.002, (where, ours, theirs)
    else:
        assert ours == theirs, where
