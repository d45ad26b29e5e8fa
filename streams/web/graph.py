"""A range query: a PromQL expression evaluated at every step of a range, for ``/graph``.

The expression is parsed and evaluated by pulseline's own PromQL (the rules' engine), over
the samples its selectors select in the range, read from the tier the range picks
(:mod:`streams.web.tiers`) or the one asked for. Each step is an instant evaluation, as
Prometheus' ``query_range`` does; the step defaults to the range over 250, at least one
second, and at least the tier's window.

Example:
    >>> from streams.promql.series import series_labels
    >>> from streams.web.store import RawSeries
    >>> busy = RawSeries(series_labels("cpu_busy", {"host": "a"}), [0, 60_000], [10.0, 30.0])
    >>> lines = evaluate_range(parse_query("cpu_busy * 2"), [busy], 0, 120_000, 60_000)
    >>> [(line.name, line.points) for line in lines]
    [('{host="a"}', [(0, 20.0), (60000, 60.0), (120000, 60.0)])]
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from streams.promql.errors import ExprError
from streams.promql.evaluate import EvalError, evaluate
from streams.promql.expr import Expr, Selector, selectors
from streams.promql.gofmt import labels_string
from streams.promql.parse import parse_expr
from streams.promql.series import Labels, SampleStore, horizon_ms, is_stale
from streams.web.errors import PageError
from streams.web.store import RawSeries

MAX_POINTS = 250
"""Steps per range when no step is given (Prometheus' graph page uses about as many)."""
MAX_STEPS = 11_000
"""The most steps one query may evaluate (Prometheus refuses more than 11,000 too)."""


@dataclass
class Line:
    """One result series over the range.

    Attributes:
        labels: its labels, ``__name__`` included when the result keeps it.
        points: ``(ts_ms, value)`` at the steps where it has a value.
    """

    labels: Labels
    points: list[tuple[int, float]] = field(default_factory=list)

    @property
    def name(self) -> str:
        """The legend of the series: its labels as Prometheus prints them."""
        return labels_string(self.labels)


def parse_query(text: str) -> Expr:
    """The parsed expression of a query.

    Raises:
        PageError: the query is not PromQL pulseline evaluates (the message says where).
    """
    if not text.strip():
        raise PageError("/graph", "query", "the query is empty")
    try:
        return parse_expr(text)
    except ExprError as exc:
        raise PageError("/graph", "query", str(exc)) from None


def default_step_ms(span_ms: int, window_s: float | None) -> int:
    """The step of a range: ``span / 250`` in whole seconds, at least 1 s and the tier's window.

    Example:
        >>> default_step_ms(3_600_000, None), default_step_ms(86_400_000, 60.0)
        (14000, 345000)
        >>> default_step_ms(3_600_000, 60.0)
        60000
    """
    step = max(1000, span_ms // MAX_POINTS // 1000 * 1000)
    if window_s is not None:
        step = max(step, round(window_s * 1000))
    return step


def read_span(expr: Expr, start_ms: int, end_ms: int) -> tuple[int, int]:
    """The time span whose samples the evaluation of ``expr`` over the range reads: back by
    the longest range selector plus the 5-minute lookback."""
    return start_ms - horizon_ms([expr]), end_ms


def evaluate_range(
    expr: Expr, series: Sequence[RawSeries], start_ms: int, end_ms: int, step_ms: int
) -> list[Line]:
    """Evaluate ``expr`` at ``start_ms``, ``start_ms + step_ms``... up to ``end_ms``.

    Args:
        expr: the parsed query.
        series: the samples its selectors select (see :func:`read_span`).
        start_ms: the first step.
        end_ms: the last step at most.
        step_ms: the step.

    Raises:
        PageError: too many steps, or the evaluation fails at a step (as Prometheus' would:
            duplicate series, many-to-many matching).
    """
    if step_ms <= 0 or end_ms < start_ms:
        raise PageError("/graph", "range", "the range must end after it starts, with a step > 0")
    steps = (end_ms - start_ms) // step_ms + 1
    if steps > MAX_STEPS:
        raise PageError("/graph", "step", f"{steps} steps; at most {MAX_STEPS}: take a longer step")
    store = SampleStore()
    for raw in series:
        for ts, value in zip(raw.ts, raw.values, strict=True):
            store.add(raw.labels, ts, value)
    lines: dict[Labels, Line] = {}
    for i in range(steps):
        t = start_ms + i * step_ms
        try:
            vector = evaluate(expr, store, t)
        except EvalError as exc:
            raise PageError("/graph", "query", f"at {t} ms: {exc}") from None
        for sample in vector:
            if is_stale(sample.value):
                continue
            line = lines.get(sample.labels)
            if line is None:
                line = lines[sample.labels] = Line(sample.labels)
            line.points.append((t, sample.value))
    return sorted(lines.values(), key=lambda line: line.labels)


def query_selectors(expr: Expr) -> list[Selector]:
    """The distinct selectors of ``expr``, in order (each read once)."""
    seen: list[Selector] = []
    for selector in selectors(expr):
        if selector not in seen:
            seen.append(selector)
    return seen


def finite(points: Sequence[tuple[int, float]]) -> list[tuple[int, float]]:
    """The points with a finite value (NaN and infinities cannot be drawn)."""
    return [(t, v) for t, v in points if math.isfinite(v)]
