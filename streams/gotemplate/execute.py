"""Executing parsed templates with Go's semantics.

Walks a tree with a dot and a stack of variables, as Go's ``text/template`` does: fields
and methods through :mod:`streams.gotemplate.values`, calls checked against each function's
declared parameter types, ``range`` over maps in key order, ``missingkey`` as Go's option,
errors as Go words them (``executing "name" at <.Foo>: ...``) with the line and column.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from streams.gotemplate.errors import TemplateError
from streams.gotemplate.funcs import GoFunc, html_escape
from streams.gotemplate.gofmt import sprint
from streams.gotemplate.nodes import (
    ActionNode,
    Arg,
    BreakNode,
    ChainNode,
    CommandNode,
    ContinueNode,
    DotNode,
    FieldNode,
    IdentifierNode,
    IfNode,
    ListNode,
    NilNode,
    Node,
    PipeNode,
    RangeNode,
    TemplateNode,
    TextNode,
    Tree,
    VariableNode,
    WithNode,
)
from streams.gotemplate.params import check_arg, constant_arg, method_func
from streams.gotemplate.values import (
    MISSING,
    field_of,
    is_sequence,
    method,
    sort_keys,
    truth,
    zero_of,
)

MAX_DEPTH = 100
"""How deep templates may call templates (Go allows more; Python's stack does not)."""

_NO_FINAL: Any = object()


class SafeHTML(str):
    """Text that HTML rendering prints as is (Go's ``template.HTML``)."""

    go_type = "template.HTML"


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


class _Failure(Exception):
    """An execution error before the position is attached."""


class Execution:
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
        self.trees = trees
        self.funcs = funcs
        self.missingkey = missingkey
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

    def fail(self, node: Node, reason: str) -> TemplateError:
        at = getattr(node, "text", "")
        where = f'executing "{self.tree.name}" at <{at}>: ' if at else ""
        return TemplateError.at(
            where + reason, name=self.tree.name, source=self.tree.source, offset=node.pos
        )

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

    # -- pipelines -----------------------------------------------------------------------------

    def pipeline(self, dot: Any, pipe: PipeNode) -> Any:
        value: Any = _NO_FINAL
        for cmd in pipe.cmds:
            value = self.command(dot, cmd, value)
        if value is MISSING:
            value = None
        for name in pipe.decls:
            if pipe.is_assign:
                self.assign(pipe, name, value)
            else:
                self.vars.append((name, value))
        return value

    def assign(self, node: Node, name: str, value: Any) -> None:
        for i in range(len(self.vars) - 1, -1, -1):
            if self.vars[i][0] == name:
                self.vars[i] = (name, value)
                return
        raise self.fail(node, f"undefined variable: {name}")

    def variable(self, node: Node, name: str) -> Any:
        for var, value in reversed(self.vars):
            if var == name:
                return value
        raise self.fail(node, f"undefined variable: {name}")

    def command(self, dot: Any, cmd: CommandNode, final: Any) -> Any:
        first = cmd.args[0]
        if isinstance(first, FieldNode):
            return self.chain(dot, dot, first, first.names, cmd.args, final)
        if isinstance(first, VariableNode):
            value = self.variable(first, first.name)
            if not first.names:
                self.not_a_function(first, cmd.args, final)
                return value
            return self.chain(dot, value, first, first.names, cmd.args, final)
        if isinstance(first, ChainNode):
            base = self.arg(dot, first.node, "any")
            return self.chain(dot, base, first, first.names, cmd.args, final)
        if isinstance(first, IdentifierNode):
            return self.call(dot, self.funcs[first.name], first, cmd.args, final, cmd)
        self.not_a_function(first, cmd.args, final)
        if isinstance(first, PipeNode):
            return self.pipeline(dot, first)
        if isinstance(first, NilNode):
            raise self.fail(first, "nil is not a command")
        return dot if isinstance(first, DotNode) else constant_arg(first, "any")

    def not_a_function(self, node: Arg, args: Sequence[Arg], final: Any) -> None:
        if len(args) > 1 or final is not _NO_FINAL:
            raise self.fail(node, f"can't give argument to non-function {node.text}")

    def chain(
        self, dot: Any, value: Any, node: Arg, names: Sequence[str], args: Sequence[Arg], final: Any
    ) -> Any:
        for i, name in enumerate(names):
            last = i == len(names) - 1
            value = self.field(
                dot, value, name, node, args if last else (), final if last else _NO_FINAL
            )
        return value

    def field(
        self, dot: Any, receiver: Any, name: str, node: Arg, args: Sequence[Arg], final: Any
    ) -> Any:
        if receiver is None or receiver is MISSING:
            if self.missingkey == "error":
                raise self.fail(node, f'nil data; no entry for key "{name}"')
            return None
        bound = method(receiver, name)
        if bound is not None:
            return self.call(dot, method_func(name, bound), node, args or [node], final)
        try:
            found = field_of(receiver, name)
        except LookupError as exc:
            raise self.fail(node, str(exc)) from None
        has_args = len(args) > 1 or final is not _NO_FINAL
        if has_args:
            raise self.fail(node, f"{name} is not a method but has arguments")
        if found is MISSING:
            if self.missingkey == "error":
                raise self.fail(node, f'map has no entry for key "{name}"')
            return zero_of(receiver) if self.missingkey == "zero" else None
        return found

    def arg(self, dot: Any, node: Arg, param: str) -> Any:
        if isinstance(node, DotNode):
            return self.checked(node, dot, param)
        if isinstance(node, FieldNode | VariableNode | ChainNode | IdentifierNode | PipeNode):
            cmd = CommandNode(node.pos, [node], node.text)
            value = self.command(dot, cmd, _NO_FINAL)
            return self.checked(node, None if value is MISSING else value, param)
        try:
            return constant_arg(node, param)
        except ValueError as exc:
            raise self.fail(node, str(exc)) from None

    def checked(self, node: Arg, value: Any, param: str) -> Any:
        try:
            return check_arg(value, param)
        except ValueError as exc:
            raise self.fail(node, str(exc)) from None

    def call(
        self,
        dot: Any,
        fn: GoFunc,
        node: Arg,
        args: Sequence[Arg],
        final: Any,
        cmd: CommandNode | None = None,
    ) -> Any:
        given = list(args[1:])
        count = len(given) + (final is not _NO_FINAL)
        fixed = len(fn.params)
        if fn.variadic is None and count != fixed:
            raise self.fail(node, f"wrong number of args for {fn.name}: want {fixed} got {count}")
        if count < fixed:
            want = f"want at least {fixed} got {len(given)}"
            raise self.fail(node, f"wrong number of args for {fn.name}: {want}")
        types = [*fn.params, *[fn.variadic or "any"] * (count - fixed)]
        values: list[Any] = []
        for arg, param in zip(given, types, strict=False):
            if fn.lazy:
                values.append(lambda a=arg, p=param: self.arg(dot, a, p))
            else:
                values.append(self.arg(dot, arg, param))
        if final is not _NO_FINAL:
            last = self.checked(node, None if final is MISSING else final, types[-1])
            values.append((lambda: last) if fn.lazy else last)
        try:
            return fn.impl(*values)
        except TemplateError:
            raise
        except Exception as exc:  # Go recovers a panicking function the same way
            raise self.fail(cmd or node, f"error calling {fn.name}: {exc}") from None
