"""Notifiers: how a decided notification reaches a webhook, Slack, a mailbox or an Alertmanager.

As in Alertmanager's ``notify`` package, every integration implements one interface,
:class:`Notifier`, in a module of its own (:mod:`.webhook`, :mod:`.slack`, :mod:`.email`,
:mod:`.forward`), and one table, :data:`NOTIFIERS`, maps a config kind to its notifier:
adding an integration is one module and one entry.

The dispatcher decides *when* and *what* (a :class:`Notification`); this package only
delivers it. :func:`deliver` makes one attempt through one notifier: it drops resolved
alerts for integrations without ``send_resolved`` (and skips a notification left empty),
counts the outcome, and raises :class:`NotifyError` with ``retryable`` set; callers retry
with :func:`streams.retry.retry`.

Example:
    >>> import asyncio
    >>> from streams.alertmanager.model import Alert
    >>> from streams.alertmanager.config.receivers import Receiver
    >>> from streams.alertmanager.notify.testing import CollectingTransport
    >>> receiver = Receiver.model_validate(
    ...     {"name": "ops", "webhook_configs": [{"url": "http://hooks.example/a"}]})
    >>> transport = CollectingTransport()
    >>> services = Services(transport=transport)
    >>> (hook,) = notifiers_for(receiver, services)
    >>> n = Notification("ops", "{}:{}", (), (Alert.create({"alertname": "Down"}),), "k1", 1.0)
    >>> stats = NotifyStats()
    >>> asyncio.run(deliver(hook, n, stats))
    True
    >>> transport.requests[0].headers["Idempotency-Key"], dict(stats.sent)
    ('k1', {('ops', 'webhook'): 1})
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from streams.alertmanager.config.receivers import Integration, Kind, Receiver
from streams.alertmanager.notify.email import EmailNotifier
from streams.alertmanager.notify.errors import NotifyError, retryable_status
from streams.alertmanager.notify.forward import ForwardNotifier
from streams.alertmanager.notify.http import AiohttpTransport, Transport
from streams.alertmanager.notify.metrics import NotifyCollector, NotifyStats
from streams.alertmanager.notify.notification import Notification
from streams.alertmanager.notify.slack import SlackNotifier
from streams.alertmanager.notify.templating import Templating
from streams.alertmanager.notify.webhook import WebhookNotifier

__all__ = [
    "NOTIFIERS",
    "Notification",
    "Notifier",
    "NotifyCollector",
    "NotifyError",
    "NotifyStats",
    "Services",
    "deliver",
    "notifiers_for",
    "retryable_status",
]


class Notifier(Protocol):
    """Delivers notifications through one configured integration."""

    integration: Integration

    async def notify(self, notification: Notification) -> None:
        """Deliver once; raise NotifyError (with ``retryable``) when not accepted."""
        ...


@dataclass(frozen=True)
class Services:
    """What notifiers talk to the outside with, shared by all of them.

    Attributes:
        transport: HTTP requests (webhook, Slack, forward).
        templating: the loaded templates (Slack and email); None when no receiver needs them.
        hostname: this host's name (email ``Message-Id``).
        key_in_body: webhook bodies end with the idempotency key (else Alertmanager's
            bytes exactly).
    """

    transport: Transport = field(default_factory=AiohttpTransport)
    templating: Templating | None = None
    hostname: str = field(default_factory=socket.gethostname)
    key_in_body: bool = True


def _templating(integration: Integration, services: Services) -> Templating:
    if services.templating is None:
        raise TypeError(f"{integration.where} renders templates, and none were given")
    return services.templating


NOTIFIERS: Mapping[Kind, Callable[[Integration, Services], Notifier]] = {
    "webhook": lambda i, s: WebhookNotifier(i, s.transport, s.key_in_body),
    "slack": lambda i, s: SlackNotifier(i, s.transport, _templating(i, s)),
    "email": lambda i, s: EmailNotifier(i, _templating(i, s), hostname=s.hostname),
    "alertmanager": lambda i, s: ForwardNotifier(i, s.transport),
}
"""Config kind -> the notifier for it."""


def notifiers_for(receiver: Receiver, services: Services) -> tuple[Notifier, ...]:
    """One notifier per integration of ``receiver`` (globals already filled in)."""
    return tuple(NOTIFIERS[i.kind](i, services) for i in receiver.integrations())


async def deliver(notifier: Notifier, notification: Notification, stats: NotifyStats) -> bool:
    """One attempt to deliver ``notification`` through ``notifier``, counted in ``stats``.

    Returns:
        True when sent; False when there was nothing to send (resolved alerts only, and the
        integration does not send resolved notifications).

    Raises:
        NotifyError: the attempt failed; ``retryable`` says whether to try again.
    """
    integration = notifier.integration
    key = (integration.receiver, integration.kind)
    if not integration.config.send_resolved:
        notification = notification.only_firing()
        if not notification.alerts:
            stats.skipped[key] += 1
            return False
    try:
        await notifier.notify(notification)
    except NotifyError as exc:
        stats.failed[(*key, exc.retryable)] += 1
        raise
    stats.sent[key] += 1
    return True
