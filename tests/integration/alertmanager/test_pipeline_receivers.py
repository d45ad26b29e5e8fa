"""Receivers other than webhooks, on real processes: a mailbox and a real Alertmanager.

- email: a breach reaches an SMTP server (aiosmtpd) through the ``global`` section's
  ``smtp_*`` settings, with authentication, as the default email template renders it;
- forwarding: a receiver's ``alertmanager_configs`` posts the alert to a real
  ``prometheus-alertmanager``, whose ``/api/v2/alerts`` lists it, and its resolution too
  (Alertmanager's API leaves resolved alerts out).
"""

from __future__ import annotations

import email
import email.message
import email.policy
import json
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from amstack import instant, push, rule_events, start
from conftest import Pipeline, wait_for

from streams.stack.peers import alertmanager
from streams.stack.processes import free_port

pytestmark = pytest.mark.integration


@dataclass
class Mailbox:
    """What the SMTP server received: (envelope sender, recipients, message), and logins."""

    messages: list[tuple[str, list[str], email.message.EmailMessage]] = field(default_factory=list)
    logins: list[tuple[str, str]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(parsed, email.message.EmailMessage)
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), parsed))
        return "250 OK"

    def authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        assert isinstance(data, LoginPassword)
        self.logins.append((data.login.decode(), data.password.decode()))
        return AuthResult(success=data.password == b"s3cret", handled=False)


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    box, port = Mailbox(), free_port()
    server = Controller(
        box,
        hostname="127.0.0.1",
        port=port,
        authenticator=box.authenticate,
        auth_require_tls=False,
    )
    server.start()
    yield box, port
    server.stop()


def test_an_smtp_receiver_gets_the_email(pipeline: Pipeline, mailbox: tuple[Mailbox, int]) -> None:
    box, port = mailbox
    start(
        pipeline,
        f"""
global:
  smtp_smarthost: 127.0.0.1:{port}
  smtp_from: pulseline@example.org
  smtp_auth_username: alerts
  smtp_auth_password: s3cret
  smtp_require_tls: false
route:
  receiver: mail
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: mail
    email_configs:
      - to: oncall@example.org
""",
    )
    push(pipeline, 80.0)
    wait_for(lambda: len(box.messages) >= 1, 60, "the email")

    [(sender, recipients, msg)] = box.messages
    assert box.logins == [("alerts", "s3cret")]
    assert sender == "pulseline@example.org" and recipients == ["oncall@example.org"]
    assert msg["To"] == "oncall@example.org" and msg["From"] == "pulseline@example.org"
    # Alertmanager's email.default.subject: [STATUS:firing count] group label values
    # (common labels that are not group labels, values in label-name order).
    assert msg["Subject"] == "[FIRING:1] TooHot (h1 critical)"
    assert len(msg["Idempotency-Key"]) == 32
    html = msg.get_body(("html",))
    assert html is not None and "h1 at 80 degrees" in html.get_content()


def _am_alerts(port: int) -> list[dict[str, Any]]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/alerts", timeout=10) as r:
        result: list[dict[str, Any]] = json.loads(r.read())
    return result


def test_forwarding_shows_the_alert_in_a_real_alertmanager(
    pipeline: Pipeline, broker: str, tmp_path: Path
) -> None:
    am_config = tmp_path / "peer.yml"
    am_config.write_text("route:\n  receiver: none\nreceivers:\n  - name: none\n")
    am_port = free_port()
    peer = alertmanager(am_port, tmp_path, am_config).start().wait_ready(30)
    try:
        start(
            pipeline,
            f"""
route:
  receiver: team
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1m
receivers:
  - name: team
    alertmanager_configs:
      - url: http://127.0.0.1:{am_port}
""",
        )
        push(pipeline, 80.0)
        wait_for(lambda: len(_am_alerts(am_port)) == 1, 60, "the alert in Alertmanager")
        [alert] = _am_alerts(am_port)
        [firing] = [e for e in rule_events(broker, pipeline, 1) if e["state"] == "firing"]
        assert alert["labels"] == {"alertname": "TooHot", "host": "h1", "severity": "critical"}
        assert alert["annotations"] == {"summary": "h1 at 80 degrees"}
        assert alert["status"]["state"] == "active"
        assert instant(alert["startsAt"]) == instant(firing["startsAt"])

        push(pipeline, 10.0)  # resolved: Alertmanager's API no longer lists it
        wait_for(lambda: _am_alerts(am_port) == [], 60, "the resolution in Alertmanager")
    finally:
        peer.stop()
