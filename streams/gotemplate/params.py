"""Arguments checked against parameter types, as Go checks them before a call.

Constants take the type the parameter asks for (``3`` is an int for an ``int`` parameter and a
float for a ``float`` one); computed values must already have it.

Example:
    >>> check_arg("x", "string"), check_arg(None, "any")
    ('x', None)
    >>> check_arg(3, "string")
    Traceback (most recent call last):
    ...
    ValueError: wrong type for value; expected string; got int
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, TypeVar

from streams.gotemplate.funcs import GoFunc
from streams.gotemplate.nodes import Arg, BoolNode, NilNode, NumberNode, StringNode
from streams.gotemplate.values import is_sequence, kind, type_name

_NILABLE = frozenset({"any", "[]string"})
_KIND_OF_PARAM = {"string": "string", "int": "int", "float": "float", "bool": "bool"}


def check_arg(value: Any, param: str) -> Any:
    """``value`` if a parameter of type ``param`` accepts it.

    Raises:
        ValueError: Go's ``wrong type for value`` or ``invalid value`` message.
    """
    if param == "any":
        return value
    if value is None:
        if param in _NILABLE:
            return None
        raise ValueError(f"invalid value; expected {param}")
    if param == "[]string":
        if is_sequence(value) and all(type(v) is str for v in value):
            return value
    elif kind(value) == _KIND_OF_PARAM[param] and (param != "string" or type(value) is str):
        return value
    raise ValueError(f"wrong type for value; expected {param}; got {type_name(value)}")


def constant_arg(node: Arg, param: str) -> Any:
    """The value of a constant node for a parameter of type ``param``.

    Raises:
        ValueError: the constant cannot be of that type (``expected integer; found "x"``).
    """
    if isinstance(node, NilNode):
        if param in _NILABLE:
            return None
        raise ValueError(f"cannot assign nil to {param}")
    if param == "any":
        if isinstance(node, NumberNode):
            return node.value
        if isinstance(node, StringNode | BoolNode):
            return node.value
    elif (param == "string" and isinstance(node, StringNode)) or (
        param == "bool" and isinstance(node, BoolNode)
    ):
        return node.value
    elif param == "int" and isinstance(node, NumberNode) and node.as_int is not None:
        return node.as_int
    elif param == "float" and isinstance(node, NumberNode) and node.as_float is not None:
        return node.as_float
    wanted = {"int": "integer", "float": "float", "string": "string", "bool": "bool"}
    if param in wanted:
        raise ValueError(f"expected {wanted[param]}; found {node.text}")
    raise ValueError(f"can't handle {node.text} for arg of type {param}")


@functools.lru_cache(maxsize=256)
def _signature(func: Callable[..., Any]) -> tuple[tuple[str, ...], str | None]:
    declared = getattr(func, "go_params", None)
    parameters = list(inspect.signature(func).parameters.values())[1:]  # without self
    variadic = "any" if any(p.kind is p.VAR_POSITIONAL for p in parameters) else None
    fixed = [p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if declared is not None:
        return tuple(declared), variadic
    return ("any",) * len(fixed), variadic


def method_func(name: str, bound: Callable[..., Any]) -> GoFunc:
    """A bound method as a callable template function, its parameters from its signature.

    A method may declare Go parameter types in a ``go_params`` attribute, e.g.
    ``("[]string",)``; otherwise each parameter takes any value.
    """
    func = getattr(bound, "__func__", bound)
    params, variadic = _signature(func)
    return GoFunc(name, bound, params, variadic)


_F = TypeVar("_F", bound=Callable[..., Any])


def go_params(*types: str) -> Callable[[_F], _F]:
    """Declare the Go parameter types of a method templates call.

    Example:
        >>> class KV(dict[str, str]):
        ...     @go_params("[]string")
        ...     def Remove(self, names: list[str]) -> "KV":
        ...         return KV({k: v for k, v in self.items() if k not in names})
        >>> method_func("Remove", KV().Remove).params
        ('[]string',)
    """

    def declare(func: _F) -> _F:
        func.go_params = types  # type: ignore[attr-defined]
        return func

    return declare
