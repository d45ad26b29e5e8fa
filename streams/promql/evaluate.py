"""Evaluate a rule expression at one instant, with Prometheus 2.42's semantics.

:func:`evaluate` walks the tree of :mod:`streams.promql.expr` against a
:class:`~streams.promql.series.SampleStore` and returns an instant vector: a list of
:class:`Sample` (labels, value and the provenance of the inputs it was computed from).

What it does as Prometheus does:

- an instant selector sees a series' newest sample in ``[t - 5m, t]`` unless it is stale;
  a range selector ``x[r]`` sees the samples in ``[t - r, t]``, staleness markers left out;
- functions and arithmetic drop the metric name (``last_over_time`` keeps it), comparisons
  without ``bool`` filter and keep the left side's value and name, ``bool`` drops the name;
- one-to-one vector matching (``on``/``ignoring``; with ``on`` only those labels remain), set
  operators ``and``/``or``/``unless``, aggregations in order of first appearance;
- float operations in the Go code's order, NaN and division by zero as Go, so values agree to
  the bit (see :mod:`streams.promql.gomath` for the one exception, fractional powers);
- the errors Prometheus raises at evaluation (:class:`EvalError`): duplicate label sets,
  many-to-many matching, many-to-one matching without ``group_left``.

Series come from the store sorted by labels. Prometheus' own order depends on its storage
(promtool's is random), so ``sum`` and ``avg`` of three or more values can differ from a given
Prometheus run in the last bit.

Example:
    >>> from streams.promql.parse import parse_expr
    >>> from streams.promql.series import SampleStore, series_labels
    >>> store = SampleStore()
    >>> for host, busy in (("a", 95.0), ("b", 40.0)):
    ...     store.add(series_labels("cpu_busy", {"host": host}), 60_000, busy, ("raw", 0, 7))
    True
    True
    >>> evaluate(parse_expr("cpu_busy > 90"), store, 90_000)
    [Sample(labels=(('__name__', 'cpu_busy'), ('host', 'a')), value=95.0, sources=(('raw', 0, 7),))]
"""

from __future__ import annotations

import functools
import math
from bisect import bisect_right
from collections.abc import Callable, Hashable, Iterable
from typing import NamedTuple, Protocol

from streams.errors import PulselineError
from streams.promql.expr import (
    Absent,
    Aggregate,
    Expr,
    Matching,
    RangeCall,
    ScalarOp,
    Selector,
    SetOp,
    VectorOp,
)
from streams.promql.functions import range_function
from streams.promql.gofmt import labels_string
from streams.promql.gomath import go_div, go_mod, go_pow
from streams.promql.series import (
    LOOKBACK_MS,
    METRIC_NAME,
    Labels,
    Provenance,
    Series,
    sources_of,
)


class EvalError(PulselineError):
    """An expression failed at evaluation, where Prometheus fails too (the message is
    Prometheus')."""


class Sample(NamedTuple):
    """One element of an instant vector.

    Attributes:
        labels: the label set, sorted, ``__name__`` included when kept.
        value: the value.
        sources: the provenance of the newest sample of every series it was computed from.
    """

    labels: Labels
    value: float
    sources: tuple[Hashable, ...] = ()


Vector = list[Sample]
GROUPING_MEMO = 100_000

ARITHMETIC: dict[str, Callable[[float, float], float]] = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": go_div,
    "%": go_mod,
    "^": go_pow,
}
_COMPARISON: dict[str, Callable[[float, float], bool]] = {
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    ">": lambda a, b: a > b,
    "<": lambda a, b: a < b,
    ">=": lambda a, b: a >= b,
    "<=": lambda a, b: a <= b,
}


class SeriesSource(Protocol):
    """Where an evaluation finds series: a :class:`SampleStore`, or a narrowed view of one."""

    def select(self, selector: Selector) -> list[Series]:
        """The series ``selector`` matches, sorted by labels."""


def evaluate(
    expr: Expr, store: SeriesSource, t_ms: int, *, lookback_ms: int = LOOKBACK_MS
) -> Vector:
    """The instant vector of ``expr`` at ``t_ms``.

    Raises:
        EvalError: the expression fails at this instant, as it would in Prometheus.
    """
    return _Evaluator(store, t_ms, lookback_ms).eval(expr)


def drop_name(labels: Labels) -> Labels:
    """``labels`` without ``__name__``."""
    return tuple(pair for pair in labels if pair[0] != METRIC_NAME)


@functools.lru_cache(maxsize=4096)
def grouping(agg: Aggregate) -> Callable[[Labels], Labels]:
    """The labels of the group an aggregation puts a sample with ``labels`` in.

    One function per ``by``/``without`` label list, kept across evaluations and remembering
    the groups of the label sets it saw (up to :data:`GROUPING_MEMO` of them): evaluations
    come again and again for the same series.
    """
    return _grouping(agg.labels, agg.without)


@functools.lru_cache(maxsize=1024)
def _grouping(labels: tuple[str, ...], without: bool) -> Callable[[Labels], Labels]:
    names = frozenset(labels)
    # Looked up by identity first (a series' samples carry its one label tuple, and hashing
    # a tuple of pairs costs more than the lookup); each entry keeps its tuple alive, so
    # its id is not reused while the entry stands.
    by_id: dict[int, tuple[Labels, Labels]] = {}
    memo: dict[Labels, Labels] = {}

    def group(labels: Labels) -> Labels:
        seen = by_id.get(id(labels))
        if seen is not None and seen[0] is labels:
            return seen[1]
        found = memo.get(labels)
        if found is None:
            if len(memo) >= GROUPING_MEMO:
                memo.clear()
            if without:
                found = tuple(p for p in labels if p[0] not in names and p[0] != METRIC_NAME)
            else:
                found = tuple(p for p in labels if p[0] in names)
            memo[labels] = found
        if len(by_id) >= GROUPING_MEMO:
            by_id.clear()
        by_id[id(labels)] = (labels, found)
        return found

    return group


def merge_sources(*groups: Iterable[Hashable]) -> tuple[Hashable, ...]:
    """The sources of several samples, each once, in order."""
    return tuple(dict.fromkeys(s for group in groups for s in group))


def absent_labels(selector: Selector) -> Labels:
    """The labels of ``absent(selector)``, as Prometheus 2.42 makes them: matchers in order,
    the first ``=`` of a label sets it, any later matcher of that label removes it.

    Example:
        >>> from streams.promql.parse import parse_expr
        >>> absent_labels(parse_expr('up{job="a", zone="z", zone="y", env!="b", env="p"}'))
        (('env', 'p'), ('job', 'a'))
    """
    labels: dict[str, str] = {}
    seen: set[str] = set()
    for m in selector.matchers:
        if m.name == METRIC_NAME:
            continue
        if m.op == "=" and m.name not in seen:
            seen.add(m.name)
            if m.value:
                labels[m.name] = m.value
                continue
        labels.pop(m.name, None)
    return tuple(sorted(labels.items()))


def _check_unique(vector: Vector) -> Vector:
    if len(vector) > 1 and len({s.labels for s in vector}) != len(vector):
        raise EvalError("vector cannot contain metrics with the same labelset")
    return vector


def _signature(matching: Matching) -> Callable[[Labels], Labels]:
    names = frozenset(matching.labels)
    if matching.on:
        return lambda labels: tuple(p for p in labels if p[0] in names)
    return lambda labels: tuple(p for p in labels if p[0] not in names and p[0] != METRIC_NAME)


class _Group:
    """One group of an aggregation, as Prometheus' ``groupedAggregation``."""

    __slots__ = ("count", "mean", "sources", "value")

    def __init__(self, first: Sample) -> None:
        self.value = first.value
        self.mean = first.value
        self.count = 1.0
        self.sources = list(first.sources)

    def result(self, op: str) -> float:
        if op == "avg":
            return self.mean
        return self.count if op == "count" else self.value


class _Evaluator:
    def __init__(self, store: SeriesSource, t_ms: int, lookback_ms: int) -> None:
        self.store = store
        self.t = t_ms
        self.lookback = lookback_ms

    def eval(self, expr: Expr) -> Vector:
        if isinstance(expr, Selector):
            return self.selector(expr)
        if isinstance(expr, RangeCall):
            return self.range_call(expr)
        if isinstance(expr, Absent):
            if self.eval(expr.expr):
                return []
            inner = expr.expr
            return [Sample(absent_labels(inner) if isinstance(inner, Selector) else (), 1.0)]
        if isinstance(expr, Aggregate):
            return self.aggregate(expr)
        if isinstance(expr, ScalarOp):
            return _check_unique(self.scalar_op(expr))
        if isinstance(expr, VectorOp):
            return _check_unique(self.vector_op(expr))
        return self.set_op(expr)

    def selector(self, selector: Selector) -> Vector:
        # The newest sample in [t - lookback, t] (both ends included, as Prometheus 2.x),
        # unless stale; sources_of written out: this is the innermost loop of evaluation.
        t = self.t
        oldest = t - self.lookback
        out: Vector = []
        for series in self.store.select(selector):
            ts = series.ts
            i = bisect_right(ts, t) - 1
            if i < 0 or ts[i] < oldest:
                continue
            value = series.values[i]
            if value != value and series.stale is not None and ts[i] in series.stale:
                continue
            source = series.source
            if source is None:
                sources: tuple[Hashable, ...] = ()
            else:
                sources = source if type(source) is Provenance else (source,)
            out.append(Sample(series.labels, value, sources))
        return out

    def range_call(self, call: RangeCall) -> Vector:
        range_ms = round(call.range_s * 1000)
        start = self.t - range_ms
        out: Vector = []
        for series in self.store.select(call.selector):
            ts, values = series.window(start, self.t)
            if not ts:
                continue
            if call.func == "absent_over_time":
                return []
            value = range_function(call.func, ts, values, self.t, range_ms)
            if value is None:
                continue
            keep_name = call.func == "last_over_time"
            labels = series.labels if keep_name else drop_name(series.labels)
            out.append(Sample(labels, value, sources_of(series)))
        if call.func == "absent_over_time":
            return [Sample(absent_labels(call.selector), 1.0)]
        return _check_unique(out)

    def aggregate(self, agg: Aggregate) -> Vector:
        key = grouping(agg)
        groups: dict[Labels, _Group] = {}
        op = agg.op
        for s in self.eval(agg.expr):
            k = key(s.labels)
            group = groups.get(k)
            if group is None:
                groups[k] = _Group(s)
                continue
            group.sources.extend(s.sources)
            v = s.value
            group.count += 1
            if op == "sum":
                group.value += v
            elif op == "avg":
                mean, count = group.mean, group.count
                if math.isinf(mean) and (
                    (math.isinf(v) and (mean > 0) == (v > 0)) or (not math.isinf(v) and v == v)
                ):
                    continue  # an infinite mean stays (Go's code does the same)
                group.mean = mean + (v / count - mean / count)
            elif op == "max":
                if group.value < v or group.value != group.value:
                    group.value = v
            elif op == "min" and (group.value > v or group.value != group.value):
                group.value = v
        return [
            Sample(labels, g.result(op), merge_sources(g.sources)) for labels, g in groups.items()
        ]

    def scalar_op(self, expr: ScalarOp) -> Vector:
        out: Vector = []
        arithmetic = ARITHMETIC.get(expr.op)
        for s in self.eval(expr.vector):
            lv, rv = (expr.scalar, s.value) if expr.scalar_left else (s.value, expr.scalar)
            if arithmetic is not None:
                value, keep = arithmetic(lv, rv), True
            else:
                value, keep = s.value, _COMPARISON[expr.op](lv, rv)
            if expr.return_bool:
                value, keep = (1.0 if keep else 0.0), True
            if keep:
                drop = arithmetic is not None or expr.return_bool
                out.append(Sample(drop_name(s.labels) if drop else s.labels, value, s.sources))
        return out

    def vector_op(self, expr: VectorOp) -> Vector:
        lhs, rhs = self.eval(expr.lhs), self.eval(expr.rhs)
        if not lhs or not rhs:
            return []
        signature = _signature(expr.matching)
        right: dict[Labels, Sample] = {}
        for rs in rhs:
            sig = signature(rs.labels)
            if sig in right:
                group = labels_string(sig)
                pair = f"{labels_string(rs.labels)}, {labels_string(right[sig].labels)}"
                raise EvalError(
                    f"found duplicate series for the match group {group} on the right "
                    f"hand-side of the operation: [{pair}];many-to-many matching not allowed: "
                    "matching labels must be unique on one side"
                )
            right[sig] = rs
        arithmetic = ARITHMETIC.get(expr.op)
        names = frozenset(expr.matching.labels)
        matched: set[Labels] = set()
        out: Vector = []
        for ls in lhs:
            sig = signature(ls.labels)
            match = right.get(sig)
            if match is None:
                continue
            if arithmetic is not None:
                value, keep = arithmetic(ls.value, match.value), True
            else:
                value, keep = ls.value, _COMPARISON[expr.op](ls.value, match.value)
            if expr.return_bool:
                value = 1.0 if keep else 0.0
            elif not keep:
                continue
            labels = ls.labels
            if arithmetic is not None or expr.return_bool:
                labels = drop_name(labels)
            if expr.matching.on:
                labels = tuple(p for p in labels if p[0] in names)
            else:
                labels = tuple(p for p in labels if p[0] not in names)
            if sig in matched:
                raise EvalError(
                    "multiple matches for labels: many-to-one matching must be explicit "
                    "(group_left/group_right)"
                )
            matched.add(sig)
            out.append(Sample(labels, value, merge_sources(ls.sources, match.sources)))
        return out

    def set_op(self, expr: SetOp) -> Vector:
        lhs, rhs = self.eval(expr.lhs), self.eval(expr.rhs)
        signature = _signature(expr.matching)
        if expr.op == "or":
            if not lhs or not rhs:
                return lhs + rhs
            left = {signature(s.labels) for s in lhs}
            return lhs + [s for s in rhs if signature(s.labels) not in left]
        if not lhs or not rhs:
            return lhs if expr.op == "unless" else []
        right = {signature(s.labels) for s in rhs}
        if expr.op == "and":
            return [s for s in lhs if signature(s.labels) in right]
        return [s for s in lhs if signature(s.labels) not in right]
