"""The ``/rules`` page's model: rule groups, their rules, last evaluation and health.

As Prometheus' ``/rules`` page: each group with its interval and when it was last evaluated,
each rule with its expression, ``for``, labels and annotations, and its health: ``ok``, or
``err`` with the last error since the group was last evaluated whole. A group lives on one
``rules.samples`` partition; the groups of partitions another worker holds are listed with
health ``unknown`` and the partition, so the page says where to look.

Example:
    >>> from streams.rules import load_rule_file
    >>> from streams.rules.evaluation.runtime import GroupStatus
    >>> group = load_rule_file("rules/pulseline.yml").groups[1]
    >>> page = rules_page([GroupStatus(group, 5, owned=True, last_eval_ms=60_000)],
    ...                   default_interval_s=60.0, now_ms=90_000)
    >>> g = page.groups[0]
    >>> g.name, g.interval, g.last_eval_ago, [(r.name, r.health) for r in g.rules][:2]
    ('host', '1m', '30s ago', [('host:cpu_busy:percent_avg5m', 'ok'), ('HostHighCpu', 'ok')])
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from streams.durations import format_duration
from streams.rules.evaluation.runtime import GroupStatus
from streams.rules.model import AlertingRule
from streams.web.when import ago, utc


@dataclass(frozen=True)
class RuleRow:
    """One rule.

    Attributes:
        name: the ``alert`` or ``record`` name.
        kind: ``alerting`` or ``recording``.
        expr: the expression as written.
        for_: the ``for`` duration of an alerting rule ("" when none).
        labels: its labels (templates as written).
        annotations: its annotations (templates as written).
        health: ``ok``, ``err`` or ``unknown`` (not evaluated here, or not yet).
        error: the last error when ``err``.
        firing: alerts of the rule firing here.
        pending: alerts of the rule pending here.
    """

    name: str
    kind: str
    expr: str
    for_: str
    labels: list[tuple[str, str]]
    annotations: list[tuple[str, str]]
    health: str
    error: str
    firing: int
    pending: int


@dataclass(frozen=True)
class GroupRow:
    """One group.

    Attributes:
        name: the group's name.
        interval: its evaluation interval.
        partition: the ``rules.samples`` partition that evaluates it.
        owned: whether this worker holds that partition.
        last_eval: the last evaluation's instant ("never" when none here).
        last_eval_ago: how long ago that was.
        rules: its rules, in file order.
    """

    name: str
    interval: str
    partition: int
    owned: bool
    last_eval: str
    last_eval_ago: str
    rules: list[RuleRow]


@dataclass(frozen=True)
class RulesPage:
    """The ``/rules`` page: groups in file order, and how many rules are unhealthy."""

    groups: list[GroupRow]
    unhealthy: int


def _rule_rows(status: GroupStatus) -> list[RuleRow]:
    rows = []
    for index, rule in enumerate(status.group.rules):
        error = status.errors.get(rule.name)
        if error is not None:
            health = "err"
        elif status.owned and status.last_eval_ms is not None:
            health = "ok"
        else:
            health = "unknown"
        state = status.alerts.get(index)
        alerts = list(state.alerts.values()) if state is not None else []
        if isinstance(rule, AlertingRule):
            kind, for_ = "alerting", format_duration(rule.for_s) if rule.for_s else ""
            labels = sorted((k, t.source) for k, t in rule.labels.items())
            annotations = sorted((k, t.source) for k, t in rule.annotations.items())
        else:
            kind, for_ = "recording", ""
            labels, annotations = sorted(rule.labels.items()), []
        rows.append(
            RuleRow(
                name=rule.name,
                kind=kind,
                expr=rule.expr_text,
                for_=for_,
                labels=labels,
                annotations=annotations,
                health=health,
                error="" if error is None else error.reason,
                firing=sum(1 for a in alerts if a.state == "firing"),
                pending=sum(1 for a in alerts if a.state == "pending"),
            )
        )
    return rows


def rules_page(
    groups: Sequence[GroupStatus], *, default_interval_s: float, now_ms: int
) -> RulesPage:
    """Build the page from the rule runtime's status.

    Args:
        groups: the groups' status
            (:meth:`~streams.rules.evaluation.runtime.RuleRuntime.status`).
        default_interval_s: the interval of groups that set none (``rules.interval_s``).
        now_ms: the clock.
    """
    rows = []
    for status in groups:
        interval = status.group.interval_s or default_interval_s
        last = status.last_eval_ms
        rows.append(
            GroupRow(
                name=status.group.name,
                interval=format_duration(interval),
                partition=status.partition,
                owned=status.owned,
                last_eval="never" if last is None else utc(last),
                last_eval_ago="" if last is None else ago(last, now_ms=now_ms),
                rules=_rule_rows(status),
            )
        )
    unhealthy = sum(1 for g in rows for r in g.rules if r.health == "err")
    return RulesPage(rows, unhealthy)
