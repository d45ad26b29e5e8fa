"""Rule files as loaded: Prometheus' rule file schema, validated and with parsed expressions.

Durations are seconds (floats), parsed with :func:`streams.durations.parse_duration`.
Mappings are read-only views.

Example:
    >>> from streams.promql.parse import parse_expr
    >>> rule = RecordingRule("job:up:sum", parse_expr("sum by (job) (up)"), "sum by (job) (up)")
    >>> group = RuleGroup("jobs", (rule,), interval_s=30.0)
    >>> RuleFile("rules/jobs.yml", (group,)).rules()[0].name
    'job:up:sum'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TypeAlias

from streams.promql.expr import Expr
from streams.rules.templating.templates import RuleTemplate


def _empty() -> Mapping[str, str]:
    return MappingProxyType({})


@dataclass(frozen=True)
class AlertingRule:
    """An ``alert`` rule.

    Attributes:
        name: the ``alert`` name, which becomes the ``alertname`` label.
        expr: the parsed expression.
        expr_text: the expression as written.
        for_s: how long a condition must hold before the alert fires (``for``).
        keep_firing_for_s: how long it keeps firing after the condition ends.
        labels: label templates added to each alert.
        annotations: annotation templates of each alert.
        line: the rule's line in its file (1-based; 0 when built in code).
    """

    name: str
    expr: Expr
    expr_text: str
    for_s: float = 0.0
    keep_firing_for_s: float = 0.0
    labels: Mapping[str, RuleTemplate] = field(default_factory=lambda: MappingProxyType({}))
    annotations: Mapping[str, RuleTemplate] = field(default_factory=lambda: MappingProxyType({}))
    line: int = 0


@dataclass(frozen=True)
class RecordingRule:
    """A ``record`` rule: stores the expression's result under a new metric name.

    Attributes:
        name: the ``record`` metric name.
        expr: the parsed expression.
        expr_text: the expression as written.
        labels: static labels added to each result.
        line: the rule's line in its file (1-based; 0 when built in code).
    """

    name: str
    expr: Expr
    expr_text: str
    labels: Mapping[str, str] = field(default_factory=_empty)
    line: int = 0


Rule: TypeAlias = AlertingRule | RecordingRule


@dataclass(frozen=True)
class RuleGroup:
    """A group: rules evaluated together at one interval.

    Attributes:
        name: unique within its file.
        rules: in file order.
        interval_s: evaluation interval, or None for the configured default.
        limit: most alerts (or series) one evaluation may produce; 0 means no limit.
        labels: static labels added to every rule's results (a rule's own labels win).
    """

    name: str
    rules: tuple[Rule, ...] = ()
    interval_s: float | None = None
    limit: int = 0
    labels: Mapping[str, str] = field(default_factory=_empty)


@dataclass(frozen=True)
class RuleFile:
    """One loaded rule file.

    Attributes:
        path: the path it was loaded from, as given.
        groups: in file order.
    """

    path: str
    groups: tuple[RuleGroup, ...] = ()

    def rules(self) -> list[Rule]:
        """Every rule of every group, in file order."""
        return [rule for group in self.groups for rule in group.rules]
