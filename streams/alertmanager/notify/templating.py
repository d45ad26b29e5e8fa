"""Rendering a notifier's text fields: the templates are injected, never imported globally.

Slack and email fields are Go templates (``{{ .CommonLabels.alertname }}``); the template
engine (:mod:`streams.alertmanager.templates`) renders them against Alertmanager's template
data. Notifiers get it through :class:`Templating`, built once per configuration, so tests
pass a fake and a reload passes the new templates.

A field that fails to render fails the notification without retry (it would fail again);
the error names the receiver, the integration and the field.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from streams.alertmanager.model import Alert, Labels
from streams.alertmanager.notify.errors import NotifyError
from streams.alertmanager.notify.notification import Notification
from streams.alertmanager.receivers import Integration


class Renderer(Protocol):
    """Renders one template text against template data."""

    def render(self, text: str, data: Any) -> str: ...


class TemplateData(Protocol):
    """Builds Alertmanager's template data (``.Receiver``, ``.Status``, ``.Alerts``...)."""

    def __call__(
        self,
        receiver: str,
        status: str,
        alerts: Sequence[Alert],
        group_labels: Labels,
        external_url: str,
        at: float,
    ) -> Any: ...


@dataclass(frozen=True, slots=True)
class Templating:
    """The loaded templates and the data builder they render against."""

    templates: Renderer
    data: TemplateData

    def texts(self, notification: Notification, integration: Integration) -> Callable[[str], str]:
        """A function rendering one text for ``notification`` (data built once).

        Empty texts render as empty without calling the templates. The function raises
        NotifyError (not retryable) naming the integration when a text fails.
        """
        n = notification
        data = self.data(n.receiver, n.status, n.alerts, n.group_labels, n.external_url, n.at)

        def render(text: str) -> str:
            if not text:
                return ""
            try:
                return self.templates.render(text, data)
            except Exception as exc:  # any template failure: the text is at fault
                raise NotifyError(
                    f"template {_short(text)!r} failed: {exc}",
                    receiver=integration.receiver,
                    integration=integration.where,
                    retryable=False,
                ) from exc

        return render


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
