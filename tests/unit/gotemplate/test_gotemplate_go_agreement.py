"""The interpreter against Go: each expected output or error was produced by Go's own
text/template (Go 1.26, run on the same template and data), except where a comment says so.
"""

from __future__ import annotations

from typing import Any

import pytest

from streams.gotemplate import TemplateError, TemplateSet

RENDERED: list[tuple[str, Any, str, str]] = [
    (
        "{{ range $i, $h := .hosts }}{{ if $i }}, {{ end }}{{ $h | printf `%-4s|` }}{{ end }}",
        {"hosts": ["a", "bb"]},
        "default",
        "a   |, bb  |",
    ),
    ("a {{- /* c */ -}} b", {}, "default", "ab"),
    ("a  {{- /* c */}} b {{/* x */ -}}  c", {}, "default", "a b c"),
    (
        '{{ .x }} {{ .m }} {{ 3.0 }} {{ 1e6 }} {{ printf "%T %T" 3 3.0 }}',
        {"x": None, "m": {"b": [1, 2.5], "a": "x"}},
        "default",
        "<no value> map[a:x b:[1 2.5]] 3 1e+06 int float64",
    ),
    (
        "{{ .missing }} {{ .missing.deeper }} {{ print .missing }}",
        {},
        "default",
        "<no value> <no value> <nil>",
    ),
    (
        "{{ if and .a (not .b) }}yes{{ else if .c }}c{{ else }}no{{ end }}",
        {"a": 1, "b": 0},
        "default",
        "yes",
    ),
    (
        "{{ with $x := .a }}{{ $x }}{{ . }}{{ end }}{{ range .m }}[{{ . }}]{{ else }}empty{{ end }}",
        {"a": "A", "m": {}},
        "default",
        "AAempty",
    ),
    (
        "{{ range $k, $v := .m }}{{ $k }}={{ $v }};{{ end }}",
        {"m": {"z": 1, "a": 2, "B": 3}},
        "default",
        "B=3;a=2;z=1;",
    ),
    (
        "{{ $x := 1 }}{{ range .l }}{{ if eq . 2 }}{{ continue }}{{ end }}{{ if eq . 4 }}{{ break }}{{ end }}{{ $x = . }}{{ . }}{{ end }} {{ $x }}",
        {"l": [1, 2, 3, 4, 5]},
        "default",
        "13 3",
    ),
    (
        '{{ index .m "k" 1 }} {{ slice "hello" 1 3 }} {{ len .l }} {{ print 1 2 "a" 3 }}|{{ println 1 "a" }}',
        {"m": {"k": [5, 6]}, "l": [1]},
        "default",
        "6 el 1 1 2a3|1 a\n",
    ),
    (
        '{{ html "<a&\'>" }} {{ js "it\'s <b>=" }} {{ urlquery "a b/c~_.-" }} {{ html 1 2 }}',
        {},
        "default",
        "&lt;a&amp;&#39;&gt; it\\'s \\u003Cb\\u003E\\u003D a+b%2Fc~_.- 1 2",
    ),
    (
        '{{ define "T" }}[{{ . }}]{{ end }}{{ template "T" .x }}{{ block "B" . }}blk{{ end }}',
        {"x": 5},
        "default",
        "[5]blk",
    ),
    (
        '{{ lt 1 2 }} {{ ge "b" "a" }} {{ eq 1 2 1 }} {{ ne .x nil }}',
        {"x": None},
        "default",
        "true true true false",
    ),
    (
        '{{ printf "%5.2f|%-5d|%05d|%x|%X|%o|%q|%v|%+d|%e|%g" 3.14159 42 -42 255 "hi" 8 \'a\' true 5 123456.0 1e-7 }}',
        {},
        "default",
        " 3.14|42   |-0042|ff|6869|10|'a'|true|+5|1.234560e+05|1e-07",
    ),
    (
        '{{ printf "%d" }} {{ printf "%d" 1 2 }} {{ printf "%s" 1.5 }} {{ printf "%!" }} {{ printf "%" }}',
        {},
        "default",
        "%!d(MISSING) 1%!(EXTRA int=2) %!s(float64=1.5) %!!(MISSING) %!(NOVERB)",
    ),
    (
        '{{ printf "%v %v %v %v %v" 1e21 123456789.0 0.0001 0.00001 100.5 }}',
        {},
        "default",
        "1e+21 1.23456789e+08 0.0001 1e-05 100.5",
    ),
    (
        '{{ printf "%.3g %.10g %g %G %.2e %8.3f|%-8.2f|" 1234567.0 123456.0 1e6 1e-10 12345.678 3.14159 2.5 }}',
        {},
        "default",
        "1.23e+06 123456 1e+06 1E-10 1.23e+04    3.142|2.50    |",
    ),
    (
        '{{ printf "%s %v %d" .l .l .l }} {{ printf "%q" .s }}',
        {"l": [1, 2], "s": ["a", "b"]},
        "default",
        '[%!s(int=1) %!s(int=2)] [1 2] [1 2] ["a" "b"]',
    ),
    (
        '{{ printf "%x %X %#x %#o %b %c %U %08.3f %+.1e" "hi" 255 255 8 5 65 65 3.14159 12345.0 }}',
        {},
        "default",
        "6869 FF 0xff 010 101 A U+0041 0003.142 +1.2e+04",
    ),
    (
        '{{ printf "%6s|%-6s|%.2s|%6.1s|" "abc" "abc" "abc" "abc" }}',
        {},
        "default",
        "   abc|abc   |ab|     a|",
    ),
    ('{{ printf "%t %t %v" true 1 nil }}', {}, "default", "true %!t(int=1) <nil>"),
    ('{{ printf "%*d|%-*d|%.*f" 5 1 4 2 2 3.14159 }}', {}, "default", "    1|2   |3.14"),
    ("{{ eq .x .y }} {{ eq .x 1 }}", {"x": None, "y": None}, "default", "true false"),
    ('{{ index .m "nope" }}|{{ index "abc" 1 }}', {"m": {"a": 1}}, "default", "<no value>|98"),
    (
        "{{ slice .l 1 }} {{ slice .l 1 2 }} {{ slice .l }}",
        {"l": [1, 2, 3]},
        "default",
        "[2 3] [2] [1 2 3]",
    ),
    ("{{ .a.b.c }}", {"a": {"b": {"c": "deep"}}}, "default", "deep"),
    ('{{ . | printf "%s-%s" "a" }}', "b", "default", "a-b"),
    ('{{ "x" | printf "%s|%s" "y" | len }}', {}, "default", "3"),
    (
        '{{ (len .l) }} {{ (index .m "a").b }}',
        {"l": [1, 2], "m": {"a": {"b": 7}}},
        "default",
        "2 7",
    ),
    ("{{ $a := 1 }}{{ if true }}{{ $a := 2 }}{{ $a }}{{ end }}{{ $a }}", {}, "default", "21"),
    ("{{ $a := 1 }}{{ if true }}{{ $a = 2 }}{{ end }}{{ $a }}", {}, "default", "2"),
    (
        "{{ range $i, $e := .l }}{{ $i }}:{{ $e }} {{ end }}",
        {"l": ["x", "y"]},
        "default",
        "0:x 1:y ",
    ),
    ("{{ range $e := .l }}{{ $e }}{{ end }}", {"l": ["x", "y"]}, "default", "xy"),
    ("{{ with .nope }}has{{ else }}none{{ end }}", {}, "default", "none"),
    ('{{ define "a" }}x{{ end }}{{ define "a" }}  {{ end }}{{ template "a" }}', {}, "default", "x"),
    (
        '{{ not 0 }} {{ and 1 0 2 }} {{ or 0 "" "x" }} {{ and 1 2 }} {{ or 0 false }}',
        {},
        "default",
        "true 0 x 2 false",
    ),
    (
        "{{ 'a' }} {{ 0x1F }} {{ 1_000 }} {{ -3 }} {{ +4 }} {{ .5 }} {{ 0755 }} {{ 1e3 }}",
        {},
        "default",
        "97 31 1000 -3 4 0.5 493 1000",
    ),
    ('{{ "a\\tb\\u00e9\\x41" }} {{ `raw\\n` }}', {}, "default", "a\tbéA raw\\n"),
    (
        '{{ printf "%v" .m }}',
        {"m": {"b": {"x": [1]}, "a": None}},
        "default",
        "map[a:<nil> b:map[x:[1]]]",
    ),
    ("{{ .m }} {{ .l }}", {"m": {}, "l": []}, "default", "map[] []"),
    ("{{- 1 -}}  \n {{- 2 }}", {}, "default", "12"),
    ('{{ 1 }}{{- " " -}}{{ 2 }}', {}, "default", "1 2"),
    ("x{{- 1}}", {}, "default", "x1"),
    ("{{- -1 -}}", {}, "default", "-1"),
    ("{{ .Missing }}", {}, "zero", "<no value>"),
    ('{{ printf "%d %s" 1 }}', {}, "default", "1 %!s(MISSING)"),
    ('{{ printf "%5t|%-7v|%3c" true nil 65 }}', {}, "default", " true|<nil>  |  A"),
    ('{{ printf "%v %.2v %10.3v|" 3.0 3.14159 2.0 }}', {}, "default", "3 3.1          2|"),
    ('{{ printf "%d %d" -0 1.0 }}', {}, "default", "0 %!d(float64=1)"),
    ('{{ len "héllo" }} {{ slice "héllo" 0 1 }}', {}, "default", "6 h"),
    ("{{ (.x).y }}", {"x": None}, "default", "<no value>"),
    ("{{ . }}", None, "default", "<no value>"),
    ("{{ .a }} {{ .a.b }}", None, "default", "<no value> <no value>"),
    (
        '{{ printf "%08.3f|%-08.3f|% d|% .2f|%+.0f" -3.14159 2.5 5 2.5 2.5 }}',
        {},
        "default",
        "-003.142|2.500   | 5| 2.50|+2",
    ),
    (
        '{{ printf "%x" -255 }} {{ printf "%#b" 5 }} {{ printf "%O" 8 }} {{ printf "%.3d" 7 }}',
        {},
        "default",
        "-ff 0b101 0o10 007",
    ),
]

# (text, data, missingkey, part of Go's reason, refused at parse time)
REFUSED: list[tuple[str, Any, str, str, bool]] = [
    ("{{ eq 1 1.0 }}", {}, "default", "incompatible types for comparison", False),
    ('{{ eq "a" 1 }}', {}, "default", "incompatible types for comparison", False),
    ("{{ lt true false }}", {}, "default", "invalid type for comparison", False),
    ("{{ eq .l .l }}", {"l": [1]}, "default", "comparable type", False),
    ("{{ len 3 }}", {}, "default", "len of type int", False),
    ("{{ index .l 5 }}", {"l": [1]}, "default", "index out of range: 5", False),
    ("{{ slice .l 2 1 }}", {"l": [1, 2, 3]}, "default", "invalid slice index: 2 > 1", False),
    ("{{ .a.b }}", {"a": "str"}, "default", "can't evaluate field b in type", False),
    ("{{ .a 1 }}", {"a": "str"}, "default", "a is not a method but has arguments", False),
    ("{{ nosuch 1 }}", {}, "default", 'function "nosuch" not defined', True),
    ("{{ $nope }}", {}, "default", 'undefined variable "$nope"', True),
    ("{{ if }}{{ end }}", {}, "default", "missing value for if", True),
    ("{{ range . }}{{ end }", {}, "default", "", True),
    ("{{ end }}", {}, "default", "unexpected {{end}}", True),
    ("{{ else }}", {}, "default", "unexpected {{else}}", True),
    ("{{ if 1 }}", {}, "default", "unexpected EOF", True),
    ("{{ break }}", {}, "default", "{{break}} outside {{range}}", True),
    ("{{ range .l }}{{ break 1 }}{{ end }}", {}, "default", 'unexpected "1" in {{break}}', True),
    ("{{ .x | 3 }}", {}, "default", "non executable command in pipeline stage 2", True),
    ('{{ "unterminated }}', {}, "default", "unterminated quoted string", True),
    ("{{ 3x }}", {}, "default", 'bad number syntax: "3x"', True),
    ('{{ template "nope" }}', {}, "default", 'template "nope" not defined', False),
    (
        '{{ define "a" }}x{{ end }}{{ define "a" }}y{{ end }}',
        {},
        "default",
        'template: multiple definition of template "a"',
        True,
    ),
    (
        '{{ if true }}{{ define "a" }}x{{ end }}{{ end }}',
        {},
        "default",
        "unexpected <define> in command",
        True,
    ),
    (
        "{{ range .s }}{{ . }}{{ end }}",
        {"s": "abc"},
        "default",
        "range can't iterate over abc",
        False,
    ),
    ("{{ .Missing }}", {}, "error", 'map has no entry for key "Missing"', False),
    ("{{ .a.Missing }}", {"a": {}}, "error", 'map has no entry for key "Missing"', False),
    (
        "{{ printf }}",
        {},
        "default",
        "wrong number of args for printf: want at least 1 got 0",
        False,
    ),
    ("{{ printf 1 }}", {}, "default", "expected string; found 1", False),
    ("{{ call .f }}", {"f": None}, "default", "call of nil", False),
    ("{{ nil }}", {}, "default", "nil is not a command", False),
    ("{{ with $x := 1 }}{{ $x }}{{ end }}{{ $x }}", {}, "default", 'undefined variable "$x"', True),
    ("{{ if .a }}{{ else with .b }}b{{ end }}", {}, "default", "unexpected <with> in", True),
    (
        "{{ range $i, $e, $f := .l }}{{ end }}",
        {},
        "default",
        "too many declarations in range",
        True,
    ),
    ("{{ $x, $y := 1 }}", {}, "default", "too many declarations in command", True),
]


@pytest.mark.parametrize(("text", "data", "missingkey", "expected"), RENDERED)
def test_renders_as_go(text: str, data: Any, missingkey: str, expected: str) -> None:
    assert TemplateSet(missingkey=missingkey).render(text, data, name="t") == expected


@pytest.mark.parametrize(("text", "data", "missingkey", "reason", "at_parse"), REFUSED)
def test_refuses_as_go(text: str, data: Any, missingkey: str, reason: str, at_parse: bool) -> None:
    templates = TemplateSet(missingkey=missingkey)
    if at_parse:
        with pytest.raises(TemplateError, match=r"^template: t:1:[0-9]+: ") as parsed:
            templates.check(text, "t")
        assert reason in str(parsed.value)
        return
    if "{{ template" not in text:
        templates.check(text, "t")  # it parses: Go too finds these only when executing
    with pytest.raises(TemplateError) as executed:
        templates.render(text, data, name="t")
    assert reason in str(executed.value)
    assert 'executing "t" at <' in str(executed.value)
