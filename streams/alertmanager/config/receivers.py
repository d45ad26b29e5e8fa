"""Receivers as ``alertmanager.yml`` declares them: webhook, Slack, email, another Alertmanager.

The models accept the keys of Alertmanager 0.25's receiver configurations, with its
defaults, and refuse every key they do not know (a misspelt ``send_resolve`` is an error,
not a silent default). Two things are pulseline's own:

- ``alertmanager_configs``: forward the alerts to an existing Alertmanager's
  ``/api/v2/alerts``, for teams that keep one;
- ``http_config.allow_link_local``: a destination that resolves to a link-local or cloud
  metadata address (169.254.0.0/16, ``fd00:ec2::254``) is refused unless this is true.

Text fields (``title``, ``text``, ``html``, email headers...) hold Go templates and are kept
as written; the notifiers render them. Secrets (Slack and webhook URLs, passwords, tokens)
are :class:`~pydantic.SecretStr` and print masked.

Defaults that Alertmanager takes from the ``global`` section are filled by
:func:`with_globals`, once the whole file is read:

Example:
    >>> r = Receiver.model_validate({
    ...     "name": "team",
    ...     "slack_configs": [{"channel": "#ops"}],
    ...     "email_configs": [{"to": "ops@example.org"}],
    ... })
    >>> g = GlobalDefaults.model_validate({
    ...     "slack_api_url": "https://hooks.slack.example/T0/B0/x",
    ...     "smtp_from": "am@example.org", "smtp_smarthost": "mail.example.org:587",
    ... })
    >>> r = with_globals(r, g)
    >>> r.slack_configs[0].api_url
    SecretStr('**********')
    >>> r.email_configs[0].smarthost, r.email_configs[0].headers["From"]
    ('mail.example.org:587', 'am@example.org')
    >>> [i.where for i in r.integrations()]
    ['slack[0]', 'email[0]']
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, field_validator

from streams.alertmanager.config.httpconfig import (
    FROZEN,
    HTTPConfig,
    TLSConfig,
    check_host_port,
    check_http_url,
    refuse_literal_link_local,
)
from streams.alertmanager.config.integrations import (
    AlertmanagerForwardConfig,
    EmailConfig,
    SlackAction,
    SlackConfig,
    SlackConfirmationField,
    SlackField,
    WebhookConfig,
    template_of,
)
from streams.errors import ConfigError

__all__ = [
    "KINDS",
    "AlertmanagerForwardConfig",
    "EmailConfig",
    "GlobalDefaults",
    "HTTPConfig",
    "Integration",
    "IntegrationConfig",
    "Kind",
    "Receiver",
    "SlackAction",
    "SlackConfig",
    "SlackConfirmationField",
    "SlackField",
    "TLSConfig",
    "WebhookConfig",
    "with_globals",
]


IntegrationConfig = WebhookConfig | SlackConfig | EmailConfig | AlertmanagerForwardConfig
"""The configuration of one integration of a receiver."""

Kind = Literal["webhook", "slack", "email", "alertmanager"]
"""An integration kind: its ``*_configs`` key without ``_configs``."""


@dataclass(frozen=True, slots=True)
class Integration:
    """One configured integration of a receiver, as Alertmanager names it: ``webhook[0]``.

    Attributes:
        receiver: the receiver's name.
        kind: which notifier handles it.
        index: position in the receiver's list of that kind.
        config: the integration's configuration, globals filled in.
    """

    receiver: str
    kind: Kind
    index: int
    config: IntegrationConfig

    @property
    def where(self) -> str:
        """``kind[index]``, as in log lines and errors."""
        return f"{self.kind}[{self.index}]"


class Receiver(BaseModel):
    """A named receiver and its integrations."""

    model_config = FROZEN

    name: str = Field(min_length=1)
    webhook_configs: tuple[WebhookConfig, ...] = ()
    slack_configs: tuple[SlackConfig, ...] = ()
    email_configs: tuple[EmailConfig, ...] = ()
    alertmanager_configs: tuple[AlertmanagerForwardConfig, ...] = ()

    def integrations(self) -> tuple[Integration, ...]:
        """Every integration, in the order of :data:`KINDS` then position."""
        return tuple(
            Integration(self.name, kind, index, config)
            for kind in KINDS
            for index, config in enumerate(getattr(self, f"{kind}_configs"))
        )


KINDS: tuple[Kind, ...] = ("webhook", "slack", "email", "alertmanager")


class GlobalDefaults(BaseModel):
    """The keys of ``global`` that give receivers their defaults.

    ``smtp_hello`` defaults to ``localhost`` and ``smtp_require_tls`` to true, as in
    Alertmanager.
    """

    model_config = FROZEN

    http_config: HTTPConfig = HTTPConfig()
    slack_api_url: SecretStr | None = None
    smtp_from: str | None = None
    smtp_smarthost: str | None = None
    smtp_hello: str = "localhost"
    smtp_auth_username: str | None = None
    smtp_auth_password: SecretStr | None = None
    smtp_auth_secret: SecretStr | None = None
    smtp_auth_identity: str | None = None
    smtp_require_tls: bool = True

    @field_validator("slack_api_url")
    @classmethod
    def _http(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            check_http_url(value.get_secret_value())
        return value

    @field_validator("smtp_smarthost")
    @classmethod
    def _host_port(cls, value: str | None) -> str | None:
        if value is not None:
            check_host_port(value)
        return value


def with_globals(receiver: Receiver, defaults: GlobalDefaults) -> Receiver:
    """``receiver`` with what its integrations leave unset taken from ``global``.

    As Alertmanager does: ``http_config`` of webhook, Slack and forward configs; Slack's
    ``api_url``; email's ``from``, ``smarthost``, ``hello``, ``auth_*``, ``require_tls``,
    and the ``Subject``, ``To`` and ``From`` headers.

    Raises:
        ConfigError: a Slack config has no ``api_url`` and no ``global.slack_api_url`` is
            set, or an email config lacks ``from`` or ``smarthost`` with no global default;
            the message names the receiver and the integration.
    """
    g = defaults

    def where(kind: str, index: int) -> str:
        return f"receiver {receiver.name!r}: {kind}_configs[{index}]"

    webhooks = tuple(
        c if c.http_config else c.model_copy(update={"http_config": g.http_config})
        for c in receiver.webhook_configs
    )
    forwards = tuple(
        c if c.http_config else c.model_copy(update={"http_config": g.http_config})
        for c in receiver.alertmanager_configs
    )
    slacks: list[SlackConfig] = []
    for i, s in enumerate(receiver.slack_configs):
        api_url = s.api_url or g.slack_api_url
        if api_url is None:
            raise ConfigError(f"{where('slack', i)}: no api_url and no global slack_api_url set")
        http = s.http_config or g.http_config
        _refuse_at(where("slack", i), api_url.get_secret_value(), http)
        slacks.append(s.model_copy(update={"api_url": api_url, "http_config": http}))
    emails: list[EmailConfig] = []
    for i, e in enumerate(receiver.email_configs):
        sender = e.from_ or g.smtp_from
        smarthost = e.smarthost or g.smtp_smarthost
        if not sender:
            raise ConfigError(f"{where('email', i)}: no from and no global smtp_from set")
        if not smarthost:
            raise ConfigError(f"{where('email', i)}: no smarthost and no global smtp_smarthost set")
        headers = {"Subject": template_of("email.default.subject"), "To": e.to, "From": sender}
        headers.update(e.headers)
        emails.append(
            e.model_copy(
                update={
                    "from_": sender,
                    "smarthost": smarthost,
                    "hello": e.hello or g.smtp_hello,
                    "auth_username": e.auth_username or g.smtp_auth_username,
                    "auth_password": e.auth_password or g.smtp_auth_password,
                    "auth_secret": e.auth_secret or g.smtp_auth_secret,
                    "auth_identity": e.auth_identity or g.smtp_auth_identity,
                    "require_tls": g.smtp_require_tls if e.require_tls is None else e.require_tls,
                    "headers": headers,
                }
            )
        )
    for i, w in enumerate(webhooks):
        _refuse_at(where("webhook", i), w.url.get_secret_value(), w.http_config)
    for i, f in enumerate(forwards):
        _refuse_at(where("alertmanager", i), f.url, f.http_config)
    return receiver.model_copy(
        update={
            "webhook_configs": webhooks,
            "slack_configs": tuple(slacks),
            "email_configs": tuple(emails),
            "alertmanager_configs": forwards,
        }
    )


def _refuse_at(where: str, url: str, http: HTTPConfig | None) -> None:
    try:
        refuse_literal_link_local(url, http)
    except ValueError as exc:
        raise ConfigError(f"{where}: {exc}") from None
