import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest

from streams.promql.expr import Aggregate, ScalarOp
from streams.rules import (
    AlertingRule,
    RecordingRule,
    RuleError,
    check_files,
    load_rule_file,
    load_rule_files,
)

RULES_DIR = Path(__file__).resolve().parents[3] / "rules"
SHIPPED = RULES_DIR / "pulseline.yml"
PROMTOOL = shutil.which("promtool")

VALID = """\
groups:
  - name: host
    interval: 1m
    limit: 10
    labels:
      team: infra
    rules:
      - record: host:cpu_busy:avg5m
        expr: 100 - avg by (host) (avg_over_time(cpu_usage_idle[5m]))
        labels:
          source: pulseline
      - alert: HostHighCpu
        expr: 100 - avg by (host) (avg_over_time(cpu_usage_idle[5m])) > 90
        for: 10m
        keep_firing_for: 2m
        labels:
          severity: warning
          level: "{{ if gt $value 95.0 }}high{{ else }}raised{{ end }}"
        annotations:
          summary: "{{ $labels.host }}: CPU {{ $value | humanize }}% busy"
  - name: empty
"""


def write(tmp_path: Path, text: str, name: str = "rules.yml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def problems(path: Path) -> list[str]:
    with pytest.raises(RuleError) as info:
        load_rule_file(path)
    return [str(p) for p in info.value.problems]


def promtool_refuses(path: Path) -> bool:
    assert PROMTOOL is not None
    run = subprocess.run([PROMTOOL, "check", "rules", str(path)], capture_output=True)
    return run.returncode != 0


def test_valid_file_loads_into_the_model(tmp_path: Path) -> None:
    rule_file = load_rule_file(write(tmp_path, VALID))
    host, empty = rule_file.groups
    assert (host.name, host.interval_s, host.limit, dict(host.labels)) == (
        "host",
        60.0,
        10,
        {"team": "infra"},
    )
    assert (empty.name, empty.rules, empty.interval_s, empty.limit) == ("empty", (), None, 0)
    record, alert = host.rules
    assert isinstance(record, RecordingRule)
    assert record.name == "host:cpu_busy:avg5m"
    assert dict(record.labels) == {"source": "pulseline"}
    assert isinstance(record.expr, ScalarOp)
    assert isinstance(record.expr.vector, Aggregate)
    assert isinstance(alert, AlertingRule)
    assert (alert.name, alert.for_s, alert.keep_firing_for_s, alert.line) == (
        "HostHighCpu",
        600.0,
        120.0,
        12,
    )
    assert alert.expr_text.startswith("100 - avg by (host)")
    assert alert.labels["level"].render({"host": "a"}, 97.0) == "high"
    assert alert.annotations["summary"].render({"host": "a"}, 93.25) == "a: CPU 93.25% busy"
    assert rule_file.rules() == [record, alert]


def test_shipped_rules_load() -> None:
    files = load_rule_files([SHIPPED])
    assert len(files[0].rules()) >= 10
    assert check_files([SHIPPED]) == []


def test_shipped_rules_pass_promtool_check() -> None:
    run = subprocess.run([str(PROMTOOL), "check", "rules", str(SHIPPED)], capture_output=True)
    assert run.returncode == 0, run.stdout + run.stderr


def test_shipped_rules_pass_their_promtool_unit_tests() -> None:
    test_file = RULES_DIR / "pulseline_test.yml"
    run = subprocess.run([str(PROMTOOL), "test", "rules", str(test_file)], capture_output=True)
    assert run.returncode == 0, run.stdout + run.stderr


def test_empty_file_has_no_groups(tmp_path: Path) -> None:
    assert load_rule_file(write(tmp_path, "")).groups == ()
    assert load_rule_file(write(tmp_path, "groups: []\n")).groups == ()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("groups:\n  - name: [a\n", ":3:1: YAML syntax error: while parsing a flow sequence"),
        ("groups:\n\t- name: a\n", ":2:1: YAML syntax error: while scanning for the next token"),
        ("groups: []\n---\ngroups: []\n", ":2:1: YAML syntax error: expected a single document"),
        ("a: b: c\n", ":1:5: YAML syntax error: mapping values are not allowed here"),
    ],
)
def test_yaml_syntax_errors_have_line_and_column(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path, text)
    (found,) = problems(path)
    assert found.startswith(f"{path}{expected}")


# (rule file, the one expected message without the path) ; promtool refuses each too
SCHEMA_ERRORS = [
    (
        "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up\n        bogus: 1\n",
        ':6:9: group "g", rule "A": unknown field \'bogus\' in a rule (alert, record, expr, for, '
        "keep_firing_for, labels, annotations)",
    ),
    (
        "groups:\n  - name: g\n    query_offset: 1m\n    rules: []\n",
        ":3:5: group \"g\": unknown field 'query_offset' in a group "
        "(name, interval, labels, limit, rules)",
    ),
    ("rules: []\n", ":1:1: unknown field 'rules' in the file (groups)"),
    (
        "groups:\n  - name: g\n    rules:\n      - alert: A\n",
        ':4:9: group "g", rule "A": field \'expr\' must be set',
    ),
    (
        "groups:\n  - name: g\n    rules:\n      - alert: A\n        record: a\n        expr: up\n",
        ":4:9: group \"g\", rule \"A\": only one of 'alert' and 'record' may be set",
    ),
    (
        "groups:\n  - name: g\n    rules:\n      - expr: up\n",
        ":4:9: group \"g\", rule #1: one of 'alert' or 'record' must be set to a non-empty name",
    ),
    (
        "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up\n        for: 5\n",
        ":6:14: group \"g\", rule \"A\": 'for': '5' is not a duration "
        "(examples: 30s, 5m, 1h30m, 7d, 1y)",
    ),
    (
        "groups:\n  - name: g\n    interval: soon\n    rules: []\n",
        ":3:15: group \"g\": 'interval': 'soon' is not a duration (examples: 30s, 5m, 1h30m, 7d, 1y)",
    ),
    (
        "groups:\n  - name: g\n    rules: []\n  - name: g\n    rules: []\n",
        ':4:5: group "g": the group name is repeated (first at line 2)',
    ),
    (
        "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up\n        expr: x\n",
        ':6:9: group "g", rule "A": field \'expr\' is repeated (first at line 5)',
    ),
    (
        "groups:\n  - name: g\n    rules:\n      - record: a\n        expr: up\n        for: 1m\n",
        ':6:14: group "g", rule "a": invalid field \'for\' in a recording rule',
    ),
    (
        "groups:\n  - name: g\n    rules:\n      - record: a\n        expr: up\n"
        "        annotations: {x: y}\n",
        ':6:22: group "g", rule "a": invalid field \'annotations\' in a recording rule',
    ),
    (
        "groups:\n  - name: g\n    rules:\n      - record: a-b\n        expr: up\n",
        ':4:17: group "g", rule "a-b": invalid recording rule name: \'a-b\'',
    ),
    (
        "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up\n"
        "        labels: {a-b: x}\n",
        ':6:18: group "g", rule "A": invalid label name: \'a-b\'',
    ),
    (
        "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up\n"
        "        labels: {__name__: x}\n",
        ':6:18: group "g", rule "A": invalid label name: \'__name__\'',
    ),
    (
        "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up\n"
        "        annotations: {'a b': x}\n",
        ':6:23: group "g", rule "A": invalid annotation name: \'a b\'',
    ),
    (
        "groups:\n  - rules: []\n",
        ":2:5: group #1: field 'name' must be set to a non-empty name",
    ),
    (
        "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: sum(up\n",
        ':5:15: group "g", rule "A": expr: PromQL syntax error: unclosed left parenthesis',
    ),
    (
        "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up\n"
        '        annotations: {s: "{{ $lables.instance }}"}\n',
        ':6:26: group "g", rule "A": annotation \'s\': template: undefined variable "$lables"',
    ),
    (
        "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up\n"
        '        labels: {s: "{{ humanise $value }}"}\n',
        ':6:21: group "g", rule "A": label \'s\': template: function "humanise" not defined',
    ),
    ("groups: {name: g}\n", ":1:9: 'groups' must be a list"),
]


@pytest.mark.parametrize(("text", "expected"), SCHEMA_ERRORS)
def test_schema_errors(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path, text)
    assert problems(path) == [f"{path}{expected}"]


@pytest.mark.parametrize(("text", "expected"), SCHEMA_ERRORS)
def test_promtool_refuses_the_same_files(tmp_path: Path, text: str, expected: str) -> None:
    assert promtool_refuses(write(tmp_path, text))


STRICTER_THAN_PROMTOOL = [
    ("groups:\n  - name: g\n    limit: -1\n    rules: []\n", "'limit' must be a whole number"),
    ("groups:\n  - name: g\n    rules:\n      - record: a\n        expr: '1'\n", "scalar"),
    ("groups:\n  - name: g\n    rules:\n      - record: a\n        expr: x[5m]\n", "range vector"),
    (
        "groups:\n  - name: g\n    rules:\n      - alert: a\n        expr: topk(1, x)\n",
        "unsupported aggregation 'topk'",
    ),
    ("groups: []\n---\ngroups: []\n", "expected a single document"),
]


@pytest.mark.parametrize(("text", "expected"), STRICTER_THAN_PROMTOOL)
def test_refused_here_though_promtool_accepts(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path, text)
    assert expected in problems(path)[0]
    if PROMTOOL is not None:
        assert not promtool_refuses(path)


def test_unsupported_constructs_name_file_group_rule_and_position(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        groups:
          - name: host
            rules:
              - alert: Plain
                expr: topk(3, cpu_usage_idle) < 10
              - alert: Quoted
                expr: 'cpu_usage_idle offset 5m < 10'
              - alert: Block
                expr: |
                  sum by (host) (x)
                    / on (host) group_left
                  histogram_quantile(0.9, rate(y[5m]))
              - alert: Folded
                expr: >
                  rate(x[5m:1m])
                  > 1
        """,
    )
    prefix = f"{path}:"
    assert problems(path) == [
        prefix + '5:15: group "host", rule "Plain": expr: unsupported aggregation \'topk\' '
        "at column 1 (supported: avg, count, max, min, sum)",
        prefix + '7:31: group "host", rule "Quoted": expr: unsupported modifier \'offset\' '
        "at column 16 (rules evaluate the newest samples)",
        prefix + '11:25: group "host", rule "Block": expr: unsupported modifier \'group_left\' '
        "at 2:15 (only one-to-one matching)",
        prefix + '12:11: group "host", rule "Block": expr: unsupported function '
        "'histogram_quantile' at 3:1 (supported: absent, absent_over_time, avg_over_time, "
        "count_over_time, delta, increase, irate, last_over_time, max_over_time, "
        "min_over_time, rate, sum_over_time)",
        # a folded scalar's text is not the file's text: the position is the expr's start
        prefix + '14:15: group "host", rule "Folded": expr: unsupported subquery at column 7 '
        "(use a range selector such as x[5m])",
    ]


def test_all_problems_of_all_files_are_collected(tmp_path: Path) -> None:
    bad = write(
        tmp_path,
        """\
        groups:
          - name: g
            interval: 5
            rules:
              - alert: A
                expr: x offset 1m
                for: 1x
              - record: r
                expr: sum(y)
                for: 1m
        """,
        "bad.yml",
    )
    good = write(tmp_path, VALID, "good.yml")
    missing = tmp_path / "missing.yml"
    with pytest.raises(RuleError) as info:
        load_rule_files([bad, good, missing])
    found = [(p.file, p.line, p.group, p.rule) for p in info.value.problems]
    assert found == [
        (str(bad), 3, "g", None),
        (str(bad), 6, "g", "A"),
        (str(bad), 7, "g", "A"),
        (str(bad), 10, "g", "r"),
        (str(missing), None, None, None),
    ]
    assert str(info.value).count("\n") == 4
    lines = check_files([bad, good, missing])
    assert lines[-1] == f"{missing}: cannot read the file: No such file or directory"


def test_template_sees_only_the_labels_the_expression_yields(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        groups:
          - name: g
            rules:
              - alert: A
                expr: sum by (host) (rate(x[5m])) > 1
                annotations:
                  ok: "{{ $labels.host }}"
                  typo: "{{ $labels.hots }}"
              - alert: B
                expr: rate(x[5m]) > 1
                annotations:
                  anything: "{{ $labels.whatever }}"
        """,
    )
    assert problems(path) == [
        f"{path}:8:17: group \"g\", rule \"A\": annotation 'typo': template: label 'hots' is "
        "never there: the expression yields only labels host"
    ]
