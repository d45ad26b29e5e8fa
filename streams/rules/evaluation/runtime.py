"""In-stream rule evaluation, per ``rules.samples`` partition, free of Faust.

:class:`RuleRuntime` holds, for each partition of ``rules.samples`` a worker owns, the recent
samples of every series its groups read (a :class:`~streams.promql.series.SampleStore`) and a
:class:`~streams.rules.evaluation.group.GroupEvaluator` per group. It evaluates:

- a group whenever samples for it arrive, at the newest sample's timestamp (event time), so
  a breach is seen as soon as its sample is, but never later than the clock (plus
  ``skew_ms``): a sample from a source whose clock is ahead is evaluated when the clock
  reaches it, and cannot move the group's evaluations into the future, where every other
  series would look stale; only what the arrived series can change is evaluated
  (:mod:`streams.promql.scope`), so an arrival costs the rules and series it touches, not
  the whole group;
- on a timer (:meth:`RuleRuntime.tick`), at the wall clock: the alerts whose ``for`` or
  ``keep_firing_for`` runs out, on time; and every group whole at its interval, for what
  arrivals cannot show (absence, series that went away).

An evaluation instant never goes back for a group, nor repeats: samples older than the last
evaluation are evaluated a millisecond after it. Each evaluation's alert state changes
become ``alerts.events`` records (:func:`event`); the samples recording rules produce go back
into the pipeline as points; and the state of a group with changes is returned for the
changelog-backed table, so a restarted worker takes up every pending and firing alert as it
was. The samples themselves are not persisted: after a restart the agent reads the last
horizon of ``rules.samples`` again (:meth:`RuleRuntime.add_history`) before evaluating.

Example:
    >>> runtime = RuleRuntime(Router(files), partitions=8, states=table)  # doctest: +SKIP
    >>> outcome = runtime.on_records(3, [decode_forward(value)])  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

import orjson

from streams.errors import SnapshotError
from streams.promql.series import METRIC_NAME, Labels, SampleStore, horizon_ms, is_stale
from streams.records import Point
from streams.rules.evaluation.alerts import AlertChange, AlertState
from streams.rules.evaluation.group import GroupEvaluator, GroupResult, RuleEvalError
from streams.rules.evaluation.routing import Forwarded, Router, partition_of
from streams.rules.model import RuleGroup

log = logging.getLogger(__name__)


class StateTable(Protocol):
    """Where group states were persisted (the ``alert-state`` table)."""

    def get(self, key: bytes) -> bytes | None:
        """A key's value, or None."""


def state_key(group: str) -> bytes:
    """The table key of a group's alert state."""
    return f"rules/{group}".encode()


def rfc3339(ms: int | None) -> str | None:
    """A timestamp as Alertmanager writes it: ``2026-11-24T23:05:38.123Z``."""
    if ms is None:
        return None
    text = datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")


def _source(source: Hashable) -> Any:
    if isinstance(source, tuple) and len(source) == 3:
        topic, partition, offset = source
        return {"topic": topic, "partition": partition, "offset": offset}
    return source


def event(group: str, change: AlertChange, evaluated_at_ms: int) -> dict[str, Any]:
    """The ``alerts.events`` record of an alert state change.

    ``state`` is the new state (``pending``, ``firing``, ``resolved``, ``inactive``);
    ``sources`` are the ``metrics.raw`` records whose samples the result came from.
    """
    value = change.value
    return {
        "fingerprint": change.fingerprint,
        "group": group,
        "rule": change.rule,
        "state": change.kind,
        "previous": change.previous,
        "labels": dict(change.labels),
        "annotations": dict(change.annotations),
        "startsAt": rfc3339(change.starts_at_ms),
        "endsAt": rfc3339(change.ends_at_ms),
        "value": value if math.isfinite(value) else str(value),
        "evaluatedAt": rfc3339(evaluated_at_ms),
        "sources": [_source(s) for s in change.sources],
        "generatorURL": change.generator_url,
    }


@dataclass
class Outcome:
    """What an evaluation step produced, for the agent to send and persist.

    Attributes:
        events: ``alerts.events`` values (JSON-able), in order.
        recorded: points of recording rules, for ``metrics.raw``.
        states: group name to its serialised state, for groups whose alerts changed.
        errors: rules that failed (logged; the rest of the group ran).
    """

    events: list[dict[str, Any]] = field(default_factory=list)
    recorded: list[Point] = field(default_factory=list)
    states: dict[str, bytes] = field(default_factory=dict)
    errors: list[RuleEvalError] = field(default_factory=list)


class _Partition:
    """The samples and group states of one ``rules.samples`` partition."""

    def __init__(self, horizon: int) -> None:
        self.store = SampleStore(horizon)
        self.groups: dict[str, GroupEvaluator] = {}
        self.last_eval: dict[str, int] = {}
        self.last_whole: dict[str, int] = {}
        self.errors: dict[str, dict[str, RuleEvalError]] = {}


@dataclass(frozen=True)
class GroupStatus:
    """What a worker knows of one rule group (for the ``/rules`` and ``/alerts`` pages).

    Attributes:
        group: the group as loaded.
        partition: the ``rules.samples`` partition that evaluates it.
        owned: whether this worker holds that partition.
        last_eval_ms: the instant of its last evaluation here, None before the first.
        alerts: the alert state of each alerting rule, by the rule's index in the group.
        errors: the rules that failed since the group was last evaluated whole, by name.
    """

    group: RuleGroup
    partition: int
    owned: bool
    last_eval_ms: int | None = None
    alerts: dict[int, AlertState] = field(default_factory=dict)
    errors: dict[str, RuleEvalError] = field(default_factory=dict)


class RuleRuntime:
    """Evaluates rule groups on the partitions a worker owns.

    Args:
        router: the loaded rules.
        partitions: partitions of ``rules.samples``.
        states: the persisted group states.
        interval_s: how often :meth:`tick` evaluates a group whole, unless the group sets
            its own ``interval``.
        clock: wall clock in ms.
        skew_ms: how far past the clock an arrival may evaluate a group (the clock
            difference allowed between sources and workers).
        external_url: where people reach the workers' pages: ``$externalURL`` in alert
            templates, and the base of each alert's ``generatorURL``.
    """

    def __init__(
        self,
        router: Router,
        partitions: int,
        states: StateTable,
        *,
        interval_s: float = 60.0,
        clock: Callable[[], int] = lambda: time.time_ns() // 1_000_000,
        skew_ms: int = 1000,
        external_url: str = "",
    ) -> None:
        self.router = router
        self._external_url = external_url
        self.partitions = partitions
        self._states = states
        self._interval = round(interval_s * 1000)
        self._clock = clock
        self._skew = skew_ms
        self._parts: dict[int, _Partition] = {}
        self._horizon = self._horizon_of(router)

    @staticmethod
    def _horizon_of(router: Router) -> int:
        return horizon_ms(rule.expr for g in router.groups.values() for rule in g.rules)

    @property
    def horizon_ms(self) -> int:
        """How far back samples are kept (and read again after a restart)."""
        return self._horizon

    @property
    def owned(self) -> frozenset[int]:
        """The partitions with state here."""
        return frozenset(self._parts)

    def groups_of(self, partition: int) -> list[str]:
        """The groups whose samples and state live on ``partition``."""
        n = self.partitions
        return [g for g in self.router.groups if partition_of(g, n) == partition]

    def series_count(self) -> int:
        """Series held over all partitions."""
        return sum(len(p.store) for p in self._parts.values())

    def status(self) -> list[GroupStatus]:
        """Every loaded group, in file order, with what this worker knows of it."""
        out = []
        for name, group in self.router.groups.items():
            partition = partition_of(name, self.partitions)
            part = self._parts.get(partition)
            if part is None:
                out.append(GroupStatus(group, partition, owned=False))
                continue
            evaluator = part.groups.get(name)
            out.append(
                GroupStatus(
                    group,
                    partition,
                    owned=True,
                    last_eval_ms=part.last_eval.get(name),
                    alerts=dict(evaluator.alert_states) if evaluator is not None else {},
                    errors=dict(part.errors.get(name, {})),
                )
            )
        return out

    def _part(self, partition: int) -> _Partition:
        part = self._parts.get(partition)
        if part is None:
            part = self._parts[partition] = _Partition(self._horizon)
        return part

    def _evaluator(self, part: _Partition, name: str) -> GroupEvaluator | None:
        evaluator = part.groups.get(name)
        if evaluator is None:
            group = self.router.groups.get(name)
            if group is None:
                return None  # a group that was removed by a reload
            evaluator = part.groups[name] = GroupEvaluator(group, external_url=self._external_url)
            try:
                saved = self._states.get(state_key(name))
                if saved is not None:
                    evaluator.restore(orjson.loads(saved))
            except (SnapshotError, orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
                log.error("group %r: cannot restore its alert state: %r", name, exc)
        return evaluator

    def add_history(self, partition: int, records: Iterable[Forwarded]) -> int:
        """Put samples read again after a restart into the store, without evaluating.

        Returns:
            How many samples were new.
        """
        add = self._part(partition).store.add
        added = 0
        for record in records:
            for labels, ts, value, source in record.samples:
                added += add(labels, ts, value, source)
        return added

    def on_records(self, partition: int, records: Iterable[Forwarded]) -> Outcome:
        """Add forwarded samples; evaluate each group that got some at its newest timestamp
        (at most the clock plus ``skew_ms``), for what the series that got samples can
        change."""
        part = self._part(partition)
        add = part.store.add
        newest: dict[str, int] = {}
        changed: dict[str, set[Labels]] = {}
        for record in records:
            top = newest.get(record.group)
            series = changed.setdefault(record.group, set())
            for labels, ts, value, source in record.samples:
                add(labels, ts, value, source)
                series.add(labels)  # a replay too: it may not have been evaluated before
                if top is None or ts > top:
                    top = ts
            if top is not None:
                newest[record.group] = top
        outcome = Outcome()
        latest = self._clock() + self._skew
        for group, ts in newest.items():
            self._evaluate(part, group, min(ts, latest), outcome, changed[group])
        return outcome

    def _interval_of(self, group: str) -> int:
        interval = self.router.groups[group].interval_s
        return self._interval if interval is None else round(interval * 1000)

    def _whole_due(self, part: _Partition, group: str, now: int) -> bool:
        last = part.last_whole.get(group)
        return last is None or now - last >= self._interval_of(group)

    def due(self, partition: int) -> list[str]:
        """The partition's groups with something to evaluate at the clock: an alert whose
        ``for`` or ``keep_firing_for`` ran out, or the group's interval since it was last
        evaluated whole."""
        part = self._part(partition)
        now = self._clock()
        out = []
        for group in self.groups_of(partition):
            evaluator = part.groups.get(group)
            if self._whole_due(part, group, now) or (
                evaluator is not None and any(s.due(now) for s in evaluator.alert_states.values())
            ):
                out.append(group)
        return out

    def tick(self, partition: int, groups: Iterable[str] | None = None) -> Outcome:
        """Evaluate ``groups`` (default: the :meth:`due` ones) of a partition at the clock:
        whole when their interval is up, else the alerts whose deadlines ran out."""
        part = self._part(partition)
        now = self._clock()
        outcome = Outcome()
        for group in self.due(partition) if groups is None else groups:
            if self._whole_due(part, group, now):
                part.last_whole[group] = now
                self._evaluate(part, group, now, outcome)
            else:
                self._evaluate(part, group, now, outcome, due_only=True)
        part.store.prune(now)
        return outcome

    def _evaluate(
        self,
        part: _Partition,
        group: str,
        t_ms: int,
        outcome: Outcome,
        changed: Iterable[Labels] | None = None,
        *,
        due_only: bool = False,
    ) -> None:
        evaluator = self._evaluator(part, group)
        if evaluator is None:
            return
        last = part.last_eval.get(group)
        if last is not None and t_ms <= last:
            # Never back, and never twice at one instant: a recording rule would write two
            # values under one timestamp (Prometheus refuses the second as a duplicate).
            t_ms = last + 1
        if due_only:
            result = evaluator.evaluate_due(part.store, t_ms)
            if result is None:
                return
        else:
            result = evaluator.evaluate(part.store, t_ms, changed)
        part.last_eval[group] = t_ms
        failed = {e.rule: e for e in result.errors}
        if changed is None and not due_only:  # every rule ran: the others are healthy now
            part.errors[group] = failed
        else:
            part.errors.setdefault(group, {}).update(failed)
        self._collect(group, evaluator, result, t_ms, outcome)

    @staticmethod
    def _collect(
        group: str, evaluator: GroupEvaluator, result: GroupResult, t_ms: int, outcome: Outcome
    ) -> None:
        for sample in result.samples:
            if is_stale(sample.value) or not math.isfinite(sample.value):
                continue  # no way to store a staleness marker, NaN or Inf in InfluxDB
            labels = dict(sample.labels)
            name = labels.pop(METRIC_NAME)
            outcome.recorded.append(Point(name, labels, {"value": sample.value}, sample.ts_ms))
        if result.changes:
            outcome.events += [event(group, change, t_ms) for change in result.changes]
            outcome.states[group] = orjson.dumps(evaluator.to_dict())
        outcome.errors += result.errors

    def drop(self, partitions: Iterable[int]) -> None:
        """Forget partitions owned elsewhere now."""
        for p in partitions:
            self._parts.pop(p, None)

    def reload(self, router: Router) -> None:
        """Take new rules; groups whose rules did not change keep their state.

        A changed group starts from its state as persisted, its alerts matched by rule.
        """
        old = self.router.groups
        self.router = router
        self._horizon = self._horizon_of(router)
        for part in self._parts.values():
            part.store.horizon_ms = self._horizon
            for name in list(part.groups):
                if _changed(old.get(name), router.groups.get(name)):
                    evaluator = part.groups.pop(name)
                    if name in router.groups:
                        fresh = self._evaluator(part, name)
                        if fresh is not None:
                            fresh.restore(evaluator.to_dict())


def _changed(before: RuleGroup | None, after: RuleGroup | None) -> bool:
    if before is None or after is None:
        return True
    return before != after
