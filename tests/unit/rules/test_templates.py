import math
import re
import subprocess
from pathlib import Path

import pytest

from streams.rules.errors import TemplateError
from streams.rules.templating.gotemplate import translate
from streams.rules.templating.humanize import (
    go_float,
    humanize,
    humanize1024,
    humanizeDuration,
    humanizePercentage,
    humanizeTimestamp,
    printf,
    stripPort,
)
from streams.rules.templating.templates import RuleTemplate, compile_template

LABELS = {"instance": "web-1:9100", "host": "web-1", "job": "node"}


@pytest.mark.parametrize(
    ("source", "jinja"),
    [
        ("{{ $labels.instance }}", '{{ labels["instance"] }}'),
        ("{{ $value }}", "{{ value }}"),
        ("{{ .Labels.host }} {{ .Value }}", '{{ labels["host"] }} {{ value }}'),
        ("{{ $externalLabels.env }}", '{{ external_labels["env"] }}'),
        ("{{ $value | humanize }}", "{{ humanize(value) }}"),
        ("{{ humanize $value }}", "{{ humanize(value) }}"),
        ("{{ humanizePercentage $value }}", "{{ humanizePercentage(value) }}"),
        ('{{ printf "%.2f" $value }}', '{{ printf("%.2f", value) }}'),
        ('{{ $value | printf "%.2f" }}', '{{ printf("%.2f", value) }}'),
        ("{{ $labels.host | toUpper }}", '{{ toUpper(labels["host"]) }}'),
        ('{{ index $labels "host" }}', '{{ labels["host"] }}'),
        (
            "{{ if gt $value 90.0 }}a{{ else }}b{{ end }}",
            "{% if (value > 90.0) %}a{% else %}b{% endif %}",
        ),
        (
            "{{ if eq $labels.job `node` }}n{{ end }}",
            '{% if (labels["job"] == "node") %}n{% endif %}',
        ),
        ("{{- $value -}}", "{{- value -}}"),
        ("{{/* note */}}x", "{# note #}x"),
        ("{{ labels.host }} {{ value | humanize }}", "{{ labels.host }} {{ value | humanize }}"),
        (
            "{% if value > 1 %}{{ value * 100 }}{% endif %}",
            "{% if value > 1 %}{{ value * 100 }}{% endif %}",
        ),
        ("{{ $value * 100 }}", "{{ value * 100 }}"),
        ("no actions here", "no actions here"),
    ],
)
def test_translation(source: str, jinja: str) -> None:
    assert translate(source) == jinja


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("{{ $labels.instance }} is down", "web-1:9100 is down"),
        ("{{ .Labels.host }}", "web-1"),
        ("{{ labels.host }}", "web-1"),
        ("{{ $value }}", "93.12345"),
        ("{{ $value | humanize }}", "93.12"),
        ("{{ humanizePercentage 0.5 }}", "50%"),
        ('{{ printf "%.1f" $value }}%', "93.1%"),
        ('{{ printf "%s=%v" "a" 1 }}', "a=1"),
        ("{{ if gt $value 90.0 }}critical{{ else }}warning{{ end }}", "critical"),
        ("{{ if and (gt $value 1.0) (lt $value 2.0) }}x{{ else }}y{{ end }}", "y"),
        ("{{ if not (eq $labels.job `db`) }}not db{{ end }}", "not db"),
        ("{{ $labels.instance | stripPort }}", "web-1"),
        ("{{ $externalLabels.env }}", "prod"),
        (
            "{% for k, v in labels | dictsort %}{{ k }}={{ v }} {% endfor %}",
            "host=web-1 instance=web-1:9100 job=node ",
        ),
    ],
)
def test_render(source: str, expected: str) -> None:
    template = compile_template(source)
    assert template.render(LABELS, 93.12345, {"env": "prod"}) == expected


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("{{ $lables.instance }}", 'undefined variable "$lables"'),
        ("{{ .Lables.instance }}", 'undefined variable ".Lables"'),
        ("{{ humanise $value }}", 'function "humanise" not defined'),
        ("{{ $value | humanise }}", 'function "humanise" not defined'),
        ("{{ value | humanise }}", "No filter named 'humanise'"),
        ("{{ lables.instance }}", "undefined name(s) lables"),
        ("{{ humanise(value) }}", "undefined name(s) humanise"),
        ("{{ $value ", "unexpected char"),
        ("{{ range $labels }}{{ . }}{{ end }}", "'range' is not supported"),
        ("{{ with $labels.x }}{{ end }}", "'with' is not supported"),
        ("{{ end }}", "{{ end }} without a matching {{ if }}"),
        ("{% if value %}", "Unexpected end of template"),
        ("{{ value.__class__ }}", "unsafe"),
        ('{{ printf "%d %d" $value }}', "rendering failed"),
    ],
)
def test_load_time_errors(source: str, message: str) -> None:
    with pytest.raises(TemplateError) as info:
        compile_template(source)
    assert message in str(info.value)
    assert info.value.source == source


def test_labels_unknown_at_load_time_pass_and_fail_at_render() -> None:
    template = compile_template("{{ $labels.whatever }} {{ $externalLabels.anything }}")
    with pytest.raises(TemplateError, match="whatever"):
        template.render({}, 1.0)


def test_a_label_the_expression_never_yields_fails_at_load_time() -> None:
    compile_template("{{ $labels.host }}", frozenset({"host"}))
    with pytest.raises(TemplateError, match=r"label 'instance' is never there.*only labels host"):
        compile_template("{{ $labels.instance }}", frozenset({"host"}))
    with pytest.raises(TemplateError, match="yields only labels none"):
        compile_template("{{ $labels.instance }}", frozenset())


def test_a_label_named_like_a_dict_method_wins() -> None:
    assert compile_template("{{ labels.keys }}").render({"keys": "k"}, 0) == "k"


def test_template_line_of_syntax_errors() -> None:
    with pytest.raises(TemplateError, match="line 2") as info:
        RuleTemplate.compile("first\n{{ value + }}")
    assert info.value.line == 2


def test_templates_compare_by_source() -> None:
    assert RuleTemplate.compile("{{ $value }}") == RuleTemplate.compile("{{ $value }}")
    assert len({RuleTemplate.compile("a"), RuleTemplate.compile("a")}) == 1


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, "0"),
        (1, "1"),
        (999, "999"),
        (1000, "1k"),
        (1234567, "1.235M"),
        (-2500, "-2.5k"),
        (1e27, "1000Y"),
        (0.5, "500m"),
        (0.000123, "123u"),
        (1.5e-9, "1.5n"),
        (math.nan, "NaN"),
        (math.inf, "+Inf"),
        ("42", "42"),
    ],
)
def test_humanize(value: float, expected: str) -> None:
    assert humanize(value) == expected


def test_other_humanizers() -> None:
    assert [humanize1024(v) for v in (0.5, 1, 1024, 1536, 1024**3)] == [
        "0.5",
        "1",
        "1ki",
        "1.5ki",
        "1Gi",
    ]
    assert [humanizePercentage(v) for v in (0, 0.5, 0.123456, 1.5)] == [
        "0%",
        "50%",
        "12.35%",
        "150%",
    ]
    assert [humanizeDuration(v) for v in (0, 0.25, 1.5, 65, 3661, 93784, -90)] == [
        "0s",
        "250ms",
        "1.5s",
        "1m 5s",
        "1h 1m 1s",
        "1d 2h 3m 4s",
        "-1m 30s",
    ]
    assert humanizeTimestamp(1700000000) == "2023-11-14 22:13:20 +0000 UTC"
    assert humanizeTimestamp(1.5) == "1970-01-01 00:00:01.5 +0000 UTC"
    assert humanizeTimestamp(-1.25) == "1969-12-31 23:59:58.75 +0000 UTC"
    with pytest.raises(ValueError, match="overflows int64"):
        humanizeTimestamp(1e12)
    assert printf("%v|%q|%5.1f|%g", "a", "b", 2.25, 1e6) == 'a|"b"|  2.2|1e+06'
    assert [stripPort(v) for v in ("h:80", "[::1]:80", "h", "::1")] == ["h", "::1", "h", "::1"]
    with pytest.raises(ValueError, match="not a number"):
        humanize("web-1")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (100.0, "100"),
        (0.25, "0.25"),
        (123456.0, "123456"),
        (1e6, "1e+06"),
        (1234567.0, "1.234567e+06"),
        (0.0001, "0.0001"),
        (0.00001, "1e-05"),
        (-1.5e-7, "-1.5e-07"),
        (math.nan, "NaN"),
        (-math.inf, "-Inf"),
    ],
)
def test_value_prints_like_go(value: float, expected: str) -> None:
    assert go_float(value) == expected


ORACLE_VALUES = [
    0, 1, -1, 0.5, 999.5, 1000, 1234567, -2500, 1e27, 0.000123, -1.5e-7, 1e-30, 1e6, 123456,
    1536, 1024, 3661.5, 93784, 0.25, 59.99, 1e21, 1700000000, 0.123456789, 100,
    -0.001, -93784.5, math.nan, math.inf, -math.inf, 1023.9, 0.9999,
]  # fmt: skip
ORACLE_TEMPLATES = {
    "v": "{{ $value }}",
    "h": "{{ $value | humanize }}",
    "k": "{{ humanize1024 $value }}",
    "p": "{{ humanizePercentage $value }}",
    "d": "{{ $value | humanizeDuration }}",
    "t": "{{ humanizeTimestamp $value }}",
    "f": '{{ printf "%.2f|%g|%5.1f" $value $value $value }}',
}


def test_functions_render_as_in_prometheus(tmp_path: Path) -> None:
    """promtool renders each template for each value; ours must print the same."""
    annotations = "".join(f"          {k}: '{v}'\n" for k, v in ORACLE_TEMPLATES.items())
    (tmp_path / "r.yml").write_text(
        f"groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: x\n"
        f"        annotations:\n{annotations}"
    )
    series = "".join(
        f"      - series: 'x{{id=\"{i}\"}}'\n        values: '{go_float(v)}'\n"
        for i, v in enumerate(ORACLE_VALUES)
    )
    (tmp_path / "t.yml").write_text(
        "rule_files: [r.yml]\ntests:\n  - interval: 1m\n    input_series:\n"
        f"{series}    alert_rule_test:\n      - eval_time: 0m\n        alertname: A\n"
        "        exp_alerts: []\n"
    )
    run = subprocess.run(
        ["promtool", "test", "rules", "t.yml"], cwd=tmp_path, capture_output=True, text=True
    )
    got = run.stdout + run.stderr
    rendered = {
        int(i): dict(re.findall(r'(\w)="((?:[^"\\]|\\.)*)"', notes))
        for i, notes in re.findall(r'id="(\d+)".*?\n\s*Annotations:\{(.*?)\},?\n', got)
    }
    assert len(rendered) == len(ORACLE_VALUES), got
    templates = {k: compile_template(v) for k, v in ORACLE_TEMPLATES.items()}
    for i, value in enumerate(ORACLE_VALUES):
        for key, template in templates.items():
            theirs = rendered[i][key]
            if theirs.startswith("<error expanding template"):
                with pytest.raises(TemplateError):
                    template.render({}, float(value))
            else:
                assert template.render({}, float(value)) == theirs, f"{key}: {value!r}"
