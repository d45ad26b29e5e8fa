"""Load and validate Prometheus rule files.

The schema is Prometheus' (``groups`` of ``name``, ``interval``, ``labels``, ``limit``,
``rules``; rules with ``alert`` or ``record``, ``expr``, ``for``, ``keep_firing_for``,
``labels``, ``annotations``). A file is checked as a whole and every problem is reported with
its file, line and column, group and rule: YAML syntax, unknown or repeated keys, missing or
conflicting fields, bad durations and names, expressions that do not parse or use constructs
pulseline does not evaluate, and templates that cannot render.

Example:
    >>> files = load_rule_files(["rules/pulseline.yml"])  # doctest: +SKIP
    >>> check_files(["rules/broken.yml"])  # doctest: +SKIP
    ['rules/broken.yml:9:15: group "host", rule "HighCpu": expr: unsupported function ...']
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path
from types import MappingProxyType

import yaml

from streams.durations import parse_duration
from streams.promql.errors import ExprError
from streams.promql.expr import Expr, output_labels
from streams.promql.parse import parse_expr
from streams.rules.errors import RuleError, RuleProblem, TemplateError
from streams.rules.model import AlertingRule, RecordingRule, Rule, RuleFile, RuleGroup
from streams.rules.templating.templates import RuleTemplate, compile_template
from streams.rules.yamlpos import (
    INT_TAG,
    MappingNode,
    Node,
    ScalarNode,
    SequenceNode,
    compose,
    is_null,
    node_position,
    pairs,
    scalar_position,
)

GROUP_KEYS = ("name", "interval", "labels", "limit", "rules")
RULE_KEYS = ("alert", "record", "expr", "for", "keep_firing_for", "labels", "annotations")
_LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
_METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")


def load_rule_file(path: str | os.PathLike[str]) -> RuleFile:
    """Load one rule file.

    Raises:
        RuleError: with every problem of the file.
    """
    return load_rule_files([path])[0]


def load_rule_files(paths: Iterable[str | os.PathLike[str]]) -> list[RuleFile]:
    """Load rule files, checking all of them before raising.

    Raises:
        RuleError: with every problem of every file.
    """
    loaded: list[RuleFile] = []
    problems: list[RuleProblem] = []
    for path in paths:
        loader = _FileLoader(str(path))
        result = loader.load()
        problems.extend(sorted(loader.problems, key=lambda p: (p.line or 0, p.column or 0)))
        if result is not None:
            loaded.append(result)
    if problems:
        raise RuleError(problems)
    return loaded


def check_files(paths: Iterable[str | os.PathLike[str]]) -> list[str]:
    """Every problem of the given rule files, one line each; empty when all are valid.

    Example:
        >>> check_files(["rules/pulseline.yml"])
        []
    """
    try:
        load_rule_files(paths)
    except RuleError as exc:
        return [str(p) for p in exc.problems]
    return []


def _peek_name(node: Node) -> str | None:
    """A group's or rule's name for messages, before its fields are checked."""
    if isinstance(node, MappingNode):
        for key, _, value in pairs(node):
            if key in ("name", "alert", "record") and isinstance(value, ScalarNode):
                return str(value.value) or None
    return None


class _FileLoader:
    """Builds one RuleFile from YAML nodes, collecting problems instead of stopping."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.text = ""
        self.problems: list[RuleProblem] = []
        self.group: str | None = None
        self.rule: str | None = None

    def problem(self, at: Node | tuple[int, int] | None, message: str) -> None:
        line, column = node_position(at) if isinstance(at, Node) else (at or (None, None))
        self.problems.append(
            RuleProblem(self.path, message, line, column, group=self.group, rule=self.rule)
        )

    def load(self) -> RuleFile | None:
        try:
            self.text = Path(self.path).read_text(encoding="utf-8")
            root = compose(self.text)
        except OSError as exc:
            self.problem(None, f"cannot read the file: {exc.strerror or exc}")
            return None
        except UnicodeDecodeError as exc:
            self.problem(None, f"not UTF-8 text: {exc.reason} at byte {exc.start}")
            return None
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            where = None if mark is None else (mark.line + 1, mark.column + 1)
            context = f"{exc.context}: " if exc.context else ""
            self.problem(where, f"YAML syntax error: {context}{exc.problem}")
            return None
        if root is None or is_null(root):
            return RuleFile(self.path)
        fields = self.mapping(root, ("groups",), "the file")
        groups_node = fields.get("groups")
        groups: list[RuleGroup] = []
        first_line: dict[str, int] = {}
        for index, node in enumerate(self.sequence(groups_node, "groups"), 1):
            group = self.load_group(node, index)
            self.group = None
            if group is None:
                continue
            if group.name in first_line:
                self.group = group.name
                self.problem(
                    node, f"the group name is repeated (first at line {first_line[group.name]})"
                )
                self.group = None
                continue
            first_line[group.name] = node_position(node)[0]
            groups.append(group)
        return None if self.problems else RuleFile(self.path, tuple(groups))

    def mapping(self, node: Node, allowed: tuple[str, ...] | None, what: str) -> dict[str, Node]:
        """The fields of a mapping node; reports a non-mapping, unknown and repeated keys.

        ``allowed`` None accepts any key (labels, annotations).
        """
        if not isinstance(node, MappingNode):
            listed = f" with the fields {', '.join(allowed)}" if allowed else ""
            self.problem(node, f"{what} must be a mapping{listed}")
            return {}
        fields: dict[str, Node] = {}
        for key, key_node, value in pairs(node):
            if key in fields:
                line = node_position(fields[key])[0]
                self.problem(key_node, f"field '{key}' is repeated (first at line {line})")
            elif allowed is not None and key not in allowed:
                self.problem(key_node, f"unknown field '{key}' in {what} ({', '.join(allowed)})")
            else:
                fields[key] = value
        return fields

    def sequence(self, node: Node | None, what: str) -> list[Node]:
        if node is None or is_null(node):
            return []
        if not isinstance(node, SequenceNode):
            self.problem(node, f"'{what}' must be a list")
            return []
        return list(node.value)

    def string(self, node: Node | None, what: str) -> str | None:
        """A scalar's text (numbers and booleans as written); None and a problem otherwise."""
        if node is None:
            return None
        if not isinstance(node, ScalarNode) or is_null(node):
            self.problem(node, f"'{what}' must be a string")
            return None
        return str(node.value)

    def duration(self, node: Node | None, what: str) -> float | None:
        text = self.string(node, what)
        if text is None or text == "0":
            return None if text is None else 0.0
        try:
            return parse_duration(text)
        except ValueError as exc:
            self.problem(node, f"'{what}': {exc}")
            return None

    def limit(self, node: Node | None) -> int:
        if node is None:
            return 0
        text = str(node.value) if isinstance(node, ScalarNode) else ""
        if isinstance(node, ScalarNode) and node.tag == INT_TAG and text.isdigit():
            return int(text)
        self.problem(node, "'limit' must be a whole number, 0 or more")
        return 0

    def labels(self, node: Node | None, what: str) -> dict[str, tuple[str, Node]]:
        """A labels or annotations mapping: name -> (value, value node)."""
        if node is None or is_null(node):
            return {}
        out: dict[str, tuple[str, Node]] = {}
        for key, value_node in self.mapping(node, None, f"'{what}'").items():
            key_node = next(k for k, v in node.value if v is value_node)
            if not _LABEL_NAME.fullmatch(key) or (what == "labels" and key == "__name__"):
                self.problem(key_node, f"invalid {what[:-1]} name: {key!r}")
            value = self.string(value_node, f"{what}.{key}")
            if value is not None:
                out[key] = (value, value_node)
        return out

    def load_group(self, node: Node, index: int) -> RuleGroup | None:
        self.group = _peek_name(node) or f"#{index}"
        fields = self.mapping(node, GROUP_KEYS, "a group")
        name = self.string(fields.get("name"), "name")
        if fields and not name:
            self.problem(fields.get("name", node), "field 'name' must be set to a non-empty name")
        interval = self.duration(fields.get("interval"), "interval")
        limit = self.limit(fields.get("limit"))
        labels = {k: v for k, (v, _) in self.labels(fields.get("labels"), "labels").items()}
        rules: list[Rule] = []
        for rule_index, rule_node in enumerate(self.sequence(fields.get("rules"), "rules"), 1):
            rule = self.load_rule(rule_node, rule_index)
            self.rule = None
            if rule is not None:
                rules.append(rule)
        if not fields or not name:
            return None
        return RuleGroup(name, tuple(rules), interval or None, limit, MappingProxyType(labels))

    def load_rule(self, node: Node, index: int) -> Rule | None:
        self.rule = _peek_name(node) or f"#{index}"
        fields = self.mapping(node, RULE_KEYS, "a rule")
        alert = self.string(fields.get("alert"), "alert")
        record = self.string(fields.get("record"), "record")
        if not fields:
            return None
        if "alert" in fields and "record" in fields:
            self.problem(node, "only one of 'alert' and 'record' may be set")
        elif not alert and not record:
            self.problem(node, "one of 'alert' or 'record' must be set to a non-empty name")
        expr_text = self.string(fields.get("expr"), "expr")
        expr = self.expression(fields.get("expr"), expr_text)
        if not (expr_text or "").strip():
            self.problem(fields.get("expr", node), "field 'expr' must be set")
        if record is not None and alert is None:
            return self.recording(record, fields, expr, expr_text or "", node)
        for_s = self.duration(fields.get("for"), "for")
        keep_s = self.duration(fields.get("keep_firing_for"), "keep_firing_for")
        known = None if expr is None else output_labels(expr)
        labels = self.templates(fields.get("labels"), "labels", known)
        annotations = self.templates(fields.get("annotations"), "annotations", known)
        if expr is None or alert is None or record is not None:
            return None
        return AlertingRule(
            alert,
            expr,
            expr_text or "",
            for_s or 0.0,
            keep_s or 0.0,
            MappingProxyType(labels),
            MappingProxyType(annotations),
            node_position(node)[0],
        )

    def recording(
        self, name: str, fields: dict[str, Node], expr: Expr | None, text: str, node: Node
    ) -> RecordingRule | None:
        if not _METRIC_NAME.fullmatch(name):
            self.problem(fields["record"], f"invalid recording rule name: {name!r}")
        for field in ("for", "keep_firing_for", "annotations"):
            if field in fields:
                self.problem(fields[field], f"invalid field '{field}' in a recording rule")
        labels = {k: v for k, (v, _) in self.labels(fields.get("labels"), "labels").items()}
        if expr is None:
            return None
        return RecordingRule(name, expr, text, MappingProxyType(labels), node_position(node)[0])

    def expression(self, node: Node | None, text: str | None) -> Expr | None:
        if node is None or not text or not text.strip():
            return None
        try:
            return parse_expr(text)
        except ExprError as exc:
            for issue in exc.issues:
                at: Node | tuple[int, int] = node
                if issue.offset is not None and isinstance(node, ScalarNode):
                    at = scalar_position(node, self.text, issue.offset)
                self.problem(at, f"expr: {issue.message}")
            return None

    def templates(
        self, node: Node | None, what: str, known: frozenset[str] | None
    ) -> dict[str, RuleTemplate]:
        out: dict[str, RuleTemplate] = {}
        for key, (source, value_node) in self.labels(node, what).items():
            try:
                out[key] = compile_template(source, known)
            except TemplateError as exc:
                self.problem(value_node, f"{what[:-1]} {key!r}: template: {exc}")
        return out
