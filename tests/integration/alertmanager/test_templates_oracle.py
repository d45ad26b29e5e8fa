"""Notification templates against the real Alertmanager 0.25.

One Alertmanager gets an alertmanager.yml with a Slack receiver left to the defaults, a Slack
receiver whose every field uses custom templates (range, with, SortedPairs, join, title,
printf, reReplaceAll...), and an email receiver with a custom subject, text and HTML body.
Slack's webhook is a local aiohttp server and the SMTP server a local aiosmtpd; the same
alerts are posted to Alertmanager's API and given to pulseline's templates, and every field
Alertmanager sends must be the text pulseline renders.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email
import email.policy
import json
import shutil
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiosmtpd.controller import Controller
from conftest import wait_for

from streams.alertmanager.model import Alert
from streams.alertmanager.templating.templates import (
    EMAIL_DEFAULTS,
    SLACK_DEFAULTS,
    Templates,
    template_data,
)
from streams.stack.processes import ManagedProcess, free_port, http_ready

pytestmark = pytest.mark.integration

CUSTOM_TEMPLATES = Path(__file__).with_name("custom.tmpl")
SLACK_CUSTOM = {
    "channel": "{{ .GroupLabels.alertname }}",
    "username": "{{ .Receiver }} {{ .CommonLabels.job | toUpper }}",
    "color": '{{ if eq .Status "firing" }}#{{ printf "%06x" 16711680 }}{{ else }}good{{ end }}',
    "title": '{{ template "custom.title" . }}',
    "title_link": "{{ .ExternalURL }}/#/alerts?receiver={{ urlquery .Receiver }}",
    "pretext": "{{ .CommonAnnotations.summary }}",
    "text": '{{ template "custom.text" . }}',
    "fallback": '{{ template "slack.default.fallback" . }} / {{ .CommonLabels.nope }}!',
    "callback_id": "{{ .GroupLabels.SortedPairs }}",
    "footer": '{{ template "custom.footer" . }}',
    "icon_emoji": ":{{ .Status }}:",
}
SLACK_FIELDS = [
    {
        "title": "{{ .CommonLabels.alertname }}",
        "value": '{{ template "__text_alert_list" .Alerts }}',
    },
    {"title": "count", "value": "{{ len .Alerts }} ({{ .Alerts.Firing | len }} firing)"},
]
EMAIL_CUSTOM = {
    "subject": '{{ template "email.default.subject" . }}',
    "text": '{{ template "custom.text" . }}',
    "html": "<p>{{ .CommonAnnotations.summary }}</p><ul>{{ range .Alerts }}<li>{{ .Labels.instance }}"
    '</li>{{ end }}</ul>{{ safeHtml "<b>ok</b>" }}',
}


def _iso(at: float) -> str:
    return dt.datetime.fromtimestamp(at, dt.UTC).isoformat(timespec="milliseconds")[:-6] + "Z"


def _posted(base: float) -> list[dict[str, Any]]:
    """The alerts to post, started within ``group_wait`` of ``base`` so that the first
    notification of each group waits for them all; the resolved one comes last."""
    disk = {"alertname": "DiskFull", "job": "node", "sev": "page"}
    return [
        {
            "labels": {**disk, "instance": "node-2"},
            "annotations": {"summary": "Disk <full> & more", "description": "92% used"},
            "startsAt": _iso(base - 0.5),
            "generatorURL": "http://prom/graph?g0.expr=disk&g0.tab=1",
        },
        {
            "labels": {**disk, "instance": "node-1"},
            "annotations": {"summary": "Disk <full> & more", "description": "97% used"},
            "startsAt": _iso(base - 0.75),
            "generatorURL": "http://prom/graph?g0.expr=disk",
        },
        {
            "labels": {"alertname": "Down", "job": "api", "instance": "api-1"},
            "annotations": {"summary": "api-1 is down — since a while"},
            "startsAt": _iso(base - 0.877),
        },
        {
            "labels": {**disk, "instance": "node-3"},
            "annotations": {"summary": "Disk <full> & more"},
            "startsAt": _iso(base - 1.5),
            "endsAt": _iso(base - 1.25),
            "generatorURL": "http://prom/graph?g0.expr=disk",
        },
    ]


def _unix(text: str) -> float:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def _alerts_of(posted: list[dict[str, Any]], group: str) -> list[Alert]:
    """The posted alerts of a group, in Alertmanager's order (job, then instance)."""
    alerts = [
        Alert.create(
            p["labels"],
            p["annotations"],
            starts_at=_unix(p["startsAt"]),
            ends_at=_unix(p["endsAt"]) if "endsAt" in p else None,
            generator_url=p.get("generatorURL", ""),
        )
        for p in posted
        if p["labels"]["alertname"] == group
    ]
    return sorted(alerts, key=lambda a: (a.label_map()["job"], a.label_map()["instance"]))


def _yaml_quote(text: str) -> str:
    return json.dumps(text)  # a JSON string is a YAML double-quoted scalar


def _config(slack_port: int, smtp_port: int, templates_dir: Path) -> str:
    custom = "\n".join(f"        {k}: {_yaml_quote(v)}" for k, v in SLACK_CUSTOM.items())
    fields = "\n".join(
        f"          - title: {_yaml_quote(f['title'])}\n            value: {_yaml_quote(f['value'])}"
        for f in SLACK_FIELDS
    )
    return f"""
global:
  resolve_timeout: 5m
templates: ["{templates_dir}/*.tmpl"]
route:
  receiver: slack-default
  group_by: [alertname]
  group_wait: 3s
  group_interval: 5m
  repeat_interval: 4h
  routes:
    - {{receiver: slack-default, continue: true}}
    - {{receiver: slack.custom(eu), continue: true}}
    - {{receiver: email-custom}}
receivers:
  - name: slack-default
    slack_configs:
      - api_url: http://127.0.0.1:{slack_port}/default
        channel: "{{{{ .GroupLabels.alertname }}}}"
        send_resolved: true
  - name: slack.custom(eu)
    slack_configs:
      - api_url: http://127.0.0.1:{slack_port}/custom
        send_resolved: true
{custom}
        fields:
{fields}
  - name: email-custom
    email_configs:
      - to: ops@example.com
        from: am@example.com
        smarthost: 127.0.0.1:{smtp_port}
        require_tls: false
        send_resolved: true
        headers: {{X-Group: "{{{{ .GroupLabels.alertname }}}}"}}
        text: {_yaml_quote(EMAIL_CUSTOM["text"])}
        html: {_yaml_quote(EMAIL_CUSTOM["html"])}
"""


class SlackCapture:
    """An aiohttp server in a thread that keeps every JSON body posted to it, by path."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.bodies: list[tuple[str, dict[str, Any]]] = []
        self._loop = asyncio.new_event_loop()
        self._runner: web.AppRunner | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    async def _receive(self, request: web.Request) -> web.Response:
        self.bodies.append((request.path, await request.json()))
        return web.Response(text="ok")

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_post("/{name}", self._receive)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    def start(self) -> None:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)

    def stop(self) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)


class MailCapture:
    """An aiosmtpd handler that keeps every message."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append(parsed)  # type: ignore[arg-type]
        return "250 OK"


@dataclass
class Captured:
    """What Alertmanager sent, and the URL it links back to."""

    slack: list[tuple[str, dict[str, Any]]]
    mail: list[EmailMessage]
    url: str
    posted: list[dict[str, Any]]


@pytest.fixture(scope="module")
def captured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Captured]:
    workdir = tmp_path_factory.mktemp("am-templates")
    templates_dir = workdir / "templates"
    templates_dir.mkdir()
    shutil.copy(CUSTOM_TEMPLATES, templates_dir / "custom.tmpl")
    slack = SlackCapture(free_port())
    mail = MailCapture()
    smtp = Controller(mail, hostname="127.0.0.1", port=free_port())
    (workdir / "alertmanager.yml").write_text(_config(slack.port, smtp.port, templates_dir))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    am = ManagedProcess(
        "alertmanager",
        [
            "prometheus-alertmanager",
            f"--config.file={workdir / 'alertmanager.yml'}",
            f"--storage.path={workdir / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            f"--web.external-url={url}",
            "--cluster.listen-address=",
        ],
        log_path=workdir / "alertmanager.log",
        ready=http_ready(f"{url}/-/ready"),
    )
    slack.start()
    smtp.start()
    try:
        am.start().wait_ready(30)
        posted = _posted(float(int(time.time())))
        request = urllib.request.Request(
            f"{url}/api/v2/alerts",
            data=json.dumps(posted).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200
        wait_for(lambda: len(slack.bodies) >= 4, 60, "4 Slack messages")
        wait_for(lambda: len(mail.messages) >= 2, 60, "2 emails")
        yield Captured(slack.bodies, mail.messages, url, posted)
    finally:
        am.stop()
        smtp.stop()
        slack.stop()


ATTACHMENT = (
    "title",
    "title_link",
    "pretext",
    "text",
    "fallback",
    "callback_id",
    "footer",
    "color",
)
MESSAGE = ("channel", "username", "icon_emoji", "icon_url")


def _data(receiver: str, group: str, captured: Captured) -> Any:
    alerts = _alerts_of(captured.posted, group)
    now = time.time()
    status = "firing" if any(not a.resolved(now) for a in alerts) else "resolved"
    return template_data(receiver, status, alerts, {"alertname": group}, captured.url, now)


def _slack_of(captured: Captured, path: str) -> dict[str, dict[str, Any]]:
    bodies = {body["channel"]: body for p, body in captured.slack if p == path}
    assert sorted(bodies) == ["DiskFull", "Down"]
    return bodies


def _field_texts(config: dict[str, str]) -> dict[str, str]:
    return {**SLACK_DEFAULTS, "channel": "{{ .GroupLabels.alertname }}", **config}


def test_default_slack_fields_render_as_alertmanager(captured: Captured) -> None:
    templates = Templates.load([CUSTOM_TEMPLATES])
    texts = _field_texts({})
    for group, body in _slack_of(captured, "/default").items():
        data = _data("slack-default", group, captured)
        attachment = body["attachments"][0]
        for key in ATTACHMENT:
            assert attachment.get(key, "") == templates.render(texts[key], data), (group, key)
        for key in MESSAGE:
            assert body.get(key, "") == templates.render(texts[key], data), (group, key)
    assert _slack_of(captured, "/default")["DiskFull"]["attachments"][0]["title"] == (
        "[FIRING:2] DiskFull (node page)"
    )


def test_custom_slack_fields_render_as_alertmanager(captured: Captured) -> None:
    templates = Templates.load([CUSTOM_TEMPLATES])
    texts = _field_texts(SLACK_CUSTOM)
    for key, text in texts.items():
        templates.check(text, f"slack_configs[0].{key}")
    for group, body in _slack_of(captured, "/custom").items():
        data = _data("slack.custom(eu)", group, captured)
        attachment = body["attachments"][0]
        for key in ATTACHMENT:
            assert attachment.get(key, "") == templates.render(texts[key], data), (group, key)
        for key in MESSAGE:
            assert body.get(key, "") == templates.render(texts[key], data), (group, key)
        for sent, field in zip(attachment["fields"], SLACK_FIELDS, strict=True):
            assert sent["title"] == templates.render(field["title"], data), group
            assert sent["value"] == templates.render(field["value"], data), group
    assert "node-1" in _slack_of(captured, "/custom")["DiskFull"]["attachments"][0]["text"]


def test_email_subject_text_and_html_render_as_alertmanager(captured: Captured) -> None:
    templates = Templates.load([CUSTOM_TEMPLATES])
    by_group = {str(m["X-Group"]): m for m in captured.mail}
    assert sorted(by_group) == ["DiskFull", "Down"]
    assert EMAIL_DEFAULTS["subject"] == EMAIL_CUSTOM["subject"]
    for group, message in by_group.items():
        data = _data("email-custom", group, captured)
        assert str(message["Subject"]) == templates.render(EMAIL_CUSTOM["subject"], data)
        text = message.get_body(preferencelist=("plain",))
        html = message.get_body(preferencelist=("html",))
        assert text is not None and html is not None
        sent_text = text.get_content().replace("\r\n", "\n")
        assert sent_text == templates.render(EMAIL_CUSTOM["text"], data), group
        sent_html = html.get_content().replace("\r\n", "\n")
        assert sent_html == templates.render_html(EMAIL_CUSTOM["html"], data), group
