"""Hand-worked cases of Go template semantics on Python objects: methods, typed maps, times,
HTML escaping, and the checks that refuse a text when it is loaded."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from streams.gotemplate import GoFunc, GoTime, SafeHTML, TemplateError, TemplateSet


class Labels(dict[str, str]):
    """A Go map[string]string with methods, as Alertmanager's KV."""

    go_type = "template.KV"
    go_zero = ""

    def Names(self) -> list[str]:
        return sorted(self)

    def Without(self, *names: str) -> Labels:
        return Labels({k: v for k, v in self.items() if k not in names})


@dataclass
class Pair:
    Name: str
    Value: str


def test_methods_on_maps_come_before_keys_and_take_arguments() -> None:
    labels = Labels(job="node", Names="shadowed", zone="eu")
    text = "{{ .Names }} {{ (.Without `job`).Names }} {{ .job }}"
    assert TemplateSet().render(text, labels) == "[Names job zone] [Names zone] node"


def test_method_argument_count_is_checked() -> None:
    with pytest.raises(TemplateError, match="wrong number of args for Names: want 0 got 1"):
        TemplateSet().render("{{ .Names 1 }}", Labels())


def test_missing_key_of_typed_map_is_its_zero_under_missingkey_zero() -> None:
    labels = Labels(job="node")
    assert TemplateSet(missingkey="zero").render("[{{ .nope }}]", labels) == "[]"
    assert TemplateSet().render("[{{ .nope }}]", labels) == "[<no value>]"
    assert TemplateSet(missingkey="zero").render('[{{ index . "nope" }}]', labels) == "[]"


def test_struct_fields_and_printing() -> None:
    pair = Pair("job", "node")
    assert TemplateSet().render("{{ .Name }}={{ .Value }} {{ . }} {{ printf `%+v` . }}", pair) == (
        "job=node {job node} {Name:job Value:node}"
    )
    with pytest.raises(TemplateError, match="can't evaluate field Other in type Pair"):
        TemplateSet().render("{{ .Other }}", pair)


def test_unexported_names_are_not_reachable() -> None:
    with pytest.raises(TemplateError, match="can't evaluate field lower"):
        TemplateSet().render("{{ .lower }}", Pair("a", "b"))


def test_times_print_and_format_as_go() -> None:
    # 1700000000.25 is 2023-11-14 22:13:20.25 UTC, a Tuesday
    t = GoTime.from_unix(1700000000.25)
    text = '{{ .T }}|{{ .T.Format "Monday 02 Jan 2006 03:04:05.000 PM -07:00" }}|{{ .T.Unix }}'
    assert TemplateSet().render(text, {"T": t}) == (
        "2023-11-14 22:13:20.25 +0000 UTC|Tuesday 14 Nov 2023 10:13:20.250 PM +00:00|1700000000"
    )
    assert TemplateSet().render("{{ .T }} {{ .T.IsZero }}", {"T": GoTime.zero()}) == (
        "0001-01-01 00:00:00 +0000 UTC true"
    )


def test_html_rendering_escapes_values_but_not_safe_text() -> None:
    data = {"v": "<b>&", "safe": SafeHTML("<i>ok</i>")}
    text = "<p>{{ .v }}</p>{{ .safe }}"
    assert TemplateSet().render(text, data, html=True) == "<p>&lt;b&gt;&amp;</p><i>ok</i>"
    assert TemplateSet().render(text, data) == "<p><b>&</p><i>ok</i>"


def test_declared_parameter_types_are_enforced() -> None:
    upper = GoFunc("upper", str.upper, ("string",))
    templates = TemplateSet({"upper": upper})
    assert templates.render('{{ upper "a" }}{{ "b" | upper }}', None) == "AB"
    with pytest.raises(TemplateError, match="expected string; found 3"):
        templates.render("{{ upper 3 }}", None)
    with pytest.raises(TemplateError, match="wrong type for value; expected string; got int"):
        templates.render("{{ len `ab` | upper }}", None)


def test_check_refuses_unknown_functions_and_templates_with_their_position() -> None:
    templates = TemplateSet()
    templates.parse("base", '{{ define "known" }}x{{ end }}')
    templates.check('{{ template "known" . }}', "slack title")
    with pytest.raises(TemplateError) as unknown_func:
        templates.check("line one\n  {{ toUpper .x }}", "slack title")
    assert str(unknown_func.value) == 'template: slack title:2:6: function "toUpper" not defined'
    with pytest.raises(TemplateError) as unknown_template:
        templates.check('{{ if . }}{{ template "unknown" }}{{ end }}', "email html")
    assert unknown_template.value.line == 1 and unknown_template.value.column == 23  # at the name


def test_a_later_definition_replaces_an_earlier_one_unless_empty() -> None:
    templates = TemplateSet()
    templates.parse("a", '{{ define "t" }}first{{ end }}')
    templates.parse("b", '{{ define "t" }}second{{ end }}')
    templates.parse("c", '{{ define "t" }} {{ end }}')
    assert templates.execute("t", None) == "second"


def test_text_defines_stay_local_to_one_render() -> None:
    templates = TemplateSet()
    assert templates.render('{{ define "x" }}X{{ end }}{{ template "x" }}', None) == "X"
    assert "x" not in templates.names()


def test_recursion_is_bounded() -> None:
    templates = TemplateSet()
    templates.parse("r", '{{ define "loop" }}{{ template "loop" . }}{{ end }}')
    with pytest.raises(TemplateError, match="exceeded maximum template depth"):
        templates.execute("loop", None)
