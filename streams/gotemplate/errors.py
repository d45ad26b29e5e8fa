"""Errors of the Go template interpreter, placed by template name, line and column."""

from __future__ import annotations

from streams.errors import PulselineError


def line_col(source: str, offset: int) -> tuple[int, int]:
    """The 1-based line and column of ``offset`` in ``source``.

    >>> line_col("a\\nbc{{x}}", 4)
    (2, 3)
    """
    line = source.count("\n", 0, offset) + 1
    return line, offset - (source.rfind("\n", 0, offset) + 1) + 1


class TemplateError(PulselineError):
    """A template could not be parsed or executed.

    The message reads like Go's, with the column added:
    ``template: NAME:LINE:COLUMN: what is wrong``.

    Attributes:
        name: the template (or ``define``) the problem is in.
        line: 1-based line in the text that was parsed.
        column: 1-based column.
        reason: what is wrong, without the position.
    """

    def __init__(self, reason: str, *, name: str, line: int, column: int) -> None:
        self.name = name
        self.line = line
        self.column = column
        self.reason = reason
        super().__init__(f"template: {name}:{line}:{column}: {reason}")

    @classmethod
    def at(cls, reason: str, *, name: str, source: str, offset: int) -> TemplateError:
        """An error at byte ``offset`` of ``source``."""
        line, column = line_col(source, offset)
        return cls(reason, name=name, line=line, column=column)
