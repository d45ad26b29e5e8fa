"""Reading ``alertmanager.yml`` from YAML nodes, with a position for every problem.

The loader reads the file as a node tree (:mod:`streams.rules.yamlpos`), so each value keeps
the line and column where it is written. A :class:`NodeReader` turns nodes into values the
way Alertmanager's YAML decoding does (any scalar reads as a string, ``yes``/``on``/``y``
are booleans, durations are Prometheus durations) and records a :class:`ConfigProblem` for
each thing wrong, instead of stopping at the first: unknown keys, keys pulseline does not
support, keys repeated in a mapping, values of the wrong shape. Merge keys (``<<: *anchor``)
are followed.

Example:
    >>> reader = NodeReader("am.yml")
    >>> node = compose("group_wait: 30s\\ncolour: red\\n")
    >>> fields = reader.fields(node, "route", ["group_wait"])
    >>> reader.duration(fields["group_wait"], "route: group_wait")
    30.0
    >>> [str(p) for p in reader.problems]
    ["am.yml:2:1: route: unknown key 'colour'"]
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from streams.errors import ConfigError
from streams.rules.yamlpos import (
    MappingNode,
    Node,
    ScalarNode,
    SequenceNode,
    compose,
    is_null,
    node_position,
)

__all__ = ["AlertmanagerConfigError", "ConfigProblem", "NodeReader", "compose", "parse_duration"]

_DURATION = re.compile(
    r"(?:([0-9]+)y)?(?:([0-9]+)w)?(?:([0-9]+)d)?(?:([0-9]+)h)?(?:([0-9]+)m)?"
    r"(?:([0-9]+)s)?(?:([0-9]+)ms)?"
)
_DURATION_UNITS = (365 * 86400, 7 * 86400, 86400, 3600, 60, 1, 0.001)
_TRUE = frozenset(("y", "Y", "yes", "Yes", "YES", "on", "On", "ON", "true", "True", "TRUE"))
_FALSE = frozenset(("n", "N", "no", "No", "NO", "off", "Off", "OFF", "false", "False", "FALSE"))


def parse_duration(text: str) -> float:
    """A duration as Alertmanager reads one, in seconds: units in order y, w, d, h, m, s, ms.

    Raises:
        ValueError: not such a duration (``1.5s``, ``30m1h``, ``30``); ``0`` alone is one.

    >>> parse_duration("1h30m"), parse_duration("0")
    (5400.0, 0.0)
    """
    found = _DURATION.fullmatch(text)
    if text == "0":
        return 0.0
    if not text or found is None:
        raise ValueError(f"{text!r} is not a duration (examples: 30s, 5m, 1h30m, 7d)")
    return float(
        sum(int(n) * unit for n, unit in zip(found.groups("0"), _DURATION_UNITS, strict=True))
    )


@dataclass(frozen=True, slots=True)
class ConfigProblem:
    """One problem of a configuration file.

    Attributes:
        source: the file's path (or name) as given.
        line: 1-based line, when known.
        column: 1-based column, when known.
        message: what is wrong and in which part (route, receiver, rule...).
    """

    source: str
    line: int | None
    column: int | None
    message: str

    def __str__(self) -> str:
        where = self.source
        if self.line is not None:
            where += f":{self.line}" + ("" if self.column is None else f":{self.column}")
        return f"{where}: {self.message}"


class AlertmanagerConfigError(ConfigError):
    """An ``alertmanager.yml`` is invalid or uses what pulseline does not support.

    Attributes:
        problems: every problem found, in file order, each with its position.
    """

    def __init__(self, problems: Collection[ConfigProblem]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class NodeReader:
    """Reads values from YAML nodes and collects problems with their positions.

    Each reading method returns None (or an empty result) when the value is unusable, after
    recording why; ``what`` names the place for messages (``route.routes[1]: group_wait``).
    """

    def __init__(self, source: str) -> None:
        self.source = source
        self.problems: list[ConfigProblem] = []

    def problem(self, at: Node | None, message: str) -> None:
        """Record a problem at a node's position (or at no position)."""
        line, column = node_position(at) if at is not None else (None, None)
        self.problems.append(ConfigProblem(self.source, line, column, message))

    def fail_if_problems(self) -> None:
        """Raise the problems recorded so far, in file order, if there are any.

        Raises:
            AlertmanagerConfigError: with every problem.
        """
        if self.problems:
            ordered = sorted(self.problems, key=lambda p: (p.line or 0, p.column or 0))
            raise AlertmanagerConfigError(ordered)

    def refuse_repeated_keys(self, node: Node, seen_nodes: set[int] | None = None) -> None:
        """Record every key given twice in one mapping, anywhere below ``node``."""
        seen_nodes = set() if seen_nodes is None else seen_nodes
        if id(node) in seen_nodes:  # an alias of a node already walked
            return
        seen_nodes.add(id(node))
        if isinstance(node, MappingNode):
            seen: set[str] = set()
            for key, value in node.value:
                if isinstance(key, ScalarNode) and not _is_merge(key):
                    if key.value in seen:
                        self.problem(key, f"key {key.value!r} is given twice in one mapping")
                    seen.add(key.value)
                self.refuse_repeated_keys(value, seen_nodes)
        elif isinstance(node, SequenceNode):
            for item in node.value:
                self.refuse_repeated_keys(item, seen_nodes)

    def fields(
        self,
        node: Node,
        what: str,
        known: Collection[str],
        refused: Mapping[str, str] | None = None,
    ) -> dict[str, Node] | None:
        """A mapping's values by key; a null node is an empty mapping.

        Keys in ``refused`` are Alertmanager's but not pulseline's: the problem says so with
        the reason given there. Other keys outside ``known`` are unknown.
        """
        if is_null(node):
            return {}
        if not isinstance(node, MappingNode):
            self.problem(node, f"{what}: expected a mapping of keys to values")
            return None
        out: dict[str, Node] = {}
        for key_node, value in _merged_pairs(node):
            key = str(key_node.value) if isinstance(key_node, ScalarNode) else None
            if key is None:
                self.problem(key_node, f"{what}: keys must be plain names")
            elif refused is not None and key in refused:
                self.problem(key_node, f"{what}: {key} is not supported by pulseline{refused[key]}")
            elif key not in known:
                self.problem(key_node, f"{what}: unknown key {key!r}")
            else:
                out[key] = value
        return out

    def text(self, node: Node, what: str) -> str | None:
        """A scalar as text, whatever its YAML type (``123`` is ``"123"``); null is ``""``."""
        if is_null(node):
            return ""
        if isinstance(node, ScalarNode):
            return str(node.value)
        self.problem(node, f"{what}: expected a single value, not a list or mapping")
        return None

    def texts(self, node: Node, what: str) -> list[tuple[str, Node]] | None:
        """A list of scalars as texts with their nodes; null is None (not given)."""
        if is_null(node):
            return None
        if not isinstance(node, SequenceNode):
            self.problem(node, f"{what}: expected a list")
            return None
        out = []
        for i, item in enumerate(node.value):
            value = self.text(item, f"{what}[{i}]")
            if value is not None:
                out.append((value, item))
        return out

    def text_map(self, node: Node, what: str) -> list[tuple[str, str, Node]] | None:
        """A mapping of names to scalar texts, as (name, text, value node); null is None."""
        if is_null(node):
            return None
        if not isinstance(node, MappingNode):
            self.problem(node, f"{what}: expected a mapping of label names to values")
            return None
        out: list[tuple[str, str, Node]] = []
        for key_node, value_node in _merged_pairs(node):
            key = self.text(key_node, what)
            value = self.text(value_node, f"{what}: {key}")
            if key is not None and value is not None:
                out.append((key, value, value_node))
        return out

    def items(self, node: Node, what: str) -> list[Node]:
        """A list's item nodes; null is an empty list."""
        if is_null(node):
            return []
        if not isinstance(node, SequenceNode):
            self.problem(node, f"{what}: expected a list")
            return []
        return list(node.value)

    def boolean(self, node: Node, what: str) -> bool | None:
        """A YAML 1.1 boolean (``true``, ``yes``, ``on``, ``y``...); null is false."""
        if is_null(node):
            return False
        if isinstance(node, ScalarNode) and node.style is None:
            if node.value in _TRUE:
                return True
            if node.value in _FALSE:
                return False
        self.problem(node, f"{what}: expected true or false")
        return None

    def duration(self, node: Node, what: str) -> float | None:
        """A duration in seconds; null is None (not given)."""
        if is_null(node):
            return None
        text = self.text(node, what)
        if text is None:
            return None
        try:
            return parse_duration(text)
        except ValueError as exc:
            self.problem(node, f"{what}: {exc}")
            return None

    def integer(self, node: Node, what: str) -> int | None:
        """A whole number."""
        text = self.text(node, what)
        if text is not None and re.fullmatch(r"[+-]?[0-9]+", text):
            return int(text)
        self.problem(node, f"{what}: expected a whole number")
        return None


def _merged_pairs(node: MappingNode) -> list[tuple[Node, Node]]:
    """A mapping's pairs with merge keys (``<<``) followed; the mapping's own keys win."""
    own = [(k, v) for k, v in node.value if not _is_merge(k)]
    merged: list[tuple[Node, Node]] = []
    for key, value in node.value:
        if _is_merge(key):
            sources = value.value if isinstance(value, SequenceNode) else [value]
            for source in sources:
                if isinstance(source, MappingNode):
                    merged.extend(_merged_pairs(source))
    names = {k.value for k, _ in own if isinstance(k, ScalarNode)}
    first: dict[str, tuple[Node, Node]] = {}
    for key, value in merged:
        name = key.value if isinstance(key, ScalarNode) else None
        if name is not None and name not in names and name not in first:
            first[name] = (key, value)
    return [*first.values(), *own]


def _is_merge(key: Node) -> bool:
    return isinstance(key, ScalarNode) and key.tag == "tag:yaml.org,2002:merge"
