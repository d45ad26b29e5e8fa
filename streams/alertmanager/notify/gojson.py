"""JSON and times written byte for byte as Alertmanager (a Go program) writes them.

Receivers that compare or sign bodies see the same bytes from pulseline as from
Alertmanager: Go's ``encoding/json`` escapes ``<``, ``>`` and ``&`` as ``\\u003c``...,
escapes U+2028 and U+2029, writes other control characters as ``\\u00XX`` (``\\n``,
``\\r`` and ``\\t`` excepted) and keeps other non-ASCII text as UTF-8; its encoder ends the
body with a newline. Objects keep the order they are built in (Go writes struct fields in
declaration order and map keys sorted, so callers sort maps).

Example:
    >>> go_json({"summary": "a < b & c", "n": 1, "ok": True, "none": None}, newline=False)
    b'{"summary":"a \\\\u003c b \\\\u0026 c","n":1,"ok":true,"none":null}'
    >>> go_time(1709287200.5), go_time(None)
    ('2024-03-01T10:00:00.5Z', '0001-01-01T00:00:00Z')
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

_ESCAPED = re.compile('[\\x00-\\x1f"\\\\<>&\u2028\u2029\ud800-\udfff]')
_SHORT = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    if char in _SHORT:
        return _SHORT[char]
    if "\ud800" <= char <= "\udfff":
        return "\ufffd"  # Go writes invalid UTF-8 as the replacement character
    return f"\\u{ord(char):04x}"


def go_string(text: str) -> str:
    """A JSON string literal as Go writes it.

    >>> print(go_string('say "hi"\\n\\x08'))
    "say \\"hi\\"\\n\\u0008"
    """
    return '"' + _ESCAPED.sub(_escape, text) + '"'


def _encode(value: object, out: list[str]) -> None:
    if isinstance(value, str):
        out.append(go_string(value))
    elif value is None:
        out.append("null")
    elif isinstance(value, bool):
        out.append("true" if value else "false")
    elif isinstance(value, int):
        out.append(str(value))
    elif isinstance(value, Mapping):
        out.append("{")
        for i, (key, item) in enumerate(value.items()):
            if i:
                out.append(",")
            out.append(go_string(str(key)))
            out.append(":")
            _encode(item, out)
        out.append("}")
    elif isinstance(value, Sequence):
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            _encode(item, out)
        out.append("]")
    else:
        raise TypeError(f"cannot write {type(value).__name__} as JSON")


def go_json(value: object, *, newline: bool = True) -> bytes:
    """``value`` (str, int, bool, None, mappings, sequences) as Go's JSON encoder writes it."""
    out: list[str] = []
    _encode(value, out)
    if newline:
        out.append("\n")
    return "".join(out).encode()


def go_time(at: float | None) -> str:
    """A Unix time as Go's JSON writes a UTC ``time.Time`` (RFC 3339, trailing zeros cut).

    Times are kept to the microsecond (a float holds no more); None is Go's zero time.

    >>> go_time(0.123), go_time(1.0)
    ('1970-01-01T00:00:00.123Z', '1970-01-01T00:00:01Z')
    """
    if at is None:
        return "0001-01-01T00:00:00Z"
    micros = round(at * 1_000_000)
    seconds, fraction = divmod(micros, 1_000_000)
    text = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    if fraction:
        text += "." + f"{fraction:06d}".rstrip("0")
    return text + "Z"
