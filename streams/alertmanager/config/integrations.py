"""The configuration of each integration: ``webhook_configs``, ``slack_configs``...

One model per ``*_configs`` entry of an Alertmanager 0.25 receiver, with its keys and
defaults; unknown keys are refused. :mod:`streams.alertmanager.config.receivers` gathers them into
receivers and fills what Alertmanager takes from ``global``.

Example:
    >>> w = WebhookConfig.model_validate({"url": "http://hooks.example/x"})
    >>> w.send_resolved, w.max_alerts, w.url
    (True, 0, SecretStr('**********'))
    >>> SlackConfig().title
    '{{ template "slack.default.title" . }}'
"""

from __future__ import annotations

from typing import Self

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator

from streams.alertmanager.config.httpconfig import (
    FROZEN,
    HTTPConfig,
    TLSConfig,
    check_host_port,
    check_http_url,
)


def template_of(name: str) -> str:
    """The text that renders the named template: Alertmanager's way to write a default.

    >>> template_of("email.default.subject")
    '{{ template "email.default.subject" . }}'
    """
    return '{{ template "' + name + '" . }}'


class _Notifier(BaseModel):
    model_config = FROZEN

    send_resolved: bool = False


class WebhookConfig(_Notifier):
    """POST Alertmanager's webhook payload (version 4) to ``url``."""

    send_resolved: bool = True
    url: SecretStr
    max_alerts: int = Field(0, ge=0, description="Alerts per message at most; 0: all.")
    http_config: HTTPConfig | None = None

    @field_validator("url")
    @classmethod
    def _http(cls, value: SecretStr) -> SecretStr:
        check_http_url(value.get_secret_value())
        return value


class SlackField(BaseModel):
    """One field of a Slack attachment."""

    model_config = FROZEN

    title: str = Field(min_length=1)
    value: str = Field(min_length=1)
    short: bool | None = None


class SlackConfirmationField(BaseModel):
    """A confirmation asked before a Slack action runs."""

    model_config = FROZEN

    text: str = Field(min_length=1)
    title: str = ""
    ok_text: str = ""
    dismiss_text: str = ""


class SlackAction(BaseModel):
    """A button of a Slack attachment: a link (``url``) or a message action (``name``)."""

    model_config = FROZEN

    type: str = Field(min_length=1)
    text: str = Field(min_length=1)
    url: str = ""
    style: str = ""
    name: str = ""
    value: str = ""
    confirm: SlackConfirmationField | None = None

    @model_validator(mode="after")
    def _url_or_name(self) -> Self:
        if not self.url and not self.name:
            raise ValueError("a Slack action needs a name or a url")
        return self


class SlackConfig(_Notifier):
    """Post to a Slack incoming webhook; text fields are Go templates.

    ``api_url`` comes from ``global.slack_api_url`` when not given.
    """

    http_config: HTTPConfig | None = None
    api_url: SecretStr | None = None
    channel: str = ""
    username: str = template_of("slack.default.username")
    color: str = '{{ if eq .Status "firing" }}danger{{ else }}good{{ end }}'
    title: str = template_of("slack.default.title")
    title_link: str = template_of("slack.default.titlelink")
    pretext: str = template_of("slack.default.pretext")
    text: str = template_of("slack.default.text")
    fields: tuple[SlackField, ...] = ()
    short_fields: bool = False
    footer: str = template_of("slack.default.footer")
    fallback: str = template_of("slack.default.fallback")
    callback_id: str = template_of("slack.default.callbackid")
    icon_emoji: str = template_of("slack.default.iconemoji")
    icon_url: str = template_of("slack.default.iconurl")
    image_url: str = ""
    thumb_url: str = ""
    link_names: bool = False
    mrkdwn_in: tuple[str, ...] = ()
    actions: tuple[SlackAction, ...] = ()

    @field_validator("api_url")
    @classmethod
    def _http(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            check_http_url(value.get_secret_value())
        return value


def canonical_header(name: str) -> str:
    """A MIME header name as Go canonicalizes it: ``content-type`` -> ``Content-Type``.

    >>> canonical_header("x-pulseline-TEAM")
    'X-Pulseline-Team'
    """
    if not name or any(c in name for c in " \t:"):
        return name
    return "-".join(part[:1].upper() + part[1:].lower() for part in name.split("-"))


class EmailConfig(_Notifier):
    """Send an email over SMTP; ``to``, headers, ``html`` and ``text`` are Go templates.

    ``from``, ``smarthost``, ``hello``, the ``auth_*`` fields and ``require_tls`` come from
    the ``global`` section's ``smtp_*`` keys when not given. Header names are canonicalized
    (``subject`` is ``Subject``); two spellings of one header are an error.
    """

    to: str = Field(min_length=1)
    from_: str | None = Field(None, alias="from")
    hello: str | None = None
    smarthost: str | None = None
    auth_username: str | None = None
    auth_password: SecretStr | None = None
    auth_secret: SecretStr | None = None
    auth_identity: str | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    html: str = template_of("email.default.html")
    text: str = ""
    require_tls: bool | None = None
    tls_config: TLSConfig | None = None

    @field_validator("smarthost")
    @classmethod
    def _host_port(cls, value: str | None) -> str | None:
        if value is not None:
            check_host_port(value)
        return value

    @field_validator("headers")
    @classmethod
    def _canonical(cls, value: dict[str, str]) -> dict[str, str]:
        out: dict[str, str] = {}
        for name, text in value.items():
            key = canonical_header(name)
            if key in out:
                raise ValueError(f"duplicate header {key!r} in email config")
            out[key] = text
        return out


class AlertmanagerForwardConfig(_Notifier):
    """Forward alerts to an existing Alertmanager at ``url`` (its base URL).

    Alerts are posted to ``<url>/api/v2/alerts`` as Alertmanager's postable alerts, so the
    other Alertmanager does its own grouping and notifying.
    """

    send_resolved: bool = True
    url: str
    http_config: HTTPConfig | None = None

    @field_validator("url")
    @classmethod
    def _http(cls, value: str) -> str:
        return check_http_url(value)
