"""The parse tree of a Go template, node types as in Go's ``text/template/parse``.

Every node keeps ``pos``, its offset in the parsed text, so execution errors can say where.
Argument nodes also keep ``text``, their source, to name them in messages.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class Node:
    """Base of every node."""

    pos: int


@dataclass(slots=True)
class Arg(Node):
    """Base of the nodes that can be a command's argument."""

    text: str


@dataclass(slots=True)
class TextNode(Node):
    """Plain text, copied to the output."""

    text: str


@dataclass(slots=True)
class ListNode(Node):
    """A sequence of nodes."""

    nodes: list[Node] = field(default_factory=list)


@dataclass(slots=True)
class DotNode(Arg):
    """The cursor ``.``."""


@dataclass(slots=True)
class NilNode(Arg):
    """The untyped ``nil``."""


@dataclass(slots=True)
class BoolNode(Arg):
    """``true`` or ``false``."""

    value: bool


@dataclass(slots=True)
class StringNode(Arg):
    """A quoted or raw string constant, unquoted in ``value``."""

    value: str


@dataclass(slots=True)
class NumberNode(Arg):
    """A numeric constant: the value it has as an integer and as a float, where it has one.

    ``value`` is what the constant is where no type is asked (Go's ideal constant): an
    ``int`` unless the text has a point or exponent, then a ``float``.
    """

    value: int | float
    as_int: int | None
    as_float: float | None


@dataclass(slots=True)
class IdentifierNode(Arg):
    """A function name."""

    name: str


@dataclass(slots=True)
class FieldNode(Arg):
    """``.A.B``: a field chain from the dot."""

    names: tuple[str, ...]


@dataclass(slots=True)
class VariableNode(Arg):
    """``$x.A.B``: a variable and an optional field chain."""

    name: str
    names: tuple[str, ...]


@dataclass(slots=True)
class ChainNode(Arg):
    """``(pipeline).A.B`` or ``func.A``: fields of another operand's value."""

    node: Arg
    names: tuple[str, ...]


@dataclass(slots=True)
class CommandNode(Node):
    """One stage of a pipeline: an operand and its arguments."""

    args: list[Arg]
    text: str


@dataclass(slots=True)
class PipeNode(Arg):
    """A pipeline, with the variables it declares (``:=``) or assigns (``=``)."""

    decls: list[str]
    is_assign: bool
    cmds: list[CommandNode]


@dataclass(slots=True)
class ActionNode(Node):
    """``{{ pipeline }}``: prints the value unless the pipeline declares a variable."""

    pipe: PipeNode


@dataclass(slots=True)
class BranchNode(Node):
    """Base of if, range and with: a pipeline, a body and an optional else body."""

    pipe: PipeNode
    body: ListNode
    else_body: ListNode | None


@dataclass(slots=True)
class IfNode(BranchNode):
    """``{{if}}``, with ``{{else if}}`` chains nested in the else body."""


@dataclass(slots=True)
class RangeNode(BranchNode):
    """``{{range}}`` over a list, map or integer."""


@dataclass(slots=True)
class WithNode(BranchNode):
    """``{{with}}``: the body runs with the value as dot when the value is true."""


@dataclass(slots=True)
class TemplateNode(Node):
    """``{{template "name" pipeline}}``."""

    name: str
    pipe: PipeNode | None
    text: str


@dataclass(slots=True)
class BreakNode(Node):
    """``{{break}}`` inside a range."""


@dataclass(slots=True)
class ContinueNode(Node):
    """``{{continue}}`` inside a range."""


@dataclass(slots=True)
class Tree:
    """One named template: its body and the text it was parsed from."""

    name: str
    root: ListNode
    source: str


def is_empty(node: Node) -> bool:
    """Whether a body holds nothing but white space (Go lets such a define be redefined)."""
    if isinstance(node, ListNode):
        return all(is_empty(n) for n in node.nodes)
    return isinstance(node, TextNode) and not node.text.strip()
