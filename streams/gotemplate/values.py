"""Python values seen as Go values: kinds, truth, type names, fields and methods.

The interpreter runs on plain Python data: ``str``, ``bool``, ``int`` (Go ``int``),
``float`` (``float64``), ``None`` (no value, nil), sequences (slices), mappings (maps) and
objects (structs). As in Go, only names starting with an upper-case letter are visible:
``.Name`` on an object reads its attribute ``Name`` or calls its method ``Name``; on a
mapping a method of the mapping's class comes first, then the key. Classes may set
``go_type`` (the type name ``printf "%T"`` shows) and, for mappings, ``go_zero`` (the value
a missing key has under ``missingkey=zero``, Go's zero value of the element type).

Example:
    >>> class Pair:
    ...     go_type = "template.Pair"
    ...     def __init__(self): self.Name = "job"
    ...     def Upper(self): return self.Name.upper()
    >>> field_of(Pair(), "Name"), method(Pair(), "Upper")()
    ('job', 'JOB')
    >>> truth([]), truth("x"), truth(Pair()), type_name(Pair()), type_name([1])
    (False, True, True, 'template.Pair', '[]interface {}')
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

MISSING: Any = object()
"""A key or field that is not there (distinct from a None value)."""

_KINDS: tuple[tuple[type, str], ...] = (
    (bool, "bool"),
    (int, "int"),
    (float, "float"),
    (str, "string"),
)


def kind(value: object) -> str:
    """Go's basic kind of a value: bool, int, float, string, nil, or composite."""
    if value is None:
        return "nil"
    for cls, name in _KINDS:
        if isinstance(value, cls):
            return name
    return "composite"


def is_sequence(value: object) -> bool:
    """Whether a value is a Go slice (any sequence but a string)."""
    return isinstance(value, Sequence) and not isinstance(value, str | bytes)


def truth(value: object) -> bool:
    """Go template truth: false, 0, nil, and empty strings, slices and maps are false."""
    if value is None:
        return False
    if isinstance(value, bool | int | float):
        return value != 0
    if isinstance(value, str | Mapping) or is_sequence(value):
        return len(value) > 0  # type: ignore[arg-type]
    return True


def type_name(value: object) -> str:
    """The Go type name of a value, as ``%T`` prints it."""
    declared = getattr(type(value), "go_type", None)
    if isinstance(declared, str):
        return declared
    if value is None:
        return "<nil>"
    simple = {bool: "bool", int: "int", float: "float64", str: "string"}.get(type(value))
    if simple:
        return simple
    if isinstance(value, Mapping):
        return "map[string]interface {}"
    if is_sequence(value):
        return "[]interface {}"
    return type(value).__name__


def method(value: object, name: str) -> Callable[..., Any] | None:
    """The exported method ``name`` of a value's class, bound, or None."""
    if not name[:1].isupper() or type(value).__module__ == "builtins":
        return None
    attr = getattr(type(value), name, None)
    if attr is None or not callable(attr) or isinstance(attr, type):
        return None
    bound: Callable[..., Any] = getattr(value, name)
    return bound


def field_of(value: object, name: str) -> Any:
    """``.name`` on a value that has no method of that name: a key, a field, or MISSING.

    Raises:
        LookupError: the value has no such field and is not a mapping.
    """
    if isinstance(value, Mapping):
        return value.get(name, MISSING)
    if name[:1].isupper() and type(value).__module__ != "builtins":
        found = getattr(value, name, MISSING)
        if found is not MISSING and not callable(found):
            return found
    raise LookupError(f"can't evaluate field {name} in type {type_name(value)}")


def zero_of(mapping: Mapping[Any, Any]) -> Any:
    """The zero value of a mapping's elements: ``go_zero`` of its class, or None."""
    return getattr(type(mapping), "go_zero", None)


def sort_keys(keys: Iterator[Any] | Sequence[Any]) -> list[Any]:
    """Map keys in Go's order: numbers by value, strings by bytes (code points)."""
    return sorted(keys)
