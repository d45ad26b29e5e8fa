"""Go literals in templates: quoted strings, character constants and numbers.

Example:
    >>> unquote('"a\\\\tb\\\\u00e9"'), unquote("`raw\\\\n`"), char_value("'\\\\n'")
    ('a\\tbé', 'raw\\\\n', 10)
    >>> number_value("0x1F"), number_value("1e3"), number_value("2.0"), number_value("0755")
    ((31, 31, 31.0), (1000.0, 1000, 1000.0), (2.0, 2, 2.0), (493, 493, 493.0))
"""

from __future__ import annotations

import contextlib
import re

from streams.promql.gofmt import go_quote

_ESCAPE = re.compile(
    r"\\(?:([abfnrtv\\'\"])|x([0-9a-fA-F]{2})|([0-7]{3})|u([0-9a-fA-F]{4})|U([0-9a-fA-F]{8}))"
)
_SIMPLE = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}
_OCTAL_INT = re.compile(r"[+-]?0[0-7_]+")


def _unescape(body: str, quote: str) -> str:
    out: list[str] = []
    pos = 0
    while True:
        at = body.find("\\", pos)
        if at < 0:
            out.append(body[pos:])
            return "".join(out)
        out.append(body[pos:at])
        m = _ESCAPE.match(body, at)
        if m is None or (m.group(1) in ("'", '"') and m.group(1) != quote):
            raise ValueError("invalid syntax")
        simple, hex2, octal, u4, u8 = m.groups()
        if simple:
            out.append(_SIMPLE.get(simple, simple))
        else:
            out.append(chr(int(hex2 or octal or u4 or u8, 8 if octal else 16)))
        pos = m.end()


def unquote(token: str) -> str:
    """The value of a Go string literal, ``"..."`` with escapes or ```...``` raw.

    Raises:
        ValueError: a bad escape (Go says ``invalid syntax``).
    """
    if token.startswith("`"):
        return token[1:-1].replace("\r", "")
    return _unescape(token[1:-1], '"')


def char_value(token: str) -> int:
    """The code point of a character constant such as ``'a'`` or ``'\\n'``.

    Raises:
        ValueError: not exactly one character (Go says ``malformed character constant``).
    """
    try:
        text = _unescape(token[1:-1], "'")
    except ValueError:
        raise ValueError(f"malformed character constant: {token}") from None
    if len(text) != 1:
        raise ValueError(f"malformed character constant: {token}")
    return ord(text)


def _is_hex_int(text: str) -> bool:
    digits = text.lstrip("+-")
    return digits[:2] in ("0x", "0X") and not any(c in digits for c in ".pP")


def number_value(text: str) -> tuple[int | float, int | None, float | None]:
    """A number constant: (its untyped value, its value as int or None, as float or None).

    The untyped value is a float when the text has a point or an exponent (and is not a hex
    integer), else an int: ``{{ 3 }}`` prints ``3`` and ``{{ 3.0 }}`` prints ``3`` too, but
    ``printf "%T"`` tells them apart, as in Go.

    Raises:
        ValueError: not a number Go accepts (Go says ``illegal number syntax``).
    """
    if text.endswith("i"):
        raise ValueError(f"complex number {text} is not supported")
    clean = text.replace("_", "")
    as_int: int | None = None
    as_float: float | None = None
    with contextlib.suppress(ValueError):
        as_int = int(clean, 8) if _OCTAL_INT.fullmatch(clean) else int(clean, 0)
    try:
        if clean.lstrip("+-")[:2] in ("0x", "0X"):
            as_float = float.fromhex(clean)
        elif as_int is not None:
            as_float = float(as_int)
        else:
            as_float = float(clean)
    except (ValueError, OverflowError):
        pass
    if as_int is None and as_float is None:
        raise ValueError(f"illegal number syntax: {text!r}")
    if as_int is None and as_float is not None and as_float.is_integer():
        as_int = int(as_float)
    if as_int is not None and not -(2**63) <= as_int < 2**64:
        as_int = None  # not an integer Go can hold; still a float
    is_float = not _is_hex_int(clean) and any(c in clean for c in ".eEpP")
    value: int | float
    if is_float and as_float is not None:
        value = as_float
    else:
        assert as_int is not None
        value = as_int
    return value, as_int, as_float


quote = go_quote
"""Go's ``strconv.Quote`` (the same as Prometheus prints strings with)."""
