"""YAML nodes with positions, for rule files.

The loader reads a rule file as a node tree (``yaml.compose``), so every value keeps the line
and column where it was written, duplicate keys can be refused (as Prometheus does), and a
position inside a scalar (a construct in an ``expr``) can be mapped back to the file.

Example:
    >>> node = compose("groups:\\n  - name: host\\n")
    >>> [(key, node_position(value)) for key, _, value in pairs(node)]
    [('groups', (2, 3))]
"""

from __future__ import annotations

from collections.abc import Iterator

import yaml

Node = yaml.Node
MappingNode = yaml.MappingNode
ScalarNode = yaml.ScalarNode
SequenceNode = yaml.SequenceNode

NULL_TAG = "tag:yaml.org,2002:null"
STR_TAG = "tag:yaml.org,2002:str"
INT_TAG = "tag:yaml.org,2002:int"


def compose(text: str) -> Node | None:
    """Parse one YAML document into nodes (None for an empty document).

    Raises:
        yaml.MarkedYAMLError: a syntax error, with ``problem_mark`` at its position.
    """
    return yaml.compose(text, Loader=yaml.SafeLoader)


def node_position(node: Node) -> tuple[int, int]:
    """The 1-based (line, column) where a node starts."""
    return node.start_mark.line + 1, node.start_mark.column + 1


def pairs(node: MappingNode) -> Iterator[tuple[str, Node, Node]]:
    """The (key text, key node, value node) of a mapping node, in file order."""
    for key, value in node.value:
        yield str(key.value) if isinstance(key, ScalarNode) else "?", key, value


def is_null(node: Node) -> bool:
    """Whether a node is an empty value or an explicit ``null`` / ``~``."""
    return isinstance(node, ScalarNode) and node.tag == NULL_TAG


def scalar_position(node: ScalarNode, text: str, offset: int) -> tuple[int, int]:
    """The 1-based (line, column) in the file of ``offset`` within a scalar's value.

    Exact for one-line scalars without escapes and for literal blocks (``|``); otherwise the
    scalar's own start, where a multi-line folded or plain scalar makes the mapping ambiguous.

    Args:
        node: the scalar node.
        text: the whole file's text, as parsed.
        offset: a 0-based offset into ``node.value``.
    """
    start, end = node.start_mark, node.end_mark
    lines = text.split("\n")
    value: str = node.value
    if node.style in (None, "'", '"') and start.line == end.line:
        quote = 0 if node.style is None else 1
        raw = lines[start.line][start.column + quote : end.column - quote]
        if raw == value:
            return start.line + 1, start.column + quote + offset + 1
    if node.style == "|":
        line_in_value = value.count("\n", 0, offset)
        column_in_line = offset - (value.rfind("\n", 0, offset) + 1)
        first = start.line + 1
        content = [line for line in lines[first:] if line.strip()]
        if content:
            indent = len(content[0]) - len(content[0].lstrip(" "))
            file_line = first + line_in_value
            expected = value.split("\n")[line_in_value]
            if file_line < len(lines) and lines[file_line][indent:] == expected:
                return file_line + 1, indent + column_in_line + 1
    return node_position(node)
