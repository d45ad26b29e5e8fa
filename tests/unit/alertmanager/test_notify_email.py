"""The email notifier against a real SMTP server (aiosmtpd) on 127.0.0.1.

Covers clear-text delivery, STARTTLS with a self-signed certificate trusted through
``tls_config.ca_file``, AUTH PLAIN and LOGIN, ``require_tls`` refusal, and how SMTP replies
are classified.
"""

from __future__ import annotations

import email
import email.policy
import ssl
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiosmtplib
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from streams.alertmanager.config.receivers import GlobalDefaults, Receiver, with_globals
from streams.alertmanager.model import Alert
from streams.alertmanager.notify import NotifyError, NotifyStats, Services, deliver, notifiers_for
from streams.alertmanager.notify.email import EmailNotifier, message_id
from streams.alertmanager.notify.notification import Notification
from streams.alertmanager.notify.templating import Templating
from streams.alertmanager.notify.testing import CollectingTransport
from streams.stack.processes import free_port


@dataclass
class Mailbox:
    """What the SMTP server received, and how it answers RCPT."""

    messages: list[tuple[str, list[str], email.message.EmailMessage]] = field(default_factory=list)
    logins: list[tuple[str, str, str]] = field(default_factory=list)
    rcpt_reply: str | None = None

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if self.rcpt_reply:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(parsed, email.message.EmailMessage)
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), parsed))
        return "250 OK"

    def authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        assert isinstance(data, LoginPassword)
        self.logins.append((mechanism, data.login.decode(), data.password.decode()))
        return AuthResult(success=data.password == b"pw", handled=False)


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost,IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


def _serve(mailbox: Mailbox, **options: Any) -> Iterator[int]:
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port, **options)
    controller.start()
    yield port
    controller.stop()


@pytest.fixture
def plain() -> Iterator[tuple[Mailbox, int]]:
    mailbox = Mailbox()
    for port in _serve(mailbox):
        yield mailbox, port


def _secure(certificate: tuple[Path, Path], *exclude: str) -> Iterator[tuple[Mailbox, int]]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*map(str, certificate))
    mailbox = Mailbox()
    for port in _serve(
        mailbox,
        tls_context=context,
        require_starttls=True,
        authenticator=mailbox.authenticate,
        auth_require_tls=True,
        auth_exclude_mechanism=list(exclude),
    ):
        yield mailbox, port


@pytest.fixture
def secure(certificate: tuple[Path, Path]) -> Iterator[tuple[Mailbox, int]]:
    yield from _secure(certificate)


class Templates:
    def render_html(self, text: str, data: Any, where: str = "") -> str:
        assert where == "receiver 'ops' email[0] html"
        return self.render(text, data, where)

    def render(self, text: str, data: Any, where: str = "") -> str:
        return (
            text.replace('{{ template "email.default.subject" . }}', f"[{data['status']}] Down")
            .replace('{{ template "email.default.html" . }}', "<b>Down</b> é")
            .replace("{{ .Status }}", data["status"])
        )


def _data(
    receiver: str,
    status: str,
    alerts: Sequence[Alert],
    group_labels: Mapping[str, str],
    external_url: str,
    at: float,
) -> dict[str, str]:
    return {"status": status}


N = Notification(
    "ops", "{}:{}", (), (Alert.create({"alertname": "Down"}, starts_at=0.0),), "ops/g/7", 10.0
)


async def _send(port: int, **config: Any) -> None:
    receiver = with_globals(
        Receiver.model_validate({"name": "ops", "email_configs": [config]}),
        GlobalDefaults.model_validate(
            {"smtp_from": "Pulseline <am@example.org>", "smtp_smarthost": f"127.0.0.1:{port}"}
        ),
    )
    services = Services(
        CollectingTransport(), Templating(Templates(), _data), hostname="worker-1.test"
    )
    (notifier,) = notifiers_for(receiver, services)
    assert await deliver(notifier, N, NotifyStats())


async def test_clear_text_delivery_with_headers_and_parts(plain: tuple[Mailbox, int]) -> None:
    mailbox, port = plain
    await _send(
        port,
        to="Ops <ops@example.org>, dev@example.org",
        require_tls=False,
        text="status {{ .Status }}",
        headers={"x-team": "{{ .Status }}-team"},
    )
    ((sender, recipients, msg),) = mailbox.messages
    assert sender == "am@example.org"
    assert recipients == ["ops@example.org", "dev@example.org"]
    assert msg["Subject"] == "[firing] Down"
    assert msg["To"] == "Ops <ops@example.org>, dev@example.org"
    assert msg["From"] == "Pulseline <am@example.org>"
    assert msg["X-Team"] == "firing-team"
    assert msg["Message-Id"] == message_id("ops/g/7", "example.org")  # From's domain
    assert msg["Idempotency-Key"] == "ops/g/7"
    assert msg["Date"]
    assert msg.get_content_type() == "multipart/alternative"
    text, html = msg.iter_parts()
    assert (text.get_content_type(), text.get_content().strip()) == ("text/plain", "status firing")
    assert (html.get_content_type(), html.get_content().strip()) == ("text/html", "<b>Down</b> é")


async def test_html_only_by_default(plain: tuple[Mailbox, int]) -> None:
    mailbox, port = plain
    await _send(port, to="ops@example.org", require_tls=False)
    ((_, _, msg),) = mailbox.messages
    assert msg.get_content_type() == "text/html"


async def test_require_tls_refuses_a_server_without_starttls(plain: tuple[Mailbox, int]) -> None:
    mailbox, port = plain
    with pytest.raises(NotifyError, match="does not offer STARTTLS") as info:
        await _send(port, to="ops@example.org")
    assert info.value.retryable is False
    assert mailbox.messages == []


@pytest.mark.parametrize(("offered", "used"), [((), "PLAIN"), (("PLAIN",), "LOGIN")])
async def test_starttls_and_auth(
    certificate: tuple[Path, Path], offered: tuple[str, ...], used: str
) -> None:
    for mailbox, port in _secure(certificate, *offered):
        await _send(
            port,
            to="ops@example.org",
            auth_username="am",
            auth_password="pw",
            tls_config={"ca_file": str(certificate[0]), "server_name": "localhost"},
        )
        assert mailbox.logins == [(used, "am", "pw")]
        assert len(mailbox.messages) == 1


async def test_a_wrong_password_is_permanent(
    secure: tuple[Mailbox, int], certificate: tuple[Path, Path]
) -> None:
    mailbox, port = secure
    with pytest.raises(NotifyError, match="535") as info:
        await _send(
            port,
            to="ops@example.org",
            auth_username="am",
            auth_password="wrong",
            tls_config={"ca_file": str(certificate[0])},
        )
    assert info.value.retryable is False
    assert "wrong" not in str(info.value)
    assert mailbox.messages == []


async def test_an_untrusted_certificate_fails(secure: tuple[Mailbox, int]) -> None:
    _, port = secure
    with pytest.raises(NotifyError) as info:
        await _send(port, to="ops@example.org")
    assert info.value.retryable is True


@pytest.mark.parametrize(
    ("reply", "retryable"), [("550 no such user", False), ("451 try later", True)]
)
async def test_smtp_replies_are_classified(
    plain: tuple[Mailbox, int], reply: str, retryable: bool
) -> None:
    mailbox, port = plain
    mailbox.rcpt_reply = reply
    with pytest.raises(NotifyError, match=reply.split()[0]) as info:
        await _send(port, to="ops@example.org", require_tls=False)
    assert info.value.retryable is retryable


async def test_no_server_is_retryable() -> None:
    with pytest.raises(NotifyError) as info:
        await _send(free_port(), to="ops@example.org")
    assert info.value.retryable is True
    assert info.value.integration == "email[0]"


async def test_a_password_is_not_sent_in_clear_to_another_host() -> None:
    mailbox = Mailbox()
    for port in _serve(mailbox, authenticator=mailbox.authenticate, auth_require_tls=False):
        await _refused_in_clear(mailbox, port)


async def _refused_in_clear(mailbox: Mailbox, port: int) -> None:
    receiver = with_globals(
        Receiver.model_validate(
            {
                "name": "ops",
                "email_configs": [
                    {
                        "to": "ops@example.org",
                        "require_tls": False,
                        "auth_username": "am",
                        "auth_password": "pw",
                        "smarthost": f"mail.example.org:{port}",
                    }
                ],
            }
        ),
        GlobalDefaults(smtp_from="am@example.org"),
    )

    def to_local_server(**options: Any) -> aiosmtplib.SMTP:  # mail.example.org is this server
        return aiosmtplib.SMTP(**{**options, "hostname": "127.0.0.1"})

    notifier = EmailNotifier(
        receiver.integrations()[0], Templating(Templates(), _data), smtp=to_local_server
    )
    with pytest.raises(NotifyError, match=r"refusing to send auth_password to mail\.example") as e:
        await deliver(notifier, N, NotifyStats())
    assert e.value.retryable is False
    assert mailbox.messages == [] and mailbox.logins == []
