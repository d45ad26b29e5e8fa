"""Alert state of one alerting rule: Prometheus 2.42's state machine (``rules/alerting.go``).

Each evaluation result (an instant vector) updates the rule's alerts, one per label set:

- a new label set starts *pending* at the evaluation's instant (``active_at``), or *firing*
  at once when the rule has no ``for``;
- a pending alert *fires* at the first evaluation with ``t - active_at >= for``;
- an alert whose label set is no longer in the result ends: a pending one becomes *inactive*,
  a firing one is *resolved*, unless ``keep_firing_for`` holds it firing (counted from the
  first evaluation without it);
- while an alert stays, its value and annotations follow the latest result.

Evaluations may come at any instants, not only at a fixed interval. The labels of an alert
are the result's labels without ``__name__``, then the group's labels, the rule's rendered
labels (an empty one removes the label) and ``alertname``. :meth:`AlertState.update` returns
the state changes; the state survives a restart through :meth:`AlertState.to_dict` and
:meth:`AlertState.from_dict` (plain JSON values).

Example:
    >>> from streams.rules import load_rule_file
    >>> from streams.promql.evaluate import Sample
    >>> rule = next(r for r in load_rule_file("rules/pulseline.yml").rules()
    ...             if r.name == "HostMemoryHigh")
    >>> state = AlertState(rule)
    >>> result = [Sample((("__name__", "mem_used_percent"), ("host", "db-1")), 93.5)]
    >>> [c.kind for c in state.update(result, 0)], [c.kind for c in state.update(result, 600_000)]
    (['pending'], ['firing'])
    >>> restored = AlertState.from_dict(rule, state.to_dict())
    >>> [c.kind for c in restored.update([], 660_000)]
    ['resolved']
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Collection, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlencode

from streams.errors import PulselineError
from streams.promql.evaluate import Sample, evaluate
from streams.promql.series import METRIC_NAME, Labels, SampleStore
from streams.rules.errors import TemplateError
from streams.rules.model import AlertingRule
from streams.rules.templating.templates import RuleTemplate

AlertStateName = Literal["pending", "firing", "inactive"]
ChangeKind = Literal["pending", "firing", "resolved", "inactive"]
ALERTS_METRIC = "ALERTS"
ALERTS_FOR_STATE_METRIC = "ALERTS_FOR_STATE"


class AlertError(PulselineError):
    """An alerting rule's result cannot make alerts (Prometheus fails the rule the same way).

    Attributes:
        dropped: alerts forgotten because of the error (the ``limit`` was exceeded).
    """

    def __init__(self, message: str, dropped: Sequence[Alert] = ()) -> None:
        self.dropped = tuple(dropped)
        super().__init__(message)


def fingerprint(labels: Labels) -> str:
    """A stable identity of a label set (hex), the same in every process and run."""
    digest = hashlib.blake2b(digest_size=8)
    for name, value in labels:
        digest.update(name.encode())
        digest.update(b"\xff")
        digest.update(value.encode())
        digest.update(b"\xff")
    return digest.hexdigest()


def _encode_float(value: float) -> float | str:
    return value if math.isfinite(value) else repr(value)


def _decode_float(value: float | str) -> float:
    return float(value)


def _hashable(value: Any) -> Hashable:
    """JSON lists back to tuples, so restored sources are hashable again."""
    if isinstance(value, list):
        return tuple(_hashable(v) for v in value)
    return value  # type: ignore[no-any-return]


@dataclass(slots=True)
class Alert:
    """One alert of a rule.

    Attributes:
        labels: the alert's labels, sorted, ``alertname`` included.
        annotations: the rendered annotations, sorted by name.
        state: ``pending`` or ``firing`` while the alert lasts; ``inactive`` once ended.
        active_at_ms: when the label set first appeared (Alertmanager's ``startsAt``).
        value: the result's value at the latest evaluation that had the label set.
        fired_at_ms: when it started firing.
        resolved_at_ms: when it ended.
        keep_firing_since_ms: the first evaluation without it while ``keep_firing_for`` holds.
        sources: the provenance of the latest result sample.
        series: the labels of the result sample, before the rule's labels were applied.
    """

    labels: Labels
    annotations: Labels
    state: AlertStateName
    active_at_ms: int
    value: float
    fired_at_ms: int | None = None
    resolved_at_ms: int | None = None
    keep_firing_since_ms: int | None = None
    sources: tuple[Hashable, ...] = ()
    series: Labels = ()

    @property
    def fingerprint(self) -> str:
        """:func:`fingerprint` of the labels."""
        return fingerprint(self.labels)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON values (sources must be JSON values, tuples become lists)."""
        return {
            "labels": dict(self.labels),
            "annotations": dict(self.annotations),
            "state": self.state,
            "active_at_ms": self.active_at_ms,
            "value": _encode_float(self.value),
            "fired_at_ms": self.fired_at_ms,
            "resolved_at_ms": self.resolved_at_ms,
            "keep_firing_since_ms": self.keep_firing_since_ms,
            "sources": [list(s) if isinstance(s, tuple) else s for s in self.sources],
            "series": [list(pair) for pair in self.series],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Alert:
        """The alert :meth:`to_dict` described."""
        return cls(
            labels=tuple(sorted(data["labels"].items())),
            annotations=tuple(sorted(data["annotations"].items())),
            state=data["state"],
            active_at_ms=int(data["active_at_ms"]),
            value=_decode_float(data["value"]),
            fired_at_ms=data.get("fired_at_ms"),
            resolved_at_ms=data.get("resolved_at_ms"),
            keep_firing_since_ms=data.get("keep_firing_since_ms"),
            sources=tuple(_hashable(s) for s in data.get("sources", ())),
            series=tuple((str(n), str(v)) for n, v in data.get("series", ())),
        )


def generator_url(external_url: str, expr: str) -> str:
    """The link to a rule's expression on the worker's ``/graph`` page, as Prometheus links an
    alert to its expression (``generatorURL``); empty when there is no external URL.

    Example:
        >>> generator_url("http://worker:6066/", 'up{job="node"} == 0')
        'http://worker:6066/graph?query=up%7Bjob%3D%22node%22%7D+%3D%3D+0&range=1h'
    """
    if not external_url:
        return ""
    return f"{external_url.rstrip('/')}/graph?{urlencode({'query': expr, 'range': '1h'})}"


@dataclass(frozen=True, slots=True)
class AlertChange:
    """A change of an alert's state at one evaluation.

    Attributes:
        kind: ``pending`` (new), ``firing`` (from pending, or new without ``for``),
            ``resolved`` (was firing), ``inactive`` (was pending, never fired).
        previous: the state before: ``inactive`` for a new alert.
        rule: the rule's name.
        fingerprint: the alert's identity.
        labels, annotations, value, sources: as the alert has them now.
        starts_at_ms: when the alert became active.
        ends_at_ms: when it ended (``resolved`` and ``inactive``), else None.
        generator_url: where a person sees the rule's expression graphed
            (:func:`generator_url`); empty without an external URL.
    """

    kind: ChangeKind
    previous: AlertStateName
    rule: str
    fingerprint: str
    labels: Labels
    annotations: Labels
    value: float
    starts_at_ms: int
    ends_at_ms: int | None = None
    sources: tuple[Hashable, ...] = field(default=())
    generator_url: str = ""


class AlertState:
    """The alerts of one alerting rule and their state machine.

    Args:
        rule: the alerting rule.
        group_labels: the group's labels, under the rule's own.
        limit: the group's ``limit`` on alerts (0: none).
        external_labels: ``$externalLabels`` in templates.
        external_url: ``$externalURL`` in templates.
    """

    def __init__(
        self,
        rule: AlertingRule,
        *,
        group_labels: Mapping[str, str] | None = None,
        limit: int = 0,
        external_labels: Mapping[str, str] | None = None,
        external_url: str = "",
    ) -> None:
        self.rule = rule
        self.group_labels = dict(group_labels or {})
        self.limit = limit
        self.external_labels = dict(external_labels or {})
        self.external_url = external_url
        self.alerts: dict[str, Alert] = {}
        self._for_ms = round(rule.for_s * 1000)
        self._keep_ms = round(rule.keep_firing_for_s * 1000)

    def evaluate(self, store: SampleStore, t_ms: int) -> list[AlertChange]:
        """Evaluate the rule's expression at ``t_ms`` and :meth:`update` with the result.

        Raises:
            EvalError: the expression fails (the alerts stay as they were).
            AlertError: see :meth:`update`.
        """
        return self.update(evaluate(self.rule.expr, store, t_ms), t_ms)

    def update(
        self, vector: Iterable[Sample], t_ms: int, scope: Collection[Labels] | None = None
    ) -> list[AlertChange]:
        """Apply one evaluation result at ``t_ms``; the changes it caused, in alert order.

        Args:
            vector: the rule's result.
            t_ms: the evaluation's instant.
            scope: when the evaluation covered only some result series (see
                :mod:`streams.promql.scope`), their labels: alerts of other series are left as
                they are, neither ended nor moved on to firing.

        Raises:
            AlertError: two results have the same labels once the rule's labels are applied
                (nothing changes), or there are more alerts than the limit (every alert is
                dropped without a change, as Prometheus does; ``dropped`` lists them).
        """
        fresh: dict[str, Alert] = {}
        for sample in vector:
            alert = self._alert(sample, t_ms)
            fp = alert.fingerprint
            if fp in fresh:
                raise AlertError(
                    "vector contains metrics with the same labelset after applying alert labels"
                )
            fresh[fp] = alert
        before = {fp: a.state for fp, a in self.alerts.items()}
        for fp, alert in fresh.items():
            current = self.alerts.get(fp)
            if current is None:
                self.alerts[fp] = alert
            else:
                current.value = alert.value
                current.annotations = alert.annotations
                current.sources = alert.sources
                current.series = alert.series
        ended: list[Alert] = []
        active = 0
        for fp, alert in list(self.alerts.items()):
            if fp not in fresh:
                if scope is not None and alert.series not in scope:
                    active += 1  # not evaluated at t_ms
                    continue
                if not self._keeps_firing(alert, t_ms):
                    del self.alerts[fp]
                    alert.resolved_at_ms = t_ms
                    ended.append(alert)
                    continue
            else:
                alert.keep_firing_since_ms = None
            active += 1
            if alert.state == "pending" and t_ms - alert.active_at_ms >= self._for_ms:
                alert.state = "firing"
                alert.fired_at_ms = t_ms
        if self.limit and active > self.limit:
            dropped = list(self.alerts.values())
            self.alerts.clear()
            raise AlertError(f"exceeded limit of {self.limit} with {active} alerts", dropped)
        return self._changes(before, ended)

    def _keeps_firing(self, alert: Alert, t_ms: int) -> bool:
        if alert.state != "firing" or self._keep_ms <= 0:
            return False
        if alert.keep_firing_since_ms is None:
            alert.keep_firing_since_ms = t_ms
        return t_ms - alert.keep_firing_since_ms < self._keep_ms

    def _changes(
        self, before: Mapping[str, AlertStateName], ended: list[Alert]
    ) -> list[AlertChange]:
        changes: list[AlertChange] = []
        for alert in ended:
            previous = alert.state
            alert.state = "inactive"
            kind: ChangeKind = "resolved" if previous == "firing" else "inactive"
            changes.append(self._change(kind, previous, alert))
        for fp, alert in self.alerts.items():
            previous = before.get(fp, "inactive")
            if previous != alert.state:
                changes.append(self._change(alert.state, previous, alert))
        return changes

    def _change(self, kind: ChangeKind, previous: AlertStateName, alert: Alert) -> AlertChange:
        return AlertChange(
            kind,
            previous,
            self.rule.name,
            alert.fingerprint,
            alert.labels,
            alert.annotations,
            alert.value,
            alert.active_at_ms,
            alert.resolved_at_ms,
            alert.sources,
            generator_url(self.external_url, self.rule.expr_text),
        )

    def _alert(self, sample: Sample, t_ms: int) -> Alert:
        data = dict(sample.labels)
        labels = {k: v for k, v in sample.labels if k != METRIC_NAME}
        labels.update(self.group_labels)
        for name, template in self.rule.labels.items():
            text = self._expand(template, data, sample.value)
            if text:
                labels[name] = text
            else:
                labels.pop(name, None)
        labels["alertname"] = self.rule.name
        annotations = {
            name: self._expand(template, data, sample.value)
            for name, template in self.rule.annotations.items()
        }
        return Alert(
            tuple(sorted(labels.items())),
            tuple(sorted(annotations.items())),
            "pending",
            t_ms,
            sample.value,
            sources=sample.sources,
            series=sample.labels,
        )

    def _expand(self, template: RuleTemplate, labels: Mapping[str, str], value: float) -> str:
        try:
            return template.render(labels, value, self.external_labels, self.external_url)
        except TemplateError as exc:
            return f"<error expanding template: {exc}>"

    def due(self, t_ms: int) -> set[Labels]:
        """The result series of alerts whose ``for`` or ``keep_firing_for`` runs out by
        ``t_ms``: evaluating them then fires or resolves them on time."""
        out: set[Labels] = set()
        for alert in self.alerts.values():
            if alert.state == "pending":
                deadline = alert.active_at_ms + self._for_ms
            elif alert.keep_firing_since_ms is not None:
                deadline = alert.keep_firing_since_ms + self._keep_ms
            else:
                continue
            if deadline <= t_ms and alert.series:
                out.add(alert.series)
        return out

    def firing(self) -> list[Alert]:
        """The firing alerts (those ``keep_firing_for`` holds included)."""
        return [a for a in self.alerts.values() if a.state == "firing"]

    def series(self) -> list[tuple[Labels, float]]:
        """Prometheus' ``ALERTS`` and ``ALERTS_FOR_STATE`` samples of the current alerts."""
        out: list[tuple[Labels, float]] = []
        raw = {name: t.source for name, t in self.rule.labels.items() if t.source}
        for alert in self.alerts.values():
            base = {**raw, **dict(alert.labels), "alertname": self.rule.name}
            state = {**base, METRIC_NAME: ALERTS_METRIC, "alertstate": alert.state}
            out.append((tuple(sorted(state.items())), 1.0))
            for_state = {**base, METRIC_NAME: ALERTS_FOR_STATE_METRIC}
            out.append((tuple(sorted(for_state.items())), float(alert.active_at_ms // 1000)))
        return out

    def to_dict(self) -> dict[str, Any]:
        """The alerts as plain JSON values, keyed by fingerprint."""
        return {
            "rule": self.rule.name,
            "alerts": {fp: a.to_dict() for fp, a in self.alerts.items()},
        }

    @classmethod
    def from_dict(cls, rule: AlertingRule, data: Mapping[str, Any], **options: Any) -> AlertState:
        """An :class:`AlertState` in the state :meth:`to_dict` described.

        Args:
            rule: the rule (its ``for`` and ``keep_firing_for`` are today's).
            data: what :meth:`to_dict` returned.
            options: the keyword arguments of :class:`AlertState`.
        """
        state = cls(rule, **options)
        state.restore(data.get("alerts", {}))
        return state

    def restore(self, alerts: Mapping[str, Mapping[str, Any]]) -> None:
        """Add alerts saved with :meth:`Alert.to_dict` (e.g. one Faust table row each)."""
        for data in alerts.values():
            alert = Alert.from_dict(data)
            if alert.state != "inactive":
                self.alerts[alert.fingerprint] = alert
