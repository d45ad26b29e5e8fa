r"""The webhook notifier: Alertmanager's webhook payload, version 4, byte for byte.

The body is what Alertmanager 0.25 posts, in the same key order and JSON escaping::

    {"receiver": "<name, regexp-quoted>", "status": "firing|resolved",
     "alerts": [{"status", "labels", "annotations", "startsAt", "endsAt",
                 "generatorURL", "fingerprint"}, ...],
     "groupLabels": {...}, "commonLabels": {...}, "commonAnnotations": {...},
     "externalURL": "...", "version": "4", "groupKey": "...", "truncatedAlerts": 0,
     "idempotencyKey": "..."}

With ``max_alerts`` only the first alerts are sent and ``truncatedAlerts`` counts the others;
status and common labels describe the alerts sent. A firing alert's ``endsAt`` is Go's zero
time (``0001-01-01T00:00:00Z``), as Alertmanager hides ends that are not reached yet.

pulseline adds the notification's idempotency key: the same for every attempt to deliver
one notification, different for the next notification of the group, so a receiver that
keeps the keys it has seen handles each notification once even when a send is repeated (a
worker killed between the send and its record sends again after restart). It is in the
``Idempotency-Key`` header always, and last in the body as ``idempotencyKey`` unless
``key_in_body`` is off (``alertmanager.key_in_body``): then the body is Alertmanager's byte
for byte, for receivers that validate the payload strictly, or sign or compare bodies.
Alertmanager's own fields are unchanged either way, so receivers written for it read it.

Example:
    >>> from streams.alertmanager.model import Alert
    >>> from streams.alertmanager.notify.notification import Notification
    >>> n = Notification("ops", '{}:{alertname="Down"}', (("alertname", "Down"),),
    ...     (Alert.create({"alertname": "Down"}, starts_at=0.0),), "k1", at=1.0)
    >>> import json
    >>> body = payload(n, max_alerts=0, key_in_body=False)
    >>> body[:46], body[-21:]
    (b'{"receiver":"ops","status":"firing","alerts":[', b'"truncatedAlerts":0}\n')
    >>> payload(n, max_alerts=0)[-43:]
    b'"truncatedAlerts":0,"idempotencyKey":"k1"}\n'
    >>> json.loads(body)["alerts"][0]["endsAt"]
    '0001-01-01T00:00:00Z'
"""

from __future__ import annotations

from typing import Any

from streams.alertmanager.config.receivers import HTTPConfig, Integration, WebhookConfig
from streams.alertmanager.model import Alert
from streams.alertmanager.notify.gojson import go_json, go_time
from streams.alertmanager.notify.http import HttpRequest, Transport, post
from streams.alertmanager.notify.notification import Notification
from streams.alertmanager.templating.data import quote_meta

IDEMPOTENCY_HEADER = "Idempotency-Key"


def alert_json(alert: Alert, at: float) -> dict[str, Any]:
    """One alert as Alertmanager's template data (and webhook) shows it at ``at``."""
    resolved = alert.resolved(at)
    return {
        "status": "resolved" if resolved else "firing",
        "labels": dict(alert.labels),
        "annotations": dict(alert.annotations),
        "startsAt": go_time(alert.starts_at),
        "endsAt": go_time(alert.ends_at if resolved else None),
        "generatorURL": alert.generator_url,
        "fingerprint": alert.fingerprint,
    }


def payload(notification: Notification, max_alerts: int, key_in_body: bool = True) -> bytes:
    """The webhook body of ``notification``, keeping at most ``max_alerts`` (0: all); with
    ``key_in_body``, its idempotency key last."""
    alerts = notification.alerts
    kept = alerts[:max_alerts] if 0 < max_alerts < len(alerts) else alerts
    n = notification.with_alerts(kept)
    key = {"idempotencyKey": n.idempotency_key} if key_in_body else {}
    return go_json(
        {
            "receiver": quote_meta(n.receiver),
            "status": n.status,
            "alerts": [alert_json(a, n.at) for a in kept],
            "groupLabels": dict(sorted(n.group_labels)),
            "commonLabels": n.common_labels(),
            "commonAnnotations": n.common_annotations(),
            "externalURL": n.external_url,
            "version": "4",
            "groupKey": n.group_key,
            "truncatedAlerts": len(alerts) - len(kept),
            **key,
        }
    )


class WebhookNotifier:
    """Posts the version 4 payload to the configured URL.

    Args:
        integration: which receiver and ``webhook_configs`` entry this is.
        transport: sends the request.
        key_in_body: end the body with the idempotency key (see :func:`payload`).
    """

    def __init__(
        self, integration: Integration, transport: Transport, key_in_body: bool = True
    ) -> None:
        if not isinstance(integration.config, WebhookConfig):
            raise TypeError(f"{integration.where}: not a webhook config")
        self.integration = integration
        self._config = integration.config
        self._transport = transport
        self._key_in_body = key_in_body

    async def notify(self, notification: Notification) -> None:
        """Send ``notification``; raises NotifyError when it is not accepted."""
        request = HttpRequest(
            url=self._config.url.get_secret_value(),
            body=payload(notification, self._config.max_alerts, self._key_in_body),
            headers={
                "Content-Type": "application/json",
                IDEMPOTENCY_HEADER: notification.idempotency_key,
            },
            http=self._config.http_config or HTTPConfig(),
        )
        await post(self._transport, request, self.integration)
