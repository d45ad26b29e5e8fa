"""Rule unit tests, promtool's way: ``pulseline rules test FILE...``.

Runs the test files of ``promtool test rules`` (format: :mod:`streams.rules.testing.testfile`) on
pulseline's own rule engine, simulating what promtool 2.42 does for each test group:

- input series are loaded as the evaluation clock passes them (the i-th value at
  ``i * interval``; without ``interval`` every value is at 0s and the first one wins); the
  clock stops at the last step at or before the latest ``eval_time``, so later samples are
  never loaded, not even for a ``promql_expr_test`` between two steps;
- every rule group is evaluated at every ``evaluation_interval`` from 0 up to the latest
  ``eval_time`` (whatever the groups' own intervals), in file order, or as
  ``group_eval_order`` says; recorded samples are read by later rules, ``ALERTS`` and
  ``ALERTS_FOR_STATE`` are written, vanished series get staleness markers;
- an ``alert_rule_test`` compares the firing alerts (labels and annotations) of the
  evaluation at or just before its ``eval_time``; a ``promql_expr_test`` evaluates its
  expression at its ``eval_time`` once all evaluations are done, and compares values exactly;
- a rule that fails at an evaluation ends its test group, as in promtool.

Output and exit code are promtool's (``Unit Testing:``, ``FAILED:``, ``SUCCESS``).

Known differences from promtool: rules and expressions must use pulseline's PromQL subset (a
``promql_expr_test`` outside it fails with the parser's message); promtool evaluates groups
in a random order when ``group_eval_order`` is not given, pulseline in file order; and
promtool sums series in a random order, so a ``sum``/``avg`` of three or more series may
differ from promtool's in the last bit (see :mod:`streams.promql.evaluate`).

Example:
    >>> report = run_test_file("rules/pulseline_test.yml")
    >>> report.passed, report.errors
    (True, [])
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TextIO

from streams.promql.errors import ExprError
from streams.promql.evaluate import EvalError, evaluate
from streams.promql.gofmt import (
    format_float_e,
    go_duration,
    go_quote,
    labels_string,
    model_duration,
)
from streams.promql.notation import NotationError, expand_values, parse_series
from streams.promql.parse import parse_expr
from streams.promql.series import Labels, SampleStore
from streams.rules.errors import RuleError
from streams.rules.evaluation.group import GroupEvaluator
from streams.rules.loader import load_rule_files
from streams.rules.model import RuleFile, RuleGroup
from streams.rules.testing.testfile import (
    AlertTest,
    ExprTest,
    RuleTestFile,
    RuleTestFileError,
    TestGroup,
    load_test_file,
)

_AlertView = tuple[Labels, Labels]  # labels, annotations


@dataclass
class FileReport:
    """The outcome of one test file.

    Attributes:
        path: the file.
        errors: promtool-style failure texts (empty when every test passed).
        warnings: rule file patterns that matched nothing, and the like.
    """

    path: str
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """Whether every test of the file passed."""
        return not self.errors


def run_test_files(
    paths: Iterable[str | os.PathLike[str]], out: TextIO | None = None, err: TextIO | None = None
) -> int:
    """Run test files and print as promtool does; the exit code (0 all passed, else 1)."""
    out = sys.stdout if out is None else out
    err = sys.stderr if err is None else err
    failed = False
    for path in paths:
        print("Unit Testing: ", os.fspath(path), file=out, flush=True)
        report = run_test_file(path)
        for warning in report.warnings:
            print(warning, file=err, flush=True)
        if report.errors:
            failed = True
            print("  FAILED:", file=err, flush=True)
            for error in report.errors:
                print(error, file=err, flush=True)
                print(file=out, flush=True)
        else:
            print("  SUCCESS", file=out)
        print(file=out, flush=True)
    return 1 if failed else 0


def run_test_file(path: str | os.PathLike[str]) -> FileReport:
    """Run every test group of one file."""
    report = FileReport(os.fspath(path))
    try:
        test_file = load_test_file(path)
    except RuleTestFileError as exc:
        report.errors.append(str(exc))
        return report
    report.warnings = [f"  WARNING: no file match pattern {p}" for p in test_file.unmatched]
    order: dict[str, int] = {}
    for i, name in enumerate(test_file.group_eval_order):
        if name in order:
            report.errors.append(f"group name repeated in evaluation order: {name}")
            return report
        order[name] = i
    try:
        rule_files = load_rule_files(test_file.rule_files)
    except RuleError as exc:
        # promtool loads the rule files for each test group and reports their errors there
        report.errors = [str(p) for p in exc.problems] * len(test_file.tests)
        return report
    groups = _ordered_groups(rule_files, order)
    for test_group in test_file.tests:
        report.errors.extend(_GroupRun(test_file, test_group, groups).run())
    return report


def _ordered_groups(files: Sequence[RuleFile], order: dict[str, int]) -> list[RuleGroup]:
    groups = [group for f in files for group in f.groups]
    return sorted(groups, key=lambda g: order.get(g.name, 0))


class _GroupRun:
    """One test group: its own store, rule state and clock."""

    def __init__(self, test_file: RuleTestFile, test: TestGroup, groups: list[RuleGroup]) -> None:
        self.file = test_file
        self.test = test
        self.store = SampleStore()
        self.evaluators = [
            GroupEvaluator(
                g,
                external_labels=test.external_labels,
                external_url=test.external_url,
                alerts_series=True,
            )
            for g in groups
        ]

    def run(self) -> list[str]:
        inputs = self.inputs()
        if isinstance(inputs, str):
            return [inputs]
        for alert_test in self.test.alert_tests:
            if not alert_test.alertname:
                in_group = f" (in TestGroup {self.test.name})" if self.test.name else ""
                when = model_duration(alert_test.eval_time_ms)
                return [
                    "an item under alert_rule_test misses required attribute alertname "
                    f"at eval_time {when}{in_group}"
                ]
        times = [t.eval_time_ms for t in self.test.alert_tests]
        times += [t.eval_time_ms for t in self.test.expr_tests]
        max_t = max(times, default=0)
        alert_times = sorted({t.eval_time_ms for t in self.test.alert_tests})
        interval = self.file.evaluation_interval_ms
        errors: list[str] = []
        loaded = 0
        current = 0
        t = 0
        while t <= max_t:
            while loaded < len(inputs) and inputs[loaded][0] <= t:
                ts, labels, value = inputs[loaded]
                self.store.add(labels, ts, value)
                loaded += 1
            eval_errors = self.evaluate(t)
            errors.extend(eval_errors)
            if eval_errors:
                return errors
            while current < len(alert_times) and t <= alert_times[current] < t + interval:
                errors.extend(self.check_alerts(alert_times[current]))
                current += 1
            t += interval
        for expr_test in self.test.expr_tests:
            errors.extend(self.check_expr(expr_test))
        return errors

    def inputs(self) -> list[tuple[int, Labels, float]] | str:
        """Every input sample, by time (a series defined twice keeps its last definition), or
        the error of a series not in Prometheus' notation."""
        defined: dict[Labels, list[float | None]] = {}
        for spec in self.test.input_series:
            try:
                labels = parse_series(spec.series)
            except NotationError as exc:
                return self.notation(exc, spec.series_line, spec.series_column)
            try:
                defined[labels] = expand_values(spec.values)
            except NotationError as exc:
                return self.notation(exc, spec.line, spec.column)
        step = self.test.interval_ms
        samples = [
            (i * step, labels, value)
            for labels, values in defined.items()
            for i, value in enumerate(values)
            if value is not None
        ]
        samples.sort(key=lambda s: s[0])
        return samples

    def notation(self, exc: NotationError, line: int, column: int) -> str:
        return f"{self.file.path}:{line}:{column + max(exc.column, 1) - 1}: {exc.reason}"

    def evaluate(self, t_ms: int) -> list[str]:
        errors: dict[str, str] = {}  # the last error of each rule, as Rule.LastError()
        for evaluator in self.evaluators:
            for error in evaluator.evaluate(self.store, t_ms).errors:
                errors.pop(error.rule, None)
                errors[error.rule] = error.reason
        when = go_duration(t_ms)
        return [f"    rule: {rule}, time: {when}, err: {reason}" for rule, reason in errors.items()]

    def check_alerts(self, eval_time_ms: int) -> list[str]:
        tests = [t for t in self.test.alert_tests if t.eval_time_ms == eval_time_ms]
        names = {t.alertname for t in tests}
        got: dict[str, list[_AlertView]] = {}
        for evaluator in self.evaluators:
            for state in evaluator.alert_states.values():
                if state.rule.name in names:
                    firing = [(a.labels, a.annotations) for a in state.firing()]
                    got.setdefault(state.rule.name, []).extend(firing)
        return [e for t in tests if (e := self.compare_alerts(t, got.get(t.alertname, [])))]

    def compare_alerts(self, test: AlertTest, got: list[_AlertView]) -> str:
        expected: list[_AlertView] = []
        for alert in test.exp_alerts:
            labels = {**alert.labels, "alertname": test.alertname}
            expected.append(
                (tuple(sorted(labels.items())), tuple(sorted(alert.annotations.items())))
            )
        expected.sort()
        got = sorted(got)
        if expected == got:
            return ""
        name = f"    name: {self.test.name},\n" if self.test.name else ""
        exp_text = _indent(_alerts_string(expected), " " * 12)
        got_text = _indent(_alerts_string(got), " " * 12)
        return (
            f"{name}    alertname: {test.alertname}, time: {model_duration(test.eval_time_ms)}, "
            f"\n        exp:{exp_text}, \n        got:{got_text}"
        )

    def check_expr(self, test: ExprTest) -> list[str]:
        head = f"    expr: {go_quote(test.expr)}, time: {model_duration(test.eval_time_ms)}"
        try:
            got = evaluate(parse_expr(test.expr), self.store, test.eval_time_ms)
        except (ExprError, EvalError) as exc:
            return [f"{head}, err: {exc}"]
        expected: list[tuple[Labels, float]] = []
        for sample in test.exp_samples:
            try:
                expected.append((parse_series(sample.labels, keep_empty=True), sample.value))
            except NotationError as exc:
                return [f"{head}, err: labels {go_quote(sample.labels)}: {exc}"]
        expected.sort(key=lambda s: s[0])
        got_samples = sorted(((s.labels, s.value) for s in got), key=lambda s: s[0])
        same = len(expected) == len(got_samples) and all(
            el == gl and ev == gv for (el, ev), (gl, gv) in zip(expected, got_samples, strict=True)
        )
        if same:
            return []
        exp_text, got_text = _samples_string(expected), _samples_string(got_samples)
        return [f"{head},\n        exp: {exp_text}\n        got: {got_text}"]


def _indent(text: str, indent: str) -> str:
    return "\n".join(line if i == 0 else indent + line for i, line in enumerate(text.split("\n")))


def _alerts_string(alerts: list[_AlertView]) -> str:
    if not alerts:
        return "[]"
    parts = []
    for i, (labels, notes) in enumerate(alerts):
        body = f"\nLabels:{labels_string(labels)}\nAnnotations:{labels_string(notes)}"
        parts.append(f"{i}:" + _indent(body, "  "))
    return "[\n" + ",\n".join(parts) + "\n]"


def _samples_string(samples: list[tuple[Labels, float]]) -> str:
    if not samples:
        return "nil"
    return ", ".join(f"{labels_string(labels)} {format_float_e(v)}" for labels, v in samples)
