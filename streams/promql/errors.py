"""Errors of PromQL expressions.

An expression is checked as a whole: :class:`ExprError` carries every :class:`ExprIssue`
found, each with its offset in the expression when known. The rule file loader turns them
into problems naming the file, line, column, group and rule.

Example:
    >>> error = ExprError("topk(3, up)", [ExprIssue("unsupported aggregation 'topk'", 0)])
    >>> str(error), error.issues[0].offset
    ("unsupported aggregation 'topk'", 0)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from streams.errors import PulselineError


@dataclass(frozen=True, slots=True)
class ExprIssue:
    """One problem in a PromQL expression.

    Attributes:
        message: what is wrong.
        offset: 0-based offset in the expression of the construct, when known.
    """

    message: str
    offset: int | None = None


class ExprError(PulselineError):
    """A rule expression does not parse or uses constructs pulseline does not evaluate.

    Attributes:
        expr: the expression text.
        issues: every problem found, in source order where positions are known.
    """

    def __init__(self, expr: str, issues: Sequence[ExprIssue]) -> None:
        self.expr = expr
        self.issues = tuple(issues)
        super().__init__("; ".join(i.message for i in self.issues))
