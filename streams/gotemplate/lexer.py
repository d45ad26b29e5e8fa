"""Go template text cut into tokens, each with its offset in the source.

The rules are Go's ``text/template/parse`` lexer's: text runs up to ``{{``; ``{{- `` and
`` -}}`` trim the white space (space, tab, CR, LF) before and after the action; a comment
``{{/* ... */}}`` must close right before the delimiter and produces nothing.

Example:
    >>> tokens = lex("t", "a {{- .B | printf `%s` -}} c")
    >>> [(t.kind, t.value) for t in tokens]  # doctest: +NORMALIZE_WHITESPACE
    [('text', 'a'), ('{{', '{{'), ('field', '.B'), ('space', ' '), ('|', '|'),
     ('space', ' '), ('identifier', 'printf'), ('space', ' '), ('raw', '`%s`'),
     ('}}', '}}'), ('text', 'c'), ('eof', '')]
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from streams.gotemplate.errors import TemplateError
from streams.gotemplate.literals import quote

SPACES = " \t\r\n"
KEYWORDS = frozenset(
    {"block", "break", "continue", "define", "else", "end", "if", "range", "template", "with"}
)
_WORD = re.compile(r"\w*")
_NUMBER = re.compile(
    r"[+-]?(?:0[xX][0-9a-fA-F_]*(?:\.[0-9a-fA-F_]*)?(?:[pP][+-]?[0-9_]+)?"
    r"|0[oO][0-7_]+|0[bB][01_]+|[0-9_]*\.?[0-9_]*(?:[eE][+-]?[0-9_]+)?)i?"
)
_TERMINATORS = frozenset(SPACES + ".,|:()")


@dataclass(frozen=True, slots=True)
class Token:
    """One token: its kind, its text and where it starts.

    Kinds: ``text``, ``{{``, ``}}``, ``space``, ``identifier``, ``field``, ``variable``,
    ``.`` (the dot), ``string``, ``raw``, ``char`` (a character constant), ``number``,
    ``bool``, ``nil``, ``|``, ``(``, ``)``, ``=``, ``:=``, ``punct`` (such as ``,``),
    ``eof``, and each keyword under its own name.
    """

    kind: str
    value: str
    pos: int


class _Lexer:
    def __init__(self, name: str, text: str) -> None:
        self.name = name
        self.text = text
        self.pos = 0
        self.tokens: list[Token] = []

    def fail(self, reason: str, at: int | None = None) -> TemplateError:
        offset = self.pos if at is None else at
        return TemplateError.at(reason, name=self.name, source=self.text, offset=offset)

    def emit(self, kind: str, start: int, end: int | None = None) -> None:
        self.tokens.append(Token(kind, self.text[start : self.pos if end is None else end], start))

    def run(self) -> list[Token]:
        text = self.text
        while True:
            at = text.find("{{", self.pos)
            if at < 0:
                if self.pos < len(text):
                    self.tokens.append(Token("text", text[self.pos :], self.pos))
                self.tokens.append(Token("eof", "", len(text)))
                return self.tokens
            trim = _left_trim(text, at + 2)
            chunk = text[self.pos : at]
            if trim:
                chunk = chunk.rstrip(SPACES)
            if chunk:
                self.tokens.append(Token("text", chunk, self.pos))
            self.pos = at + 2 + (2 if trim else 0)
            if text.startswith("/*", self.pos):
                self.comment()
            else:
                self.tokens.append(Token("{{", "{{", at))
                self.action()

    def comment(self) -> None:
        end = self.text.find("*/", self.pos + 2)
        if end < 0:
            raise self.fail("unclosed comment")
        self.pos = end + 2
        trim = self.at_right_delim()
        if trim is None:
            raise self.fail("comment ends before closing delimiter")
        self.pos += 4 if trim else 2
        if trim:
            self.skip_spaces()

    def at_right_delim(self) -> bool | None:
        """None if not at ``}}``, else whether a trim marker precedes it."""
        text, pos = self.text, self.pos
        if text[pos : pos + 1] in tuple(SPACES) and text.startswith("-}}", pos + 1):
            return True
        return False if text.startswith("}}", pos) else None

    def skip_spaces(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] in SPACES:
            self.pos += 1

    def action(self) -> None:
        depth = 0
        text = self.text
        while True:
            trim = self.at_right_delim()
            if trim is not None:
                if depth:
                    raise self.fail("unclosed left paren")
                self.pos += 2 if trim else 0
                self.tokens.append(Token("}}", "}}", self.pos))
                self.pos += 2
                if trim:
                    self.skip_spaces()
                return
            if self.pos >= len(text):
                raise self.fail("unclosed action")
            start, char = self.pos, text[self.pos]
            if char in SPACES:
                self.skip_spaces()
                if text[self.pos - 1] in SPACES and text.startswith("-}}", self.pos):
                    self.pos -= 1  # the space belongs to the trim marker
                if self.pos > start:
                    self.emit("space", start)
            elif char in "=|()":
                self.pos += 1
                depth += {"(": 1, ")": -1}.get(char, 0)
                if depth < 0:
                    raise self.fail("unexpected right paren", start)
                self.emit(char, start)
            elif char == ":":
                if not text.startswith(":=", start):
                    raise self.fail("expected :=", start)
                self.pos += 2
                self.emit(":=", start)
            elif char in "\"`'":
                self.quoted(char)
            elif char in "$.":
                self.field_or_variable(char)
            elif char in "+-" or char.isdigit():
                self.number()
            elif char.isalnum() or char == "_":
                self.identifier()
            elif char.isascii() and char.isprintable():
                self.pos += 1
                self.emit("punct", start)
            else:
                raise self.fail(f"unrecognized character in action: {_rune(char)}")

    def quoted(self, quote: str) -> None:
        start, text = self.pos, self.text
        self.pos += 1
        while True:
            if self.pos >= len(text) or (quote != "`" and text[self.pos] == "\n"):
                what = {"`": "raw quoted string", "'": "character constant"}.get(quote)
                raise self.fail(f"unterminated {what or 'quoted string'}", start)
            char = text[self.pos]
            self.pos += 1
            if char == "\\" and quote != "`" and self.pos < len(text):
                self.pos += 1
            elif char == quote:
                break
        self.emit({"`": "raw", "'": "char"}.get(quote, "string"), start)

    def at_terminator(self) -> bool:
        return (
            self.pos >= len(self.text)
            or self.text[self.pos] in _TERMINATORS
            or self.at_right_delim() is not None
        )

    def field_or_variable(self, sigil: str) -> None:
        start = self.pos
        if sigil == "." and self.pos + 1 < len(self.text) and self.text[self.pos + 1].isdigit():
            self.number()
            return
        self.pos += 1
        if self.at_terminator():
            self.emit("variable" if sigil == "$" else ".", start)
            return
        self.pos = _WORD.match(self.text, self.pos).end()  # type: ignore[union-attr]
        if not self.at_terminator():
            raise self.fail(f"bad character {_rune(self.text[self.pos])}")
        self.emit("variable" if sigil == "$" else "field", start)

    def number(self) -> None:
        start = self.pos
        self.pos = _NUMBER.match(self.text, start).end()  # type: ignore[union-attr]
        digits = any(c.isdigit() for c in self.text[start : self.pos])
        if not digits or (self.pos < len(self.text) and self.text[self.pos].isalnum()):
            self.pos += self.pos < len(self.text)
            raise self.fail(f"bad number syntax: {quote(self.text[start : self.pos])}", start)
        self.emit("number", start)

    def identifier(self) -> None:
        start = self.pos
        self.pos = _WORD.match(self.text, start).end()  # type: ignore[union-attr]
        if not self.at_terminator():
            raise self.fail(f"bad character {_rune(self.text[self.pos])}")
        word = self.text[start : self.pos]
        if word in KEYWORDS or word == "nil":
            self.emit(word, start)
        else:
            self.emit("bool" if word in ("true", "false") else "identifier", start)


def _left_trim(text: str, at: int) -> bool:
    return text.startswith("-", at) and at + 1 < len(text) and text[at + 1] in SPACES


def _rune(char: str) -> str:
    """A character as Go's ``%#U`` shows it: ``U+0021 '!'``."""
    shown = f" '{char}'" if char.isprintable() else ""
    return f"U+{ord(char):04X}{shown}"


def lex(name: str, text: str) -> list[Token]:
    """The tokens of ``text``, ending with an ``eof`` token.

    Raises:
        TemplateError: an unclosed action, comment or string, or a bad character.
    """
    return _Lexer(name, text).run()
