"""Which outputs of a rule the samples of some series can change: evaluation narrowed to them.

Evaluating every rule over every series whenever a sample arrives costs rules x series per
arrival. Most rule expressions are *series-wise*: an output series is computed from the input
series that map to it, and from no other. For such an expression a :class:`Plan` says which
output an input series feeds (:meth:`Plan.output`); evaluating the expression over only the
inputs that feed a set of outputs (the *scope*) gives exactly those outputs of a full
evaluation, the same values to the bit (inputs keep their order).

Series-wise expressions, with one selector each:

- a selector, and a range function of one other than ``absent_over_time`` (one input series
  per output; the output's labels are the input's, without ``__name__`` unless kept);
- arithmetic and comparison with a scalar, of a series-wise expression;
- an aggregation ``by``/``without`` of a series-wise expression: an output is one group, fed
  by every input series of that group.

``absent``, ``absent_over_time`` and the operators between two vectors have no plan: a rule
with them is evaluated whole.

Example:
    >>> from streams.promql.parse import parse_expr
    >>> plan = plan_of(parse_expr("max by (rack) (rate(io_bytes[1m])) > 1000"))
    >>> plan.output((("__name__", "io_bytes"), ("host", "a"), ("rack", "r1")))
    (('rack', 'r1'),)
    >>> plan_of(parse_expr("a > on (host) b")) is None
    True
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass

from streams.promql.evaluate import ARITHMETIC, drop_name, grouping
from streams.promql.expr import Aggregate, Expr, RangeCall, ScalarOp, Selector
from streams.promql.series import METRIC_NAME, Labels, SampleStore, Series


def _identity(labels: Labels) -> Labels:
    return labels


@dataclass(frozen=True, slots=True)
class Plan:
    """How a series-wise expression's outputs depend on its inputs.

    Attributes:
        selector: the expression's one selector.
        output: the label set of the output an input series (by its labels) feeds.
        one_to_one: each output has one input series (no aggregation), so the inputs of a
            scope are the changed series themselves when the metric name is fixed.
    """

    selector: Selector
    output: Callable[[Labels], Labels]
    one_to_one: bool


def plan_of(expr: Expr) -> Plan | None:
    """The plan of ``expr``, or None when it is not series-wise."""
    if isinstance(expr, Selector):
        return Plan(expr, _identity, True)
    if isinstance(expr, RangeCall):
        if expr.func == "absent_over_time":
            return None
        keep = expr.func == "last_over_time"
        return Plan(expr.selector, _identity if keep else drop_name, True)
    if isinstance(expr, ScalarOp):
        inner = plan_of(expr.vector)
        if inner is None or not (expr.op in ARITHMETIC or expr.return_bool):
            return inner
        return Plan(inner.selector, _then(inner.output, drop_name), inner.one_to_one)
    if isinstance(expr, Aggregate):
        inner = plan_of(expr.expr)
        return (
            None
            if inner is None
            else Plan(inner.selector, _then(inner.output, grouping(expr)), False)
        )
    return None


def _then(
    first: Callable[[Labels], Labels], second: Callable[[Labels], Labels]
) -> Callable[[Labels], Labels]:
    return lambda labels: second(first(labels))


class Inputs:
    """The series a narrowed evaluation reads, sorted by labels, in place of a store."""

    def __init__(self, series: list[Series]) -> None:
        self._series = series

    def select(self, selector: Selector) -> list[Series]:
        """The inputs (the rule's one selector matches each of them)."""
        return self._series


class Narrower:
    """Narrows the evaluations of one series-wise rule.

    For a selector with a metric name it keeps the selected series in label order, each with
    the output it feeds, following the store's
    :meth:`~streams.promql.series.SampleStore.created` list (sorted again only when series
    come or go), so finding the inputs of a scope never searches or sorts the store.

    Args:
        plan: the rule's plan.
    """

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self._store: SampleStore | None = None
        self._epoch = -1
        self._position = 0
        self._outputs: dict[Labels, int] = {}  # output -> its number
        self._by_output: dict[int, list[Series]] = {}
        self._ordered: list[tuple[Series, int]] = []  # by labels, with the output's number

    def narrow(
        self, store: SampleStore, changed: Iterable[Series]
    ) -> tuple[Inputs, set[Labels]] | None:
        """The inputs and scope of an evaluation for what ``changed`` series can change; None
        when the rule reads none of them."""
        selector, output = self.plan.selector, self.plan.output
        matched = [s for s in changed if _selects(selector, s)]
        if not matched:
            return None
        scope = {output(s.labels) for s in matched}
        if self.plan.one_to_one and selector.metric is not None:
            return Inputs(sorted(set(matched), key=_labels)), scope
        return self.inputs(store, scope), scope

    def inputs(self, store: SampleStore, scope: Collection[Labels]) -> Inputs:
        """The series of ``store`` that feed ``scope``, in label order."""
        selector, output = self.plan.selector, self.plan.output
        if selector.metric is None:
            return Inputs([s for s in store.select(selector) if output(s.labels) in scope])
        self._follow(store, selector.metric)
        numbers = {self._outputs[key] for key in scope if key in self._outputs}
        by_output = self._by_output
        if sum(len(by_output[n]) for n in numbers) * 4 < len(self._ordered):
            found = [s for n in numbers for s in by_output[n]]
            found.sort(key=_labels)
            return Inputs(found)
        return Inputs([s for s, n in self._ordered if n in numbers])

    def _follow(self, store: SampleStore, metric: str) -> None:
        if store is not self._store or store.epoch != self._epoch:
            self._store, self._epoch, self._position = store, store.epoch, 0
            self._outputs, self._by_output, self._ordered = {}, {}, []
        created = store.created(metric)
        if self._position == len(created):
            return
        selector, output = self.plan.selector, self.plan.output
        for series in created[self._position :]:
            if _selects(selector, series):
                number = self._outputs.setdefault(output(series.labels), len(self._outputs))
                self._by_output.setdefault(number, []).append(series)
                self._ordered.append((series, number))
        self._ordered.sort(key=lambda pair: pair[0].labels)
        self._position = len(created)


def _selects(selector: Selector, series: Series) -> bool:
    labels = series.label_map
    return selector.matches(labels.get(METRIC_NAME, ""), labels)


def _labels(series: Series) -> Labels:
    return series.labels
