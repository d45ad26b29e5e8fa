"""Executing parsed templates with Go's semantics: text, if, with, range, template.

Walks a tree with a dot and a stack of variables, as Go's ``text/template`` does: ``range``
over maps in key order with ``break`` and ``continue``, ``with`` and ``if`` on Go's truth,
``{{template}}`` calls with a depth limit, values printed as Go's ``fmt`` prints them (and
HTML-escaped when asked). Pipelines are evaluated by :mod:`streams.gotemplate.evaluate`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from streams.gotemplate.evaluate import Evaluator
from streams.gotemplate.funcs import GoFunc, html_escape
from streams.gotemplate.gofmt import sprint
from streams.gotemplate.nodes import (
    ActionNode,
    BreakNode,
    ContinueNode,
    IfNode,
    ListNode,
    Node,
    RangeNode,
    TemplateNode,
    TextNode,
    Tree,
    WithNode,
)
from streams.gotemplate.values import (
    MISSING,
    is_sequence,
    sort_keys,
    truth,
)

MAX_DEPTH = 100
"""How deep templates may call templates (Go allows more; Python's stack does not)."""


class SafeHTML(str):
    """Text that HTML rendering prints as is (Go's ``template.HTML``)."""

    go_type = "template.HTML"


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


class Execution(Evaluator):
    """One execution of one tree: output, variables and the template set to call into.

    Args:
        trees: the templates ``{{template}}`` can call, by name.
        funcs: the functions, by name.
        missingkey: Go's option: ``default`` (a missing key has no value), ``zero`` (the
            element type's zero value) or ``error``.
        html: escape every printed value for HTML, except :class:`SafeHTML`.
    """

    def __init__(
        self,
        trees: Mapping[str, Tree],
        funcs: Mapping[str, GoFunc],
        *,
        missingkey: str = "default",
        html: bool = False,
    ) -> None:
        super().__init__(funcs, missingkey)
        self.trees = trees
        self.html = html
        self.out: list[str] = []
        self._walkers: dict[type[Node], Callable[[Any, Any], None]] = {
            TextNode: self._text,
            ActionNode: self._action,
            ListNode: self._list,
            IfNode: self._if_or_with,
            WithNode: self._if_or_with,
            RangeNode: self._range,
            TemplateNode: self._template,
            BreakNode: self._break,
            ContinueNode: self._continue,
        }

    def run(self, tree: Tree, data: Any, depth: int = 0) -> None:
        """Execute ``tree`` with ``data`` as dot and ``$``."""
        saved = (
            getattr(self, "tree", None),
            getattr(self, "vars", None),
            getattr(self, "depth", 0),
        )
        self.tree, self.vars, self.depth = tree, [("$", data)], depth
        try:
            self.walk(data, tree.root)
        finally:
            self.tree, self.vars, self.depth = saved  # type: ignore[assignment]

    def walk(self, dot: Any, node: Node) -> None:
        self._walkers[type(node)](dot, node)

    # -- statements ----------------------------------------------------------------------------

    def _text(self, dot: Any, node: TextNode) -> None:
        self.out.append(node.text)

    def _list(self, dot: Any, node: ListNode) -> None:
        for child in node.nodes:
            self.walk(dot, child)

    def _action(self, dot: Any, node: ActionNode) -> None:
        value = self.pipeline(dot, node.pipe)
        if not node.pipe.decls:
            self.out.append(self.printable(value))

    def printable(self, value: Any) -> str:
        text = "<no value>" if value is None or value is MISSING else sprint(value)
        if self.html and not isinstance(value, SafeHTML):
            return html_escape(text)
        return text

    def _if_or_with(self, dot: Any, node: IfNode | WithNode) -> None:
        mark = len(self.vars)
        value = self.pipeline(dot, node.pipe)
        if truth(value):
            self.walk(value if isinstance(node, WithNode) else dot, node.body)
        elif node.else_body is not None:
            self.walk(dot, node.else_body)
        del self.vars[mark:]

    def _range(self, dot: Any, node: RangeNode) -> None:
        mark = len(self.vars)
        value = self.pipeline(dot, node.pipe)
        items: list[tuple[Any, Any]]
        if value is None or value is MISSING:
            items = []
        elif isinstance(value, Mapping):
            items = [(k, value[k]) for k in sort_keys(list(value))]
        elif is_sequence(value):
            items = list(enumerate(value))
        else:
            raise self.fail(node.pipe, f"range can't iterate over {sprint(value)}")
        for key, element in items:
            if node.pipe.decls:
                self.vars[mark] = (node.pipe.decls[0], element)
            if len(node.pipe.decls) > 1:
                self.vars[mark] = (node.pipe.decls[0], key)
                self.vars[mark + 1] = (node.pipe.decls[1], element)
            try:
                self.walk(element, node.body)
            except _Continue:
                continue
            except _Break:
                break
        if not items and node.else_body is not None:
            self.walk(dot, node.else_body)
        del self.vars[mark:]

    def _break(self, dot: Any, node: BreakNode) -> None:
        raise _Break

    def _continue(self, dot: Any, node: ContinueNode) -> None:
        raise _Continue

    def _template(self, dot: Any, node: TemplateNode) -> None:
        tree = self.trees.get(node.name)
        if tree is None:
            raise self.fail(node, f'template "{node.name}" not defined')
        if self.depth >= MAX_DEPTH:
            raise self.fail(node, f"exceeded maximum template depth ({MAX_DEPTH})")
        value = dot if node.pipe is None else self.pipeline(dot, node.pipe)
        self.run(tree, value, self.depth + 1)
