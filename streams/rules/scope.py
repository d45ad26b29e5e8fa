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
    >>> from streams.rules.promql import parse_expr
    >>> plan = plan_of(parse_expr("max by (rack) (rate(io_bytes[1m])) > 1000"))
    >>> plan.output((("__name__", "io_bytes"), ("host", "a"), ("rack", "r1")))
    (('rack', 'r1'),)
    >>> plan_of(parse_expr("a > on (host) b")) is None
    True
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass

from streams.rules.evaluate import ARITHMETIC, drop_name, grouping
from streams.rules.expr import Aggregate, Expr, RangeCall, ScalarOp, Selector
from streams.rules.series import METRIC_NAME, Labels, SampleStore, Series


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


class ScopedStore:
    """A store as an evaluation narrowed to a scope sees it: only the series that feed it.

    Args:
        store: every series.
        plan: the rule's plan.
        scope: output label sets.
        inputs: the inputs of the scope when already known (sorted by labels); else they are
            found among the selector's series.
    """

    def __init__(
        self,
        store: SampleStore,
        plan: Plan,
        scope: Collection[Labels],
        inputs: list[Series] | None = None,
    ) -> None:
        self._store = store
        self._plan = plan
        self._scope = scope
        self._inputs = inputs

    def select(self, selector: Selector) -> list[Series]:
        """The selector's series that feed the scope, sorted by labels."""
        if self._inputs is not None:
            return self._inputs
        output, scope = self._plan.output, self._scope
        return [s for s in self._store.select(selector) if output(s.labels) in scope]


def narrow(
    plan: Plan, store: SampleStore, changed: Iterable[Series]
) -> tuple[ScopedStore, set[Labels]] | None:
    """The view and scope of an evaluation for what ``changed`` series can change; None when
    the rule reads none of them."""
    selector = plan.selector
    matched = [
        s
        for s in dict.fromkeys(changed)
        if selector.matches(s.label_map.get(METRIC_NAME, ""), s.label_map)
    ]
    if not matched:
        return None
    scope = {plan.output(s.labels) for s in matched}
    if plan.one_to_one and selector.metric is not None:
        matched.sort(key=lambda s: s.labels)
        return ScopedStore(store, plan, scope, matched), scope
    return ScopedStore(store, plan, scope), scope
