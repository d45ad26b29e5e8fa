"""The Slack message, rendered through a fake template engine injected into the notifier.

The fake renders ``{{ template "name" . }}`` as ``<name>`` and ``{{ .Status }}`` /
``{{ .CommonLabels.alertname }}`` from the data, so each field shows which template it came
from. The shape (keys, omitted empties, defaults) is Alertmanager 0.25's.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from streams.alertmanager.config.receivers import GlobalDefaults, Receiver, with_globals
from streams.alertmanager.model import Alert
from streams.alertmanager.notify import NotifyError, NotifyStats, Services, deliver, notifiers_for
from streams.alertmanager.notify.notification import Notification
from streams.alertmanager.notify.templating import Templating
from streams.alertmanager.notify.testing import CollectingTransport


class FakeTemplates:
    def __init__(self) -> None:
        self.rendered: list[str] = []

    def render_html(self, text: str, data: Any, where: str = "") -> str:
        raise AssertionError("Slack renders no HTML")

    def render(self, text: str, data: Any, where: str = "") -> str:
        self.rendered.append(where)
        if "{{ fail }}" in text:
            raise ValueError("function fail not defined")
        text = re.sub(r'\{\{ template "([^"]+)" \. \}\}', r"<\1>", text)
        text = text.replace("{{ .Status }}", data["status"])
        return text.replace("{{ .CommonLabels.alertname }}", data["common"].get("alertname", ""))


def fake_data(
    receiver: str,
    status: str,
    alerts: Sequence[Alert],
    group_labels: Mapping[str, str],
    external_url: str,
    at: float,
) -> dict[str, Any]:
    common = dict(alerts[0].labels) if alerts else {}
    return {"receiver": receiver, "status": status, "common": common}


def _setup() -> tuple[Services, FakeTemplates, CollectingTransport]:
    templates, transport = FakeTemplates(), CollectingTransport()
    return Services(transport, Templating(templates, fake_data)), templates, transport


def _receiver(**slack: Any) -> Receiver:
    return with_globals(
        Receiver.model_validate({"name": "ops", "slack_configs": [slack]}),
        GlobalDefaults.model_validate({"slack_api_url": "https://hooks.slack.test/T/B/s3cret"}),
    )


N = Notification(
    "ops",
    "{}:{}",
    (),
    (Alert.create({"alertname": "Down"}, starts_at=0.0),),
    "ops/g/1",
    at=10.0,
)


async def _message(**slack: Any) -> dict[str, Any]:
    services, _, transport = _setup()
    (notifier,) = notifiers_for(_receiver(**slack), services)
    assert await deliver(notifier, N, NotifyStats())
    (request,) = transport.requests
    assert request.url == "https://hooks.slack.test/T/B/s3cret"
    assert request.headers["Content-Type"] == "application/json"
    assert request.body.endswith(b"}\n")
    message: dict[str, Any] = json.loads(request.body)
    return message


async def test_default_message() -> None:
    assert await _message(channel="#ops") == {
        "channel": "#ops",
        "username": "<slack.default.username>",
        "icon_emoji": "<slack.default.iconemoji>",
        "icon_url": "<slack.default.iconurl>",
        "attachments": [
            {
                "title": "<slack.default.title>",
                "title_link": "<slack.default.titlelink>",
                "pretext": "<slack.default.pretext>",
                "text": "<slack.default.text>",
                "fallback": "<slack.default.fallback>",
                "callback_id": "<slack.default.callbackid>",
                "footer": "<slack.default.footer>",
                "color": '{{ if eq .Status "firing" }}danger{{ else }}good{{ end }}',
                "mrkdwn_in": ["fallback", "pretext", "text"],
            }
        ],
    }


async def test_empty_fields_are_left_out_and_required_ones_kept() -> None:
    empty = {
        k: ""
        for k in [
            "username",
            "title",
            "title_link",
            "pretext",
            "text",
            "fallback",
            "callback_id",
            "footer",
            "color",
            "icon_emoji",
            "icon_url",
        ]
    }
    message = await _message(**empty)
    assert message == {
        "attachments": [
            {
                "text": "",
                "fallback": "",
                "callback_id": "",
                "footer": "",
                "mrkdwn_in": ["fallback", "pretext", "text"],
            }
        ]
    }
    assert list(message["attachments"][0]) == [
        "text",
        "fallback",
        "callback_id",
        "footer",
        "mrkdwn_in",
    ]


async def test_fields_actions_and_options() -> None:
    message = await _message(
        title="[{{ .Status }}] {{ .CommonLabels.alertname }}",
        short_fields=True,
        fields=[
            {"title": "Alert", "value": "{{ .CommonLabels.alertname }}"},
            {"title": "Long", "value": "v", "short": False},
        ],
        actions=[
            {
                "type": "button",
                "text": "Runbook",
                "url": "http://runbook/{{ .CommonLabels.alertname }}",
            },
            {
                "type": "button",
                "text": "Ack",
                "name": "ack",
                "value": "1",
                "confirm": {"text": "Sure?", "ok_text": "Yes"},
            },
        ],
        image_url="http://img",
        link_names=True,
        mrkdwn_in=["text"],
    )
    attachment = message["attachments"][0]
    assert message["link_names"] is True
    assert attachment["title"] == "[firing] Down"
    assert attachment["fields"] == [
        {"title": "Alert", "value": "Down", "short": True},
        {"title": "Long", "value": "v", "short": False},
    ]
    assert attachment["actions"] == [
        {"type": "button", "text": "Runbook", "url": "http://runbook/Down"},
        {
            "type": "button",
            "text": "Ack",
            "name": "ack",
            "value": "1",
            "confirm": {"text": "Sure?", "ok_text": "Yes"},
        },
    ]
    assert attachment["image_url"] == "http://img"
    assert attachment["mrkdwn_in"] == ["text"]
    keys = list(attachment)
    assert keys.index("fields") < keys.index("actions") < keys.index("image_url")
    assert keys.index("image_url") < keys.index("footer") < keys.index("color")


async def test_long_titles_are_cut_to_1024_characters() -> None:
    title = (await _message(title="é" * 2000))["attachments"][0]["title"]
    assert len(title) == 1024 and title.endswith("é…")
    assert (await _message(title="x" * 1024))["attachments"][0]["title"] == "x" * 1024


async def test_a_template_that_fails_is_not_retried_and_names_the_field() -> None:
    services, _, transport = _setup()
    (notifier,) = notifiers_for(_receiver(title="{{ fail }}"), services)
    with pytest.raises(NotifyError) as info:
        await deliver(notifier, N, NotifyStats())
    assert info.value.retryable is False
    assert "slack[0]: title '{{ fail }}' failed: function fail not defined" in str(info.value)
    assert transport.requests == []


def test_slack_without_templates_is_a_wiring_error() -> None:
    with pytest.raises(TypeError, match="templates"):
        notifiers_for(_receiver(), Services(CollectingTransport()))


async def test_fields_are_rendered_with_their_place_named() -> None:
    services, templates, _ = _setup()
    receiver = _receiver(fields=[{"title": "t", "value": "v"}])
    (notifier,) = notifiers_for(receiver, services)
    await deliver(notifier, N, NotifyStats())
    assert "receiver 'ops' slack[0] title" in templates.rendered
    assert "receiver 'ops' slack[0] fields[0].value" in templates.rendered
    assert "receiver 'ops' slack[0] channel" not in templates.rendered  # empty: not rendered
