"""Delivery on real processes: a failing receiver, then a worker killed while it fails.

A notification is never lost and a receiver that dedupes by the ``Idempotency-Key`` header
handles it once:

- a receiver answering 500 for 30 s, then 200, sees the notification's attempts under one
  key and exactly one of them answered 200; the worker logs each failed attempt naming the
  receiver, and counts them on ``/metrics``;
- the worker holding a group is killed (SIGKILL) while the group's notification fails;
  restarted, it sends that notification, with the same key, once, and not again later.

"Not again" is checked on a later notification of the same group, for an alert pushed once
a ``group_interval`` has passed since the first was delivered: a flush in between would have
sent any repeat of the first before it.
"""

from __future__ import annotations

import re
import time
import urllib.request
from collections.abc import Callable

import pytest
from amstack import GROUP_KEY, Receiver, holds, hosts, key, push, receivers, start, worker
from conftest import Pipeline, wait_for

from streams.stack.capture import Delivery
from streams.stack.processes import free_port

pytestmark = pytest.mark.integration

__all__ = ["receivers"]  # the fixture

PARTITIONS = 4
"""Partitions of every topic of the ``pipeline`` fixture."""

FAILING_S = 30.0
"""How long the flaky receiver answers 500, from the first attempt."""


def config(url: str, receiver: str) -> str:
    return f"""
route:
  receiver: {receiver}
  group_by: [alertname]
  group_wait: 1s
  group_interval: {GROUP_INTERVAL_S:g}s
  repeat_interval: 1h
receivers:
  - name: {receiver}
    webhook_configs:
      - url: {url}/{receiver}
"""


GROUP_INTERVAL_S = 2.0

FAST_RETRIES = {"PULSELINE_ALERTMANAGER__RETRY_MAX_S": "2"}
"""Backoff capped at 2 s, so the 200 is seen soon after the receiver recovers."""


def after_a_group_interval(delivered: Delivery) -> None:
    """Let the group flush at least once after ``delivered`` arrived.

    The scenario needs this time to pass (a repeat would be decided by that flush); what
    happened in it is then read from the receiver once a later notification arrived.
    """
    time.sleep(max(0.0, delivered.at + 1.25 * GROUP_INTERVAL_S - time.monotonic()))


def per_key(deliveries: list[Delivery]) -> dict[str, list[int]]:
    """Each idempotency key's answers, in order."""
    out: dict[str, list[int]] = {}
    for d in deliveries:
        out.setdefault(key(d), []).append(d.status)
    return out


def test_a_receiver_failing_for_30s_gets_the_notification_once_and_the_log_shows_retries(
    pipeline: Pipeline, receivers: Callable[..., Receiver]
) -> None:
    first_attempt: list[float] = []

    def answer(d: Delivery) -> int:
        first_attempt.append(d.at)
        return 500 if d.at - first_attempt[0] < FAILING_S else 200

    hook = receivers(answer)
    proc = start(pipeline, config(hook.url, "flaky"), FAST_RETRIES)
    push(pipeline, 80.0)
    hook.wait_for(lambda got: any(d.status == 200 for d in got), "a 200", timeout=90)
    after_a_group_interval(hook.accepted()[0])
    push(pipeline, 80.0, ["h2"])  # a later notification of the group
    hook.wait_for(lambda got: ("h2", "firing") in hosts(got[-1]), "h2's notification")

    attempts = hook.deliveries
    first, later = (key(d) for d in hook.accepted())
    assert per_key(attempts)[first][-1] == 200 and per_key(attempts)[first].count(200) == 1
    failed = per_key(attempts)[first][:-1]
    assert failed == [500] * len(failed) and len(failed) >= 3
    [delivered] = [d for d in attempts if key(d) == first and d.status == 200]
    assert delivered.at - attempts[0].at >= FAILING_S
    assert hosts(delivered) == [("h1", "firing")] and delivered.body["groupKey"] == GROUP_KEY
    assert per_key(attempts)[later] == [200]

    log = proc.log_path.read_text()
    retries = re.findall(r"receiver 'flaky' webhook\[0\]: attempt (\d+) failed, retrying", log)
    assert [int(n) for n in retries] == list(range(1, len(failed) + 1)), log[-2000:]
    metrics = urllib.request.urlopen(f"{pipeline.worker_web}/metrics", timeout=10).read().decode()
    assert f'pulseline_alertmanager_send_failures_total{{receiver="flaky"}} {len(failed)}.0' in (
        metrics
    )


def test_a_notification_pending_when_its_worker_is_killed_is_sent_once_after_restart(
    pipeline: Pipeline, receivers: Callable[..., Receiver]
) -> None:
    failing = [True]
    hook = receivers(lambda d: 500 if failing[0] else 200)
    owner = start(pipeline, config(hook.url, "ops"), FAST_RETRIES)
    push(pipeline, 80.0)
    hook.wait_for(lambda got: len(got) >= 2, "two failed attempts")
    pending = key(hook.deliveries[0])

    owner.kill()  # SIGKILL while the notification is pending
    failing[0] = False
    before_restart = len(hook.deliveries)
    worker(pipeline, "worker-restarted")
    hook.wait_for(lambda got: any(d.status == 200 for d in got), "the pending notification")
    after_a_group_interval(hook.accepted()[0])
    push(pipeline, 80.0, ["h2"])  # a later notification of the group
    hook.wait_for(lambda got: ("h2", "firing") in hosts(got[-1]), "h2's notification")

    attempts = hook.deliveries
    assert {key(d) for d in attempts[:before_restart]} == {pending}
    assert [d.status for d in attempts[:before_restart]] == [500] * before_restart
    first, later = hook.accepted()
    assert key(first) == pending and hosts(first) == [("h1", "firing")]
    assert per_key(attempts)[pending].count(200) == 1
    assert hosts(later) == [("h1", "firing"), ("h2", "firing")] and key(later) != pending


def test_the_owner_of_a_failing_group_killed_its_notification_moves_and_is_sent_once(
    pipeline: Pipeline, receivers: Callable[..., Receiver]
) -> None:
    failing = [True]
    hook = receivers(lambda d: 500 if failing[0] else 200)
    webs = [pipeline.worker_web, f"http://127.0.0.1:{free_port()}"]
    topic = pipeline.env["PULSELINE_TOPICS__ALERT_GROUPS"]
    quick_handover = {**FAST_RETRIES, "PULSELINE_KAFKA__SESSION_TIMEOUT_S": "6"}
    workers = [start(pipeline, config(hook.url, "ops"), quick_handover)]
    workers.append(worker(pipeline, "worker-b", webs[1]))

    def settled() -> bool:  # both ready, every partition of the groups topic held
        held = [holds(web, topic) for web in webs]
        return None not in held and set().union(*held) == set(range(PARTITIONS))

    wait_for(settled, 90, "the two workers to share the partitions")
    push(pipeline, 80.0)
    hook.wait_for(lambda got: len(got) >= 2, "two failed attempts")
    pending = key(hook.deliveries[0])
    [owner] = [i for i, w in enumerate(workers) if "receiver 'ops'" in w.log_path.read_text()]
    survivor = workers[1 - owner]

    workers[owner].kill()  # SIGKILL of the owner while the notification is pending
    killed_at = len(hook.deliveries)
    hook.wait_for(lambda got: len(got) > killed_at + 1, "the survivor's attempts", timeout=90)
    assert "receiver 'ops' webhook[0]: attempt" in survivor.log_path.read_text()
    worker(pipeline, "worker-restarted", webs[owner])
    wait_for(settled, 90, "the restarted worker to take its share")
    failing[0] = False
    hook.wait_for(lambda got: any(d.status == 200 for d in got), "the pending notification")
    after_a_group_interval(hook.accepted()[0])
    push(pipeline, 80.0, ["h2"])  # a later notification of the group
    hook.wait_for(lambda got: ("h2", "firing") in hosts(got[-1]), "h2's notification")

    attempts = hook.deliveries
    first, later = hook.accepted()
    assert key(first) == pending and hosts(first) == [("h1", "firing")]
    assert per_key(attempts)[pending].count(200) == 1
    assert set(per_key(attempts)) == {pending, key(later)}
    assert hosts(later) == [("h1", "firing"), ("h2", "firing")]
