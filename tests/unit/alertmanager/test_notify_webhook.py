"""Webhook payload (version 4) and one delivery attempt through the notifier table.

Expected bodies are worked by hand from Alertmanager 0.25's payload (checked byte for byte
against the real Alertmanager in tests/integration/alertmanager/test_notify_oracle.py).
"""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from streams.alertmanager.config.receivers import GlobalDefaults, Receiver, with_globals
from streams.alertmanager.model import Alert
from streams.alertmanager.notify import (
    NotifyError,
    NotifyStats,
    Services,
    deliver,
    notifiers_for,
)
from streams.alertmanager.notify.gojson import go_json, go_time
from streams.alertmanager.notify.notification import Notification
from streams.alertmanager.notify.testing import CollectingTransport
from streams.alertmanager.notify.webhook import payload
from streams.alertmanager.templating.data import quote_meta

T0 = 1_709_287_200.0  # 2024-03-01T10:00:00Z


def _alert(instance: str, ends_at: float | None = None, **annotations: str) -> Alert:
    return Alert.create(
        {"alertname": "Down", "job": "node", "instance": instance},
        annotations,
        starts_at=T0,
        ends_at=ends_at,
        generator_url=f"http://prom/{instance}",
    )


def _notification(*alerts: Alert, at: float = T0 + 60) -> Notification:
    return Notification(
        receiver="ops",
        group_key='{}:{alertname="Down"}',
        group_labels=(("alertname", "Down"),),
        alerts=alerts,
        idempotency_key="ops/g1/1",
        at=at,
        external_url="http://pulseline:6066",
    )


def test_payload_exact_bytes() -> None:
    n = _notification(_alert("a", summary="x"), _alert("b", T0 + 30))
    body = payload(n, 0, key_in_body=False)
    alert_a = (
        '{"status":"firing","labels":{"alertname":"Down","instance":"a","job":"node"},'
        '"annotations":{"summary":"x"},"startsAt":"2024-03-01T10:00:00Z",'
        '"endsAt":"0001-01-01T00:00:00Z","generatorURL":"http://prom/a",'
        f'"fingerprint":"{_alert("a").fingerprint}"}}'
    )
    alert_b = (
        '{"status":"resolved","labels":{"alertname":"Down","instance":"b","job":"node"},'
        '"annotations":{},"startsAt":"2024-03-01T10:00:00Z",'
        '"endsAt":"2024-03-01T10:00:30Z","generatorURL":"http://prom/b",'
        f'"fingerprint":"{_alert("b").fingerprint}"}}'
    )
    assert body.decode() == (
        '{"receiver":"ops","status":"firing","alerts":['
        + alert_a
        + ","
        + alert_b
        + '],"groupLabels":{"alertname":"Down"},'
        '"commonLabels":{"alertname":"Down","job":"node"},"commonAnnotations":{},'
        '"externalURL":"http://pulseline:6066","version":"4",'
        '"groupKey":"{}:{alertname=\\"Down\\"}","truncatedAlerts":0}\n'
    )
    # By default the key ends the body, after Alertmanager's fields, which stay as they are.
    assert payload(n, 0) == body[:-2] + b',"idempotencyKey":"ops/g1/1"}\n'


def test_max_alerts_truncates_and_the_rest_describes_what_is_sent() -> None:
    n = _notification(_alert("a", T0, s="1"), _alert("b", T0, s="1"), _alert("c", s="2"))
    sent = json.loads(payload(n, 2))
    assert [a["labels"]["instance"] for a in sent["alerts"]] == ["a", "b"]
    assert sent["truncatedAlerts"] == 1
    assert sent["status"] == "resolved"  # the two sent are resolved; the cut one fires
    assert sent["commonAnnotations"] == {"s": "1"}
    assert json.loads(payload(n, 3))["truncatedAlerts"] == 0
    assert json.loads(payload(n, 5))["truncatedAlerts"] == 0


def test_go_json_escapes_as_go() -> None:
    assert go_json({"s": '<a href="x">&\u2028\u2029\x00\x08\x0c\n\té\ud800\\'}) == (
        b'{"s":"\\u003ca href=\\"x\\"\\u003e\\u0026\\u2028\\u2029\\u0000\\u0008\\u000c'
        b'\\n\\t\xc3\xa9\xef\xbf\xbd\\\\"}\n'
    )
    assert go_time(T0 + 0.25) == "2024-03-01T10:00:00.25Z"
    assert go_time(T0 + 0.000001) == "2024-03-01T10:00:00.000001Z"
    assert quote_meta("a.b*c+d?(e)|[f]{g}^h$i\\j-k") == (
        "a\\.b\\*c\\+d\\?\\(e\\)\\|\\[f\\]\\{g\\}\\^h\\$i\\\\j-k"
    )


def _hook(send_resolved: bool = True, max_alerts: int = 0) -> tuple[Receiver, Services]:
    receiver = with_globals(
        Receiver.model_validate(
            {
                "name": "ops",
                "webhook_configs": [
                    {
                        "url": "http://hooks.example/k/s3cret",
                        "send_resolved": send_resolved,
                        "max_alerts": max_alerts,
                        "http_config": {"bearer_token": "tok"},
                    }
                ],
            }
        ),
        GlobalDefaults(),
    )
    return receiver, Services(transport=CollectingTransport())


async def test_deliver_posts_with_headers_and_counts() -> None:
    receiver, services = _hook()
    (hook,) = notifiers_for(receiver, services)
    stats = NotifyStats()
    n = _notification(_alert("a"))
    assert await deliver(hook, n, stats) is True
    transport = services.transport
    assert isinstance(transport, CollectingTransport)
    (request,) = transport.requests
    assert request.url == "http://hooks.example/k/s3cret"
    assert request.headers == {"Content-Type": "application/json", "Idempotency-Key": "ops/g1/1"}
    assert request.http.bearer_token is not None
    assert request.body == payload(n, 0)
    assert dict(stats.sent) == {("ops", "webhook"): 1}


@pytest.mark.parametrize("key_in_body", [True, False])
async def test_every_attempt_carries_the_key_in_the_header_and_by_default_in_the_body(
    key_in_body: bool,
) -> None:
    """Every attempt of one notification carries its key; Alertmanager's fields come first
    and unchanged, and the key ends the body unless ``key_in_body`` is off."""
    receiver, _ = _hook()
    services = Services(transport=CollectingTransport(), key_in_body=key_in_body)
    (hook,) = notifiers_for(receiver, services)
    first = _notification(_alert("a"))
    later = replace(first, idempotency_key="ops/g1/2", at=T0 + 360)
    for n in (first, first, later):
        await deliver(hook, n, NotifyStats())
    transport = services.transport
    assert isinstance(transport, CollectingTransport)
    keys = [r.headers["Idempotency-Key"] for r in transport.requests]
    assert keys == ["ops/g1/1", "ops/g1/1", "ops/g1/2"]
    bodies = [r.body for r in transport.requests]
    assert bodies[0] == bodies[1]
    alertmanagers = [
        *("receiver", "status", "alerts", "groupLabels", "commonLabels"),
        *("commonAnnotations", "externalURL", "version", "groupKey", "truncatedAlerts"),
    ]
    for key, body in zip(keys, bodies, strict=True):
        sent = json.loads(body)
        if key_in_body:
            assert list(sent) == [*alertmanagers, "idempotencyKey"]
            assert sent["idempotencyKey"] == key
        else:
            assert list(sent) == alertmanagers
            assert key.encode() not in body


async def test_without_send_resolved_resolved_alerts_are_dropped_or_skipped() -> None:
    receiver, services = _hook(send_resolved=False)
    (hook,) = notifiers_for(receiver, services)
    transport = services.transport
    assert isinstance(transport, CollectingTransport)
    stats = NotifyStats()
    assert await deliver(hook, _notification(_alert("a"), _alert("b", T0)), stats)
    sent = json.loads(transport.requests[0].body)
    assert [a["labels"]["instance"] for a in sent["alerts"]] == ["a"]
    assert await deliver(hook, _notification(_alert("b", T0)), stats) is False
    assert len(transport.requests) == 1
    assert dict(stats.skipped) == {("ops", "webhook"): 1}


@pytest.mark.parametrize(
    ("answer", "status", "retryable"),
    [
        (500, 500, True),
        (503, 503, True),
        (429, 429, True),
        (400, 400, False),
        (401, 401, False),
        (404, 404, False),
        (302, 302, False),
        (ConnectionRefusedError("refused"), None, True),
        (TimeoutError(), None, True),
    ],
)
async def test_failures_are_classified_as_alertmanager_does(
    answer: int | Exception, status: int | None, retryable: bool
) -> None:
    receiver, _ = _hook()
    services = Services(transport=CollectingTransport([answer]))
    (hook,) = notifiers_for(receiver, services)
    stats = NotifyStats()
    with pytest.raises(NotifyError) as info:
        await deliver(hook, _notification(_alert("a")), stats)
    error = info.value
    assert (error.status, error.retryable) == (status, retryable)
    assert (error.receiver, error.integration) == ("ops", "webhook[0]")
    assert str(error).startswith("receiver 'ops' webhook[0]: ")
    assert "s3cret" not in str(error) and "tok" not in str(error)
    assert dict(stats.failed) == {("ops", "webhook", retryable): 1}
    assert not stats.sent
