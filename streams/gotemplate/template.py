"""A set of named templates sharing functions, like Go's ``*template.Template``.

Texts are parsed into the set (their ``define``s become callable by name; a later text
redefines a name, except with an empty body, as in Go) and rendered against data. Rendering
a text does not add its definitions to the set, as Alertmanager executes each field on a
clone.

Example:
    >>> templates = TemplateSet(missingkey="zero")
    >>> _ = templates.parse("base.tmpl", '{{ define "hi" }}Hi {{ . | printf "%q" }}{{ end }}')
    >>> templates.render('{{ template "hi" .name }}!', {"name": "ops"})
    'Hi "ops"!'
    >>> templates.check('{{ template "nope" . }}', "slack")
    Traceback (most recent call last):
    ...
    streams.gotemplate.errors.TemplateError: template: slack:1:13: template "nope" not defined
"""

from __future__ import annotations

import collections
import functools
import inspect
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from streams.gotemplate.errors import TemplateError
from streams.gotemplate.execute import Execution
from streams.gotemplate.funcs import BUILTINS, GoFunc
from streams.gotemplate.literals import quote
from streams.gotemplate.nodes import BranchNode, ListNode, Node, TemplateNode, Tree, is_empty
from streams.gotemplate.parser import parse


def as_func(name: str, fn: GoFunc | Callable[..., Any]) -> GoFunc:
    """A function as the template language sees it; plain callables take any arguments."""
    if isinstance(fn, GoFunc):
        return fn
    parameters = inspect.signature(fn).parameters.values()
    fixed = sum(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in parameters)
    variadic = any(p.kind is p.VAR_POSITIONAL for p in parameters)
    return GoFunc(name, fn, ("any",) * fixed, "any" if variadic else None)


def template_calls(node: Node) -> Iterator[TemplateNode]:
    """Every ``{{template}}`` action under ``node``."""
    if isinstance(node, TemplateNode):
        yield node
    elif isinstance(node, ListNode):
        for child in node.nodes:
            yield from template_calls(child)
    elif isinstance(node, BranchNode):
        yield from template_calls(node.body)
        if node.else_body is not None:
            yield from template_calls(node.else_body)


class TemplateSet:
    """Named templates, the functions they may call, and Go's ``missingkey`` option.

    Args:
        funcs: functions besides Go's builtins (a name here hides a builtin of that name).
        missingkey: ``default``, ``zero`` or ``error``, as Go's ``Option("missingkey=...")``.
    """

    def __init__(
        self,
        funcs: Mapping[str, GoFunc | Callable[..., Any]] | None = None,
        *,
        missingkey: str = "default",
    ) -> None:
        if missingkey not in ("default", "invalid", "zero", "error"):
            raise ValueError(f"unrecognized missingkey option {missingkey!r}")
        self.funcs: dict[str, GoFunc] = dict(BUILTINS)
        self.funcs.update((name, as_func(name, fn)) for name, fn in (funcs or {}).items())
        self.missingkey = "default" if missingkey == "invalid" else missingkey
        self.trees: dict[str, Tree] = {}
        self._parse = functools.lru_cache(maxsize=512)(self._parse_uncached)

    def _parse_uncached(self, name: str, text: str) -> dict[str, Tree]:
        return parse(name, text, self.funcs)

    def parse(self, name: str, text: str) -> dict[str, Tree]:
        """Parse ``text`` into the set; return the trees it defines.

        Raises:
            TemplateError: the text does not parse.
        """
        trees = self._parse_uncached(name, text)
        for tree_name, tree in trees.items():
            if tree_name not in self.trees or not is_empty(tree.root):
                self.trees[tree_name] = tree
        return trees

    def names(self) -> list[str]:
        """The names of the templates in the set, sorted."""
        return sorted(self.trees)

    def check(self, text: str, name: str) -> None:
        """Parse ``text`` without adding it, and make sure every template it calls exists.

        Go finds an undefined template only when it executes the call; this finds it now,
        so a text that cannot render is refused when it is loaded.

        Raises:
            TemplateError: the text does not parse or calls an undefined template.
        """
        trees = self._parse(name, text)
        known = collections.ChainMap(trees, self.trees)
        for tree in trees.values():
            for call in template_calls(tree.root):
                if call.name not in known:
                    raise TemplateError.at(
                        f"template {quote(call.name)} not defined",
                        name=name,
                        source=tree.source,
                        offset=call.pos,
                    )

    def execute(self, name: str, data: Any, *, html: bool = False) -> str:
        """Execute the template ``name`` of the set with ``data``.

        Raises:
            TemplateError: no such template, or the execution failed.
        """
        tree = self.trees.get(name)
        if tree is None:
            raise TemplateError(f"no template {quote(name)}", name=name, line=0, column=0)
        return self._run(tree, self.trees, data, html)

    def render(self, text: str, data: Any, *, name: str = "", html: bool = False) -> str:
        """Parse ``text`` (cached) and execute it with ``data``; the set is left unchanged.

        Args:
            text: template source; its ``define``s are visible to it alone.
            data: the dot.
            name: the name errors give for the text.
            html: escape printed values for HTML (strings marked safe are left as they are).

        Raises:
            TemplateError: the text does not parse or its execution failed.
        """
        if text == "":
            return ""
        trees = self._parse(name, text)
        return self._run(trees[name], collections.ChainMap(trees, self.trees), data, html)

    def _run(self, tree: Tree, trees: Mapping[str, Tree], data: Any, html: bool) -> str:
        execution = Execution(trees, self.funcs, missingkey=self.missingkey, html=html)
        execution.run(tree, data)
        return "".join(execution.out)
