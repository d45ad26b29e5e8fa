"""Evaluating pipelines: commands, fields and methods, arguments and calls, as Go does.

:class:`Evaluator` is the expression half of an execution; the statement half (text, if,
range, template) is :class:`streams.gotemplate.execute.Execution`, built on it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from streams.gotemplate.errors import TemplateError
from streams.gotemplate.funcs import GoFunc
from streams.gotemplate.nodes import (
    Arg,
    ChainNode,
    CommandNode,
    DotNode,
    FieldNode,
    IdentifierNode,
    NilNode,
    Node,
    PipeNode,
    Tree,
    VariableNode,
)
from streams.gotemplate.params import check_arg, constant_arg, method_func
from streams.gotemplate.values import MISSING, field_of, method, zero_of

NO_FINAL: Any = object()
"""No value piped in from a previous command."""


class Evaluator:
    """Variables, functions and the ``missingkey`` option, and the evaluation of pipelines."""

    tree: Tree
    vars: list[tuple[str, Any]]

    def __init__(self, funcs: Mapping[str, GoFunc], missingkey: str) -> None:
        self.funcs = funcs
        self.missingkey = missingkey

    def fail(self, node: Node, reason: str) -> TemplateError:
        """An error at ``node``, worded as Go words execution errors."""
        at = getattr(node, "text", "")
        where = f'executing "{self.tree.name}" at <{at}>: ' if at else ""
        return TemplateError.at(
            where + reason, name=self.tree.name, source=self.tree.source, offset=node.pos
        )

    def pipeline(self, dot: Any, pipe: PipeNode) -> Any:
        value: Any = NO_FINAL
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
        if len(args) > 1 or final is not NO_FINAL:
            raise self.fail(node, f"can't give argument to non-function {node.text}")

    def chain(
        self, dot: Any, value: Any, node: Arg, names: Sequence[str], args: Sequence[Arg], final: Any
    ) -> Any:
        for i, name in enumerate(names):
            last = i == len(names) - 1
            value = self.field(
                dot, value, name, node, args if last else (), final if last else NO_FINAL
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
        has_args = len(args) > 1 or final is not NO_FINAL
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
            value = self.command(dot, cmd, NO_FINAL)
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
        count = len(given) + (final is not NO_FINAL)
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
        if final is not NO_FINAL:
            last = self.checked(node, None if final is MISSING else final, types[-1])
            values.append((lambda: last) if fn.lazy else last)
        try:
            return fn.impl(*values)
        except TemplateError:
            raise
        except Exception as exc:  # Go recovers a panicking function the same way
            raise self.fail(cmd or node, f"error calling {fn.name}: {exc}") from None
