"""The typed expression tree that rule evaluation works on.

:func:`streams.promql.parse.parse_expr` turns a PromQL string into these nodes. Only the subset
of PromQL that pulseline evaluates in-stream has a node; everything else is refused when the
rule loads. Scalars never appear as nodes: constant sub-expressions such as ``1024 * 1024`` are
folded, and a scalar operand is a plain ``float`` on a :class:`ScalarOp`.

Example:
    >>> from streams.promql.parse import parse_expr
    >>> tree = parse_expr('sum by (host) (rate(net_bytes_recv{host=~"web.*"}[5m])) > 1e6')
    >>> type(tree).__name__, tree.scalar
    ('ScalarOp', 1000000.0)
    >>> to_promql(tree)
    'sum by (host) (rate(net_bytes_recv{host=~"web.*"}[5m])) > 1000000'
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal, TypeAlias, get_args

from streams.durations import format_duration

MatchOp = Literal["=", "!=", "=~", "!~"]
RangeFunction = Literal[
    "rate",
    "irate",
    "increase",
    "delta",
    "avg_over_time",
    "min_over_time",
    "max_over_time",
    "sum_over_time",
    "count_over_time",
    "last_over_time",
    "absent_over_time",
]
AggregateOp = Literal["sum", "avg", "min", "max", "count"]
ArithmeticOp = Literal["+", "-", "*", "/", "%", "^"]
ComparisonOp = Literal["==", "!=", ">", "<", ">=", "<="]
SetOpName = Literal["and", "or", "unless"]

RANGE_FUNCTIONS: frozenset[str] = frozenset(get_args(RangeFunction))
AGGREGATE_OPS: frozenset[str] = frozenset(get_args(AggregateOp))
ARITHMETIC_OPS: frozenset[str] = frozenset(get_args(ArithmeticOp))
COMPARISON_OPS: frozenset[str] = frozenset(get_args(ComparisonOp))
SET_OPS: frozenset[str] = frozenset(get_args(SetOpName))


@dataclass(frozen=True, slots=True)
class LabelMatcher:
    """One label matcher of a selector; regexes are fully anchored, as in Prometheus.

    Example:
        >>> LabelMatcher("host", "=~", "web-.*").matches("web-1")
        True
    """

    name: str
    op: MatchOp
    value: str
    regex: re.Pattern[str] | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.op in ("=~", "!~") and self.regex is None:
            object.__setattr__(self, "regex", re.compile(f"^(?:{self.value})$"))

    def matches(self, value: str) -> bool:
        """Whether a label value (``""`` when the label is missing) satisfies the matcher."""
        if self.op == "=":
            return value == self.value
        if self.op == "!=":
            return value != self.value
        assert self.regex is not None
        found = self.regex.match(value) is not None
        return found if self.op == "=~" else not found


@dataclass(frozen=True, slots=True)
class Selector:
    """An instant vector selector such as ``cpu_usage_idle{cpu="cpu-total"}``.

    Attributes:
        metric: the metric name, or None when only matchers select (``{__name__=~"..."}``).
        matchers: the label matchers, ``__name__`` matchers included, in source order.
    """

    metric: str | None
    matchers: tuple[LabelMatcher, ...] = ()

    def matches(self, metric: str, labels: dict[str, str]) -> bool:
        """Whether a series with this name and labels is selected."""
        if self.metric is not None and metric != self.metric:
            return False
        return all(
            m.matches(metric if m.name == "__name__" else labels.get(m.name, ""))
            for m in self.matchers
        )


@dataclass(frozen=True, slots=True)
class RangeCall:
    """A function over a range of each selected series, e.g. ``rate(x[5m])``."""

    func: RangeFunction
    selector: Selector
    range_s: float


@dataclass(frozen=True, slots=True)
class Absent:
    """``absent(expr)``: one sample of value 1 when ``expr`` yields nothing."""

    expr: Expr


@dataclass(frozen=True, slots=True)
class Aggregate:
    """``sum``/``avg``/``min``/``max``/``count``; ``by ()`` (the default) aggregates all.

    Attributes:
        labels: the ``by`` labels, or the ``without`` labels when ``without`` is true.
    """

    op: AggregateOp
    expr: Expr
    labels: tuple[str, ...] = ()
    without: bool = False


@dataclass(frozen=True, slots=True)
class ScalarOp:
    """Arithmetic or comparison between a vector and a scalar (``x > 90``, ``100 - x``)."""

    op: ArithmeticOp | ComparisonOp
    vector: Expr
    scalar: float
    scalar_left: bool = False
    return_bool: bool = False


@dataclass(frozen=True, slots=True)
class Matching:
    """Vector matching: ``on (labels)`` when ``on``, else ``ignoring (labels)``.

    The default, ``Matching()``, matches on all labels but the metric name.
    """

    on: bool = False
    labels: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class VectorOp:
    """One-to-one arithmetic or comparison between two vectors."""

    op: ArithmeticOp | ComparisonOp
    lhs: Expr
    rhs: Expr
    matching: Matching = Matching()
    return_bool: bool = False


@dataclass(frozen=True, slots=True)
class SetOp:
    """``and``, ``or``, ``unless`` between two vectors."""

    op: SetOpName
    lhs: Expr
    rhs: Expr
    matching: Matching = Matching()


Expr: TypeAlias = Selector | RangeCall | Absent | Aggregate | ScalarOp | VectorOp | SetOp


def children(expr: Expr) -> tuple[Expr, ...]:
    """The direct sub-expressions of ``expr``, left to right."""
    if isinstance(expr, Absent | Aggregate):
        return (expr.expr,)
    if isinstance(expr, ScalarOp):
        return (expr.vector,)
    if isinstance(expr, VectorOp | SetOp):
        return (expr.lhs, expr.rhs)
    return ()


def selectors(expr: Expr) -> Iterator[Selector]:
    """Every selector in ``expr`` (those inside range calls too), left to right."""
    if isinstance(expr, Selector):
        yield expr
    elif isinstance(expr, RangeCall):
        yield expr.selector
    for child in children(expr):
        yield from selectors(child)


def output_labels(expr: Expr) -> frozenset[str] | None:
    """The label names that results of ``expr`` can carry, or None when not known statically.

    Example:
        >>> from streams.promql.parse import parse_expr
        >>> sorted(output_labels(parse_expr("max by (host, cpu) (x) > 1")))
        ['cpu', 'host']
        >>> output_labels(parse_expr("x > 1")) is None
        True
    """
    if isinstance(expr, Aggregate):
        return None if expr.without else frozenset(expr.labels)
    if isinstance(expr, Absent | RangeCall):
        inner = expr.expr if isinstance(expr, Absent) else expr.selector
        if isinstance(expr, RangeCall) and expr.func != "absent_over_time":
            return None
        if isinstance(inner, Selector):
            return frozenset(m.name for m in inner.matchers if m.op == "=" and m.name != "__name__")
        return frozenset()
    if isinstance(expr, ScalarOp):
        return output_labels(expr.vector)
    if isinstance(expr, SetOp) and expr.op == "or":
        left, right = output_labels(expr.lhs), output_labels(expr.rhs)
        return None if left is None or right is None else left | right
    if isinstance(expr, VectorOp | SetOp):
        return output_labels(expr.lhs)
    return None


def _scalar(value: float) -> str:
    if value != value:
        return "NaN"
    if value in (math.inf, -math.inf):
        return "+Inf" if value > 0 else "-Inf"
    return str(int(value)) if value == int(value) and abs(value) < 1e15 else repr(value)


def _matching(m: Matching) -> str:
    if not m.on and not m.labels:
        return ""
    return f" {'on' if m.on else 'ignoring'} ({', '.join(m.labels)})"


def to_promql(expr: Expr) -> str:
    """Print ``expr`` back as PromQL (parenthesised where precedence could matter)."""
    if isinstance(expr, Selector):
        parts = [f"{m.name}{m.op}{json.dumps(m.value)}" for m in expr.matchers]
        body = "{" + ",".join(parts) + "}" if parts else ""
        return f"{expr.metric or ''}{body}"
    if isinstance(expr, RangeCall):
        return f"{expr.func}({to_promql(expr.selector)}[{format_duration(expr.range_s)}])"
    if isinstance(expr, Absent):
        return f"absent({to_promql(expr.expr)})"
    if isinstance(expr, Aggregate):
        mod = f" {'without' if expr.without else 'by'} ({', '.join(expr.labels)})"
        mod = "" if not expr.without and not expr.labels else mod
        return f"{expr.op}{mod} ({to_promql(expr.expr)})"
    if isinstance(expr, ScalarOp):
        op = f"{expr.op} bool" if expr.return_bool else expr.op
        vector, scalar = _operand(expr.vector), _scalar(expr.scalar)
        return f"{scalar} {op} {vector}" if expr.scalar_left else f"{vector} {op} {scalar}"
    op = f"{expr.op} bool" if isinstance(expr, VectorOp) and expr.return_bool else expr.op
    lhs, rhs = _operand(expr.lhs), _operand(expr.rhs)
    return f"{lhs} {op}{_matching(expr.matching)} {rhs}"


def _operand(expr: Expr) -> str:
    text = to_promql(expr)
    return f"({text})" if isinstance(expr, ScalarOp | VectorOp | SetOp) else text
