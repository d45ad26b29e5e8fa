"""Alerts under a fault: breaches the test makes, and what the receiver was told of them.

A scenario that checks alerts runs its workers with :func:`configure`: a rule file of
:data:`GROUPS` rule groups, one per ``rules.samples`` partition, each with one rule
(``FaultBreach``, ``for: 0s``) over its cohort of the ``fault_breach`` series, and an
alertmanager.yml grouping by ``alertname`` and ``host`` (every alert a group of its own),
``group_wait: 0s`` and ``group_interval: 1s``, with one webhook receiver, a recording
:class:`~servers.Receiver`. A :class:`Breaches` produces, straight into Kafka at the clock's
time, a sample of 80 for a host (the rule fires at once) and later one of 10 (it resolves),
all from one source (:data:`SOURCE`).

Every breach must be notified firing once and resolved once. The receiver dedupes by the
``Idempotency-Key`` header, as the alert manager promises a receiver may: a notification
sent again after a crash keeps its key. So :meth:`Breaches.figures` counts, for every group,
status and set of alerts, the distinct keys the receiver got: more than one is an alert
announced twice. Example (in a scenario)::

    breaches = Breaches(pipeline, broker, receiver)
    ...  # the load's first minute in Kafka (see SOURCE)
    breaches.fire(["a0", "a1"])
    breaches.wait_notified(["a0", "a1"], "firing", timeout=60)
    breaches.resolve(["a0", "a1"])
    run.settle(since, before, alerts=breaches.figures)
"""

from __future__ import annotations

import json
import time
import zlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from sequences import produce
from servers import Pipeline, Receiver

from streams.records import Point, encode_batch
from streams.stack.capture import CaptureError, Delivery

METRIC = "fault_breach"
ALERT = "FaultBreach"
FIRE, RESOLVE, THRESHOLD = 80.0, 10.0, 50.0
SOURCE = b"fault-breaches"
"""The record key (the source) of every breach sample.

A partition's event time is the median of its sources' newest timestamps, and never goes
back: if this source, at the clock's time, were the first its partition heard of, it would
set that partition's event time alone, and the load's samples, minutes behind the clock,
would all arrive late. So a scenario makes its first breach once the load's first minute is
in Kafka; from then on this one source cannot move the median."""
GROUPS = 4
"""Rule groups, as many as the pipeline's partitions of ``rules.samples``."""


def group_names(partitions: int = GROUPS) -> list[str]:
    """One rule group name per ``rules.samples`` partition (by the router's own hash, crc32),
    so that every worker evaluates some of the breaches.

    Example:
        >>> sorted(zlib.crc32(name.encode()) % 4 for name in group_names(4))
        [0, 1, 2, 3]
    """
    names: dict[int, str] = {}
    k = 0
    while len(names) < partitions:
        names.setdefault(zlib.crc32(f"fault-breach-{k}".encode()) % partitions, f"fault-breach-{k}")
        k += 1
    return [names[p] for p in range(partitions)]


def rules_yml() -> str:
    """The rule file: a ``FaultBreach`` rule per group, over its cohort of hosts."""
    groups = [
        {
            "name": name,
            "interval": "1s",
            "rules": [
                {
                    "alert": ALERT,
                    "expr": f'{METRIC}{{cohort="{cohort}"}} > {THRESHOLD:g}',
                    "for": "0s",
                    "labels": {"severity": "page"},
                }
            ],
        }
        for cohort, name in enumerate(group_names())
    ]
    return json.dumps({"groups": groups})  # YAML reads JSON


def alertmanager_yml(url: str) -> str:
    """Every alert a group of its own, notified at once, re-sent after an hour only."""
    return f"""
route:
  receiver: faults
  group_by: [alertname, host]
  group_wait: 0s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: faults
    webhook_configs:
      - url: {url}/faults
"""


def configure(pipeline: Pipeline, receiver: Receiver) -> None:
    """Write the rule file and alertmanager.yml; the pipeline's workers read them."""
    rules = pipeline.workdir / "fault-rules.yml"
    rules.write_text(rules_yml())
    config = pipeline.workdir / "fault-alertmanager.yml"
    config.write_text(alertmanager_yml(receiver.url))
    pipeline.env["PULSELINE_RULES__FILES"] = json.dumps([str(rules)])
    pipeline.env["PULSELINE_ALERTMANAGER__CONFIG"] = str(config)


@dataclass(frozen=True)
class AlertFigures:
    """What the receiver was told of the breaches.

    Attributes:
        expected: breaches made (each one alert that fired and resolved).
        notified: of them, those some notification announced firing.
        resolved: of them, those some notification announced resolved.
        repeated: notifications of a group, status and set of alerts the receiver already
            had under another idempotency key (announced twice).
        examples: a few breaches missing or announced twice, to show in a failure.
    """

    expected: int
    notified: int
    resolved: int
    repeated: int
    examples: tuple[str, ...] = ()

    def line(self) -> str:
        return (
            f"alerts expected {self.expected}, notified {self.notified}, "
            f"resolved {self.resolved}, repeated {self.repeated}"
        )

    @property
    def clean(self) -> bool:
        return (self.notified, self.resolved, self.repeated) == (
            self.expected,
            self.expected,
            0,
        )


def content(delivery: Delivery) -> tuple[str, str, tuple[tuple[str, str], ...]]:
    """What a notification says: its group, its status and each alert's (fingerprint,
    status); the same content under two keys is one announcement made twice."""
    body = delivery.body
    alerts = tuple(sorted((a["fingerprint"], a["status"]) for a in body["alerts"]))
    return body["groupKey"], body["status"], alerts


def announced(deliveries: Iterable[Delivery], status: str) -> set[str]:
    """The hosts some delivered notification announced with ``status``."""
    return {
        a["labels"]["host"]
        for d in deliveries
        if 200 <= d.status < 300
        for a in d.body["alerts"]
        if a["status"] == status and a["labels"].get("alertname") == ALERT
    }


@dataclass
class Breaches:
    """Breaches of the ``fault_breach`` rules, made straight into the pipeline's raw topic.

    Args:
        pipeline: whose raw topic gets the samples.
        broker: the broker's ``host:port``.
        receiver: the webhook receiver of :func:`alertmanager_yml`.
    """

    pipeline: Pipeline
    broker: str
    receiver: Receiver
    cohorts: dict[str, int] = field(default_factory=dict)
    """Each host's cohort (so its rule group), in the order the hosts first fired."""

    def _send(self, hosts: Sequence[str], value: float) -> None:
        ts = time.time_ns() // 1_000_000
        points = [
            Point(METRIC, {"cohort": str(self.cohorts[host]), "host": host}, {"value": value}, ts)
            for host in hosts
        ]
        # One record of one source, as a relay pushing for many hosts would send: a single
        # source among the load's many cannot move its partition's event time (the median
        # of its sources'), so the load, minutes behind the clock, stays on time.
        produce(self.broker, self.pipeline.raw_topic, [(SOURCE, encode_batch(points))])

    def fire(self, hosts: Sequence[str]) -> None:
        """A sample above the threshold for each host (new ones spread over the rule groups,
        in turn): its alert fires."""
        for host in hosts:
            self.cohorts.setdefault(host, len(self.cohorts) % GROUPS)
        self._send(hosts, FIRE)

    def resolve(self, hosts: Sequence[str]) -> None:
        """A sample below the threshold for each host: its alert resolves."""
        self._send(hosts, RESOLVE)

    def wait_notified(self, hosts: Sequence[str], status: str, timeout: float) -> bool:
        """Wait until every host's alert was announced with ``status``: whether it was, in
        ``timeout`` seconds (one that never is shows in :meth:`figures`)."""
        try:
            self.receiver.wait_for(
                lambda got: set(hosts) <= announced(got, status),
                f"{status} notifications of {sorted(hosts)}",
                timeout,
            )
        except CaptureError:
            return False
        return True

    def figures(self, timeout: float = 60) -> AlertFigures:
        """Wait (at most ``timeout``) for every breach to be notified firing and resolved,
        then count what the receiver got."""
        made = set(self.cohorts)
        if self.wait_notified(list(made), "firing", timeout):
            self.wait_notified(list(made), "resolved", timeout)
        delivered = [d for d in self.receiver.deliveries if 200 <= d.status < 300]
        keys: defaultdict[tuple[object, ...], set[str]] = defaultdict(set)
        for d in delivered:
            keys[content(d)].add(d.headers.get("Idempotency-Key", ""))
        twice = {c: len(k) - 1 for c, k in keys.items() if len(k) > 1}
        firing, resolved = announced(delivered, "firing") & made, announced(delivered, "resolved")
        examples = (
            [f"never notified firing: {h}" for h in sorted(made - firing)[:3]]
            + [f"never notified resolved: {h}" for h in sorted(made - resolved)[:3]]
            + [f"announced twice: {c[0]} {c[1]}" for c in list(twice)[:3]]
        )
        return AlertFigures(
            expected=len(made),
            notified=len(firing),
            resolved=len(resolved & made),
            repeated=sum(twice.values()),
            examples=tuple(examples),
        )
