"""Parse a rule's PromQL with promql-parser and translate it into :mod:`streams.promql.expr`.

The parsing is promql-parser's (Rust, PyPI ``promql-parser``); this module only walks its AST,
keeps the supported subset and refuses the rest with the construct's position. The walk follows
source order and counts every construct that is always refused, so that
:func:`streams.promql.locate.find_construct` can find the same occurrence in the text.

Example:
    >>> parse_expr('avg by (host) (cpu_usage_idle{cpu="cpu-total"}) < 10')
    ScalarOp(op='<', vector=Aggregate(op='avg', ...), scalar=10.0, scalar_left=False, ...)
    >>> parse_expr("topk(3, x)")
    Traceback (most recent call last):
    ...
    streams.promql.errors.ExprError: unsupported aggregation 'topk' at column 1 (supported: ...)
"""

from __future__ import annotations

import math
import operator
import re
from collections import Counter
from collections.abc import Callable
from typing import Any, cast

import promql_parser as pp

from streams.promql.errors import ExprError, ExprIssue
from streams.promql.expr import (
    AGGREGATE_OPS,
    ARITHMETIC_OPS,
    RANGE_FUNCTIONS,
    Absent,
    Aggregate,
    AggregateOp,
    ArithmeticOp,
    ComparisonOp,
    Expr,
    LabelMatcher,
    Matching,
    MatchOp,
    RangeCall,
    RangeFunction,
    ScalarOp,
    Selector,
    SetOp,
    SetOpName,
    VectorOp,
)
from streams.promql.locate import find_construct, position

# promql-parser's enums are pyo3 classes: compared with ==, they have no .name
_MATCH_OPS: list[tuple[Any, MatchOp]] = [
    (pp.MatchOp.Equal, "="),
    (pp.MatchOp.NotEqual, "!="),
    (pp.MatchOp.Re, "=~"),
    (pp.MatchOp.NotRe, "!~"),
]
_FOLD: dict[str, Callable[[float, float], float]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": lambda a, b: (
        a / b if b else (math.nan if a == 0 or a != a else math.copysign(math.inf, a))
    ),
    "%": lambda a, b: math.fmod(a, b) if b and math.isfinite(a) else math.nan,
    "^": lambda a, b: _power(a, b),
    "==": lambda a, b: float(a == b),
    "!=": lambda a, b: float(a != b),
    ">": lambda a, b: float(a > b),
    "<": lambda a, b: float(a < b),
    ">=": lambda a, b: float(a >= b),
    "<=": lambda a, b: float(a <= b),
}
_SUPPORTED_AGGS = ", ".join(sorted(AGGREGATE_OPS))
_SUPPORTED_CALLS = ", ".join(sorted(RANGE_FUNCTIONS | {"absent"}))


def _power(a: float, b: float) -> float:
    try:
        return math.pow(a, b)
    except OverflowError:
        return math.inf
    except ValueError:
        return math.nan


def parse_expr(text: str) -> Expr:
    """Parse a rule expression into the supported expression tree.

    Raises:
        ExprError: the text is not PromQL, or uses a construct pulseline does not evaluate;
            ``issues`` lists every such construct with its offset in ``text``.
    """
    try:
        ast = pp.parse(text)
    except ValueError as exc:
        raise ExprError(text, [ExprIssue(f"PromQL syntax error: {exc}")]) from None
    walker = _Walker(text)
    result = walker.walk(ast)
    if walker.issues:
        raise ExprError(text, walker.issues)
    if isinstance(result, float):
        msg = "the expression is a scalar; a rule needs an instant vector (a selector)"
        raise ExprError(text, [ExprIssue(msg, 0)])
    if result is None:  # a range vector at the top
        msg = "the expression is a range vector; a rule needs an instant vector"
        raise ExprError(text, [ExprIssue(msg, 0)])
    return result


class _Walker:
    """Walks promql-parser's AST in source order; collects issues instead of stopping."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.issues: list[ExprIssue] = []
        self._seen: Counter[str] = Counter()
        self._quiet = 0  # > 0 while inside a refused construct: count, do not report

    def _note(self, kind: str) -> int | None:
        self._seen[kind] += 1
        return find_construct(self.text, kind, self._seen[kind])

    def refuse(self, kind: str, what: str, hint: str = "") -> None:
        offset = self._note(kind)
        if self._quiet:
            return
        where = ""
        if offset is not None:
            line, column = position(self.text, offset)
            one_line = "\n" not in self.text.strip()
            where = f" at column {column}" if one_line else f" at {line}:{column}"
        self.issues.append(ExprIssue(f"unsupported {what}{where}{hint}", offset))

    def quietly(self, node: Any) -> None:
        self._quiet += 1
        try:
            self.walk(node)
        finally:
            self._quiet -= 1

    def walk(self, node: Any) -> Expr | float | None:
        """Translate ``node``; None when it was refused (or is a range vector)."""
        if isinstance(node, pp.ParenExpr):
            return self.walk(node.expr)
        if isinstance(node, pp.NumberLiteral):
            return float(node.val)
        if isinstance(node, pp.UnaryExpr):
            inner = self.walk(node.expr)
            if isinstance(inner, float):
                return -inner
            return None if inner is None else ScalarOp("*", inner, -1.0, scalar_left=True)
        if isinstance(node, pp.StringLiteral):
            self.refuse("string", "string literal", " (only numbers and series)")
            return None
        if isinstance(node, pp.VectorSelector):
            return self.selector(node)
        if isinstance(node, pp.MatrixSelector):
            self.selector(node.vector_selector)
            return None
        if isinstance(node, pp.SubqueryExpr):
            self.quietly(node.expr)
            self.refuse("subquery", "subquery", " (use a range selector such as x[5m])")
            self.modifiers(node.offset, node.at)
            return None
        if isinstance(node, pp.Call):
            return self.call(node)
        if isinstance(node, pp.AggregateExpr):
            return self.aggregate(node)
        if isinstance(node, pp.BinaryExpr):
            return self.binary(node)
        self.issues.append(ExprIssue(f"unsupported construct {type(node).__name__}"))
        return None

    def modifiers(self, offset: Any, at: Any) -> bool:
        if offset is not None:
            self.refuse("offset", "modifier 'offset'", " (rules evaluate the newest samples)")
        if at is not None:
            self.refuse("@", "modifier '@'", " (rules evaluate the newest samples)")
        return offset is None and at is None

    def selector(self, node: pp.VectorSelector) -> Selector | None:
        matchers: list[LabelMatcher] = []
        ok = True
        if node.matchers.or_matchers:
            self.refuse("or-matcher", "'or' inside a selector's braces")
            ok = False
        for m in node.matchers.matchers:
            op = next(sign for kind, sign in _MATCH_OPS if m.op == kind)
            if op in ("=~", "!~"):
                regex = self._regex(m.value)
                if regex is None:
                    ok = False
                else:
                    matchers.append(LabelMatcher(m.name, op, m.value, regex))
            else:
                matchers.append(LabelMatcher(m.name, op, m.value))
        ok = self.modifiers(node.offset, node.at) and ok
        return Selector(node.name, tuple(matchers)) if ok else None

    def _regex(self, value: str) -> re.Pattern[str] | None:
        offset = self._note("regex")
        try:
            return re.compile(f"^(?:{value})$")
        except re.error as exc:
            if not self._quiet:
                col = "" if offset is None else f" at column {position(self.text, offset)[1]}"
                msg = f"regex {value!r}{col} is not supported by Python's re: {exc}"
                self.issues.append(ExprIssue(msg, offset))
            return None

    def call(self, node: pp.Call) -> Expr | None:
        name = node.func.name
        if name not in RANGE_FUNCTIONS and name != "absent":
            self.refuse(f"call:{name}", f"function '{name}'", f" (supported: {_SUPPORTED_CALLS})")
            for arg in node.args:
                self.quietly(arg)
            return None
        arg = node.args[0]
        while isinstance(arg, pp.ParenExpr):
            arg = arg.expr
        if name == "absent":
            inner = self.walk(arg)
            return Absent(inner) if inner is not None and not isinstance(inner, float) else None
        if not isinstance(arg, pp.MatrixSelector):
            self.walk(arg)  # a subquery: refused there
            return None
        selector = self.selector(arg.vector_selector)
        if selector is None:
            return None
        func = cast(RangeFunction, name)
        return RangeCall(func, selector, arg.range.total_seconds())

    def aggregate(self, node: pp.AggregateExpr) -> Expr | None:
        op = str(node.op).lower()
        if op not in AGGREGATE_OPS:
            self.refuse(f"agg:{op}", f"aggregation '{op}'", f" (supported: {_SUPPORTED_AGGS})")
            if node.param is not None:
                self.quietly(node.param)
            self.quietly(node.expr)
            return None
        inner = self.walk(node.expr)
        if inner is None or isinstance(inner, float):
            return None
        mod = node.modifier
        without = mod is not None and mod.type == pp.AggModifierType.Without
        labels = tuple(mod.labels) if mod is not None else ()
        return Aggregate(cast(AggregateOp, op), inner, labels, without)

    def binary(self, node: pp.BinaryExpr) -> Expr | float | None:
        op = str(node.op).lower()
        lhs = self.walk(node.lhs)
        mod = node.modifier
        ok = True
        if op == "atan2":
            self.refuse("atan2", "operator 'atan2'")
            ok = False
        if mod is not None:
            left = mod.card == pp.VectorMatchCardinality.ManyToOne
            if left or mod.card == pp.VectorMatchCardinality.OneToMany:
                word = "group_left" if left else "group_right"
                self.refuse(word, f"modifier '{word}'", " (only one-to-one matching)")
                ok = False
            if mod.fill_values.lhs is not None or mod.fill_values.rhs is not None:
                self.refuse("fill", "modifier 'fill'")
                ok = False
        rhs = self.walk(node.rhs)
        if not ok or lhs is None or rhs is None:
            return None
        return_bool = mod is not None and mod.return_bool
        if isinstance(lhs, float) and isinstance(rhs, float):
            return _FOLD[op](lhs, rhs)
        if isinstance(lhs, float) or isinstance(rhs, float):
            vector, scalar = (rhs, lhs) if isinstance(lhs, float) else (lhs, rhs)
            assert not isinstance(vector, float) and isinstance(scalar, float)
            kind = cast(ArithmeticOp | ComparisonOp, op)
            return ScalarOp(kind, vector, scalar, isinstance(lhs, float), return_bool)
        matching = Matching()
        if mod is not None and mod.matching is not None:
            on = mod.matching.type == pp.LabelModifierType.Include
            matching = Matching(on, tuple(mod.matching.labels))
        if op in ("and", "or", "unless"):
            return SetOp(cast(SetOpName, op), lhs, rhs, matching)
        if op in ARITHMETIC_OPS or op in _FOLD:
            return VectorOp(cast(ArithmeticOp | ComparisonOp, op), lhs, rhs, matching, return_bool)
        self.refuse(op, f"operator '{op}'")
        return None
