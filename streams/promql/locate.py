"""Find where a construct sits in a PromQL string.

promql-parser's AST carries no source positions, and its syntax errors carry none either. To
point at an unsupported construct, :mod:`streams.promql.parse` counts the constructs of each
kind while it walks the AST in source order, and this module finds the n-th occurrence of that
kind among the expression's tokens. The tokenizer only serves this search; it never decides
what an expression means (promql-parser does).

Example:
    >>> find_construct("rate(x[5m] offset 1m) + y offset 2m", "offset", 2)
    26
    >>> position('a +\\n  topk(1, b)', 6)
    (2, 3)
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_TOKEN = re.compile(
    r"""
      (?P<space>\s+|\#[^\n]*)
    | (?P<string>"(?:[^"\\]|\\.)*"?|'(?:[^'\\]|\\.)*'?|`[^`]*`?)
    | (?P<number>0[xX][0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?[a-zA-Z0-9]*)
    | (?P<ident>[a-zA-Z_:][a-zA-Z0-9_:]*)
    | (?P<op>==|!=|>=|<=|=~|!~|[-+*/%^<>=(){}\[\],:@!~])
    | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)


@dataclass(frozen=True, slots=True)
class Token:
    """One token: its kind, text, offset in the expression and whether it is inside ``{}``."""

    kind: str
    text: str
    offset: int
    in_braces: bool


def tokenize(text: str) -> list[Token]:
    """Split a PromQL string into tokens, dropping whitespace and ``#`` comments."""
    tokens: list[Token] = []
    depth = 0
    for m in _TOKEN.finditer(text):
        kind = m.lastgroup or "other"
        if kind == "space":
            continue
        value = m.group()
        if value == "}":
            depth = max(depth - 1, 0)
        tokens.append(Token(kind, value, m.start(), depth > 0))
        if value == "{":
            depth += 1
    return tokens


def _is_word(tok: Token, word: str) -> bool:
    return tok.kind == "ident" and not tok.in_braces and tok.text.lower() == word


def _candidates(tokens: list[Token], kind: str) -> list[int]:
    """Offsets of every token that can start a construct of ``kind``, in source order."""
    after = [*tokens[1:], Token("end", "", -1, False)]
    name = kind.partition(":")[2]
    if kind.startswith("call:"):
        return [
            t.offset
            for t, n in zip(tokens, after, strict=True)
            if t.kind == "ident" and not t.in_braces and t.text == name and n.text == "("
        ]
    if kind.startswith("agg:"):
        return [
            t.offset
            for t, n in zip(tokens, after, strict=True)
            if _is_word(t, name) and (n.text == "(" or n.text.lower() in ("by", "without"))
        ]
    if kind == "string":
        return [t.offset for t in tokens if t.kind == "string" and not t.in_braces]
    if kind == "regex":
        return [t.offset for t in tokens if t.text in ("=~", "!~")]
    if kind == "@":
        return [t.offset for t in tokens if t.text == "@"]
    if kind == "subquery":
        return _subqueries(tokens)
    if kind == "or-matcher":
        return _or_matchers(tokens)
    return [t.offset for t in tokens if _is_word(t, kind)]


def _subqueries(tokens: list[Token]) -> list[int]:
    found: list[int] = []
    for i, tok in enumerate(tokens):
        if tok.text != "[":
            continue
        for later in tokens[i + 1 :]:
            if later.text in ("]", "["):
                break
            if ":" in later.text:  # ":1m" lexes as one word: colons are name characters
                found.append(tok.offset)
                break
    return found


def _or_matchers(tokens: list[Token]) -> list[int]:
    found: list[int] = []
    in_group = False
    for tok in tokens:
        if not tok.in_braces:
            in_group = False
        elif tok.kind == "ident" and tok.text.lower() == "or" and not in_group:
            found.append(tok.offset)
            in_group = True
    return found


def find_construct(text: str, kind: str, occurrence: int) -> int | None:
    """The 0-based offset of the ``occurrence``-th (1-based) construct of ``kind`` in ``text``.

    Args:
        text: the PromQL expression.
        kind: ``call:NAME`` (a function call), ``agg:NAME`` (an aggregation), ``string`` (a
            string literal), ``regex`` (a ``=~``/``!~`` matcher), ``subquery``, ``@``,
            ``or-matcher``, or a keyword such as ``offset``, ``group_left``, ``atan2``.
        occurrence: which one, counting from 1 in source order.

    Returns:
        The offset, or None when the tokens hold fewer such constructs.
    """
    found = _candidates(tokenize(text), kind)
    return found[occurrence - 1] if 0 < occurrence <= len(found) else None


def position(text: str, offset: int) -> tuple[int, int]:
    """The 1-based (line, column) of a 0-based offset in ``text``."""
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return line, column
