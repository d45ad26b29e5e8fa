"""Rendering a notifier's text fields: the templates are injected, never imported globally.

Slack and email fields are Go templates (``{{ .CommonLabels.alertname }}``); the template
engine (:mod:`streams.alertmanager.templating.templates`) renders them against
Alertmanager's template data. Notifiers get it through :class:`Templating`, built once per
configuration, so tests pass a fake and a reload passes the new templates.

A field that fails to render fails the notification without retry (it would fail again);
the error names the receiver, the integration and the field.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from streams.alertmanager.config.receivers import Integration
from streams.alertmanager.model import Alert
from streams.alertmanager.notify.errors import NotifyError
from streams.alertmanager.notify.notification import Notification


class Renderer(Protocol):
    """Renders template texts against template data.

    :class:`~streams.alertmanager.templating.templates.Templates` is one.
    """

    def render(self, text: str, data: Any, where: str = "") -> str:
        """Render a text field."""
        ...

    def render_html(self, text: str, data: Any, where: str = "") -> str:
        """Render an HTML field (an email body), printed values HTML-escaped."""
        ...


class TemplateData(Protocol):
    """Builds Alertmanager's template data (``.Receiver``, ``.Status``, ``.Alerts``...)."""

    def __call__(
        self,
        receiver: str,
        status: str,
        alerts: Sequence[Alert],
        group_labels: Mapping[str, str],
        external_url: str,
        at: float,
    ) -> Any: ...


class RenderText(Protocol):
    """Renders one text field; ``field`` names it in errors."""

    def __call__(self, text: str, field: str = "") -> str: ...


class Texts:
    """Renders the fields of one notification for one integration (data built once).

    Empty texts render as empty without calling the templates. A failing text raises
    NotifyError (not retryable) naming the receiver, the integration and the field.
    """

    def __init__(self, templates: Renderer, data: Any, integration: Integration) -> None:
        self._templates = templates
        self._data = data
        self._integration = integration

    def __call__(self, text: str, field: str = "") -> str:
        """Render a text field (``field`` names it in errors: ``title``, ``headers.To``)."""
        return self._render(text, field, html=False)

    def html(self, text: str, field: str = "html") -> str:
        """Render an HTML field, printed values escaped."""
        return self._render(text, field, html=True)

    def _render(self, text: str, field: str, *, html: bool) -> str:
        if not text:
            return ""
        i = self._integration
        where = f"receiver {i.receiver!r} {i.where}" + (f" {field}" if field else "")
        try:
            if html:
                return self._templates.render_html(text, self._data, where)
            return self._templates.render(text, self._data, where)
        except Exception as exc:  # any template failure: the text is at fault
            raise NotifyError(
                f"{field or 'template'} {_short(text)!r} failed: {exc}",
                receiver=i.receiver,
                integration=i.where,
                retryable=False,
            ) from exc


@dataclass(frozen=True, slots=True)
class Templating:
    """The loaded templates and the data builder they render against.

    Example:
        >>> from streams.alertmanager.model import Alert
        >>> from streams.alertmanager.config.receivers import Integration, SlackConfig
        >>> from streams.alertmanager.templating.templates import Templates, template_data
        >>> templating = Templating(Templates.load(), template_data)
        >>> n = Notification("ops", "{}:{}", (("alertname", "Down"),),
        ...                  (Alert.create({"alertname": "Down"}),), "k", at=1.0)
        >>> texts = templating.texts(n, Integration("ops", "slack", 0, SlackConfig()))
        >>> texts("{{ .GroupLabels.alertname }} is {{ .Status }}", "title")
        'Down is firing'
    """

    templates: Renderer
    data: TemplateData

    def texts(self, notification: Notification, integration: Integration) -> Texts:
        """The renderer of ``notification``'s fields for ``integration``."""
        n = notification
        data = self.data(n.receiver, n.status, n.alerts, dict(n.group_labels), n.external_url, n.at)
        return Texts(self.templates, data, integration)


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
