"""The alert manager on real processes: a breach pushed to the collector reaches a receiver.

Collector, broker, worker and receiver are real processes and servers; the rule ``TooHot``
fires on the first sample above 50. Each test's alertmanager.yml groups by alertname with a
``group_wait`` and ``group_interval`` of a second or so, and waits on what arrives, never on a
sleep:

- one breach: one Alertmanager-format (version 4) notification carrying the rule's labels and
  annotations, then the resolution when the value drops;
- ten breaches within ``group_wait``: one notification with ten alerts (and the group's next
  one, for an eleventh, shows nothing came between);
- a silence made with amtool: the API shows the alert suppressed, and the group's next
  notification leaves it out.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from amstack import (
    GROUP_KEY,
    Receiver,
    amtool,
    api,
    hosts,
    instant,
    key,
    ops_config,
    push,
    receivers,
    rule_events,
    start,
)
from conftest import Pipeline, wait_for

pytestmark = pytest.mark.integration

__all__ = ["receivers"]  # the fixture


def test_a_breach_notifies_once_in_alertmanager_format_and_its_resolution_follows(
    pipeline: Pipeline, broker: str, receivers: Callable[..., Receiver]
) -> None:
    hook = receivers()
    start(pipeline, ops_config(hook.url))
    push(pipeline, 80.0)
    hook.wait_for(lambda got: len(got) >= 1, "the firing notification")
    push(pipeline, 10.0)
    hook.wait_for(lambda got: len(got) >= 2, "the resolved notification")

    firing_event, resolved_event = [
        e for e in rule_events(broker, pipeline, 2) if e["state"] in ("firing", "resolved")
    ]
    assert hook.deliveries[0].path == "/ops"
    firing, resolved = (d.body for d in hook.deliveries[:2])
    labels = {"alertname": "TooHot", "host": "h1", "severity": "critical"}
    annotations = {"summary": "h1 at 80 degrees"}
    assert firing["version"] == "4" and firing["groupKey"] == GROUP_KEY
    assert firing["receiver"] == "ops" and firing["status"] == "firing"
    assert firing["groupLabels"] == {"alertname": "TooHot"}
    assert firing["commonLabels"] == labels and firing["commonAnnotations"] == annotations
    assert firing["externalURL"] == pipeline.worker_web and firing["truncatedAlerts"] == 0
    [alert] = firing["alerts"]
    assert alert["status"] == "firing"
    assert alert["labels"] == labels and alert["annotations"] == annotations
    assert instant(alert["startsAt"]) == instant(firing_event["startsAt"])
    assert alert["endsAt"] == "0001-01-01T00:00:00Z"  # Go's zero time: no end yet

    assert resolved["status"] == "resolved" and resolved["groupKey"] == GROUP_KEY
    [gone] = resolved["alerts"]
    assert gone["status"] == "resolved" and gone["labels"] == labels
    assert gone["fingerprint"] == alert["fingerprint"] and gone["startsAt"] == alert["startsAt"]
    assert instant(gone["endsAt"]) == instant(resolved_event["endsAt"])
    assert len({key(d) for d in hook.deliveries}) == len(hook.deliveries) == 2


def test_ten_alerts_within_group_wait_arrive_as_one_notification(
    pipeline: Pipeline, receivers: Callable[..., Receiver]
) -> None:
    hook = receivers()
    start(pipeline, ops_config(hook.url, group_wait="5s"))  # room for a loaded machine
    ten = [f"h{i}" for i in range(10)]
    push(pipeline, 80.0, ten)
    hook.wait_for(lambda got: len(got) >= 1, "the group's first notification")
    push(pipeline, 80.0, ["h10"])  # the group's next notification closes the window
    hook.wait_for(lambda got: ("h10", "firing") in hosts(got[-1]), "a notification with h10")

    first, second = hook.deliveries
    assert sorted(hosts(first)) == sorted((h, "firing") for h in ten)
    assert first.body["groupKey"] == second.body["groupKey"] == GROUP_KEY
    assert sorted(hosts(second)) == sorted((h, "firing") for h in [*ten, "h10"])
    assert key(first) != key(second)


def test_a_silence_made_with_amtool_mutes_its_alert(
    pipeline: Pipeline, receivers: Callable[..., Receiver]
) -> None:
    hook = receivers()
    start(pipeline, ops_config(hook.url))
    push(pipeline, 80.0, ["h1"])
    hook.wait_for(lambda got: len(got) >= 1, "h1's notification")
    assert hosts(hook.deliveries[0]) == [("h1", "firing")]

    out = amtool(
        pipeline, "silence", "add", "alertname=TooHot", 'host="h1"',
        "--comment=maintenance", "--author=itest", "--duration=1h",
    )  # fmt: skip
    silence_id = out.strip()

    def suppressed() -> bool:
        [alert] = api(pipeline, "alerts", filter='host="h1"')
        status = alert["status"]
        return bool(status["state"] == "suppressed" and status["silencedBy"] == [silence_id])

    wait_for(suppressed, 30, "the API to show h1 silenced")
    assert api(pipeline, "silences")[0]["id"] == silence_id

    push(pipeline, 80.0, ["h2"])  # a later alert of the group
    hook.wait_for(lambda got: ("h2", "firing") in hosts(got[-1]), "a notification with h2")
    assert [hosts(d) for d in hook.deliveries] == [[("h1", "firing")], [("h2", "firing")]]
