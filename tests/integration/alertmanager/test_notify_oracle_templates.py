"""Slack and email notifications rendered as the real Alertmanager 0.25 renders them.

Alertmanager sends a group to a Slack capture server and to an SMTP server (aiosmtpd);
pulseline's Slack and email notifiers, with the same configuration and templates, send the
same alerts to the same servers. The Slack bodies must be the same bytes (default templates
and a configuration's own); the emails the same Subject (default template), To, From and
custom headers and the same text and HTML bodies (HTML-escaped as Go's html/template does).
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiohttp import web
from aiosmtpd.controller import Controller

from streams.alertmanager.config.receivers import GlobalDefaults, Receiver, with_globals
from streams.alertmanager.model import Alert
from streams.alertmanager.notify import NotifyStats, Services, deliver, notifiers_for
from streams.alertmanager.notify.http import AiohttpTransport
from streams.alertmanager.notify.notification import Notification
from streams.alertmanager.notify.templating import Templating
from streams.alertmanager.templating.templates import Templates, template_data
from streams.stack.peers import alertmanager
from streams.stack.processes import free_port

pytestmark = pytest.mark.integration

EXTERNAL_URL = "http://am.example:9093"
CUSTOM_TEMPLATE = """
{{ define "team.title" }}[{{ .Status | toUpper }}] {{ .CommonLabels.alertname }}{{ end }}
{{ define "team.html" }}<h1 title="{{ .CommonLabels.alertname }}">{{ .Status }}</h1>
<ul>{{ range .Alerts }}<li><a href="{{ .GeneratorURL }}">{{ .Annotations.summary }}</a></li>
{{ end }}</ul>{{ end }}
{{ define "team.text" }}{{ range .Alerts }}* {{ .Labels.instance }}: {{ .Annotations.summary }}
{{ end }}{{ end }}
"""
SLACK_CUSTOM = {
    "channel": "#ops-{{ .CommonLabels.job }}",
    "title": '{{ template "team.title" . }}',
    "text": '{{ template "team.text" . }}',
    "color": '{{ if eq .Status "firing" }}#ff0000{{ else }}good{{ end }}',
    "fields": [
        {"title": "Firing", "value": "{{ .Alerts.Firing | len }}"},
        {
            "title": "Hosts",
            "value": "{{ range .Alerts }}{{ .Labels.instance }} {{ end }}",
            "short": False,
        },
    ],
    "actions": [{"type": "button", "text": "Runbook", "url": "{{ .CommonAnnotations.runbook }}"}],
    "short_fields": True,
    "send_resolved": True,
}
EMAIL = {
    "to": "Ops <ops@example.org>",
    "require_tls": False,
    "headers": {"X-Team": "{{ .CommonLabels.job }}"},
    "text": '{{ template "team.text" . }}',
    # Alertmanager's default HTML layout is not pulseline's (pulseline ships its own), so the
    # bodies are compared on a template of the configuration's own, escaping included.
    "html": '{{ template "team.html" . }}',
    "send_resolved": True,
}


@dataclass
class Inbox:
    messages: dict[str, EmailMessage] = field(default_factory=dict)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages["pulseline" if parsed["Idempotency-Key"] else "alertmanager"] = parsed
        return "250 OK"


@dataclass
class Capture:
    port: int
    posts: dict[str, bytes] = field(default_factory=dict)
    arrived: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        async with self.arrived:
            self.posts.setdefault(request.path, body)
            self.arrived.notify_all()
        return web.Response(text="ok")

    async def wait_for(self, done: Callable[[dict[str, bytes]], bool], timeout: float) -> None:
        async with self.arrived:
            await asyncio.wait_for(self.arrived.wait_for(lambda: done(self.posts)), timeout)


@pytest.fixture(scope="module")
def ports() -> dict[str, int]:
    return {"capture": free_port(), "smtp": free_port(), "am": free_port()}


@pytest.fixture(scope="module")
def inbox(ports: dict[str, int]) -> Iterator[Inbox]:
    box = Inbox()
    controller = Controller(box, hostname="127.0.0.1", port=ports["smtp"])
    controller.start()
    yield box
    controller.stop()


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("am-templates")
    (folder / "team.tmpl").write_text(CUSTOM_TEMPLATE)
    return folder


def _receivers(hook: str, smtp: int) -> list[dict[str, Any]]:
    return [
        {
            "name": "team.a-b",
            "slack_configs": [
                {"api_url": f"{hook}/default", "channel": "#ops"},
                {"api_url": f"{hook}/custom", **SLACK_CUSTOM},
            ],
            "email_configs": [
                {**EMAIL, "from": "am@example.org", "smarthost": f"127.0.0.1:{smtp}"}
            ],
        }
    ]


def _config(workdir: Path, ports: dict[str, int]) -> dict[str, Any]:
    hook = f"http://127.0.0.1:{ports['capture']}"
    return {
        "route": {
            "receiver": "team.a-b",
            "group_by": ["alertname"],
            "group_wait": "0s",
            "group_interval": "1h",
            "repeat_interval": "1h",
        },
        "receivers": _receivers(hook, ports["smtp"]),
        "templates": [str(workdir / "*.tmpl")],
    }


def _time(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


ALERTS: list[dict[str, Any]] = [
    {
        "labels": {"alertname": "Down", "job": "node", "instance": "a", "severity": "page"},
        "annotations": {"summary": "a <is> down & out", "runbook": "http://runbook/down"},
        "startsAt": "2024-03-01T10:00:00.5Z",
        "generatorURL": "http://prom:9090/graph?g0.expr=up",
    },
    {
        "labels": {"alertname": "Down", "job": "node", "instance": "b"},
        "annotations": {"summary": "b is down", "runbook": "http://runbook/down"},
        "startsAt": "2024-03-01T10:00:01Z",
        "endsAt": "2024-03-01T10:05:00Z",
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
    data = json.dumps(body).encode()
    request = urllib.request.Request(url, data, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        return int(answer.status)


async def _poll(condition: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)  # polls a condition; no ordering depends on this wait


async def test_slack_and_email_render_as_alertmanager(
    workdir: Path, ports: dict[str, int], inbox: Inbox
) -> None:
    config = workdir / "alertmanager.yml"
    config.write_text(yaml.safe_dump(_config(workdir, ports)))
    cap = Capture(ports["capture"])
    app = web.Application()
    app.router.add_post("/{tail:.*}", cap.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", cap.port).start()
    process = alertmanager(ports["am"], workdir, config)
    process.argv.append(f"--web.external-url={EXTERNAL_URL}")
    transport = AiohttpTransport()
    try:
        await asyncio.to_thread(lambda: process.start().wait_ready(30))
        api = f"http://127.0.0.1:{ports['am']}/api/v2/alerts"
        assert await asyncio.to_thread(_post_json, api, ALERTS) == 200
        await cap.wait_for(lambda got: {"/default", "/custom"} <= set(got), timeout=30)
        await _poll(lambda: "alertmanager" in inbox.messages, timeout=30)

        hook = f"http://127.0.0.1:{ports['capture']}/pulseline"
        (spec,) = _receivers(hook, ports["smtp"])
        receiver = with_globals(Receiver.model_validate(spec), GlobalDefaults())
        templates = Templates.load([workdir / "*.tmpl"])
        services = Services(
            transport, Templating(templates, template_data), hostname="pulseline.test"
        )
        notification = Notification(
            receiver="team.a-b",
            group_key='{}:{alertname="Down"}',
            group_labels=(("alertname", "Down"),),
            alerts=tuple(_as_alert(a) for a in ALERTS),
            idempotency_key="team.a-b/1",
            at=time.time(),
            external_url=EXTERNAL_URL,
        )
        for notifier in notifiers_for(receiver, services):
            assert await deliver(notifier, notification, NotifyStats())
        await cap.wait_for(lambda got: len(got) == 4, timeout=10)
        await _poll(lambda: "pulseline" in inbox.messages, timeout=10)
    finally:
        await transport.close()
        await runner.cleanup()
        await asyncio.to_thread(process.stop)

    for name in ("default", "custom"):
        assert cap.posts[f"/pulseline/{name}"] == cap.posts[f"/{name}"], name
    custom = json.loads(cap.posts["/custom"])
    assert custom["attachments"][0]["title"] == "[FIRING] Down"  # the custom file was used

    theirs, ours = inbox.messages["alertmanager"], inbox.messages["pulseline"]
    for header in ("Subject", "To", "From", "X-Team"):
        assert ours[header] == theirs[header], header
    assert theirs["Subject"].startswith("[FIRING:1] Down")
    assert _parts(ours) == _parts(theirs)
    assert "a &lt;is&gt; down &amp; out" in _parts(ours)["text/html"]


def _parts(message: EmailMessage) -> dict[str, str]:
    parts = message.iter_parts() if message.is_multipart() else [message]
    return {
        p.get_content_type(): str(p.get_content()).replace("\r\n", "\n").strip()
        for p in parts
        if isinstance(p, EmailMessage)
    }
