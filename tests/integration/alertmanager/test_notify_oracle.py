"""Notifiers against the real Alertmanager 0.25 (Debian's ``prometheus-alertmanager``).

- Webhook: Alertmanager posts a group of alerts to a local capture server; pulseline's
  webhook notifier sends the same alerts, in the same order, to the same server; the bodies
  must be the same bytes (with and without ``max_alerts``, without ``send_resolved``).
- Forward: pulseline posts alerts to Alertmanager's ``/api/v2/alerts``; Alertmanager lists
  the firing one with its labels, annotations, start and generator URL, and not the
  resolved one.
"""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pytest
from aiohttp import web

from streams.alertmanager.config.receivers import GlobalDefaults, Receiver, with_globals
from streams.alertmanager.model import Alert
from streams.alertmanager.notify import NotifyStats, Services, deliver, notifiers_for
from streams.alertmanager.notify.http import USER_AGENT, AiohttpTransport
from streams.alertmanager.notify.notification import Notification
from streams.stack.peers import alertmanager
from streams.stack.processes import ManagedProcess, free_port

pytestmark = pytest.mark.integration

EXTERNAL_URL = "http://am.example:9093"


@dataclass
class Posted:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class RawCapture:
    """Keeps every POST's raw bytes; tests wait on a condition, woken by each arrival."""

    port: int
    posts: list[Posted] = field(default_factory=list)
    arrived: asyncio.Condition = field(default_factory=asyncio.Condition)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        async with self.arrived:
            self.posts.append(Posted(request.path, dict(request.headers), body))
            self.arrived.notify_all()
        return web.Response(text="ok")

    async def wait_for(self, done: Callable[[list[Posted]], bool], timeout: float) -> None:
        async with self.arrived:
            await asyncio.wait_for(self.arrived.wait_for(lambda: done(self.posts)), timeout)

    def first(self, path: str) -> Posted:
        return next(p for p in self.posts if p.path == path)


@pytest.fixture(scope="module")
def capture_port() -> int:
    return free_port()


@pytest.fixture(scope="module")
def real_am(tmp_path_factory: pytest.TempPathFactory, capture_port: int) -> Iterator[int]:
    """An Alertmanager whose receiver 'team.a-b' has three webhooks into the capture."""
    workdir = tmp_path_factory.mktemp("am")
    hook = f"http://127.0.0.1:{capture_port}"
    config = workdir / "alertmanager.yml"
    config.write_text(
        f"""
route:
  receiver: team.a-b
  group_by: [alertname]
  group_wait: 0s
  group_interval: 1h
  repeat_interval: 1h
  routes:
  - matchers: ['alertname="Forwarded"']
    receiver: none
receivers:
- name: team.a-b
  webhook_configs:
  - url: {hook}/am/all
  - url: {hook}/am/cut
    max_alerts: 2
  - url: {hook}/am/firing
    send_resolved: false
- name: none
"""
    )
    port = free_port()
    process: ManagedProcess = alertmanager(port, workdir, config)
    process.argv.append(f"--web.external-url={EXTERNAL_URL}")
    process.start().wait_ready(30)
    yield port
    process.stop()


def _time(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


# Alertmanager orders a group's alerts by job, then instance, then labels: a, b, c.
ALERTS: list[dict[str, Any]] = [
    {
        "labels": {"alertname": "Down", "job": "node", "instance": "a", "zone": "é <1>"},
        "annotations": {"summary": 'a & b <i>"quoted"</i>\u2028\ttab\x01', "runbook": "r"},
        "startsAt": "2024-03-01T10:00:00.123456Z",
        "generatorURL": "http://prom:9090/graph?g0.expr=up&g0.tab=1",
    },
    {
        "labels": {"alertname": "Down", "job": "node", "instance": "b"},
        "annotations": {"runbook": "r"},
        "startsAt": "2024-03-01T10:00:01Z",
        "endsAt": "2099-01-01T00:00:00Z",
    },
    {
        "labels": {"alertname": "Down", "job": "node", "instance": "c"},
        "annotations": {"runbook": "r"},
        "startsAt": "2024-03-01T10:00:01.5Z",
        "endsAt": "2024-03-01T10:05:00.25Z",
    },
]


def _as_alert(posted: dict[str, Any]) -> Alert:
    ends = posted.get("endsAt")
    return Alert.create(
        posted["labels"],
        posted.get("annotations", {}),
        starts_at=_time(posted["startsAt"]),
        ends_at=_time(ends) if ends else None,
        generator_url=posted.get("generatorURL", ""),
    )


def _post_json(url: str, body: Any) -> int:
    request = urllib.request.Request(
        url, json.dumps(body).encode(), {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        return int(answer.status)


def _get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as answer:
        return json.loads(answer.read())


async def test_webhook_bodies_match_alertmanager_byte_for_byte(
    real_am: int, capture_port: int
) -> None:
    cap = RawCapture(capture_port)
    app = web.Application()
    app.router.add_post("/{tail:.*}", cap.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", capture_port).start()
    transport = AiohttpTransport()
    try:
        status = await asyncio.to_thread(
            _post_json, f"http://127.0.0.1:{real_am}/api/v2/alerts", ALERTS
        )
        assert status == 200
        paths = ["/am/all", "/am/cut", "/am/firing"]
        await cap.wait_for(lambda got: {p.path for p in got} >= set(paths), timeout=30)
        at = time.time()

        receiver = with_globals(
            Receiver.model_validate(
                {
                    "name": "team.a-b",
                    "webhook_configs": [
                        {"url": cap.url("/pulseline/all")},
                        {"url": cap.url("/pulseline/cut"), "max_alerts": 2},
                        {"url": cap.url("/pulseline/firing"), "send_resolved": False},
                    ],
                }
            ),
            GlobalDefaults(),
        )
        notification = Notification(
            receiver="team.a-b",
            group_key='{}:{alertname="Down"}',
            group_labels=(("alertname", "Down"),),
            alerts=tuple(_as_alert(a) for a in ALERTS),
            idempotency_key="team.a-b/1",
            at=at,
            external_url=EXTERNAL_URL,
        )
        stats = NotifyStats()
        # Alertmanager's bodies exactly (without the key pulseline adds by default)
        for notifier in notifiers_for(receiver, Services(transport, key_in_body=False)):
            assert await deliver(notifier, notification, stats)
        await cap.wait_for(lambda got: len(got) >= 6, timeout=10)
    finally:
        await transport.close()
        await runner.cleanup()

    for name in ("all", "cut", "firing"):
        theirs, ours = cap.first(f"/am/{name}"), cap.first(f"/pulseline/{name}")
        assert ours.body == theirs.body, name
        assert ours.headers["Content-Type"] == theirs.headers["Content-Type"]
        assert theirs.headers["User-Agent"] == "Alertmanager/0.25.0"
        assert ours.headers["User-Agent"] == USER_AGENT
        assert ours.headers["Idempotency-Key"] == "team.a-b/1"
    cut = json.loads(cap.first("/am/cut").body)
    assert (len(cut["alerts"]), cut["truncatedAlerts"]) == (2, 1)  # the case is exercised
    firing = json.loads(cap.first("/am/firing").body)
    assert [a["status"] for a in firing["alerts"]] == ["firing", "firing"]
    every = json.loads(cap.first("/am/all").body)
    assert [a["status"] for a in every["alerts"]] == ["firing", "firing", "resolved"]
    assert dict(stats.sent) == {("team.a-b", "webhook"): 3}


async def test_forwarded_alerts_show_in_alertmanager(real_am: int) -> None:
    api = f"http://127.0.0.1:{real_am}"
    now = time.time()
    firing = Alert.create(
        {"alertname": "Forwarded", "host": "f1"},
        {"summary": "forwarded by pulseline"},
        starts_at=now - 60,
        generator_url="http://pulseline/rules",
    )
    resolved = Alert.create(
        {"alertname": "Forwarded", "host": "f2"}, starts_at=now - 60, ends_at=now - 1
    )
    receiver = with_globals(
        Receiver.model_validate({"name": "legacy", "alertmanager_configs": [{"url": api}]}),
        GlobalDefaults(),
    )
    transport = AiohttpTransport()
    try:
        (notifier,) = notifiers_for(receiver, Services(transport))
        notification = Notification(
            "legacy", "{}:{}", (), (firing, resolved), "legacy/1", at=now, external_url=""
        )
        assert await deliver(notifier, notification, NotifyStats())
    finally:
        await transport.close()

    listed = await asyncio.to_thread(_get_json, f"{api}/api/v2/alerts")
    forwarded = [a for a in listed if a["labels"].get("alertname") == "Forwarded"]
    assert [a["labels"] for a in forwarded] == [{"alertname": "Forwarded", "host": "f1"}]
    (alert,) = forwarded
    assert alert["annotations"] == {"summary": "forwarded by pulseline"}
    assert alert["generatorURL"] == "http://pulseline/rules"
    assert alert["fingerprint"] == firing.fingerprint
    assert _time(alert["startsAt"]) == pytest.approx(now - 60, abs=0.001)
    assert alert["status"]["state"] == "active"
    # No endsAt was sent for the firing alert: Alertmanager applies its resolve_timeout (5m).
    assert _time(alert["endsAt"]) - _time(alert["updatedAt"]) == pytest.approx(300, abs=1)
