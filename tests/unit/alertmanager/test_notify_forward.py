"""Forwarding to another Alertmanager, metrics exposition, and delivery under the retry helper."""

from __future__ import annotations

import json
import random

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from streams.alertmanager.config.receivers import GlobalDefaults, Receiver, with_globals
from streams.alertmanager.model import Alert
from streams.alertmanager.notify import (
    NotifyCollector,
    NotifyError,
    NotifyStats,
    Services,
    deliver,
    notifiers_for,
)
from streams.alertmanager.notify.notification import Notification
from streams.alertmanager.notify.testing import CollectingTransport
from streams.retry import Failure, retry

T0 = 1_709_287_200.0  # 2024-03-01T10:00:00Z


def _forward(url: str = "http://am.test:9093/prefix/") -> Receiver:
    return with_globals(
        Receiver.model_validate({"name": "legacy", "alertmanager_configs": [{"url": url}]}),
        GlobalDefaults(),
    )


async def test_alerts_are_posted_as_postable_alerts() -> None:
    transport = CollectingTransport()
    (notifier,) = notifiers_for(_forward(), Services(transport))
    alerts = (
        Alert.create({"alertname": "A"}, {"summary": "s"}, starts_at=T0, generator_url="g"),
        Alert.create({"alertname": "B"}, starts_at=T0, ends_at=T0 + 600),
        Alert.create({"alertname": "C"}, starts_at=T0, ends_at=T0 + 300, timeout=True),
        Alert.create({"alertname": "D"}, starts_at=T0, ends_at=T0 + 30.5),
    )
    n = Notification("legacy", "{}:{}", (), alerts, "legacy/g/1", at=T0 + 60)
    assert await deliver(notifier, n, NotifyStats())
    (request,) = transport.requests
    assert request.url == "http://am.test:9093/prefix/api/v2/alerts"
    assert request.headers["Idempotency-Key"] == "legacy/g/1"
    assert json.loads(request.body) == [
        {
            "labels": {"alertname": "A"},
            "annotations": {"summary": "s"},
            "startsAt": "2024-03-01T10:00:00Z",
            "generatorURL": "g",
        },
        {
            "labels": {"alertname": "B"},
            "annotations": {},
            "startsAt": "2024-03-01T10:00:00Z",
            "endsAt": "2024-03-01T10:10:00Z",  # the source's own end
            "generatorURL": "",
        },
        {
            "labels": {"alertname": "C"},
            "annotations": {},
            "startsAt": "2024-03-01T10:00:00Z",  # an end from resolve_timeout is not sent
            "generatorURL": "",
        },
        {
            "labels": {"alertname": "D"},
            "annotations": {},
            "startsAt": "2024-03-01T10:00:00Z",
            "endsAt": "2024-03-01T10:00:30.5Z",  # resolved
            "generatorURL": "",
        },
    ]


async def test_retry_until_delivered_counts_every_attempt() -> None:
    transport = CollectingTransport([503, ConnectionResetError("reset"), 429])
    (notifier,) = notifiers_for(_forward(), Services(transport))
    stats, failures, waits = NotifyStats(), list[Failure](), list[float]()

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    n = Notification("legacy", "{}:{}", (), (Alert.create({"a": "b"}),), "k", at=T0)
    sent = await retry(
        lambda: deliver(notifier, n, stats),
        what="receiver 'legacy' alertmanager[0]",
        rng=random.Random(3),
        sleep=sleep,
        on_failure=failures.append,
    )
    assert sent is True and len(transport.requests) == 4 and len(waits) == 3
    assert [f.error.status for f in failures if isinstance(f.error, NotifyError)] == [
        503,
        None,
        429,
    ]
    assert dict(stats.failed) == {("legacy", "alertmanager", True): 3}
    assert dict(stats.sent) == {("legacy", "alertmanager"): 1}

    registry = CollectorRegistry()
    registry.register(NotifyCollector(stats))
    text = generate_latest(registry).decode()
    assert (
        'pulseline_notifications_sent_total{integration="alertmanager",receiver="legacy"} 1.0'
        in text
    )
    assert (
        'pulseline_notifications_failed_total{integration="alertmanager",receiver="legacy",'
        'retryable="true"} 3.0' in text
    )


async def test_a_permanent_failure_stops_the_retries() -> None:
    transport = CollectingTransport([400])
    (notifier,) = notifiers_for(_forward(), Services(transport))
    n = Notification("legacy", "{}:{}", (), (Alert.create({"a": "b"}),), "k", at=T0)

    async def sleep(seconds: float) -> None:
        raise AssertionError("no wait expected")

    with pytest.raises(NotifyError, match="unexpected status code 400"):
        await retry(lambda: deliver(notifier, n, NotifyStats()), what="x", sleep=sleep)
    assert len(transport.requests) == 1
