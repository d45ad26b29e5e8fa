"""Notification templates as Alertmanager 0.25 renders them.

Receiver text fields (a Slack title, an email subject) are Go templates. :class:`Templates`
holds the default definitions and the files a configuration's ``templates`` list names,
checks each field when the configuration loads, and renders fields against
:func:`~streams.alertmanager.templating.data.template_data`, with Alertmanager's functions and
its ``missingkey=zero`` option (a missing label is the empty string).

Example:
    >>> from streams.alertmanager.model import Alert
    >>> templates = Templates.load()
    >>> alert = Alert.create({"alertname": "Down", "job": "node"}, starts_at=0.0)
    >>> data = template_data("ops", "firing", [alert], {"alertname": "Down"}, "http://am", 5.0)
    >>> templates.render(SLACK_DEFAULTS["title"], data)
    '[FIRING:1] Down (node)'
    >>> templates.render(SLACK_DEFAULTS["fallback"], data)
    '[FIRING:1] Down (node) | http://am/#/alerts?receiver=ops'
    >>> templates.check("{{ .CommonLabels.job | upper }}", "receiver ops: slack_configs[0].title")
    Traceback (most recent call last):
    ...
    streams.gotemplate.errors.TemplateError: template: receiver ops: slack_configs[0].title:1:24: function "upper" not defined
"""  # noqa: E501

from __future__ import annotations

import glob
from collections.abc import Sequence
from pathlib import Path

from streams.alertmanager.templating.data import TemplateData, template_data
from streams.alertmanager.templating.defaults import (
    DEFAULT_TEMPLATES,
    EMAIL_DEFAULTS,
    SLACK_DEFAULTS,
)
from streams.alertmanager.templating.functions import FUNCTIONS
from streams.errors import ConfigError
from streams.gotemplate import TemplateSet

__all__ = [
    "EMAIL_DEFAULTS",
    "SLACK_DEFAULTS",
    "TemplateData",
    "Templates",
    "template_data",
]


class Templates:
    """The template definitions of one configuration, and rendering with them.

    Build it with :meth:`load`. Rendering is safe to repeat: a field's own ``define``s do
    not leak into the set, and parsed fields are cached.
    """

    def __init__(self, templates: TemplateSet) -> None:
        self._set = templates

    @classmethod
    def load(cls, paths: Sequence[Path] = ()) -> Templates:
        """The default definitions, then each file the paths name, later ones overriding.

        Paths may be glob patterns, as in Alertmanager's ``templates`` list; a pattern that
        matches nothing is allowed.

        Raises:
            TemplateError: a file does not parse (the message names the file).
            ConfigError: a file cannot be read.
        """
        templates = TemplateSet(FUNCTIONS, missingkey="zero")
        templates.parse("default.tmpl", DEFAULT_TEMPLATES)
        for pattern in paths:
            for name in sorted(glob.glob(str(pattern))):
                try:
                    text = Path(name).read_text(encoding="utf-8")
                except (OSError, UnicodeDecodeError) as exc:
                    raise ConfigError(f"template file {name}: {exc}") from exc
                templates.parse(name, text)
        return cls(templates)

    def names(self) -> list[str]:
        """The names of the defined templates."""
        return self._set.names()

    def check(self, text: str, where: str) -> None:
        """Parse a field now, so what cannot render is refused when the config loads.

        Args:
            text: the field's template text.
            where: what to name in the error, such as ``receiver "ops" slack_configs[0].title``.

        Raises:
            TemplateError: a syntax error, an unknown function or an undefined template, with
                ``where``, line and column in the message.
        """
        self._set.check(text, where)

    def render(self, text: str, data: TemplateData, where: str = "") -> str:
        """Render a text field, as Alertmanager's ``ExecuteTextString``.

        Raises:
            TemplateError: the execution failed (Alertmanager fails the notification then).
        """
        return self._set.render(text, data, name=where)

    def render_html(self, text: str, data: TemplateData, where: str = "") -> str:
        """Render an HTML field (an email body): printed values are HTML-escaped unless
        marked with ``safeHtml``.

        Alertmanager escapes by HTML context (attributes, URLs, scripts); this escapes every
        printed value as element text, which is the same for text and quoted attributes.

        Raises:
            TemplateError: the execution failed.
        """
        return self._set.render(text, data, name=where, html=True)
