"""Forwarding to an existing Alertmanager: the group's alerts posted to its ``/api/v2/alerts``.

For teams that keep an Alertmanager of their own: pulseline evaluates, groups and
deduplicates, and the other Alertmanager receives the alerts as Prometheus would post them
(Alertmanager's postable alerts) and notifies as it is configured to.

Each alert is posted with its labels, annotations, ``startsAt`` and ``generatorURL``.
A resolved alert carries its ``endsAt``; a firing alert carries its ``endsAt`` only when its
source gave one (not one pulseline derived from ``resolve_timeout``), so the other
Alertmanager applies its own ``resolve_timeout``. Since the alerts are re-posted only when
the group notifies, the route of a forwarding receiver should repeat more often than the
other Alertmanager's ``resolve_timeout`` (for example ``repeat_interval: 1m``).

Example:
    >>> from streams.alertmanager.model import Alert
    >>> a = Alert.create({"alertname": "Down"}, {"summary": "gone"}, starts_at=0.0)
    >>> postable(a, at=10.0)
    {'labels': {'alertname': 'Down'}, 'annotations': {'summary': 'gone'}, \
'startsAt': '1970-01-01T00:00:00Z', 'generatorURL': ''}
"""

from __future__ import annotations

from typing import Any

from streams.alertmanager.config.receivers import AlertmanagerForwardConfig, HTTPConfig, Integration
from streams.alertmanager.model import Alert
from streams.alertmanager.notify.gojson import go_json, go_time
from streams.alertmanager.notify.http import HttpRequest, Transport, post
from streams.alertmanager.notify.notification import Notification
from streams.alertmanager.notify.webhook import IDEMPOTENCY_HEADER

API_PATH = "/api/v2/alerts"


def postable(alert: Alert, at: float) -> dict[str, Any]:
    """One alert as Alertmanager's ``POST /api/v2/alerts`` takes it."""
    out: dict[str, Any] = {
        "labels": dict(alert.labels),
        "annotations": dict(alert.annotations),
        "startsAt": go_time(alert.starts_at),
    }
    if alert.ends_at is not None and (alert.resolved(at) or not alert.timeout):
        out["endsAt"] = go_time(alert.ends_at)
    out["generatorURL"] = alert.generator_url
    return out


def alerts_url(base: str) -> str:
    """The alerts endpoint under an Alertmanager's base URL (which may have a path prefix).

    >>> alerts_url("http://am:9093"), alerts_url("http://am:9093/prefix/")
    ('http://am:9093/api/v2/alerts', 'http://am:9093/prefix/api/v2/alerts')
    """
    return base.rstrip("/") + API_PATH


class ForwardNotifier:
    """Posts the notification's alerts to another Alertmanager.

    Args:
        integration: which receiver and ``alertmanager_configs`` entry this is.
        transport: sends the request.
    """

    def __init__(self, integration: Integration, transport: Transport) -> None:
        if not isinstance(integration.config, AlertmanagerForwardConfig):
            raise TypeError(f"{integration.where}: not an alertmanager forward config")
        self.integration = integration
        self._config = integration.config
        self._url = alerts_url(integration.config.url)
        self._transport = transport

    async def notify(self, notification: Notification) -> None:
        """Send ``notification``'s alerts; raises NotifyError when they are not accepted."""
        body = go_json([postable(a, notification.at) for a in notification.alerts])
        request = HttpRequest(
            url=self._url,
            body=body,
            headers={
                "Content-Type": "application/json",
                IDEMPOTENCY_HEADER: notification.idempotency_key,
            },
            http=self._config.http_config or HTTPConfig(),
        )
        await post(self._transport, request, self.integration)
