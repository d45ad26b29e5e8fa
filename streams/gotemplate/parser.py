"""Parsing Go templates: text, actions, control structures and ``define``.

The grammar and its checks are Go 1.19's (the version Alertmanager 0.25 is built with):
``{{else if}}`` chains but no ``{{else with}}``; ``{{break}}`` and ``{{continue}}`` only inside
``{{range}}``; ``define`` only at the top level; two non-empty definitions of one name in one
text are an error.

Example:
    >>> trees = parse("mail", '{{define "t"}}Hi {{.}}{{end}}{{template "t" "you"}}', {"len"})
    >>> sorted(trees)
    ['mail', 't']
    >>> parse("x", "{{nope 1}}", set())
    Traceback (most recent call last):
    ...
    streams.gotemplate.errors.TemplateError: template: x:1:3: function "nope" not defined
"""

from __future__ import annotations

from collections.abc import Container
from dataclasses import dataclass

from streams.gotemplate.lexer import Token
from streams.gotemplate.literals import quote, unquote
from streams.gotemplate.nodes import (
    ActionNode,
    BranchNode,
    BreakNode,
    ContinueNode,
    IfNode,
    ListNode,
    Node,
    PipeNode,
    RangeNode,
    TemplateNode,
    TextNode,
    Tree,
    WithNode,
    is_empty,
)
from streams.gotemplate.pipeline import PipelineParser


@dataclass(slots=True)
class _End(Node):
    """``{{end}}``: closes a body; never stays in a tree."""

    def __str__(self) -> str:
        return "{{end}}"


@dataclass(slots=True)
class _Else(Node):
    """``{{else}}``: closes a body; never stays in a tree."""

    def __str__(self) -> str:
        return "{{else}}"


_BRANCHES: dict[str, type[BranchNode]] = {"if": IfNode, "range": RangeNode, "with": WithNode}


class Parser(PipelineParser):
    """Parses one text into its named trees: the text itself and each ``define``."""

    def __init__(self, name: str, text: str, funcs: Container[str]) -> None:
        super().__init__(name, text, funcs)
        self.range_depth = 0
        self.trees: dict[str, Tree] = {}

    def parse(self) -> dict[str, Tree]:
        root = ListNode(0)
        while self.peek().kind != "eof":
            if self.peek().kind == "{{":
                save = self.i
                self.next()
                if self.next_non_space().kind == "define":
                    self.definition()
                    continue
                self.i = save
            node = self.text_or_action()
            if isinstance(node, _End | _Else):
                raise self.fail(f"unexpected {node}", node.pos)
            root.nodes.append(node)
        self.add(Tree(self.name, root, self.source), self.tokens[0].pos)
        return self.trees

    def add(self, tree: Tree, pos: int) -> None:
        old = self.trees.get(tree.name)
        if old is None or is_empty(old.root):
            self.trees[tree.name] = tree
        elif not is_empty(tree.root):
            reason = f"template: multiple definition of template {quote(tree.name)}"
            raise self.fail(reason, pos)

    def body_of_new_tree(self, context: str) -> ListNode:
        """A define's or block's body: its own variable scope, outside any range."""
        saved_vars, saved_depth = self.vars, self.range_depth
        self.vars, self.range_depth = ["$"], 0
        body, end = self.item_list()
        if not isinstance(end, _End):
            raise self.fail(f"unexpected {end} in {context}", end.pos)
        self.vars, self.range_depth = saved_vars, saved_depth
        return body

    def definition(self) -> None:
        context = "define clause"
        token = self.next_non_space()
        name = self.template_name(token, context)
        self.expect("}}", context)
        self.add(Tree(name, self.body_of_new_tree(context), self.source), token.pos)

    def template_name(self, token: Token, context: str) -> str:
        if token.kind not in ("string", "raw"):
            raise self.unexpected(token, context)
        try:
            return unquote(token.value)
        except ValueError as exc:
            raise self.fail(str(exc), token.pos) from None

    def item_list(self) -> tuple[ListNode, Node]:
        body = ListNode(self.peek().pos)
        while self.peek_non_space().kind != "eof":
            node = self.text_or_action()
            if isinstance(node, _End | _Else):
                return body, node
            body.nodes.append(node)
        raise self.fail("unexpected EOF", self.peek().pos)

    def text_or_action(self) -> Node:
        token = self.next_non_space()
        if token.kind == "text":
            return TextNode(token.pos, token.value)
        if token.kind == "{{":
            return self.action()
        raise self.unexpected(token, "input")

    def action(self) -> Node:
        token = self.next_non_space()
        kind = token.kind
        if kind in _BRANCHES:
            return self.branch(kind, token.pos)
        if kind in ("break", "continue"):
            closing = self.next_non_space()
            if closing.kind != "}}":
                raise self.unexpected(closing, "{{" + kind + "}}")
            if self.range_depth == 0:
                raise self.fail("{{" + kind + "}} outside {{range}}", token.pos)
            return BreakNode(token.pos) if kind == "break" else ContinueNode(token.pos)
        if kind == "else":
            follow = self.peek_non_space()
            if follow.kind == "if":
                return _Else(follow.pos)
            return _Else(self.expect("}}", "else").pos)
        if kind == "end":
            return _End(self.expect("}}", "end").pos)
        if kind in ("template", "block"):
            return self.template_call(kind, token.pos)
        self.backup()
        return ActionNode(token.pos, self.pipeline("command", "}}"))

    def branch(self, context: str, pos: int) -> BranchNode:
        saved = len(self.vars)
        pipe = self.pipeline(context, "}}")
        self.range_depth += context == "range"
        body, end = self.item_list()
        self.range_depth -= context == "range"
        else_body = None
        if isinstance(end, _Else):
            if context == "if" and self.peek().kind == "if":
                self.next()
                else_body = ListNode(end.pos, [self.branch("if", end.pos)])
            else:
                else_body, end = self.item_list()
                if not isinstance(end, _End):
                    raise self.fail(f"expected end; found {end}", end.pos)
        del self.vars[saved:]
        return _BRANCHES[context](pos, pipe, body, else_body)

    def template_call(self, kind: str, pos: int) -> TemplateNode:
        context = f"{kind} clause"
        token = self.next_non_space()
        name = self.template_name(token, context)
        pipe: PipeNode | None = None
        if kind == "block" or self.next_non_space().kind != "}}":
            if kind == "template":
                self.backup()
            pipe = self.pipeline(context, "}}")
        text = self.source[pos : self.end_of(self.i)].strip()
        if kind == "block":
            self.add(Tree(name, self.body_of_new_tree(context), self.source), token.pos)
        return TemplateNode(token.pos, name, pipe, text.removesuffix("}}").strip())


def parse(name: str, text: str, funcs: Container[str]) -> dict[str, Tree]:
    """The trees of ``text``: one under ``name`` and one per ``define`` or ``block``.

    Args:
        name: the name of the text itself, used in error messages.
        text: the template source.
        funcs: the function names templates may call (others are refused).

    Raises:
        TemplateError: the text does not parse, names an unknown function or variable.
    """
    return Parser(name, text, funcs).parse()
