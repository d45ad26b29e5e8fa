"""Errors of rule files and rule templates.

A rule file is checked as a whole: :class:`RuleError` carries every :class:`RuleProblem` found,
each naming the file, the line and column, the group and the rule. An expression's own error
(:class:`streams.promql.errors.ExprError`) becomes a problem of the rule that holds it.

Example:
    >>> str(RuleProblem("rules/a.yml", "field 'expr' must be set", 7, 9, group="host", rule="Down"))
    'rules/a.yml:7:9: group "host", rule "Down": field \\'expr\\' must be set'
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from streams.errors import PulselineError


@dataclass(frozen=True, slots=True)
class RuleProblem:
    """One problem in a rule file.

    Attributes:
        file: the rule file's path as given.
        message: what is wrong, without the position.
        line: 1-based line in the file, when known.
        column: 1-based column in the file, when known.
        group: the group's name, when the problem is inside a group (``#N`` when unnamed).
        rule: the rule's name (``alert`` or ``record``), or ``#N`` for an unnamed N-th rule.
    """

    file: str
    message: str
    line: int | None = None
    column: int | None = None
    group: str | None = None
    rule: str | None = None

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}" if self.column is None else f":{self.line}:{self.column}"
        context = []
        if self.group is not None:
            context.append(_name("group", self.group))
        if self.rule is not None:
            context.append(_name("rule", self.rule))
        prefix = f"{where}: {', '.join(context)}" if context else where
        return f"{prefix}: {self.message}"


def _name(kind: str, name: str) -> str:
    """``group "host"``, or ``rule #3`` for the unnamed third rule."""
    if name.startswith("#") and name[1:].isdigit():
        return f"{kind} {name}"
    return kind + ' "' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


class RuleError(PulselineError):
    """One or more rule files are invalid.

    Attributes:
        problems: every problem found, in file order.
    """

    def __init__(self, problems: Sequence[RuleProblem]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class TemplateError(PulselineError):
    """A label or annotation template is invalid or failed to render.

    Attributes:
        source: the template text as written in the rule file.
        line: 1-based line inside the template, when known.
    """

    def __init__(self, message: str, *, source: str, line: int | None = None) -> None:
        self.source = source
        self.line = line
        super().__init__(message)
