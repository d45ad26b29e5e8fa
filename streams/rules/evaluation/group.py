"""Evaluate a rule group at one instant, as Prometheus' rule manager does (``rules/manager.go``).

Rules run in file order. A recording rule's samples go into the store at once, so later rules
(of this group and of groups evaluated after it) read them; a series a rule produced at its
previous evaluation and not at this one gets a staleness marker. Alerting rules update their
:class:`~streams.rules.evaluation.alerts.AlertState`; with ``alerts_series`` their ``ALERTS`` and
``ALERTS_FOR_STATE`` series are written too (promtool does, so rule tests can query them).

A failing rule (an evaluation error, duplicate labels, a limit) is reported in the result and
the other rules still run, as in Prometheus; its previous series are not marked stale.

Example:
    >>> from streams.rules import load_rule_file
    >>> from streams.promql.series import SampleStore, series_labels
    >>> group = load_rule_file("rules/pulseline.yml").groups[1]
    >>> store = SampleStore()
    >>> labels = series_labels("cpu_usage_idle", {"cpu": "cpu-total", "host": "web-1"})
    >>> store.add(labels, 0, 5.0, ("metrics.raw", 3, 1200))
    True
    >>> evaluator = GroupEvaluator(group)
    >>> result = evaluator.evaluate(store, 60_000)
    >>> [(s.labels, s.value) for s in result.samples]
    [((('__name__', 'host:cpu_busy:percent_avg5m'), ('host', 'web-1')), 95.0)]
    >>> [(c.kind, c.rule, c.sources) for c in result.changes]
    [('pending', 'HostHighCpu', (('metrics.raw', 3, 1200),))]
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from streams.errors import PulselineError
from streams.promql.evaluate import EvalError, SeriesSource, evaluate
from streams.promql.expr import Expr, Selector, selectors
from streams.promql.scope import Narrower, plan_of
from streams.promql.series import (
    METRIC_NAME,
    STALE,
    Labels,
    Provenance,
    SampleStore,
    Series,
    is_stale,
)
from streams.rules.evaluation.alerts import AlertChange, AlertError, AlertState
from streams.rules.evaluation.recording import OutputSample, RecordError, record, record_labels
from streams.rules.model import AlertingRule, RecordingRule, RuleGroup


class RuleEvalError(PulselineError):
    """One rule failed at one evaluation.

    Attributes:
        group: the group's name.
        rule: the rule's name.
        t_ms: the evaluation's instant.
        reason: Prometheus' message.
    """

    def __init__(self, group: str, rule: str, t_ms: int, reason: str) -> None:
        self.group = group
        self.rule = rule
        self.t_ms = t_ms
        self.reason = reason
        super().__init__(f'group "{group}", rule "{rule}", at {t_ms} ms: {reason}')


@dataclass
class GroupResult:
    """What one evaluation of a group produced.

    Attributes:
        samples: recorded samples and staleness markers (and ``ALERTS`` series when asked),
            already added to the store; publish them to the pipeline.
        changes: alert state changes, rule by rule.
        errors: the rules that failed.
    """

    samples: list[OutputSample] = field(default_factory=list)
    changes: list[AlertChange] = field(default_factory=list)
    errors: list[RuleEvalError] = field(default_factory=list)


class GroupEvaluator:
    """The evaluation state of one rule group: alert states and the series each rule wrote.

    Args:
        group: the loaded group.
        external_labels: ``$externalLabels`` in alert templates.
        external_url: ``$externalURL`` in alert templates.
        alerts_series: also write ``ALERTS`` and ``ALERTS_FOR_STATE``.
    """

    def __init__(
        self,
        group: RuleGroup,
        *,
        external_labels: Mapping[str, str] | None = None,
        external_url: str = "",
        alerts_series: bool = False,
    ) -> None:
        self.group = group
        self.alerts_series = alerts_series
        self.alert_states: dict[int, AlertState] = {
            i: AlertState(
                rule,
                group_labels=group.labels,
                limit=group.limit,
                external_labels=external_labels,
                external_url=external_url,
            )
            for i, rule in enumerate(group.rules)
            if isinstance(rule, AlertingRule)
        }
        self._previous: dict[int, set[Labels]] = {}
        self._narrowers = [
            None if plan is None else Narrower(plan)
            for plan in (plan_of(rule.expr) for rule in group.rules)
        ]

    def evaluate(
        self, store: SampleStore, t_ms: int, changed: Iterable[Labels] | None = None
    ) -> GroupResult:
        """Evaluate the rules at ``t_ms``, adding what they record to ``store``.

        Args:
            store: the samples.
            t_ms: the evaluation's instant.
            changed: the series that got samples since the last evaluation: only what they
                can change is evaluated (a rule that reads none of them is skipped, a
                series-wise rule is evaluated for the outputs they feed, any other rule
                whole). None: every rule, whole.
        """
        result = GroupResult()
        fresh = None if changed is None else _Changed(store, changed)
        for i, rule in enumerate(self.group.rules):
            view: SeriesSource = store
            scope: set[Labels] | None = None
            if fresh is not None:
                narrower = self._narrowers[i]
                if narrower is None:
                    if not fresh.selected_by(rule.expr):
                        continue
                else:
                    narrowed = narrower.narrow(store, fresh.named(narrower.plan.selector))
                    if narrowed is None:
                        continue
                    view, scope = narrowed
            written = self._run(i, view, scope, store, t_ms, result)
            if fresh is not None:
                fresh.add(written)
        return result

    def evaluate_due(self, store: SampleStore, t_ms: int) -> GroupResult | None:
        """Evaluate the alerts whose ``for`` or ``keep_firing_for`` runs out by ``t_ms``, and
        only them; None when there are none."""
        result: GroupResult | None = None
        for i, state in self.alert_states.items():
            due = state.due(t_ms)
            if not due:
                continue
            result = result or GroupResult()
            narrower = self._narrowers[i]
            if narrower is None:
                self._run(i, store, None, store, t_ms, result)
            else:
                self._run(i, narrower.inputs(store, due), due, store, t_ms, result)
        return result

    def _run(
        self,
        index: int,
        view: SeriesSource,
        scope: set[Labels] | None,
        store: SampleStore,
        t_ms: int,
        result: GroupResult,
    ) -> list[Labels]:
        """Evaluate one rule over ``view`` (for ``scope`` only, unless None); the series it
        wrote to ``store``."""
        rule = self.group.rules[index]
        try:
            vector = evaluate(rule.expr, view, t_ms)
            if isinstance(rule, AlertingRule):
                state = self.alert_states[index]
                result.changes.extend(state.update(vector, t_ms, scope))
                samples = []
                if self.alerts_series:
                    samples = [OutputSample(lb, t_ms, v) for lb, v in state.series()]
            else:
                samples = record(
                    rule, vector, t_ms, group_labels=self.group.labels, limit=self.group.limit
                )
        except (EvalError, AlertError, RecordError) as exc:
            result.errors.append(RuleEvalError(self.group.name, rule.name, t_ms, str(exc)))
            return []
        if scope is not None and isinstance(rule, RecordingRule):
            labels = self.group.labels
            scope = {record_labels(rule, lb, labels) for lb in scope}
        return self._write(index, rule.name, samples, store, t_ms, result, scope)

    def _write(
        self,
        index: int,
        name: str,
        samples: list[OutputSample],
        store: SampleStore,
        t_ms: int,
        result: GroupResult,
        scope: set[Labels] | None,
    ) -> list[Labels]:
        written: set[Labels] = set()
        for sample in samples:
            problem = _append(store, sample)
            if problem is None:
                written.add(sample.labels)
                result.samples.append(sample)
            else:
                result.errors.append(RuleEvalError(self.group.name, name, t_ms, problem))
        previous = self._previous.get(index, set())
        ended = previous - written if scope is None else (previous & scope) - written
        for labels in sorted(ended):
            if store.add(labels, t_ms, STALE):
                result.samples.append(OutputSample(labels, t_ms, STALE))
        self._previous[index] = written if scope is None else (previous - ended) | written
        return [*written, *ended]

    def to_dict(self) -> dict[str, Any]:
        """The state as plain JSON values: alerts per rule and the series rules wrote last."""
        return {
            "alerts": {str(i): s.to_dict() for i, s in self.alert_states.items()},
            "previous": {
                str(i): [list(map(list, lb)) for lb in sorted(s)] for i, s in self._previous.items()
            },
        }

    def restore(self, data: Mapping[str, Any]) -> None:
        """Take back a state :meth:`to_dict` returned (rules matched by position and name)."""
        for key, saved in data.get("alerts", {}).items():
            state = self.alert_states.get(int(key))
            if state is not None and saved.get("rule") == state.rule.name:
                state.restore(saved.get("alerts", {}))
        for key, series in data.get("previous", {}).items():
            if int(key) < len(self.group.rules):
                self._previous[int(key)] = {tuple((n, v) for n, v in lb) for lb in series}


class _Changed:
    """The series that changed before and during one evaluation, by metric name."""

    def __init__(self, store: SampleStore, labels: Iterable[Labels]) -> None:
        self._store = store
        self._by_name: dict[str, dict[Labels, Series]] = {}
        self.add(labels)

    def add(self, labels: Iterable[Labels]) -> None:
        """Count these series as changed too (a rule wrote them)."""
        for lb in labels:
            series = self._store.get(lb)
            if series is not None:
                self._by_name.setdefault(series.label_map.get(METRIC_NAME, ""), {})[lb] = series

    def named(self, selector: Selector) -> Iterable[Series]:
        """The changed series that may match ``selector``: those of its metric, if it has one."""
        if selector.metric is not None:
            return self._by_name.get(selector.metric, {}).values()
        return (s for pool in self._by_name.values() for s in pool.values())

    def selected_by(self, expr: Expr) -> bool:
        """Whether a selector of ``expr`` selects a changed series."""
        return any(
            selector.matches(s.label_map.get(METRIC_NAME, ""), s.label_map)
            for selector in selectors(expr)
            for s in self.named(selector)
        )


def _append(store: SampleStore, sample: OutputSample) -> str | None:
    """Add a rule's sample to the store; Prometheus' append error, if any."""
    source = Provenance(sample.sources) if sample.sources else None
    if store.add(sample.labels, sample.ts_ms, sample.value, source):
        return None
    series = store.get(sample.labels)
    newest = None if series is None else series.newest()
    if newest is None or newest[0] > sample.ts_ms:
        return "out of order sample"
    same = (is_stale(newest[1]) and is_stale(sample.value)) or (
        newest[1] == sample.value or (newest[1] != newest[1] and sample.value != sample.value)
    )
    return None if same else "duplicate sample for timestamp"
