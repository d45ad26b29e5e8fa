"""Receiver configs: Alertmanager 0.25's keys and defaults, globals, refusals.

The expected defaults are those Alertmanager 0.25 itself shows in ``/api/v2/status`` for the
same config (``config.original``), read from the Debian binary.
"""

from __future__ import annotations

import re

import pytest
from pydantic import ValidationError

from streams.alertmanager.config.receivers import (
    EmailConfig,
    GlobalDefaults,
    HTTPConfig,
    Receiver,
    SlackConfig,
    WebhookConfig,
    with_globals,
)
from streams.errors import ConfigError

GLOBALS = GlobalDefaults.model_validate(
    {
        "slack_api_url": "http://127.0.0.1:1/slack",
        "smtp_from": "am@example.org",
        "smtp_smarthost": "127.0.0.1:25",
        "smtp_auth_password": "pw",
    }
)


def _receiver(**configs: object) -> Receiver:
    return Receiver.model_validate({"name": "r", **configs})


def test_defaults_and_globals_as_alertmanager_shows_them() -> None:
    r = with_globals(
        _receiver(
            webhook_configs=[{"url": "http://127.0.0.1:1/hook"}],
            slack_configs=[{"channel": "#x"}],
            email_configs=[{"to": "a@b.c"}],
        ),
        GLOBALS,
    )
    (w,), (s,), (e,) = r.webhook_configs, r.slack_configs, r.email_configs
    assert (w.send_resolved, w.max_alerts) == (True, 0)
    assert w.http_config == HTTPConfig(follow_redirects=True, enable_http2=True)
    assert s.send_resolved is False
    assert s.api_url is not None and s.api_url.get_secret_value() == "http://127.0.0.1:1/slack"
    assert s.username == '{{ template "slack.default.username" . }}'
    assert s.color == '{{ if eq .Status "firing" }}danger{{ else }}good{{ end }}'
    assert s.title == '{{ template "slack.default.title" . }}'
    assert s.title_link == '{{ template "slack.default.titlelink" . }}'
    assert s.pretext == '{{ template "slack.default.pretext" . }}'
    assert s.text == '{{ template "slack.default.text" . }}'
    assert s.footer == '{{ template "slack.default.footer" . }}'
    assert s.fallback == '{{ template "slack.default.fallback" . }}'
    assert s.callback_id == '{{ template "slack.default.callbackid" . }}'
    assert s.icon_emoji == '{{ template "slack.default.iconemoji" . }}'
    assert s.icon_url == '{{ template "slack.default.iconurl" . }}'
    assert (s.short_fields, s.link_names) == (False, False)
    assert e.send_resolved is False
    assert (e.from_, e.hello, e.smarthost, e.require_tls) == (
        "am@example.org",
        "localhost",
        "127.0.0.1:25",
        True,
    )
    assert e.auth_password is not None and e.auth_password.get_secret_value() == "pw"
    assert e.headers == {
        "From": "am@example.org",
        "Subject": '{{ template "email.default.subject" . }}',
        "To": "a@b.c",
    }
    assert e.html == '{{ template "email.default.html" . }}' and e.text == ""
    assert [i.where for i in r.integrations()] == ["webhook[0]", "slack[0]", "email[0]"]


def test_own_values_win_over_globals() -> None:
    r = with_globals(
        _receiver(
            email_configs=[
                {
                    "to": "a@b.c",
                    "from": "me@x.org",
                    "smarthost": "mx:587",
                    "require_tls": False,
                    "headers": {"subject": "hi", "x-team": "ops"},
                }
            ],
            slack_configs=[{"api_url": "https://hooks.example/own"}],
        ),
        GLOBALS,
    )
    e = r.email_configs[0]
    assert (e.from_, e.smarthost, e.require_tls) == ("me@x.org", "mx:587", False)
    assert e.headers == {"Subject": "hi", "X-Team": "ops", "To": "a@b.c", "From": "me@x.org"}
    api_url = r.slack_configs[0].api_url
    assert api_url is not None and api_url.get_secret_value() == "https://hooks.example/own"


@pytest.mark.parametrize(
    ("configs", "message"),
    [
        ({"slack_configs": [{}]}, "receiver 'r': slack_configs[0]: no api_url"),
        ({"email_configs": [{"to": "a@b.c"}]}, "receiver 'r': email_configs[0]: no from"),
        (
            {"email_configs": [{"to": "a@b.c", "from": "x@y"}]},
            "receiver 'r': email_configs[0]: no smarthost",
        ),
    ],
)
def test_missing_global_defaults_are_errors_naming_the_receiver(
    configs: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        with_globals(_receiver(**configs), GlobalDefaults())


@pytest.mark.parametrize(
    "config",
    [
        {"webhook_configs": [{"url": "http://x/", "url_file": "/f"}]},
        {"webhook_configs": [{"url": "http://x/", "send_resolve": True}]},
        {"webhook_configs": [{"url": "http://x/", "http_config": {"proxy_url": "http://p"}}]},
        {"webhook_configs": [{"url": "ftp://x/"}]},
        {"webhook_configs": [{"url": "http:///path"}]},
        {"webhook_configs": [{"url": "http://x/", "max_alerts": -1}]},
        {"pagerduty_configs": [{"routing_key": "k"}]},
        {"email_configs": [{"to": "a@b.c", "headers": {"subject": "a", "Subject": "b"}}]},
        {"email_configs": [{"to": "a@b.c", "smarthost": "no-port"}]},
        {"email_configs": [{}]},
        {"slack_configs": [{"fields": [{"title": "t"}]}]},
        {"slack_configs": [{"actions": [{"type": "button", "text": "t"}]}]},
        {
            "slack_configs": [
                {"http_config": {"bearer_token": "a", "basic_auth": {"username": "u"}}}
            ]
        },
        {"slack_configs": [{"http_config": {"authorization": {"type": "Basic"}}}]},
        {"slack_configs": [{"http_config": {"tls_config": {"cert_file": "c"}}}]},
        {"alertmanager_configs": [{}]},
    ],
)
def test_invalid_or_unknown_keys_are_refused(config: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        _receiver(**config)


def test_secrets_never_print() -> None:
    r = _receiver(
        webhook_configs=[
            {"url": "http://h/token-in-path", "http_config": {"bearer_token": "s3cret"}}
        ],
        slack_configs=[{"api_url": "https://hooks.example/T/B/s3cret"}],
        email_configs=[{"to": "a@b.c", "auth_password": "s3cret", "auth_secret": "s3cret"}],
    )
    for text in (repr(r), str(r), r.model_dump_json()):
        assert "s3cret" not in text and "token-in-path" not in text


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://[fd00:ec2::254]/latest",
        "http://[::ffff:169.254.1.2]:8080/",
    ],
)
def test_link_local_destinations_are_refused_unless_allowed(url: str) -> None:
    for kind, key in (("webhook", "url"), ("slack", "api_url"), ("alertmanager", "url")):
        plain = _receiver(**{f"{kind}_configs": [{key: url}]})
        with pytest.raises(ConfigError, match=f"{kind}_configs\\[0\\]: .*allow_link_local"):
            with_globals(plain, GLOBALS)
        allowed = _receiver(
            **{f"{kind}_configs": [{key: url, "http_config": {"allow_link_local": True}}]}
        )
        assert with_globals(allowed, GLOBALS).integrations()[0].kind == kind
        by_global = GLOBALS.model_copy(update={"http_config": HTTPConfig(allow_link_local=True)})
        assert with_globals(plain, by_global).integrations()[0].kind == kind


def test_the_refusal_does_not_show_the_url_path() -> None:
    plain = _receiver(webhook_configs=[{"url": "http://169.254.1.1/secret-token"}])
    with pytest.raises(ConfigError) as info:
        with_globals(plain, GLOBALS)
    assert "secret-token" not in str(info.value)


def test_models_are_frozen() -> None:
    w = WebhookConfig.model_validate({"url": "http://x/"})
    with pytest.raises(ValidationError):
        w.max_alerts = 3  # type: ignore[misc]
    assert SlackConfig().api_url is None
    assert EmailConfig.model_validate({"to": "a"}).model_dump(by_alias=True)["from"] is None
