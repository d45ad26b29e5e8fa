"""Go's ``fmt`` for template values: ``Sprint``, ``Sprintln``, ``Sprintf`` and ``%v``.

Values print as Go prints the matching Go values: floats in shortest form (``1e+06``),
slices as ``[a b]``, maps as ``map[k:v]`` in key order, nil as ``<nil>``, a value with a
``String`` method through it. ``Sprintf`` knows Go's verbs and flags and, like Go, never
fails: a wrong verb shows as ``%!d(string=x)``, a missing operand as ``%!s(MISSING)``.

Example:
    >>> sprintf("%s has %d (%5.1f%%) %v %q", "web", 3, 12.345, [1.0, 1e6], "a\\tb")
    'web has 3 ( 12.3%) [1 1e+06] "a\\\\tb"'
    >>> sprintf("%d %s", "x"), sprint("a", 1, 2, "b"), sprint({"b": 2, "a": None})
    ('%!d(string=x) %!s(MISSING)', 'a1 2b', 'map[a:<nil> b:2]')
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass

from streams.gotemplate.literals import quote
from streams.gotemplate.values import is_sequence, method, sort_keys, type_name
from streams.rules.templating.humanize import go_float

_SPEC = re.compile(r"%([-+# 0]*)(\*|\d+)?(?:\.(\*|\d*))?(.?)", re.DOTALL)


@dataclass(slots=True)
class Flags:
    """The flags, width and precision of one verb."""

    minus: bool = False
    plus: bool = False
    sharp: bool = False
    space: bool = False
    zero: bool = False
    width: int | None = None
    precision: int | None = None

    @classmethod
    def of(cls, text: str) -> Flags:
        return cls("-" in text, "+" in text, "#" in text, " " in text, "0" in text)


_PLAIN = Flags()


def pad(text: str, flags: Flags, numeric: bool = False) -> str:
    """``text`` padded to the width: spaces, or zeros after the sign with the 0 flag."""
    if flags.width is None or len(text) >= flags.width:
        return text
    fill = flags.width - len(text)
    if flags.minus:
        return text + " " * fill
    if flags.zero:
        sign = text[:1] if numeric and text[:1] in "+- " else ""
        return sign + "0" * fill + text[len(sign) :]
    return " " * fill + text


def _bad(verb: str, value: object) -> str:
    if value is None:
        return f"%!{verb}(<nil>)"
    return f"%!{verb}({type_name(value)}={format_value(value, 'v', _PLAIN)})"


def _sign(negative: bool, flags: Flags) -> str:
    return "-" if negative else "+" if flags.plus else " " if flags.space else ""


_BASES = {"d": (10, ""), "b": (2, "0b"), "o": (8, "0"), "O": (8, "0o"), "x": (16, "0x")}


def _int(value: int, verb: str, flags: Flags) -> str:
    if verb in "cqU":
        char = chr(value) if 0 <= value <= 0x10FFFF else "\ufffd"
        if verb == "c":
            return pad(char, flags)
        if verb == "q":
            return pad("'" + quote(char)[1:-1].replace('\\"', '"').replace("'", "\\'") + "'", flags)
        return pad(f"U+{value:04X}", flags)
    base, prefix = _BASES["x" if verb == "X" else "d" if verb == "v" else verb]
    digits = format(abs(value), {10: "d", 2: "b", 8: "o", 16: "x"}[base])
    if verb == "X":
        digits, prefix = digits.upper(), "0X"
    if flags.precision is not None:
        digits = digits.zfill(flags.precision) if flags.precision or value else ""
    if verb == "O" or (flags.sharp and verb in "boxX"):
        digits = prefix + digits
    return pad(_sign(value < 0, flags) + digits, flags, numeric=True)


def _float(value: float, verb: str, flags: Flags) -> str:
    if not math.isfinite(value):
        sign = "+" if flags.plus else " " if flags.space else ""
        if math.isinf(value):
            sign = "-" if value < 0 else (sign or "+")
        text = sign + ("NaN" if math.isnan(value) else "Inf")
        return pad(text, Flags(flags.minus, width=flags.width))
    negative = math.copysign(1, value) < 0
    if verb in "vgG" and flags.precision is None:
        body = go_float(abs(value))
        body = body.upper() if verb == "G" else body
    else:
        precision = 6 if flags.precision is None else flags.precision
        conv = "g" if verb == "v" else verb
        body = f"{abs(value):.{precision}{conv}}"
        if conv in "gG" and "e" in body.lower():
            body = re.sub(r"([eE][+-])(\d)$", r"\g<1>0\2", body)
    return pad(_sign(negative, flags) + body, flags, numeric=True)


def _string(value: str, verb: str, flags: Flags) -> str:
    if flags.precision is not None and verb in "vsq":
        value = value[: flags.precision]
    if verb == "v" and flags.sharp:
        return pad(quote(value), flags)
    if verb in "vs":
        return pad(value, flags)
    if verb == "q":
        if flags.sharp and "`" not in value and value.isprintable():
            return pad(f"`{value}`", flags)
        return pad(quote(value), flags)
    data = value.encode()
    hexed = data.hex().upper() if verb == "X" else data.hex()
    return pad(("0x" if flags.sharp else "") + hexed, flags)


def _fields(value: object) -> list[tuple[str, object]]:
    if dataclasses.is_dataclass(value):
        names = [f.name for f in dataclasses.fields(value)]
    else:
        names = list(getattr(value, "__dict__", {}))
    return [(n, getattr(value, n)) for n in names if n[:1].isupper()]


def format_value(value: object, verb: str, flags: Flags) -> str:
    """One operand under one verb, as Go's ``fmt`` formats the matching Go value."""
    if verb == "T":
        return pad(type_name(value), flags)
    stringer = None if verb not in "vsqxX" else method(value, "Error") or method(value, "String")
    if stringer is not None:
        return _string(str(stringer()), verb, flags)
    if value is None:
        return pad("<nil>", flags) if verb == "v" else _bad(verb, value)
    if isinstance(value, bool):
        return pad("true" if value else "false", flags) if verb in "vt" else _bad(verb, value)
    if isinstance(value, int):
        return _int(value, verb, flags) if verb in "vdboOxXcqU" else _bad(verb, value)
    if isinstance(value, float):
        return _float(value, verb, flags) if verb in "veEfFgG" else _bad(verb, value)
    if isinstance(value, str):
        return _string(value, verb, flags) if verb in "vsqxX" else _bad(verb, value)
    if isinstance(value, Mapping):
        items = (
            f"{format_value(k, verb, flags)}:{format_value(value[k], verb, flags)}"
            for k in sort_keys(list(value))
        )
        return "map[" + " ".join(items) + "]"
    if is_sequence(value):
        return "[" + " ".join(format_value(v, verb, flags) for v in value) + "]"  # type: ignore[attr-defined]
    if callable(value):
        return _bad(verb, value)
    parts = (
        (f"{n}:" if flags.plus else "") + format_value(v, verb, flags) for n, v in _fields(value)
    )
    return "{" + " ".join(parts) + "}"


def sprint(*args: object) -> str:
    """Go's ``fmt.Sprint``: a space between operands when neither is a string."""
    out: list[str] = []
    previous_string = False
    for i, arg in enumerate(args):
        is_string = isinstance(arg, str)
        if i and not is_string and not previous_string:
            out.append(" ")
        out.append(format_value(arg, "v", _PLAIN))
        previous_string = is_string
    return "".join(out)


def sprintln(*args: object) -> str:
    """Go's ``fmt.Sprintln``: operands separated by spaces, and a newline."""
    return " ".join(format_value(a, "v", _PLAIN) for a in args) + "\n"


def _star(args: list[object], used: list[int]) -> int | None:
    if used[0] >= len(args) or type(args[used[0]]) is not int:
        used[0] += used[0] < len(args)
        return None
    used[0] += 1
    return args[used[0] - 1]  # type: ignore[return-value]


def sprintf(fmt: str, *args: object) -> str:
    """Go's ``fmt.Sprintf``, errors shown inline as Go shows them."""
    rest = list(args)
    used = [0]
    out: list[str] = []
    pos = 0
    while (at := fmt.find("%", pos)) >= 0:
        out.append(fmt[pos:at])
        m = _SPEC.match(fmt, at)
        assert m is not None
        flag_text, width, precision, verb = m.groups()
        pos = m.end()
        flags = Flags.of(flag_text)
        flags.zero = flags.zero and not flags.minus
        if width == "*":
            flags.width = _star(rest, used)
            if flags.width is None:
                out.append("%!(BADWIDTH)")
            elif flags.width < 0:
                flags.minus, flags.width = True, -flags.width
        elif width:
            flags.width = int(width)
        if precision == "*":
            flags.precision = _star(rest, used)
            if flags.precision is None:
                out.append("%!(BADPREC)")
        elif precision is not None:
            flags.precision = int(precision or 0)
        if not verb:
            out.append("%!(NOVERB)")
        elif verb == "%":
            out.append("%")
        elif used[0] >= len(rest):
            out.append(f"%!{verb}(MISSING)")
        else:
            used[0] += 1
            out.append(format_value(rest[used[0] - 1], verb, flags))
    out.append(fmt[pos:])
    if used[0] < len(rest):
        extra = ", ".join(
            "<nil>" if a is None else f"{type_name(a)}={format_value(a, 'v', _PLAIN)}"
            for a in rest[used[0] :]
        )
        out.append(f"%!(EXTRA {extra})")
    return "".join(out)
