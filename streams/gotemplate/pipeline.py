"""Parsing inside an action: pipelines, commands and operands, as Go parses them.

:class:`PipelineParser` holds the token stream and the variables in scope; the statement
level (if, range, define...) is :class:`streams.gotemplate.parser.Parser`, built on it.
Unknown functions and undeclared variables are refused here, at parse time, as Go does.
"""

from __future__ import annotations

from collections.abc import Container

from streams.gotemplate.errors import TemplateError
from streams.gotemplate.lexer import KEYWORDS, Token, lex
from streams.gotemplate.literals import char_value, number_value, quote, unquote
from streams.gotemplate.nodes import (
    Arg,
    BoolNode,
    ChainNode,
    CommandNode,
    DotNode,
    FieldNode,
    IdentifierNode,
    NilNode,
    NumberNode,
    PipeNode,
    StringNode,
    VariableNode,
)

_OPERAND_START = frozenset(
    {"bool", "char", "number", ".", "field", "identifier", "nil", "raw", "string", "variable", "("}
)
_CONSTANTS = (BoolNode, DotNode, NilNode, NumberNode, StringNode)


def describe(token: Token) -> str:
    """A token as Go names it in messages: ``EOF``, ``<if>``, or its quoted text."""
    if token.kind == "eof":
        return "EOF"
    if token.kind in KEYWORDS or token.kind in (".", "nil"):
        return f"<{token.value}>"
    if len(token.value) > 10:
        return quote(token.value[:10]) + "..."
    return quote(token.value)


class PipelineParser:
    """A token stream with Go's parser primitives and the pipeline grammar."""

    def __init__(self, name: str, text: str, funcs: Container[str]) -> None:
        self.name = name
        self.source = text
        self.funcs = funcs
        self.tokens = lex(name, text)
        self.i = 0
        self.vars: list[str] = ["$"]

    # -- token stream -------------------------------------------------------------------------

    def fail(self, reason: str, pos: int | None = None) -> TemplateError:
        if pos is None:
            pos = self.tokens[min(max(self.i - 1, 0), len(self.tokens) - 1)].pos
        return TemplateError.at(reason, name=self.name, source=self.source, offset=pos)

    def next(self) -> Token:
        token = self.peek()
        self.i += 1
        return token

    def backup(self) -> None:
        self.i -= 1

    def peek(self) -> Token:
        return self.tokens[min(self.i, len(self.tokens) - 1)]

    def peek_non_space(self) -> Token:
        while self.peek().kind == "space":
            self.i += 1
        return self.peek()

    def next_non_space(self) -> Token:
        self.peek_non_space()
        return self.next()

    def unexpected(self, token: Token, context: str) -> TemplateError:
        return self.fail(f"unexpected {describe(token)} in {context}", token.pos)

    def expect(self, kind: str, context: str) -> Token:
        token = self.next_non_space()
        if token.kind != kind:
            raise self.unexpected(token, context)
        return token

    def end_of(self, token_index: int) -> int:
        """The offset just past the token before ``token_index``."""
        before = self.tokens[min(token_index, len(self.tokens)) - 1]
        return before.pos + len(before.value)

    # -- pipelines -----------------------------------------------------------------------------

    def pipeline(self, context: str, end: str) -> PipeNode:
        start = self.peek_non_space().pos
        decls: list[str] = []
        is_assign = False
        while self.peek_non_space().kind == "variable":
            save = self.i
            variable = self.next()
            follow = self.peek_non_space()
            if follow.kind in ("=", ":="):
                self.next_non_space()
                is_assign = follow.kind == "="
                if is_assign and variable.value not in self.vars:
                    raise self.fail(f"undefined variable {quote(variable.value)}", variable.pos)
                decls.append(variable.value)
                self.vars.append(variable.value)
                break
            if follow.kind == "punct" and follow.value == ",":
                self.next_non_space()
                decls.append(variable.value)
                self.vars.append(variable.value)
                if context == "range" and len(decls) < 2:
                    if self.peek_non_space().kind in ("variable", "}}", ")"):
                        continue
                    raise self.fail("range can only initialize variables")
                raise self.fail(f"too many declarations in {context}")
            self.i = save
            break
        cmds: list[CommandNode] = []
        while True:
            token = self.next_non_space()
            if token.kind == end:
                text = self.source[start : token.pos].strip()
                pipe = PipeNode(start, text, decls, is_assign, cmds)
                self.check_pipeline(pipe, context)
                return pipe
            if token.kind not in _OPERAND_START:
                raise self.unexpected(token, context)
            self.backup()
            cmds.append(self.command())

    def check_pipeline(self, pipe: PipeNode, context: str) -> None:
        if not pipe.cmds:
            raise self.fail(f"missing value for {context}")
        for stage, cmd in enumerate(pipe.cmds[1:], start=2):
            if isinstance(cmd.args[0], _CONSTANTS):
                raise self.fail(f"non executable command in pipeline stage {stage}", cmd.pos)

    def command(self) -> CommandNode:
        start = self.peek_non_space().pos
        args: list[Arg] = []
        while True:
            self.peek_non_space()
            operand = self.operand()
            if operand is not None:
                args.append(operand)
            end = self.i
            token = self.next()
            if token.kind == "space":
                continue
            if token.kind in ("}}", ")"):
                self.backup()
            elif token.kind != "|":
                raise self.unexpected(token, "operand")
            break
        if not args:
            raise self.fail("empty command")
        return CommandNode(start, args, self.source[start : self.end_of(end)])

    def operand(self) -> Arg | None:
        node = self.term()
        if node is None or self.peek().kind != "field":
            return node
        names: list[str] = []
        while self.peek().kind == "field":
            names.append(self.next().value[1:])
        text = self.source[node.pos : self.end_of(self.i)]
        if isinstance(node, FieldNode):
            return FieldNode(node.pos, text, node.names + tuple(names))
        if isinstance(node, VariableNode):
            return VariableNode(node.pos, text, node.name, node.names + tuple(names))
        if isinstance(node, _CONSTANTS):
            raise self.fail(f"unexpected . after term {quote(node.text)}")
        return ChainNode(node.pos, text, node, tuple(names))

    def term(self) -> Arg | None:
        token = self.next_non_space()
        kind, text, pos = token.kind, token.value, token.pos
        if kind == "identifier":
            if text not in self.funcs:
                raise self.fail(f"function {quote(text)} not defined", pos)
            return IdentifierNode(pos, text, text)
        if kind == ".":
            return DotNode(pos, text)
        if kind == "nil":
            return NilNode(pos, text)
        if kind == "variable":
            if text not in self.vars:
                raise self.fail(f"undefined variable {quote(text)}", pos)
            return VariableNode(pos, text, text, ())
        if kind == "field":
            return FieldNode(pos, text, (text[1:],))
        if kind == "bool":
            return BoolNode(pos, text, text == "true")
        if kind in ("number", "char"):
            try:
                if kind == "char":
                    code = char_value(text)
                    return NumberNode(pos, text, code, code, float(code))
                return NumberNode(pos, text, *number_value(text))
            except ValueError as exc:
                raise self.fail(str(exc), pos) from None
        if kind == "(":
            pipe = self.pipeline("parenthesized pipeline", ")")
            pipe.pos, pipe.text = pos, self.source[pos : self.end_of(self.i)]
            return pipe
        if kind in ("string", "raw"):
            try:
                return StringNode(pos, text, unquote(text))
            except ValueError as exc:
                raise self.fail(str(exc), pos) from None
        self.backup()
        return None


__all__ = ["PipelineParser", "describe", "lex"]
