"""The email notifier: one message over SMTP, as Alertmanager sends it.

The connection follows Alertmanager: port 465 speaks TLS from the start; on any other port
the client greets with ``hello``, upgrades with ``STARTTLS`` when the server offers it, and
refuses to go on in clear text when ``require_tls`` (the default) is set and the server does
not offer it. With ``auth_username`` set and ``AUTH`` offered, it authenticates with
``CRAM-MD5`` (when ``auth_secret`` is set), ``PLAIN`` (with ``auth_identity``) or ``LOGIN``,
the first of those the server lists; a password goes over an unencrypted connection only to
this machine, as with Go's ``PLAIN``.

The message has the config's headers rendered as templates (``Subject``, ``To``, ``From``
and any others), a ``Message-Id`` derived from the notification's idempotency key and the
sender's domain (every attempt to send one notification, from any worker, carries the same
id, so mail systems and readers can drop a repeat) plus the key itself in
``Idempotency-Key``, a ``Date``, and a text and an HTML part (``multipart/alternative``
when both are set). The envelope sender and recipients
are the rendered ``from`` and ``to`` addresses.

Failures follow SMTP: a 5xx reply is permanent (a wrong password, an unknown mailbox) and
not retried; a 4xx reply, a refused connection or a timeout is retried.
"""

from __future__ import annotations

import base64
import email.utils
import hashlib
import socket
from collections.abc import Callable
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY

import aiosmtplib

from streams.alertmanager.config.receivers import EmailConfig, Integration
from streams.alertmanager.notify.errors import NotifyError
from streams.alertmanager.notify.http import ssl_context
from streams.alertmanager.notify.notification import Notification
from streams.alertmanager.notify.templating import Templating, Texts
from streams.alertmanager.notify.webhook import IDEMPOTENCY_HEADER

_LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})

SmtpFactory = Callable[..., aiosmtplib.SMTP]
"""Makes the SMTP client (``aiosmtplib.SMTP``'s keyword arguments); tests may wrap it."""


def message_id(idempotency_key: str, domain: str) -> str:
    """The ``Message-Id`` of a notification: stable across attempts, unique per key.

    >>> first = message_id("ops/abc/1", "example.org")
    >>> first == message_id("ops/abc/1", "example.org") != message_id("ops/abc/2", "example.org")
    True
    >>> first.startswith("<") and first.endswith("@example.org>")
    True
    """
    digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]
    return f"<{digest}@{domain}>"


def addresses(text: str) -> list[str]:
    """The bare addresses of an address list (``"Ops <ops@x>, b@y"`` -> two addresses).

    >>> addresses("Ops Team <ops@example.org>, dev@example.org")
    ['ops@example.org', 'dev@example.org']
    """
    return [addr for _, addr in email.utils.getaddresses([text]) if addr]


def build_message(config: EmailConfig, text: Texts, key: str, hostname: str) -> EmailMessage:
    """The message for ``config``, each template rendered by ``text`` (the HTML body with
    printed values escaped, as Alertmanager's ``html/template`` does)."""
    msg = EmailMessage(policy=SMTP_POLICY)
    for name, value in config.headers.items():
        msg[name] = text(value, f"headers.{name}")
    sender = addresses(msg.get("From", ""))
    domain = sender[0].rpartition("@")[2] if sender and "@" in sender[0] else hostname
    msg["Message-Id"] = message_id(key, domain)
    msg[IDEMPOTENCY_HEADER] = key
    msg["Date"] = email.utils.formatdate(usegmt=True)
    plain, html = text(config.text, "text"), text.html(config.html)
    if plain:
        msg.set_content(plain)
        if html:
            msg.add_alternative(html, subtype="html")
    else:
        msg.set_content(html, subtype="html")
    return msg


class EmailNotifier:
    """Sends the rendered message through the config's smarthost.

    Args:
        integration: which receiver and ``email_configs`` entry this is (globals filled).
        templating: renders headers, addresses and bodies.
        hostname: the ``Message-Id`` domain when the From header has none (the From
            domain is used otherwise, so every worker gives one notification one id).
        smtp: makes the SMTP client.
        timeout_s: the most each SMTP step may take.
    """

    def __init__(
        self,
        integration: Integration,
        templating: Templating,
        *,
        hostname: str | None = None,
        smtp: SmtpFactory = aiosmtplib.SMTP,
        timeout_s: float = 30.0,
    ) -> None:
        config = integration.config
        if not isinstance(config, EmailConfig) or not config.smarthost or not config.from_:
            raise TypeError(f"{integration.where}: not an email config with from and smarthost")
        self.integration = integration
        self._config = config
        self._templating = templating
        self._hostname = hostname or socket.gethostname()
        self._smtp = smtp
        self._timeout = timeout_s
        host, _, port = config.smarthost.rpartition(":")
        self._host, self._port = host.strip("[]"), int(port)

    def _error(self, reason: str, retryable: bool = True) -> NotifyError:
        return NotifyError(
            reason,
            receiver=self.integration.receiver,
            integration=self.integration.where,
            retryable=retryable,
        )

    async def notify(self, notification: Notification) -> None:
        """Send ``notification``; raises NotifyError when it is not accepted."""
        c = self._config
        text = self._templating.texts(notification, self.integration)
        msg = build_message(c, text, notification.idempotency_key, self._hostname)
        sender = addresses(text(c.from_ or "", "from"))
        recipients = addresses(text(c.to, "to"))
        if len(sender) != 1 or not recipients:
            raise self._error(f"bad from {sender!r} or to {recipients!r} address", False)
        try:
            await self._send(msg, sender[0], recipients)
        except aiosmtplib.SMTPResponseException as exc:
            raise self._refused([(exc.code, exc.message)]) from None
        except aiosmtplib.SMTPRecipientsRefused as exc:
            replies = [(r.code, f"{r.message} ({r.recipient})") for r in exc.recipients]
            raise self._refused(replies) from None
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            reason = str(exc) or type(exc).__name__
            raise self._error(f"SMTP {self._host}:{self._port}: {reason}") from None

    def _refused(self, replies: list[tuple[int, str]]) -> NotifyError:
        """The error for SMTP replies: permanent when every reply is 5xx."""
        text = "; ".join(f"{code} {message}" for code, message in replies)
        permanent = all(500 <= code <= 599 for code, _ in replies)
        return self._error(f"SMTP {self._host}:{self._port} answered {text}", not permanent)

    async def _send(self, msg: EmailMessage, sender: str, recipients: list[str]) -> None:
        c = self._config
        tls = ssl_context(c.tls_config)
        server_name = (c.tls_config.server_name if c.tls_config else None) or self._host
        client = self._smtp(
            hostname=self._host,
            port=self._port,
            local_hostname=c.hello,
            use_tls=self._port == 465,
            start_tls=False,
            tls_context=tls,
            timeout=self._timeout,
        )
        await client.connect()
        try:
            await client.ehlo()
            encrypted = self._port == 465
            if client.supports_extension("starttls") and not encrypted:
                await client.starttls(tls_context=tls, server_hostname=server_name)
                await client.ehlo()
                encrypted = True
            elif c.require_tls and not encrypted:
                raise self._error(
                    f"require_tls is true but {self._host}:{self._port} does not offer STARTTLS",
                    retryable=False,
                )
            if c.auth_username and client.supports_extension("auth"):
                await self._authenticate(client, encrypted)
            await client.send_message(msg, sender=sender, recipients=recipients)
        finally:
            try:
                await client.quit()
            except (aiosmtplib.SMTPException, OSError):
                client.close()

    async def _authenticate(self, client: aiosmtplib.SMTP, encrypted: bool) -> None:
        """Authenticate; a password is sent in clear only to this machine (as Go's PLAIN)."""
        c = self._config
        user = c.auth_username or ""
        password = c.auth_password.get_secret_value() if c.auth_password else ""
        secret = c.auth_secret.get_secret_value() if c.auth_secret else ""
        for mechanism in client.supported_auth_methods:
            if mechanism == "cram-md5" and secret:
                await client.auth_crammd5(user, secret)
                return
            clear = mechanism in ("plain", "login") and password and not encrypted
            if clear and self._host not in _LOOPBACK:
                raise self._error(
                    f"refusing to send auth_password to {self._host} unencrypted",
                    retryable=False,
                )
            if mechanism == "plain" and password:
                token = f"{c.auth_identity or ''}\0{user}\0{password}".encode()
                answer = await client.execute_command(b"AUTH", b"PLAIN", base64.b64encode(token))
                if answer.code != 235:
                    raise aiosmtplib.SMTPAuthenticationError(answer.code, answer.message)
                return
            if mechanism == "login" and password:
                await client.auth_login(user, password)
                return
        raise self._error(
            f"no usable auth mechanism among {client.supported_auth_methods} "
            "(CRAM-MD5 needs auth_secret, PLAIN and LOGIN auth_password)",
            retryable=False,
        )
