"""amtool (Alertmanager 0.25's) against the API served from a cluster view: alerts are added
and queried, silences added, listed, updated and expired, the configuration shown.

The API runs in this process on a free port of 127.0.0.1, its alerts routed into a
dispatcher as the intake does and followed by the view as every worker follows the
changelog; silences go through the view's prepared records, as the agent produces them.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import time
from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest
from aiohttp import web

from agents.alertmanager_api import add_routes
from streams.alertmanager.api.status import masked_config
from streams.alertmanager.api.view import ClusterView
from streams.alertmanager.config.loader import parse_config
from streams.alertmanager.config.route import group_key
from streams.alertmanager.engine.dispatch import Dispatcher
from streams.alertmanager.wire import parse_postable

CONFIG = """\
global:
  smtp_auth_password: hunter2
route:
  receiver: ops
  group_by: [alertname]
  routes:
    - matchers: ['severity="critical"']
      receiver: pager
receivers:
  - name: ops
  - name: pager
    slack_configs: [{api_url: "https://hooks.slack.example/T0/x", channel: "#pager"}]
"""


class Service:
    """What the agent does for the API, on one process."""

    def __init__(self) -> None:
        self.config = parse_config(CONFIG, "am.yml")
        self.view = ClusterView(self.config)
        self.owner = Dispatcher()
        self.started_at = time.time()

    async def post_alerts(self, body: bytes) -> list[str]:
        now = time.time()
        alerts, errors = parse_postable(body, now, self.config.global_.resolve_timeout)
        for alert in alerts:
            labels = alert.label_map()
            for route in self.config.route.match(labels):
                found = route.group_labels(labels)
                self.owner.insert(alert, route, group_key(route, found), found, now)
        for key, state in self.owner.changes().items():
            self.view.apply_group_state(key, orjson.loads(orjson.dumps(state)))
        return errors

    def alerts(self, filters: list[str], flags: dict[str, bool], receiver: str) -> list[Any]:
        return self.view.alerts(filters, flags, receiver, time.time())

    def groups(self, filters: list[str], flags: dict[str, bool], receiver: str) -> list[Any]:
        return self.view.groups(filters, flags, receiver, time.time())

    def why(self, fingerprint: str) -> dict[str, Any] | None:
        return self.view.why(fingerprint, time.time())

    def silences(self, filters: list[str]) -> list[Any]:
        return self.view.silences(filters, time.time())

    def silence(self, silence_id: str) -> Any | None:
        return self.view.silence(silence_id, time.time())

    async def put_silence(self, body: bytes) -> str:
        records = self.view.prepare_silence(body, time.time())
        self._apply(records)
        return records[-1][0]

    async def expire_silence(self, silence_id: str) -> None:
        self._apply(self.view.prepare_expire(silence_id, time.time()))

    def _apply(self, records: list[tuple[str, bytes]]) -> None:
        for key, value in records:
            self.view.apply_silence(key.encode(), value)

    def status(self) -> dict[str, Any]:
        return self.view.status(CONFIG, time.time(), self.started_at)

    def receivers(self) -> list[str]:
        return self.view.receivers()


@pytest.fixture
async def api() -> AsyncIterator[str]:
    app = web.Application()
    add_routes(app.router, Service())
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"--alertmanager.url=http://127.0.0.1:{port}"
    await runner.cleanup()


async def amtool(url: str, *args: str) -> str:
    binary = shutil.which("amtool")
    if binary is None:
        pytest.fail("amtool is not installed (Debian's prometheus-alertmanager package)")
    process = await asyncio.create_subprocess_exec(
        binary, url, *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=30)
    assert process.returncode == 0, err.decode()
    return out.decode()


async def test_alerts_added_and_queried(api: str) -> None:
    await amtool(api, "alert", "add", "alertname=Down", "severity=critical", "job=db")
    await amtool(api, "alert", "add", "alertname=Slow", "severity=warning")
    listed = json.loads(await amtool(api, "alert", "query", "-o", "json"))
    assert sorted((a["labels"]["alertname"], a["receivers"][0]["name"]) for a in listed) == [
        ("Down", "pager"),
        ("Slow", "ops"),
    ]
    critical = json.loads(await amtool(api, "alert", "query", "-o", "json", "severity=critical"))
    assert [a["labels"]["alertname"] for a in critical] == ["Down"]
    to_ops = json.loads(await amtool(api, "alert", "query", "-o", "json", "--receiver=ops"))
    assert [a["labels"]["alertname"] for a in to_ops] == ["Slow"]


async def test_silences_added_queried_updated_and_expired(api: str) -> None:
    await amtool(api, "alert", "add", "alertname=Down", "severity=critical")
    first = (
        await amtool(api, "silence", "add", "alertname=Down", "-c", "known", "-d", "1h")
    ).strip()
    silenced = json.loads(await amtool(api, "alert", "query", "-o", "json", "--silenced"))
    assert [a["status"]["silencedBy"] for a in silenced] == [[first]]
    assert (await amtool(api, "silence", "query", "-q")).split() == [first]
    await amtool(api, "silence", "update", first, "-d", "2h")
    [updated] = json.loads(await amtool(api, "silence", "query", "-o", "json"))
    assert updated["id"] == first
    await amtool(api, "silence", "expire", first)
    assert (await amtool(api, "silence", "query", "-q")).split() == []
    assert (await amtool(api, "silence", "query", "-q", "--expired")).split() == [first]


async def test_config_shown_with_secrets_masked(api: str) -> None:
    shown = await amtool(api, "config", "show")
    assert shown.strip() == masked_config(CONFIG).strip()
    assert "hunter2" not in shown and "hooks.slack.example" not in shown
