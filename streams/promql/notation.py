"""Prometheus' series notation, as promtool test files write input series and samples.

A series is written as a descriptor, ``metric{label="value", ...}``, and its values in the
expanding notation of Prometheus' parser (2.42):

- ``a`` one value: a number (``1``, ``-2.5``, ``1e3``, ``010`` is octal 8, ``Inf``, ``NaN``)
  or ``stale`` (a staleness marker);
- ``_`` one missing value, ``_xn`` n missing values;
- ``axn`` n+1 times ``a``; ``a+bxn`` and ``a-bxn`` n+1 values from ``a``, adding ``b`` each
  time (by repeated addition, so ``0.1+0.1x2`` ends at ``0.30000000000000004``).

Values are separated by spaces; the i-th value (from 0) is at ``i * interval``.

Example:
    >>> expand_values("1+2x3 _ stale _x2 4")
    [1.0, 3.0, 5.0, 7.0, None, STALE, None, None, 4.0]
    >>> parse_series('http_requests_total{job="api", code="200"}')
    (('__name__', 'http_requests_total'), ('code', '200'), ('job', 'api'))
"""

from __future__ import annotations

import math
import re

from streams.errors import PulselineError
from streams.promql.series import METRIC_NAME, STALE, Labels


class NotationError(PulselineError):
    """A series descriptor or a values string is not Prometheus' notation.

    Attributes:
        column: 1-based column in the text where the problem is.
        reason: what is wrong, without the position.
    """

    def __init__(self, reason: str, column: int) -> None:
        self.reason = reason
        self.column = column
        super().__init__(f"column {column}: {reason}")


_VALUE_TOKEN = re.compile(
    r"""
      (?P<space>\s+)
    | (?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d*)?)
    | (?P<word>[a-zA-Z_][a-zA-Z0-9_:]*)
    | (?P<sign>[+-])
    """,
    re.VERBOSE,
)


def _tokens(text: str) -> list[tuple[str, str, int]]:
    """Prometheus' lexer in series mode: (kind, text, offset); kinds space, number,
    word, blank, times, sign."""
    out: list[tuple[str, str, int]] = []
    pos = 0
    while pos < len(text):
        ch = text[pos]
        if ch == "_":
            out.append(("blank", ch, pos))
            pos += 1
            continue
        if ch == "x":
            out.append(("times", ch, pos))
            pos += 1
            continue
        m = _VALUE_TOKEN.match(text, pos)
        if m is None:
            raise NotationError(f"unexpected character in series sequence: {ch!r}", pos + 1)
        kind = m.lastgroup or ""
        end = m.end()
        follows = text[end] if end < len(text) else " "
        if kind == "number" and follows != "x" and (follows.isalnum() or follows == "_"):
            raise NotationError(f"bad number syntax: {text[pos : end + 1]!r}", pos + 1)
        out.append((kind, m.group(), pos))
        pos = end
    return out


def _number(text: str, column: int) -> float:
    """Go's ``parser.number``: an integer in base 0 (``010`` is octal), else a float."""
    if re.fullmatch(r"0[0-7]+", text):
        return float(int(text, 8))
    try:
        value = float(text)
    except ValueError:
        raise NotationError(f"error parsing number: {text!r} is not a number", column) from None
    if math.isinf(value) and "inf" not in text.lower():
        raise NotationError(f"error parsing number: {text!r} is out of range", column)
    return value


class _ValueParser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokens(text)
        self.pos = 0

    def peek(self, kind: str) -> bool:
        return self.pos < len(self.tokens) and self.tokens[self.pos][0] == kind

    def take(self, kind: str, expected: str) -> tuple[str, str, int]:
        if not self.peek(kind):
            self.unexpected(expected)
        tok = self.tokens[self.pos]
        self.pos += 1
        return tok

    def unexpected(self, expected: str) -> None:
        if self.pos >= len(self.tokens):
            raise NotationError(f"unexpected end of input, expected {expected}", 0)
        kind, text, offset = self.tokens[self.pos]
        what = {"sign": f"<op:{text}>", "times": '"x"', "word": f"identifier {text!r}"}
        msg = f"unexpected {what.get(kind, repr(text))} in series values, expected {expected}"
        raise NotationError(msg, offset + 1)

    def count(self) -> int:
        _, text, offset = self.take("number", "a repetition count")
        if not text.isdigit():
            raise NotationError("invalid repetition in series values", offset + 1)
        return int(text)

    def value(self) -> float:
        if self.peek("word"):
            _, text, offset = self.tokens[self.pos]
            self.pos += 1
            if text.lower() in ("inf", "nan"):
                return _number(text, offset + 1)
            if text != "stale":
                msg = f'unexpected identifier "{text}" in series values, expected number or "stale"'
                raise NotationError(msg, offset + 1)
            return STALE
        sign = 1.0
        if self.peek("sign"):
            sign = -1.0 if self.tokens[self.pos][1] == "-" else 1.0
            self.pos += 1
        if self.peek("word") and self.tokens[self.pos][1].lower() in ("inf", "nan"):
            _, text, offset = self.take("word", "a number")
        else:
            _, text, offset = self.take("number", 'a number or "stale"')
        return sign * _number(text, offset + 1)

    def item(self) -> list[float | None]:
        if self.peek("blank"):
            self.pos += 1
            if self.peek("times"):
                self.pos += 1
                return [None] * self.count()
            return [None]
        start = self.value()
        if self.peek("times"):
            self.pos += 1
            return [start] * (self.count() + 1)
        if self.peek("sign"):
            step = self.value()
            self.take("times", '"x"')
            out: list[float | None] = []
            current = start
            for _ in range(self.count() + 1):
                out.append(current)
                current = current + step  # a stale first value continues as NaN, as in Go
            return out
        return [start]


def expand_values(text: str) -> list[float | None]:
    """The values of a series in expanding notation; None where a value is missing.

    Raises:
        NotationError: the text is not Prometheus' notation; ``column`` says where.
    """
    parser = _ValueParser(text)
    out: list[float | None] = []
    while parser.pos < len(parser.tokens):
        if parser.peek("space"):
            parser.pos += 1
            continue
        out.extend(parser.item())
        if parser.pos < len(parser.tokens) and not parser.peek("space"):
            parser.unexpected("a space between values")
    return out


_DESC_TOKEN = re.compile(
    r"""
      (?P<space>\s+)
    | (?P<ident>[a-zA-Z_:][a-zA-Z0-9_:]*)
    | (?P<string>"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|`[^`]*`)
    | (?P<punct>[{}=,])
    """,
    re.VERBOSE,
)
_GO_ESCAPE = re.compile(r"\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|[0-7]{3}|.)")
_SIMPLE = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}


def _unquote(token: str) -> str:
    if token[0] == "`":
        return token[1:-1]

    def escape(m: re.Match[str]) -> str:
        code = m.group(1)
        if code[0] in "xuU" and len(code) > 1:
            return chr(int(code[1:], 16))
        if len(code) == 3 and code.isdigit():
            return chr(int(code, 8))
        return _SIMPLE.get(code, code)

    return _GO_ESCAPE.sub(escape, token[1:-1])


def _label_set(tokens: list[tuple[str, str, int]], i: int, labels: dict[str, str], end: int) -> int:
    """Read ``name="value", ... }`` from token ``i``; the index after the ``}``."""
    while True:
        if i >= len(tokens):
            raise NotationError("unexpected end of input, expected '}'", end + 1)
        kind, tok, offset = tokens[i]
        if tok == "}":
            return i + 1
        if kind != "ident" or ":" in tok:
            raise NotationError(f"unexpected {tok!r}, expected a label name", offset + 1)
        if i + 2 >= len(tokens) or tokens[i + 1][1] != "=" or tokens[i + 2][0] != "string":
            raise NotationError(f'expected {tok}="value"', offset + 1)
        labels[tok] = _unquote(tokens[i + 2][1])
        i += 3
        if i < len(tokens) and tokens[i][1] == ",":
            i += 1
        elif i < len(tokens) and tokens[i][1] != "}":
            raise NotationError(f"unexpected {tokens[i][1]!r}, expected ',' or '}}'", offset + 1)


def parse_series(text: str, *, keep_empty: bool = False) -> Labels:
    """The label set of a series descriptor, ``name{label="value", ...}`` or ``{...}``.

    Args:
        text: the descriptor.
        keep_empty: keep labels with an empty value (promtool keeps them in expected samples,
            where they never match); otherwise they are no label.

    Raises:
        NotationError: the text is not a series descriptor.
    """
    tokens: list[tuple[str, str, int]] = []
    pos = 0
    while pos < len(text):
        m = _DESC_TOKEN.match(text, pos)
        if m is None:
            raise NotationError(f"unexpected character: {text[pos]!r}", pos + 1)
        if m.lastgroup != "space":
            tokens.append((m.lastgroup or "", m.group(), pos))
        pos = m.end()
    labels: dict[str, str] = {}
    i = 0
    if tokens and tokens[0][0] == "ident":
        labels[METRIC_NAME] = tokens[0][1]
        i = 1
    if i < len(tokens):
        if tokens[i][1] != "{":
            raise NotationError(f"unexpected {tokens[i][1]!r}, expected '{{'", tokens[i][2] + 1)
        i = _label_set(tokens, i + 1, labels, len(text))
        if i < len(tokens):
            raise NotationError(f"unexpected {tokens[i][1]!r} after '}}'", tokens[i][2] + 1)
    if not labels and not text.strip().startswith("{"):
        raise NotationError("expected a metric name or '{'", 1)
    pairs = [(k, v) for k, v in labels.items() if keep_empty or v]
    return tuple(sorted(pairs))
