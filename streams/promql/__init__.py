"""PromQL, the subset pulseline evaluates in-stream, with Prometheus 2.42's semantics.

The modules, from text to result:

- :mod:`~streams.promql.parse` turns a PromQL string into the tree of
  :mod:`~streams.promql.expr`, refusing what pulseline does not evaluate with the construct's
  position (found by :mod:`~streams.promql.locate`); its errors are in
  :mod:`~streams.promql.errors`;
- :mod:`~streams.promql.series` stores the recent samples that expressions read;
- :mod:`~streams.promql.evaluate` evaluates a tree at one instant, with the range functions of
  :mod:`~streams.promql.functions` and Go's float arithmetic (:mod:`~streams.promql.gomath`);
- :mod:`~streams.promql.scope` narrows an evaluation to the outputs some series can change;
- :mod:`~streams.promql.notation` reads Prometheus' series notation (``1+2x3``), and
  :mod:`~streams.promql.gofmt` prints values and label sets as Prometheus does.

Example:
    >>> from streams.promql import SampleStore, evaluate, parse_expr
    >>> store = SampleStore()
    >>> store.add((("__name__", "up"), ("job", "api")), 0, 1.0)
    True
    >>> [(s.labels, s.value) for s in evaluate(parse_expr("up == 1"), store, 60_000)]
    [((('__name__', 'up'), ('job', 'api')), 1.0)]
"""

from streams.promql.errors import ExprError, ExprIssue
from streams.promql.evaluate import EvalError, Sample, evaluate
from streams.promql.parse import parse_expr
from streams.promql.series import SampleStore

__all__ = [
    "EvalError",
    "ExprError",
    "ExprIssue",
    "Sample",
    "SampleStore",
    "evaluate",
    "parse_expr",
]
