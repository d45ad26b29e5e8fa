"""The scenario both sides of ``bench/notify.py`` play, and how it is timed.

The same rules (:data:`RULES`: ``breach > 100`` and ``storm > 100``, no ``for``) and the same
alertmanager.yml (:func:`alertmanager_yml`: ``group_wait: 0s``, one group per breached host,
the storm's alerts in one group sent every 5 s). A side gives :func:`measure_breaches` and
:func:`measure_storm` its own ways to start and end a breach and to fail a host; both time
on the clock of the :class:`~streams.stack.capture.WebhookCapture` the side delivers to.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from string import Template

from streams.stack.capture import Delivery, WebhookCapture

WARMUP = 5  # unmeasured breaches first

RULES = """groups:
  - name: notify-bench
    interval: 1s
    rules:
      - alert: Breach
        expr: breach > 100
      - alert: HostDown
        expr: storm > 100
"""

ALERTMANAGER_YML = """route:
  receiver: breach
  group_by: [host]
  group_wait: 0s
  group_interval: 1s
  repeat_interval: 1h
  routes:
    - matchers: ['alertname="HostDown"']
      receiver: storm
      group_by: [alertname]
      group_interval: 5s
receivers:
  - name: breach
    webhook_configs: [{url: '$webhook/breach', send_resolved: false}]
  - name: storm
    webhook_configs: [{url: '$webhook/storm', send_resolved: false}]
"""


def alertmanager_yml(webhook: str) -> str:
    """The alertmanager.yml of both sides, delivering to ``webhook``."""
    return Template(ALERTMANAGER_YML).substitute(webhook=webhook)


@dataclass
class SideResult:
    """What one side measured.

    Attributes:
        name: how the side is printed.
        latencies: seconds from each measured breach to its notification.
        storm_notifications: notifications of the storm until every failed host was in one.
        storm_seconds: from the first failure until the last host was notified.
        stages: where the breaches' time went, when the side can tell.
    """

    name: str
    latencies: list[float]
    storm_notifications: int
    storm_seconds: float
    stages: str = ""


class FirstNotified:
    """When each host was first in a firing notification to a path, on the capture's clock."""

    def __init__(self) -> None:
        self.at: dict[tuple[str, str], float] = {}

    def __call__(self, delivery: Delivery) -> None:
        for alert in delivery.body.get("alerts", []):
            host = alert.get("labels", {}).get("host")
            if alert.get("status") == "firing" and host is not None:
                self.at.setdefault((delivery.path, host), delivery.at)


async def measure_breaches(
    capture: WebhookCapture,
    notified: FirstNotified,
    breach: Callable[[str], Awaitable[None]],
    clear: Callable[[str], Awaitable[None]],
    count: int,
    spacing: float,
    seed: int = 1,
) -> list[float]:
    """Start ``count`` breaches (after :data:`WARMUP` more), one host each, and time each
    until its notification reaches ``/breach``; ``clear`` ends a breach once notified."""
    rng = random.Random(seed)

    async def one(host: str) -> float:
        began = time.monotonic()
        await breach(host)
        await capture.wait_for(
            lambda _: ("/breach", host) in notified.at,
            timeout=30,
            what=f"the notification of {host}",
        )
        await clear(host)
        return notified.at[("/breach", host)] - began

    async with asyncio.TaskGroup() as group:  # a breach that times out cancels the others
        runs = []
        for i in range(WARMUP + count):
            runs.append(group.create_task(one(f"b{i}")))
            await asyncio.sleep(spacing * rng.uniform(0.5, 1.5))  # the breaches' schedule
    return [run.result() for run in runs[WARMUP:]]


async def measure_storm(
    capture: WebhookCapture,
    notified: FirstNotified,
    fail: Callable[[str], Awaitable[None]],
    hosts: int,
    window: float,
) -> tuple[int, float]:
    """Fail ``hosts`` hosts evenly over ``window`` seconds; count the ``/storm``
    notifications until every host was in one, and the seconds that took."""
    names = [f"s{i}" for i in range(hosts)]
    start = time.monotonic()
    for i, host in enumerate(names):
        await asyncio.sleep(max(0.0, start + i * window / hosts - time.monotonic()))  # schedule
        await fail(host)
    await capture.wait_for(
        lambda _: all(("/storm", h) in notified.at for h in names),
        timeout=window + 120,
        what=f"notifications naming all {hosts} storm hosts",
    )
    last = max(notified.at[("/storm", h)] for h in names)
    return len([d for d in capture.on("/storm") if d.at <= last]), last - start


def cut(latencies: list[float], percent: int) -> float:
    """A percentile, within the measured range."""
    return statistics.quantiles(latencies, n=100, method="inclusive")[percent - 1]
