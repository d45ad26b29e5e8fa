"""Read promtool's rule unit test files (``promtool test rules``), with positions.

The format is promtool's (Prometheus 2.42)::

    rule_files: [alerts.yml]          # relative to the test file; globs allowed
    evaluation_interval: 1m           # default 1m
    group_eval_order: [g1, g2]        # optional
    tests:
      - name: optional
        interval: 1m                  # between input values; default 0 (all at 0s)
        external_labels: {region: eu} # optional, for templates
        external_url: http://...      # optional, for templates
        input_series:
          - series: 'up{job="node"}'
            values: "1 1 0x5"
        alert_rule_test:
          - eval_time: 5m
            alertname: InstanceDown
            exp_alerts:
              - exp_labels: {job: node, severity: page}
                exp_annotations: {summary: ...}
        promql_expr_test:
          - expr: sum(up)
            eval_time: 1m
            exp_samples:
              - labels: '{}'
                value: 2

Keys are checked strictly, as promtool does; a malformed file raises
:class:`RuleTestFileError` naming the file, line and column. Series notation is checked when
a test group runs, as promtool does (:mod:`streams.promql.notation`).

Example:
    >>> test_file = load_test_file("rules/pulseline_test.yml")
    >>> test_file.rule_files, test_file.evaluation_interval_ms, len(test_file.tests)
    (['rules/pulseline.yml'], 60000, 6)
"""

from __future__ import annotations

import glob
import math
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import yaml

from streams.durations import parse_duration
from streams.errors import PulselineError
from streams.rules.yamlpos import (
    MappingNode,
    Node,
    ScalarNode,
    SequenceNode,
    compose,
    is_null,
    node_position,
    pairs,
)

T = TypeVar("T")
_GO_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
_YAML_SPECIAL = {".inf": math.inf, "+.inf": math.inf, "-.inf": -math.inf, ".nan": math.nan}


class RuleTestFileError(PulselineError):
    """A rule test file cannot be read or is not promtool's format.

    Attributes:
        path: the file.
        line: 1-based line, when known.
        column: 1-based column, when known.
        reason: what is wrong, without the position.
    """

    def __init__(self, path: str, reason: str, line: int | None = None, column: int | None = None):
        self.path = path
        self.reason = reason
        self.line = line
        self.column = column
        where = path if line is None else f"{path}:{line}:{column}"
        super().__init__(f"{where}: {reason}")


@dataclass(frozen=True)
class InputSeries:
    """One ``input_series`` entry, as written; ``line``/``column`` are where ``values`` is."""

    series: str
    values: str
    line: int
    column: int
    series_line: int
    series_column: int


@dataclass(frozen=True)
class ExpectedAlert:
    """One ``exp_alerts`` entry."""

    labels: dict[str, str]
    annotations: dict[str, str]


@dataclass(frozen=True)
class AlertTest:
    """One ``alert_rule_test`` entry."""

    eval_time_ms: int
    alertname: str
    exp_alerts: list[ExpectedAlert]
    line: int


@dataclass(frozen=True)
class ExpectedSample:
    """One ``exp_samples`` entry; ``labels`` is a series descriptor, parsed when run."""

    labels: str
    value: float
    line: int
    column: int


@dataclass(frozen=True)
class ExprTest:
    """One ``promql_expr_test`` entry."""

    expr: str
    eval_time_ms: int
    exp_samples: list[ExpectedSample]
    line: int


@dataclass(frozen=True)
class TestGroup:
    """One entry of ``tests``."""

    __test__ = False  # not a pytest class

    name: str
    interval_ms: int
    input_series: list[InputSeries]
    alert_tests: list[AlertTest]
    expr_tests: list[ExprTest]
    external_labels: dict[str, str]
    external_url: str
    line: int


@dataclass(frozen=True)
class RuleTestFile:
    """A loaded test file.

    Attributes:
        path: the file as given.
        rule_files: the rule files, relative paths joined to the test file's directory and
            globs expanded.
        unmatched: rule file patterns that matched no file (promtool warns).
    """

    path: str
    rule_files: list[str]
    evaluation_interval_ms: int
    group_eval_order: list[str]
    tests: list[TestGroup]
    unmatched: list[str] = field(default_factory=list)


def load_test_file(path: str | os.PathLike[str]) -> RuleTestFile:
    """Read and check a promtool rule test file.

    Raises:
        RuleTestFileError: it cannot be read, is not YAML, or is not promtool's format.
    """
    return _Reader(str(path)).read()


class _Reader:
    def __init__(self, path: str) -> None:
        self.path = path

    def fail(self, node: Node | None, reason: str) -> RuleTestFileError:
        if node is None:
            return RuleTestFileError(self.path, reason)
        return RuleTestFileError(self.path, reason, *node_position(node))

    def read(self) -> RuleTestFile:
        try:
            root = compose(Path(self.path).read_text(encoding="utf-8"))
        except OSError as exc:
            reason = f"cannot read the file: {exc.strerror or exc}"
            raise RuleTestFileError(self.path, reason) from None
        except UnicodeDecodeError as exc:
            raise RuleTestFileError(self.path, f"not UTF-8 text: {exc.reason}") from None
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            where = (None, None) if mark is None else (mark.line + 1, mark.column + 1)
            reason = f"YAML syntax error: {exc.problem}"
            raise RuleTestFileError(self.path, reason, *where) from None
        if root is None or is_null(root):
            root = MappingNode("tag:yaml.org,2002:map", [])
        keys = ("rule_files", "evaluation_interval", "group_eval_order", "tests")
        fields = self.mapping(root, keys, "the file")
        base = os.path.dirname(self.path)
        rule_files: list[str] = []
        unmatched: list[str] = []
        for pattern in self.strings(fields.get("rule_files"), "rule_files"):
            if pattern and not os.path.isabs(pattern):
                pattern = os.path.join(base, pattern)
            found = sorted(glob.glob(pattern))
            rule_files.extend(os.path.normpath(f) for f in found)
            if not found:
                unmatched.append(pattern)
        interval = self.duration(fields.get("evaluation_interval"), "evaluation_interval")
        return RuleTestFile(
            self.path,
            rule_files,
            interval or 60_000,
            self.strings(fields.get("group_eval_order"), "group_eval_order"),
            self.items(fields.get("tests"), "tests", self.group),
            unmatched,
        )

    def mapping(self, node: Node, keys: tuple[str, ...] | None, what: str) -> dict[str, Node]:
        if is_null(node):
            return {}
        if not isinstance(node, MappingNode):
            raise self.fail(node, f"{what} must be a mapping")
        out: dict[str, Node] = {}
        for key, key_node, value in pairs(node):
            if key in out:
                raise self.fail(key_node, f"field '{key}' is repeated in {what}")
            if keys is not None and key not in keys:
                raise self.fail(key_node, f"unknown field '{key}' in {what} ({', '.join(keys)})")
            out[key] = value
        return out

    def items(self, node: Node | None, what: str, read: Callable[[Node], T]) -> list[T]:
        if node is None or is_null(node):
            return []
        if not isinstance(node, SequenceNode):
            raise self.fail(node, f"'{what}' must be a list")
        return [read(item) for item in node.value]

    def text(self, node: Node | None, what: str) -> str:
        if node is None or is_null(node):
            return ""
        if not isinstance(node, ScalarNode):
            raise self.fail(node, f"'{what}' must be a string")
        return str(node.value)

    def strings(self, node: Node | None, what: str) -> list[str]:
        return self.items(node, what, lambda item: self.text(item, what))

    def string_map(self, node: Node | None, what: str) -> dict[str, str]:
        if node is None:
            return {}
        return {k: self.text(v, f"{what}.{k}") for k, v in self.mapping(node, None, what).items()}

    def duration(self, node: Node | None, what: str) -> int:
        text = self.text(node, what)
        if text in ("", "0"):
            return 0
        try:
            return round(parse_duration(text) * 1000)
        except ValueError as exc:
            raise self.fail(node, f"'{what}': {exc}") from None

    def number(self, node: Node | None, what: str) -> float:
        text = self.text(node, what).strip()
        if isinstance(node, ScalarNode) and node.style is None:
            if text.lower() in _YAML_SPECIAL:
                return _YAML_SPECIAL[text.lower()]
            if _GO_FLOAT.fullmatch(text):
                return float(text)
        raise self.fail(node, f"'{what}' must be a number, not {text!r}")

    def group(self, node: Node) -> TestGroup:
        keys = (
            "name",
            "interval",
            "input_series",
            "alert_rule_test",
            "promql_expr_test",
            "external_labels",
            "external_url",
        )
        f = self.mapping(node, keys, "a test group")
        return TestGroup(
            self.text(f.get("name"), "name"),
            self.duration(f.get("interval"), "interval"),
            self.items(f.get("input_series"), "input_series", self.series),
            self.items(f.get("alert_rule_test"), "alert_rule_test", self.alert_test),
            self.items(f.get("promql_expr_test"), "promql_expr_test", self.expr_test),
            self.string_map(f.get("external_labels"), "external_labels"),
            self.text(f.get("external_url"), "external_url"),
            node_position(node)[0],
        )

    def series(self, node: Node) -> InputSeries:
        f = self.mapping(node, ("series", "values"), "an input series")
        at = f.get("values", node)
        series_at = f.get("series", node)
        return InputSeries(
            self.text(f.get("series"), "series"),
            self.text(f.get("values"), "values"),
            *_value_start(at),
            *_value_start(series_at),
        )

    def alert_test(self, node: Node) -> AlertTest:
        f = self.mapping(node, ("eval_time", "alertname", "exp_alerts"), "an alert_rule_test")
        return AlertTest(
            self.duration(f.get("eval_time"), "eval_time"),
            self.text(f.get("alertname"), "alertname"),
            self.items(f.get("exp_alerts"), "exp_alerts", self.expected_alert),
            node_position(node)[0],
        )

    def expected_alert(self, node: Node) -> ExpectedAlert:
        f = self.mapping(node, ("exp_labels", "exp_annotations"), "an expected alert")
        return ExpectedAlert(
            self.string_map(f.get("exp_labels"), "exp_labels"),
            self.string_map(f.get("exp_annotations"), "exp_annotations"),
        )

    def expr_test(self, node: Node) -> ExprTest:
        f = self.mapping(node, ("expr", "eval_time", "exp_samples"), "a promql_expr_test")
        return ExprTest(
            self.text(f.get("expr"), "expr"),
            self.duration(f.get("eval_time"), "eval_time"),
            self.items(f.get("exp_samples"), "exp_samples", self.expected_sample),
            node_position(node)[0],
        )

    def expected_sample(self, node: Node) -> ExpectedSample:
        f = self.mapping(node, ("labels", "value"), "an expected sample")
        value = self.number(f["value"], "value") if "value" in f else 0.0
        return ExpectedSample(
            self.text(f.get("labels"), "labels"), value, *node_position(f.get("labels", node))
        )


def _value_start(node: Node) -> tuple[int, int]:
    """Where a scalar's text starts in the file (after an opening quote)."""
    line, column = node_position(node)
    quoted = isinstance(node, ScalarNode) and node.style in ("'", '"')
    return line, column + (1 if quoted else 0)
