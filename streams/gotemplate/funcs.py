"""Functions templates call, declared once in a table: name, parameter types, implementation.

The parameter types drive Go's argument checks: a ``string`` parameter takes only a string
(``toUpper 3`` fails with ``wrong type for value; expected string; got int``), an ``int`` one
only an integer. Types: ``any``, ``string``, ``int``, ``float``, ``bool``, ``[]string``.
:data:`BUILTINS` holds Go's predefined functions with Go's semantics.

Example:
    >>> BUILTINS["index"].impl({"a": [1, 2]}, "a", 1), BUILTINS["len"].impl("héllo")
    (2, 6)
    >>> BUILTINS["js"].impl("<a href='x'>"), BUILTINS["urlquery"].impl("a b&c")
    ("\\\\u003Ca href\\\\u003D\\\\'x\\\\'\\\\u003E", 'a+b%26c')
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from streams.gotemplate.gofmt import sprint, sprintf, sprintln
from streams.gotemplate.values import is_sequence, kind, truth, type_name, zero_of


@dataclass(frozen=True, slots=True)
class GoFunc:
    """A function templates can call.

    Attributes:
        name: the name templates call it by.
        impl: the implementation; raises to report an error (``error calling NAME: ...``).
        params: the types of the fixed parameters.
        variadic: the type of the trailing variadic parameters, or None.
        lazy: arguments come as zero-argument callables, evaluated on demand (``and``/``or``).
    """

    name: str
    impl: Callable[..., Any]
    params: tuple[str, ...] = ()
    variadic: str | None = None
    lazy: bool = False


def _and(*args: Callable[[], Any]) -> Any:
    value = None
    for arg in args:
        value = arg()
        if not truth(value):
            return value
    return value


def _or(*args: Callable[[], Any]) -> Any:
    value = None
    for arg in args:
        value = arg()
        if truth(value):
            return value
    return value


def _call(fn: Any, *args: Any) -> Any:
    if fn is None:
        raise ValueError("call of nil")
    if not callable(fn):
        raise ValueError(f"non-function of type {type_name(fn)}")
    return fn(*args)


def _text(args: tuple[Any, ...]) -> str:
    if len(args) == 1 and type(args[0]) is str:
        return args[0]
    return sprint(*args)


_HTML = {"\0": "\ufffd", '"': "&#34;", "'": "&#39;", "&": "&amp;", "<": "&lt;", ">": "&gt;"}
_JS = {
    "\\": "\\\\",
    "'": "\\'",
    '"': '\\"',
    "<": "\\u003C",
    ">": "\\u003E",
    "&": "\\u0026",
    "=": "\\u003D",
}


def html_escape(text: str) -> str:
    """Go's ``template.HTMLEscapeString``."""
    return "".join(_HTML.get(c, c) for c in text)


def _js_char(char: str) -> str:
    if char in _JS:
        return _JS[char]
    if char < " " or not char.isprintable():
        return f"\\u{ord(char):04X}"
    return char


def _html(*args: Any) -> str:
    return html_escape(_text(args))


def _js(*args: Any) -> str:
    return "".join(_js_char(c) for c in _text(args))


def _urlquery(*args: Any) -> str:
    return urllib.parse.quote_plus(_text(args), safe="")


def _position(index: Any, limit: int) -> int:
    if index is None:
        raise ValueError("cannot index slice/array with nil")
    if kind(index) != "int":
        raise ValueError(f"cannot index slice/array with type {type_name(index)}")
    if not 0 <= index <= limit:
        raise ValueError(f"index out of range: {index}")
    return int(index)


def _index(item: Any, *indexes: Any) -> Any:
    if item is None:
        raise ValueError("index of untyped nil")
    for index in indexes:
        if isinstance(item, Mapping):
            if not isinstance(index, str):
                raise ValueError(f"value has type {type_name(index)}; should be string")
            item = item.get(index, zero_of(item))
        elif isinstance(item, str) or is_sequence(item):
            data = item.encode() if isinstance(item, str) else item
            at = _position(index, len(data))
            if at == len(data):
                raise ValueError(f"index out of range: {at}")
            item = data[at]
        else:
            raise ValueError(f"can't index item of type {type_name(item)}")
    return item


def _slice(item: Any, *indexes: Any) -> Any:
    if item is None:
        raise ValueError("slice of untyped nil")
    if len(indexes) > 3:
        raise ValueError(f"too many slice indexes: {len(indexes)}")
    if isinstance(item, str):
        if len(indexes) == 3:
            raise ValueError("cannot 3-index slice a string")
        data: Any = item.encode()
    elif is_sequence(item):
        data = item
    else:
        raise ValueError(f"can't slice item of type {type_name(item)}")
    bounds = [0, len(data)]
    for i, index in enumerate(indexes[:2]):
        bounds[i] = _position(index, len(data))
    if len(indexes) == 3:
        _position(indexes[2], len(data))
    if bounds[0] > bounds[1]:
        raise ValueError(f"invalid slice index: {bounds[0]} > {bounds[1]}")
    part = data[bounds[0] : bounds[1]]
    return part.decode(errors="replace") if isinstance(item, str) else list(part)


def _len(item: Any) -> int:
    if item is None:
        raise ValueError("len of nil pointer")
    if isinstance(item, str):
        return len(item.encode())
    if isinstance(item, Mapping) or is_sequence(item):
        return len(item)
    raise ValueError(f"len of type {type_name(item)}")


def _not(value: Any) -> bool:
    return not truth(value)


_BASIC = ("bool", "int", "float", "string")


def _eq(first: Any, *others: Any) -> bool:
    if not others:
        raise ValueError("missing argument for comparison")
    k1 = kind(first)
    if k1 == "composite" and (isinstance(first, Mapping) or is_sequence(first)):
        raise ValueError(f"uncomparable type {type_name(first)}: {sprint(first)}")
    for other in others:
        k2 = kind(other)
        if k1 != k2:
            if k1 != "nil" and k2 != "nil":
                raise ValueError("incompatible types for comparison")
        elif k1 == "composite" and (isinstance(other, Mapping) or is_sequence(other)):
            raise ValueError(f"uncomparable type {type_name(other)}: {sprint(other)}")
        elif first == other:
            return True
    return False


def _ne(a: Any, b: Any) -> bool:
    return not _eq(a, b)


def _lt(a: Any, b: Any) -> bool:
    k1, k2 = kind(a), kind(b)
    if k1 not in _BASIC or k2 not in _BASIC:
        raise ValueError("invalid type for comparison")
    if k1 != k2:
        raise ValueError("incompatible types for comparison")
    if k1 == "bool":
        raise ValueError("invalid type for comparison")
    return bool(a < b)


def _le(a: Any, b: Any) -> bool:
    return _lt(a, b) or _eq(a, b)


def _gt(a: Any, b: Any) -> bool:
    return not _le(a, b)


def _ge(a: Any, b: Any) -> bool:
    return not _lt(a, b)


BUILTINS: dict[str, GoFunc] = {
    f.name: f
    for f in (
        GoFunc("and", _and, ("any",), "any", lazy=True),
        GoFunc("or", _or, ("any",), "any", lazy=True),
        GoFunc("not", _not, ("any",)),
        GoFunc("call", _call, ("any",), "any"),
        GoFunc("html", _html, (), "any"),
        GoFunc("js", _js, (), "any"),
        GoFunc("urlquery", _urlquery, (), "any"),
        GoFunc("index", _index, ("any",), "any"),
        GoFunc("slice", _slice, ("any",), "any"),
        GoFunc("len", _len, ("any",)),
        GoFunc("print", sprint, (), "any"),
        GoFunc("printf", sprintf, ("string",), "any"),
        GoFunc("println", sprintln, (), "any"),
        GoFunc("eq", _eq, ("any",), "any"),
        GoFunc("ne", _ne, ("any", "any")),
        GoFunc("lt", _lt, ("any", "any")),
        GoFunc("le", _le, ("any", "any")),
        GoFunc("gt", _gt, ("any", "any")),
        GoFunc("ge", _ge, ("any", "any")),
    )
}
"""Go's predefined template functions."""
