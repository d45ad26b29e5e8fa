"""Translate Prometheus' (Go text/template) forms into jinja2.

Rule templates are jinja2; Prometheus' forms are accepted too and translated action by action:

===============================  ======================================
Prometheus                       jinja2
===============================  ======================================
``{{ $labels.instance }}``       ``{{ labels["instance"] }}``
``{{ $value }}``, ``{{ .Value }}``  ``{{ value }}``
``{{ $externalLabels.env }}``    ``{{ external_labels["env"] }}``
``{{ $value | humanize }}``      ``{{ humanize(value) }}``
``{{ printf "%.1f" $value }}``   ``{{ printf("%.1f", value) }}``
``{{ if gt $value 90.0 }}``      ``{% if (value > 90.0) %}``
``{{ else }}``, ``{{ end }}``    ``{% else %}``, ``{% endif %}``
===============================  ======================================

An action is translated when it reads as Go (a ``$`` variable, a ``.Field``, a call without
parentheses, a Go keyword); one that reads as jinja2 is left alone. A Go form that cannot be
translated (``range``, ``with``, an unknown ``$variable`` or function) is an error, as it is
for Prometheus.

Example:
    >>> translate('{{ $labels.host }} at {{ $value | humanizePercentage }}')
    '{{ labels["host"] }} at {{ humanizePercentage(value) }}'
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection

from streams.rules.errors import TemplateError
from streams.rules.templating.humanize import FUNCTIONS

_ACTION = re.compile(r"\{\{(-?)(.*?)(-?)\}\}", re.DOTALL)
_GO_TOKEN = re.compile(
    r"""\s*(?:
      (?P<string>"(?:[^"\\]|\\.)*"|`[^`]*`)
    | (?P<var>\$[A-Za-z_]\w*(?:\.\w+)*)
    | (?P<field>\.[A-Z]\w*(?:\.\w+)*)
    | (?P<number>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)
    | (?P<ident>[A-Za-z_]\w*)
    | (?P<punct>[|()])
    )""",
    re.VERBOSE | re.DOTALL,
)
_VAR = re.compile(r"\$[A-Za-z_]\w*(?:\.\w+)*")
_VARIABLES = {"$labels": "labels", "$value": "value", "$externalLabels": "external_labels"}
_VARIABLES |= {"$externalURL": "external_url"}
_FIELDS = {".Labels": "labels", ".Value": "value", ".ExternalLabels": "external_labels"}
_FIELDS |= {".ExternalURL": "external_url"}
_COMPARE = {"eq": "==", "ne": "!=", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}
_CONSTANTS = {"true": "True", "false": "False", "nil": "None"}
_UNSUPPORTED = ("range", "with", "define", "template", "block", "break", "continue")


class _Unknown(Exception):
    """The action is not Go-shaped; leave it to jinja2."""


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        m = _GO_TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise _Unknown
        kind = m.lastgroup or ""
        if kind == "field" and m.start(kind) > 0 and text[m.start(kind) - 1] not in " \t\n(|":
            raise _Unknown  # jinja2 attribute access such as labels.Foo
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


class _Action:
    """A recursive-descent translator of one Go pipeline into a jinja2 expression."""

    def __init__(self, tokens: list[tuple[str, str]], functions: Collection[str], source: str):
        self.tokens = tokens
        self.pos = 0
        self.functions = functions
        self.source = source

    def error(self, message: str) -> TemplateError:
        return TemplateError(message, source=self.source)

    def peek(self) -> tuple[str, str]:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else ("end", "")

    def pipeline(self) -> str:
        result = self.command(None)
        while self.peek() == ("punct", "|"):
            self.pos += 1
            result = self.command(result)
        return result

    def command(self, piped: str | None) -> str:
        words: list[tuple[str, str]] = []
        while self.peek()[0] not in ("end",) and self.peek()[1] not in ("|", ")"):
            words.append(self.peek())
            self.pos += 1
            if words[-1] == ("punct", "("):
                words[-1] = ("expr", self.pipeline())
                if self.peek() != ("punct", ")"):
                    raise self.error("unclosed '(' in template action")
                self.pos += 1
        if not words:
            raise self.error("empty command in template action")
        head, rest = words[0], [self.operand(w) for w in words[1:]]
        if piped is not None:
            rest.append(piped)
        if head[0] != "ident" or head[1] in _CONSTANTS:
            if rest:
                raise self.error(f"{head[1]} is not a function and takes no arguments")
            return self.operand(head)
        return self.call(head[1], rest)

    def call(self, name: str, args: list[str]) -> str:
        if name in _COMPARE and len(args) == 2:
            return f"({args[0]} {_COMPARE[name]} {args[1]})"
        if name in ("and", "or") and len(args) >= 2:
            return "(" + f" {name} ".join(args) + ")"
        if name == "not" and len(args) == 1:
            return f"(not {args[0]})"
        if name == "index" and len(args) == 2:
            return f"{args[0]}[{args[1]}]"
        if name in self.functions:
            return f"{name}({', '.join(args)})"
        raise self.error(f'function "{name}" not defined')

    def operand(self, token: tuple[str, str]) -> str:
        kind, text = token
        if kind == "expr":
            return f"({text})"
        if kind == "string":
            return json.dumps(text[1:-1]) if text.startswith("`") else text
        if kind == "number":
            return text
        if kind == "ident":
            if text in _CONSTANTS:
                return _CONSTANTS[text]
            if text in self.functions:
                return self.call(text, [])
            raise self.error(f'function "{text}" not defined')
        if kind in ("var", "field"):
            return self.path(kind, text)
        raise self.error(f"unexpected {text!r} in template action")

    def path(self, kind: str, text: str) -> str:
        if kind == "var":
            head, _, rest = text.partition(".")
            names = _VARIABLES
        else:
            head, rest = ("." + text[1:].partition(".")[0], text[1:].partition(".")[2])
            names = _FIELDS
        if head not in names:
            raise self.error(f"undefined variable {json.dumps(head)}")
        keys = "".join(f"[{json.dumps(k)}]" for k in rest.split(".") if k)
        return names[head] + keys


def _looks_go(tokens: list[tuple[str, str]], functions: Collection[str]) -> bool:
    if any(kind in ("var", "field") for kind, _ in tokens):
        return True
    if tokens[0][1] in (*_COMPARE, "if", "else", "end", "index", *_UNSUPPORTED):
        return True
    for i, (kind, text) in enumerate(tokens[:-1]):
        at_head = i == 0 or tokens[i - 1][1] in ("|", "(")
        if kind == "ident" and text in functions and at_head and tokens[i + 1][0] != "punct":
            return True
    return False


def _jinja_vars(body: str, template: str) -> str:
    """Rewrite ``$labels.x`` and friends inside an action that is otherwise jinja2."""

    def var(m: re.Match[str]) -> str:
        return _Action([], (), template).path("var", m.group())

    return _VAR.sub(var, body)


def translate(template: str, functions: Collection[str] = FUNCTIONS) -> str:
    """Rewrite every Go-form action of ``template`` into jinja2; leave jinja2 as it is.

    Args:
        template: the label or annotation text from the rule file.
        functions: names callable without parentheses, Go style (``humanize $value``).

    Raises:
        TemplateError: a Go form that has no translation or refers to an unknown name.
    """
    open_ifs = 0

    def action(m: re.Match[str]) -> str:
        nonlocal open_ifs
        left, body, right = m.group(1), m.group(2).strip(), m.group(3)
        if body.startswith("/*") and body.endswith("*/"):
            return "{#" + left + body[2:-2] + right + "#}"
        try:
            tokens = _tokens(body)
        except _Unknown:
            tokens = []
        if not tokens or not _looks_go(tokens, functions):
            return "{{" + left + _jinja_vars(m.group(2), template) + right + "}}"
        word = tokens[0][1]
        if word in _UNSUPPORTED and tokens[0][0] == "ident":
            msg = f"Go template action '{word}' is not supported; write it in jinja2 ({{% for %}})"
            raise TemplateError(msg, source=template)
        block = "{%" + left + " {} " + right + "%}"
        if word == "end":
            if open_ifs == 0:
                raise TemplateError("{{ end }} without a matching {{ if }}", source=template)
            open_ifs -= 1
            return block.replace("{}", "endif")
        if word == "else" and len(tokens) == 1:
            return block.replace("{}", "else")
        if word in ("if", "else"):
            skip = 2 if word == "else" and tokens[1][1] == "if" else 1
            expr = _Action(tokens[skip:], functions, template).pipeline()
            open_ifs += word == "if"
            return block.replace("{}", f"{'if' if word == 'if' else 'elif'} {expr}")
        translator = _Action(tokens, functions, template)
        expr = translator.pipeline()
        if translator.pos != len(tokens):
            raise TemplateError(f"unexpected {tokens[translator.pos][1]!r}", source=template)
        return "{{" + left + " " + expr + " " + right + "}}"

    return _ACTION.sub(action, template)
