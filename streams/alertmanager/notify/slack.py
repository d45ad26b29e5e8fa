"""The Slack notifier: one incoming-webhook message with one attachment, as Alertmanager sends it.

The JSON is Alertmanager 0.25's: ``channel``, ``username``, ``icon_emoji``, ``icon_url``
and ``link_names`` when set, then ``attachments`` with one attachment whose ``title``
(at most 1024 characters, cut with "…"), ``title_link``, ``pretext``, ``text``,
``fallback``, ``callback_id``, ``fields``, ``actions``, ``image_url``, ``thumb_url``,
``footer``, ``color`` and ``mrkdwn_in`` (default ``["fallback", "pretext", "text"]``) come
from the config's templates. A field's ``short`` defaults to ``short_fields``.

Slack answers an incoming webhook with a ``200`` and ``ok``; other statuses follow the
common rule (5xx and 429 are retried). The ``Idempotency-Key`` header is sent as for webhooks
(Slack ignores it; a proxy in front may use it).
"""

from __future__ import annotations

from typing import Any

from streams.alertmanager.config.receivers import HTTPConfig, Integration, SlackAction, SlackConfig
from streams.alertmanager.notify.gojson import go_json
from streams.alertmanager.notify.http import HttpRequest, Transport, post
from streams.alertmanager.notify.notification import Notification
from streams.alertmanager.notify.templating import RenderText, Templating
from streams.alertmanager.notify.webhook import IDEMPOTENCY_HEADER

MAX_TITLE_RUNES = 1024
DEFAULT_MRKDWN_IN = ("fallback", "pretext", "text")


def truncate_runes(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, the last one an ellipsis when cut.

    >>> truncate_runes("abcdef", 4), truncate_runes("abc", 4)
    ('abc…', 'abc')
    """
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _set(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """Keys whose value is set (Go's ``omitempty``: no empty string, false or empty list)."""
    return {k: v for k, v in pairs if v not in ("", False, None, [], ())}


def _action(action: SlackAction, text: RenderText, where: str) -> dict[str, Any]:
    def t(name: str) -> str:
        return text(getattr(action, name), f"{where}.{name}")

    out = _set([(name, t(name)) for name in ("type", "text", "url", "style", "name", "value")])
    if action.confirm is not None:
        c = action.confirm
        out["confirm"] = _set(
            [
                (name, text(getattr(c, name), f"{where}.confirm.{name}"))
                for name in ("text", "title", "ok_text", "dismiss_text")
            ]
        )
    return out


def message(config: SlackConfig, text: RenderText) -> dict[str, Any]:
    """The Slack message for a config, each template rendered by ``text``.

    >>> def text(s: str, field: str = "") -> str:  # a stand-in for the templates
    ...     return "" if "{{" in s else s.upper()
    >>> m = message(SlackConfig(channel="#ops", title="down", mrkdwn_in=("text",)), text)
    >>> m["channel"], m["attachments"][0]["title"], m["attachments"][0]["mrkdwn_in"]
    ('#OPS', 'DOWN', ['text'])
    """

    def t(name: str) -> str:
        return text(getattr(config, name), name)

    fields = [
        {
            "title": text(f.title, f"fields[{i}].title"),
            "value": text(f.value, f"fields[{i}].value"),
            "short": config.short_fields if f.short is None else f.short,
        }
        for i, f in enumerate(config.fields)
    ]
    actions = [_action(a, text, f"actions[{i}]") for i, a in enumerate(config.actions)]
    attachment = _set(
        [
            ("title", truncate_runes(t("title"), MAX_TITLE_RUNES)),
            ("title_link", t("title_link")),
            ("pretext", t("pretext")),
        ]
    )
    for name in ("text", "fallback", "callback_id"):  # sent even when empty
        attachment[name] = t(name)
    attachment.update(
        _set(
            [
                ("fields", fields),
                ("actions", actions),
                ("image_url", t("image_url")),
                ("thumb_url", t("thumb_url")),
            ]
        )
    )
    attachment["footer"] = t("footer")
    attachment.update(
        _set([("color", t("color")), ("mrkdwn_in", list(config.mrkdwn_in or DEFAULT_MRKDWN_IN))])
    )
    out = _set([(name, t(name)) for name in ("channel", "username", "icon_emoji", "icon_url")])
    if config.link_names:
        out["link_names"] = True
    out["attachments"] = [attachment]
    return out


class SlackNotifier:
    """Posts the rendered message to the config's ``api_url``.

    Args:
        integration: which receiver and ``slack_configs`` entry this is (globals filled).
        transport: sends the request.
        templating: renders the text fields.
    """

    def __init__(
        self, integration: Integration, transport: Transport, templating: Templating
    ) -> None:
        config = integration.config
        if not isinstance(config, SlackConfig) or config.api_url is None:
            raise TypeError(f"{integration.where}: not a Slack config with an api_url")
        self.integration = integration
        self._config = config
        self._url = config.api_url.get_secret_value()
        self._transport = transport
        self._templating = templating

    async def notify(self, notification: Notification) -> None:
        """Send ``notification``; raises NotifyError when it is not accepted."""
        text = self._templating.texts(notification, self.integration)
        body = go_json(message(self._config, text))
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
