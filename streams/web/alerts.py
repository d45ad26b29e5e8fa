"""The ``/alerts`` page's model: alerts as the rules see them and as the alert manager does.

Two views, as Prometheus' and Alertmanager's pages give them:

- the alerting rules this worker evaluates (the groups of its ``rules.samples``
  partitions), each with its pending and firing alerts: labels, annotations, since when,
  the value, and whether the alert manager silences or inhibits it;
- the alert manager's alerts of the whole cluster (``GET /api/v2/alerts`` answers), with
  their silences and inhibitions.

A rule's alert is the alert manager's alert with the same labels. Nothing reads a clock:
``now_ms`` is given.

Example:
    >>> managed = [{"labels": {"alertname": "Down"}, "annotations": {"summary": "down"},
    ...             "startsAt": "1970-01-01T00:00:00.000Z", "fingerprint": "f1",
    ...             "status": {"state": "suppressed", "silencedBy": ["s1"], "inhibitedBy": []}}]
    >>> page = alerts_page([], managed, now_ms=90_000)
    >>> row = page.manager[0]
    >>> row.state, row.silenced_by, row.since_ago, row.silence_link
    ('silenced', ['s1'], '1m 30s ago', '/silences?matchers=alertname%3D%22Down%22')
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from streams.alertmanager.config.matchers import escape_value
from streams.rules.evaluation.alerts import Alert
from streams.rules.evaluation.runtime import GroupStatus
from streams.rules.model import AlertingRule
from streams.web.svg import format_value
from streams.web.when import ago, parse_utc, utc

STATE_ORDER = {"firing": 0, "pending": 1, "inactive": 2}


@dataclass(frozen=True)
class AlertRow:
    """One alert on the page.

    Attributes:
        labels: its labels, ``alertname`` first, then by name.
        annotations: its annotations, by name.
        state: ``firing`` or ``pending`` (a rule's alert); ``active``, ``silenced`` or
            ``inhibited`` (the alert manager's).
        since: when it became active (UTC).
        since_ago: how long ago that was.
        value: the rule's value at its last evaluation ("" for the alert manager's).
        silenced_by: ids of the silences that mute it.
        inhibited_by: fingerprints of the alerts that inhibit it.
        silence_link: the ``/silences`` form filled with matchers of its labels.
    """

    labels: list[tuple[str, str]]
    annotations: list[tuple[str, str]]
    state: str
    since: str
    since_ago: str
    value: str = ""
    silenced_by: list[str] = field(default_factory=list)
    inhibited_by: list[str] = field(default_factory=list)
    silence_link: str = ""


@dataclass(frozen=True)
class RuleAlerts:
    """An alerting rule and its alerts on this worker.

    Attributes:
        group: the rule's group.
        name: the rule's name.
        expr: its expression as written.
        state: the rule's state: ``firing`` when an alert fires, else ``pending`` when one is
            pending, else ``inactive``.
        alerts: its pending and firing alerts, firing first.
    """

    group: str
    name: str
    expr: str
    state: str
    alerts: list[AlertRow]


@dataclass(frozen=True)
class AlertsPage:
    """The ``/alerts`` page.

    Attributes:
        rules: the alerting rules of the groups this worker evaluates, firing ones first.
        manager: the alert manager's alerts of the cluster.
        elsewhere: rule groups other workers evaluate (their alerts are in ``manager``
            once they fire).
        firing: how many of ``rules``' alerts fire.
        pending: how many are pending.
    """

    rules: list[RuleAlerts]
    manager: list[AlertRow]
    elsewhere: int
    firing: int
    pending: int


def _sorted_labels(labels: Mapping[str, str]) -> list[tuple[str, str]]:
    return sorted(labels.items(), key=lambda kv: (kv[0] != "alertname", kv[0]))


def silence_link(labels: Mapping[str, str]) -> str:
    """The ``/silences`` form pre-filled with equality matchers of every label."""
    text = ", ".join(f'{name}="{escape_value(value)}"' for name, value in _sorted_labels(labels))
    return "/silences?" + urlencode({"matchers": text})


def _mutes(managed: Sequence[Mapping[str, Any]]) -> dict[tuple[tuple[str, str], ...], Any]:
    return {tuple(sorted(a["labels"].items())): a["status"] for a in managed}


def _rule_row(alert: Alert, mutes: Mapping[Any, Any], now_ms: int) -> AlertRow:
    labels = dict(alert.labels)
    status = mutes.get(tuple(sorted(labels.items())), {})
    value = format_value(alert.value) if math.isfinite(alert.value) else str(alert.value)
    return AlertRow(
        labels=_sorted_labels(labels),
        annotations=sorted(alert.annotations),
        state=alert.state,
        since=utc(alert.active_at_ms),
        since_ago=ago(alert.active_at_ms, now_ms=now_ms),
        value=value,
        silenced_by=list(status.get("silencedBy", [])),
        inhibited_by=list(status.get("inhibitedBy", [])),
        silence_link=silence_link(labels),
    )


def _managed_row(alert: Mapping[str, Any], now_ms: int) -> AlertRow:
    status = alert["status"]
    silenced, inhibited = list(status["silencedBy"]), list(status["inhibitedBy"])
    state = "silenced" if silenced else "inhibited" if inhibited else "active"
    started = parse_utc(alert["startsAt"])
    return AlertRow(
        labels=_sorted_labels(alert["labels"]),
        annotations=sorted(alert.get("annotations", {}).items()),
        state=state,
        since=utc(started),
        since_ago=ago(started, now_ms=now_ms),
        silenced_by=silenced,
        inhibited_by=inhibited,
        silence_link=silence_link(alert["labels"]),
    )


def alerts_page(
    groups: Sequence[GroupStatus], managed: Sequence[Mapping[str, Any]], *, now_ms: int
) -> AlertsPage:
    """Build the page.

    Args:
        groups: the rule runtime's
            :meth:`~streams.rules.evaluation.runtime.RuleRuntime.status` (empty when the worker
            has no rules).
        managed: the alert manager's alerts, as ``GET /api/v2/alerts`` answers them.
        now_ms: the clock.
    """
    mutes = _mutes(managed)
    rules: list[RuleAlerts] = []
    for status in groups:
        if not status.owned:
            continue
        for index, rule in enumerate(status.group.rules):
            if not isinstance(rule, AlertingRule):
                continue
            state = status.alerts.get(index)
            alerts = [] if state is None else list(state.alerts.values())
            rows = sorted(
                (_rule_row(a, mutes, now_ms) for a in alerts if a.state != "inactive"),
                key=lambda row: (STATE_ORDER[row.state], row.labels),
            )
            kind = rows[0].state if rows else "inactive"
            rules.append(RuleAlerts(status.group.name, rule.name, rule.expr_text, kind, rows))
    rules.sort(key=lambda r: STATE_ORDER[r.state])  # stable: file order within a state
    all_rows = [row for rule in rules for row in rule.alerts]
    return AlertsPage(
        rules=rules,
        manager=[_managed_row(a, now_ms) for a in managed],
        elsewhere=sum(1 for status in groups if not status.owned),
        firing=sum(1 for row in all_rows if row.state == "firing"),
        pending=sum(1 for row in all_rows if row.state == "pending"),
    )
