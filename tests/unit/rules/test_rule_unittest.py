import io
import textwrap
from pathlib import Path

import pytest

from streams.cli import main
from streams.rules.testing.unittest import run_test_file, run_test_files

SHIPPED_TEST = Path(__file__).resolve().parents[3] / "rules" / "pulseline_test.yml"

RULES = """\
groups:
  - name: first
    rules:
      - record: job:up:sum
        expr: sum by (job) (up)
      - alert: JobDown
        expr: job:up:sum == 0
        for: 2m
        labels:
          severity: page
        annotations:
          summary: "{{ $labels.job }} has {{ $value }} instances up"
  - name: second
    rules:
      - record: job:up:sum_doubled
        expr: job:up:sum * 2
"""


def write(tmp_path: Path, test: str, rules: str = RULES) -> Path:
    (tmp_path / "rules.yml").write_text(rules)
    path = tmp_path / "rules_test.yml"
    path.write_text(textwrap.dedent(test))
    return path


def run(path: Path) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = run_test_files([path], out, err)
    return code, out.getvalue(), err.getvalue()


def test_the_shipped_rule_tests_pass_through_the_cli(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules", "test", str(SHIPPED_TEST)]) == 0
    out = capsys.readouterr().out
    assert out == f"Unit Testing:  {SHIPPED_TEST}\n  SUCCESS\n\n"


def test_the_cli_exits_1_and_names_the_position_of_a_malformed_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad_test.yml"
    path.write_text("rule_files: []\nevaluation_interval: fast\n")
    assert main(["rules", "test", str(path), str(SHIPPED_TEST)]) == 1
    captured = capsys.readouterr()
    assert f"{path}:2:22: 'evaluation_interval': 'fast' is not a duration" in captured.err
    assert captured.out.endswith("  SUCCESS\n\n")


def test_alert_failures_read_like_promtool(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        rule_files: [rules.yml]
        tests:
          - name: down
            interval: 1m
            input_series:
              - series: 'up{job="api",instance="a"}'
                values: "0x5"
            alert_rule_test:
              - eval_time: 2m
                alertname: JobDown
                exp_alerts: []
        """,
    )
    code, out, err = run(path)
    assert code == 1
    # cmd/promtool/unittest.go: the errors on stderr, a blank line on stdout for each
    assert out == f"Unit Testing:  {path}\n\n\n"
    assert err == (
        "  FAILED:\n"
        "    name: down,\n"
        "    alertname: JobDown, time: 2m, \n"
        "        exp:[], \n"
        "        got:[\n"
        "            0:\n"
        '              Labels:{alertname="JobDown", job="api", severity="page"}\n'
        '              Annotations:{summary="api has 0 instances up"}\n'
        "            ]\n"
    )


def test_expression_failures_read_like_promtool(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        rule_files: [rules.yml]
        evaluation_interval: 30s
        tests:
          - interval: 1m
            input_series:
              - series: 'up{job="api",instance="a"}'
                values: "1 1 1"
              - series: 'up{job="api",instance="b"}'
                values: "1 0 0"
            promql_expr_test:
              - expr: job:up:sum_doubled
                eval_time: 90s
                exp_samples:
                  - labels: 'job:up:sum_doubled{job="api"}'
                    value: 4
              - expr: job:up:sum
                eval_time: 1m
                exp_samples:
                  - labels: 'job:up:sum{job="api"}'
                    value: 1
        """,
    )
    code, _, err = run(path)
    assert code == 1
    assert err == (
        "  FAILED:\n"
        '    expr: "job:up:sum_doubled", time: 1m30s,\n'
        '        exp: {__name__="job:up:sum_doubled", job="api"} 4E+00\n'
        '        got: {__name__="job:up:sum_doubled", job="api"} 2E+00\n'
    )


def test_an_unsupported_expression_is_a_failure_with_the_parsers_message(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        rule_files: [rules.yml]
        tests:
          - interval: 1m
            input_series:
              - series: 'up{job="api"}'
                values: "1"
            promql_expr_test:
              - expr: topk(1, up)
                eval_time: 0m
                exp_samples:
                  - labels: 'up{job="api"}'
                    value: 1
              - expr: up
                eval_time: 0m
                exp_samples:
                  - labels: 'up{job="api"}'
                    value: 1
        """,
    )
    report = run_test_file(path)
    assert report.errors == [
        "    expr: \"topk(1, up)\", time: 0s, err: unsupported aggregation 'topk' at column 1 "
        "(supported: avg, count, max, min, sum)"
    ]


def test_a_malformed_file_names_the_file_and_position_and_others_still_run(tmp_path: Path) -> None:
    bad = tmp_path / "bad_test.yml"
    bad.write_text("rule_files: [rules.yml]\ntests:\n  - interval: 1m\n    input_serie: []\n")
    good = write(tmp_path, "rule_files: [rules.yml]\ntests: []\n")
    out, err = io.StringIO(), io.StringIO()
    assert run_test_files([bad, good], out, err) == 1
    assert f"{bad}:4:5: unknown field 'input_serie'" in err.getvalue()
    assert out.getvalue().endswith(f"Unit Testing:  {good}\n  SUCCESS\n\n")


@pytest.mark.parametrize(
    ("values", "where"),
    # the values start in column 16 (after the quote: 17); the bad token is the third
    [('"1 2 x3"', ":7:21: "), ("1 2 3e", ":7:20: ")],
)
def test_a_bad_series_notation_fails_its_group_with_the_position(
    tmp_path: Path, values: str, where: str
) -> None:
    path = write(
        tmp_path,
        f"""\
        rule_files: [rules.yml]
        tests:
          - interval: 1m
            input_series:
              - series: 'up{{job="api"}}'
                values:
                       {values}
          - interval: 1m
            promql_expr_test:
              - expr: up
                eval_time: 0m
                exp_samples:
                  - labels: 'up{{job="api"}}'
                    value: 1
        """,
    )
    errors = run_test_file(path).errors
    assert len(errors) == 2
    assert errors[0].startswith(f"{path}{where}")
    assert errors[1].startswith('    expr: "up", time: 0s,')


def test_yaml_and_field_errors(tmp_path: Path) -> None:
    path = tmp_path / "t_test.yml"
    path.write_text("tests:\n  - interval: [1m\n")
    assert run_test_file(path).errors[0].startswith(f"{path}:3:1: YAML syntax error")
    path.write_text("tests:\n  - interval: soon\n")
    assert "'interval': 'soon' is not a duration" in run_test_file(path).errors[0]
    path.write_text(
        "tests:\n  - promql_expr_test:\n      - expr: up\n        exp_samples: [{value: many}]\n"
    )
    assert f"{path}:4:31: 'value' must be a number" in run_test_file(path).errors[0]
    assert (
        run_test_file(tmp_path / "missing.yml")
        .errors[0]
        .startswith(f"{tmp_path}/missing.yml: cannot read")
    )


def test_missing_alertname_and_unmatched_rule_files(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        rule_files: [rules.yml, nothing*.yml]
        tests:
          - name: g
            alert_rule_test:
              - eval_time: 1m
        """,
    )
    report = run_test_file(path)
    assert report.errors == [
        "an item under alert_rule_test misses required attribute alertname at eval_time 1m "
        "(in TestGroup g)"
    ]
    assert report.warnings == [f"  WARNING: no file match pattern {tmp_path}/nothing*.yml"]


def test_invalid_rule_files_fail_every_group(tmp_path: Path) -> None:
    rules = "groups:\n  - name: g\n    rules:\n      - record: x\n        expr: topk(1, up)\n"
    path = write(tmp_path, "rule_files: [rules.yml]\ntests: [{}, {}]\n", rules)
    errors = run_test_file(path).errors
    assert len(errors) == 2 and "rules.yml:5:15" in errors[0] and "topk" in errors[0]


def test_group_eval_order_decides_what_a_group_sees_at_the_same_instant(tmp_path: Path) -> None:
    test = """\
        rule_files: [rules.yml]
        group_eval_order: [{order}]
        tests:
          - interval: 1m
            input_series:
              - series: 'up{{job="api"}}'
                values: "1 1"
            promql_expr_test:
              - expr: job:up:sum_doubled
                eval_time: 0m
                exp_samples:
                  - labels: 'job:up:sum_doubled{{job="api"}}'
                    value: 2
        """
    assert run_test_file(write(tmp_path, test.format(order="first, second"))).passed
    # the second group runs first: at 0s it sees no job:up:sum yet
    assert not run_test_file(write(tmp_path, test.format(order="second, first"))).passed
    repeated = run_test_file(write(tmp_path, test.format(order="first, first")))
    assert repeated.errors == ["group name repeated in evaluation order: first"]


def test_a_failing_rule_ends_its_group(tmp_path: Path) -> None:
    rules = "groups:\n  - name: g\n    rules:\n      - record: r\n        expr: up / on () up\n"
    path = write(
        tmp_path,
        """\
        rule_files: [rules.yml]
        tests:
          - interval: 1m
            input_series:
              - series: 'up{job="a"}'
                values: "1"
              - series: 'up{job="b"}'
                values: "1"
            promql_expr_test:
              - expr: up
                eval_time: 5m
                exp_samples: []
        """,
        rules,
    )
    [error] = run_test_file(path).errors
    assert error.startswith(
        "    rule: r, time: 0s, err: found duplicate series for the match group {}"
    )
