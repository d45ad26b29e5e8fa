r"""InfluxDB line protocol: parse request bodies into points, render points back.

A line is ``measurement[,tag=value...] field=value[,field=value...] [timestamp]``::

    cpu,host=a,cpu=cpu0 usage=1.5,count=3i,ok=true,note="hi there" 1700000000000000000

The grammar is InfluxDB 2.x's, with these decisions made explicit:

- Lines end at ``\n`` (a ``\r`` before it is dropped). Blank lines and lines whose first
  non-blank character is ``#`` are skipped. Spaces and tabs before a line are ignored; a
  section ends at a space, and further spaces and tabs before the next section or after the
  timestamp are ignored.
- Escapes: a backslash immediately before a *special* character escapes it; any other
  backslash is literal. The specials are ``,`` and space in a measurement; ``,``, ``=`` and
  space in tag keys, tag values and field keys; field keys also unescape ``\"`` as InfluxDB
  does. So ``a\\,b`` names ``a\,b``, and no name can end with a backslash. An unescaped ``=``
  in a tag value is an error.
- A string field is double-quoted; ``\"`` and ``\\`` are its escapes, other backslashes are
  literal. A string cannot span lines (InfluxDB accepts a raw newline inside quotes; here the
  line ends there and the string is unterminated).
- Numbers follow Go's decimal syntax (``1``, ``-1.5``, ``.5``, ``1.``, ``1e-3``): no ``+``
  sign, no ``_``, no hex, no NaN or Inf. ``12i`` is a signed 64-bit integer, ``12u`` an
  unsigned one (:class:`~streams.records.UInt`), a bare number is a float. Booleans are
  ``t T true True TRUE f F false False FALSE``.
- Tags come back sorted by key; a tag key twice in a line is an error, a field key twice
  keeps the last value. Key names (``time``, ``_field``...) are not restricted here.
- A timestamp is an integer in the request precision and must lie in InfluxDB's range
  (signed 64-bit nanoseconds). It is floored to milliseconds, the resolution pulseline keeps
  (as Prometheus and VictoriaMetrics do): ``-1`` ns is ``-1`` ms.

:func:`render_lines` writes what :func:`parse_lines` reads back unchanged (precision ``ms``).
It refuses with ValueError what line protocol cannot carry unambiguously: empty names,
newlines, a name ending in a backslash or with a backslash before a special character (some of
InfluxDB's scanners read ``\\`` as an escaped backslash, others do not), a measurement starting
with ``#`` or a tab, a field key starting with a tab, non-finite floats, out-of-range integers
and timestamps, and strings holding a newline.

Example:
    >>> parse_lines(b"cpu,host=a usage=0.5 1700000000", precision="s", now_ms=0)
    [Point(measurement='cpu', tags={'host': 'a'}, fields={'usage': 0.5}, ts_ms=1700000000000)]
    >>> render_lines([Point("my cpu", {"host": "a,b"}, {"n": 3}, 5)])
    'my\\ cpu,host=a\\,b n=3i 5'
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Literal

from streams.errors import BodyParseError, ParseError
from streams.records import FieldValue, Point, UInt

Precision = Literal["ns", "us", "ms", "s", "m", "h"]
"""A timestamp precision; ``m`` and ``h`` exist only on the InfluxDB 1.x ``/write``."""

_PRECISIONS: dict[str, Precision] = {
    "ns": "ns", "n": "ns", "us": "us", "u": "us", "ms": "ms", "s": "s", "m": "m", "h": "h",
}  # fmt: skip
_MIN_NS = -(2**63) + 2  # InfluxDB's models.MinNanoTime and MaxNanoTime
_MAX_NS = 2**63 - 2
_NS_PER = {"ns": 1, "us": 1_000, "ms": 10**6, "s": 10**9, "m": 60 * 10**9, "h": 3600 * 10**9}
# precision -> (multiplier, divisor) to milliseconds, lowest and highest raw timestamp
_UNITS: dict[str, tuple[int, int, int, int]] = {
    name: (max(n // 10**6, 1), max(10**6 // n, 1), -(-_MIN_NS // n), _MAX_NS // n)
    for name, n in ((alias, _NS_PER[canon]) for alias, canon in _PRECISIONS.items())
}
_MIN_MS, _MAX_MS = _UNITS["ms"][2], _UNITS["ms"][3]
_INT64 = (-(2**63), 2**63 - 1)
_UINT64_MAX = 2**64 - 1

_BOOLS: dict[str, bool] = {
    **dict.fromkeys(("t", "T", "true", "True", "TRUE"), True),
    **dict.fromkeys(("f", "F", "false", "False", "FALSE"), False),
}
_NON_FINITE = {s + w for s in ("", "+", "-") for w in ("nan", "inf", "infinity")}
_FLOAT_CHARS = frozenset("0123456789.eE+-")
_WS = " \t"

# A token runs to the first special character not preceded by a backslash.
_MEASUREMENT = re.compile(r"(?:[^, ]|(?<=\\)[, ])*")
_KEY = re.compile(r"(?:[^,= ]|(?<=\\)[,= ])*")
_UNQUOTED = re.compile(r"[^, ]*")
_STRING = re.compile(r'"((?:[^"\\]|\\.)*)"', re.DOTALL)
_STRING_ESCAPE = re.compile(r'\\([\\"])')
_BARE = re.compile(r"[^ \t]*")
_BAD_BYTE = re.compile("[\udc80-\udcff]")


class _Invalid(Exception):
    """A value is malformed; the argument is the reason."""


def normalize_precision(value: str) -> Precision:
    """Map an InfluxDB 2.x (``ns us ms s``) or 1.x (``n u ms s m h``) precision name.

    Raises:
        ValueError: the name is none of those.
    """
    try:
        return _PRECISIONS[value]
    except KeyError:
        raise ValueError(
            f"unknown precision {value!r}: use one of {', '.join(_PRECISIONS)}"
        ) from None


def parse_lines(body: str | bytes, *, precision: Precision = "ns", now_ms: int) -> list[Point]:
    """Parse a line-protocol body; all of it or nothing.

    Args:
        body: the body; bytes must be UTF-8.
        precision: the timestamps' unit (the 1.x names are accepted too).
        now_ms: the timestamp, in milliseconds, of lines that have none.

    Returns:
        The points in body order.

    Raises:
        BodyParseError: one or more lines are bad; it holds the first ten errors, each with
            the 1-based line and column, and the count of bad lines.
        ValueError: ``precision`` is unknown.
    """
    unit = _UNITS.get(precision)
    if unit is None:
        normalize_precision(precision)  # raises
        raise AssertionError  # pragma: no cover
    errors: list[ParseError] = []
    if isinstance(body, str):
        text = body
    else:
        try:
            text = body.decode()
        except UnicodeDecodeError:
            text = _blank_undecodable(body, errors)
    plain = "\\" not in text and '"' not in text
    points = _parse_body(text.split("\n"), unit, now_ms, plain, errors)
    if errors:
        errors.sort(key=lambda e: e.line)
        raise BodyParseError(errors[: BodyParseError.MAX_REPORTED], bad_lines=len(errors))
    return points


def _blank_undecodable(body: bytes, errors: list[ParseError]) -> str:
    """Decode a body that is not all UTF-8: report its bad lines and blank them."""
    lines = body.decode("utf-8", "surrogateescape").split("\n")
    for index, line in enumerate(lines):
        bad = _BAD_BYTE.search(line)
        if bad is not None:
            lines[index] = ""
            if not line.lstrip(_WS).startswith("#"):
                errors.append(ParseError("invalid UTF-8", line=index + 1, column=bad.start() + 1))
    return "\n".join(lines)


class _Fallback(Exception):
    """The fast path leaves a line to the slow path."""


_FALLBACK = _Fallback()
_new_point = tuple.__new__


def _parse_body(
    lines: list[str],
    unit: tuple[int, int, int, int],
    now_ms: int,
    plain: bool,
    errors: list[ParseError],
) -> list[Point]:
    """Parse lines, appending each bad line's error to ``errors``.

    A line without backslash, double quote or leading blank takes the fast path, built on
    ``str.split``; anything it cannot decide, errors included, goes to :func:`_parse_slow`.
    ``plain`` says the whole body has no backslash or double quote.
    """
    points: list[Point] = []
    append = points.append
    mul, div, lowest, highest = unit
    float_text = _FLOAT_CHARS.issuperset
    field_value = _field_value
    lineno = 0
    for line in lines:
        lineno += 1
        if not line:
            continue
        if line[-1] == "\r":
            line = line[:-1]
            if not line:
                continue
        first = line[0]
        if first == "#":
            continue
        if first != " " and first != "\t" and (plain or ("\\" not in line and '"' not in line)):
            try:
                parts = line.split(" ")
                if len(parts) == 3:
                    head, field_text, ts_text = parts
                    if not (ts_text.isascii() and ts_text.isdigit()):
                        raise _FALLBACK  # negative, malformed or followed by blanks
                    raw = int(ts_text)
                    if raw < lowest or raw > highest:
                        raise _FALLBACK
                    ts = raw * mul // div
                else:
                    head, field_text = parts
                    ts = now_ms
                names = head.split(",")
                measurement = names[0]
                if not measurement or field_text[0] == "\t" or "=+" in field_text:
                    raise _FALLBACK  # "=+": Go's syntax has no plus sign on a number
                tags: dict[str, str] = {}
                if len(names) > 1:
                    previous = ""
                    ordered = True
                    for pair in names[1:]:
                        key, value = pair.split("=")
                        if not key or not value or key in tags:
                            raise _FALLBACK
                        if key < previous:
                            ordered = False
                        tags[key] = value
                        previous = key
                    if not ordered:
                        tags = dict(sorted(tags.items()))
                fields: dict[str, FieldValue] = {}
                for pair in field_text.split(","):
                    key, _, text = pair.partition("=")
                    if not key:
                        raise _FALLBACK
                    if float_text(text):
                        number = float(text)
                        if number - number:  # inf, an overflow
                            raise _FALLBACK
                        fields[key] = number
                    else:
                        fields[key] = field_value(text)
                append(_new_point(Point, (measurement, tags, fields, ts)))
                continue
            except (_Fallback, _Invalid, ValueError, IndexError):
                pass
        try:
            point = _parse_slow(line, lineno, unit, now_ms)
        except ParseError as exc:
            errors.append(exc)
            continue
        if point is not None:
            append(point)
    return points


def _parse_slow(
    line: str, lineno: int, unit: tuple[int, int, int, int], now_ms: int
) -> Point | None:
    """Parse any line character by character; None for a blank or comment line.

    Raises:
        ParseError: the line is bad; the column is where the problem starts.
    """

    def fail(reason: str, at: int) -> ParseError:
        return ParseError(reason, line=lineno, column=at + 1)

    end = len(line)
    i = _skip_ws(line, 0)
    if i == end or line[i] == "#":
        return None
    j = _match_end(_MEASUREMENT, line, i)
    if j == i:
        raise fail("missing measurement", i)
    measurement = _unescape(line[i:j], ", ", i, lineno)
    tags: dict[str, str] = {}
    while j < end and line[j] == ",":
        i = j + 1
        j = _match_end(_KEY, line, i)
        if j == i:
            raise fail("missing tag key", i)
        key = _unescape(line[i:j], ",= ", i, lineno)
        if key in tags:
            raise fail(f"duplicate tag key {_show(key)}", i)
        if j == end or line[j] != "=":
            raise fail(f"tag {_show(key)}: missing '=' and tag value", j)
        i = j + 1
        j = _match_end(_KEY, line, i)
        if j == i:
            raise fail(f"tag {_show(key)}: missing tag value", i)
        if j < end and line[j] == "=":
            raise fail(f"tag {_show(key)}: '=' in a tag value must be escaped as '\\='", j)
        tags[key] = _unescape(line[i:j], ",= ", i, lineno)
    i = _skip_ws(line, j)
    if i == end:
        raise fail("missing fields", i)
    fields: dict[str, FieldValue] = {}
    while True:
        j = _match_end(_KEY, line, i)
        if j == i:
            raise fail("missing field key", i)
        key = _unescape(line[i:j], ',= "', i, lineno)
        if j == end or line[j] != "=":
            raise fail(f"field {_show(key)}: missing '=' and field value", j)
        i = j + 1
        if i == end or line[i] in ", ":
            raise fail(f"field {_show(key)}: missing field value", i)
        if line[i] == '"':
            quoted = _STRING.match(line, i)
            if quoted is None:
                raise fail(f"field {_show(key)}: unterminated string", i)
            j = quoted.end()
            if j < end and line[j] not in ", ":
                raise fail(f"field {_show(key)}: expected ',' or ' ' after the closing quote", j)
            fields[key] = _STRING_ESCAPE.sub(r"\1", quoted.group(1))
        else:
            j = _match_end(_UNQUOTED, line, i)
            try:
                fields[key] = _field_value(line[i:j])
            except _Invalid as exc:
                raise fail(f"field {_show(key)}: {exc}", i) from None
        if j == end or line[j] == " ":
            break
        i = j + 1
    i = _skip_ws(line, j)
    ts = now_ms
    if i < end:
        j = _match_end(_BARE, line, i)
        try:
            ts = _timestamp(line[i:j], unit)
        except _Invalid as exc:
            raise fail(str(exc), i) from None
        j = _skip_ws(line, j)
        if j < end:
            raise fail("unexpected text after the timestamp", j)
    return Point(measurement, dict(sorted(tags.items())), fields, ts)


def point_lines(body: str | bytes) -> list[int]:
    """The 1-based line number of each point of a body that :func:`parse_lines` accepted.

    Blank and comment lines hold no point, so the n-th point is on the n-th other line; this
    names the line of a point refused after parsing.

    Example:
        >>> point_lines(b"# comment\\n\\ncpu v=1\\n  \\r\\nmem v=2\\n")
        [3, 5]
    """
    text = body if isinstance(body, str) else body.decode("utf-8", "replace")
    numbers = []
    for number, line in enumerate(text.split("\n"), 1):
        content = (line[:-1] if line.endswith("\r") else line).lstrip(_WS)
        if content and content[0] != "#":
            numbers.append(number)
    return numbers


def _show(text: str) -> str:
    """Quote a piece of a line for a message, cut to a readable length."""
    quoted = repr(text)
    return quoted if len(quoted) <= 60 else quoted[:56] + "...'"


def _skip_ws(line: str, i: int) -> int:
    end = len(line)
    while i < end and line[i] in _WS:
        i += 1
    return i


def _match_end(pattern: re.Pattern[str], line: str, i: int) -> int:
    found = pattern.match(line, i)
    assert found is not None  # every pattern here matches the empty string
    return found.end()


def _unescape(token: str, specials: str, at: int, lineno: int) -> str:
    """Unescape a name; refuse one that :func:`render_lines` could not write back."""
    if "\\" in token:
        for char in specials:
            token = token.replace("\\" + char, char)
        if token.endswith("\\") or any("\\" + char in token for char in specials):
            raise ParseError(
                f"{_show(token)}: a backslash at the end of a name or before one of "
                f"{specials!r} cannot be stored unambiguously",
                line=lineno,
                column=at + 1,
            )
    return token


def _field_value(text: str) -> FieldValue:
    """Convert an unquoted field value.

    Raises:
        _Invalid: the value is malformed or out of range.
    """
    flag = _BOOLS.get(text)
    if flag is not None:
        return flag
    last = text[-1]
    if last in "iu":
        digits = text[:-1]
        negative = last == "i" and digits[:1] == "-"
        magnitude = digits[1:] if negative else digits
        if not (magnitude.isascii() and magnitude.isdigit()):
            kind = "integer" if last == "i" else "unsigned integer"
            raise _Invalid(f"invalid {kind} {_show(text)}")
        value = int(digits) if len(digits) <= 24 else _UINT64_MAX + 1
        if last == "u":
            if value > _UINT64_MAX:
                raise _Invalid(f"unsigned integer {_show(text)} is out of range (0 to 2**64-1)")
            return UInt(value)
        if not _INT64[0] <= value <= _INT64[1]:
            raise _Invalid(f"integer {_show(text)} is out of range (signed 64-bit)")
        return value
    if _FLOAT_CHARS.issuperset(text) and text[0] != "+":
        try:
            number = float(text)
        except ValueError:
            pass
        else:
            if number - number:
                raise _Invalid(f"float {_show(text)} is out of range")
            return number
    if text.lower() in _NON_FINITE:
        raise _Invalid("NaN and Inf are not valid field values")
    raise _Invalid(
        f"invalid value {_show(text)} (expected a number, 12i, 12u, a boolean or a quoted string)"
    )


def _timestamp(text: str, unit: tuple[int, int, int, int]) -> int:
    """Convert a timestamp in the request precision to milliseconds (floored).

    Raises:
        _Invalid: not an integer, or outside InfluxDB's range.
    """
    magnitude = text[1:] if text[:1] == "-" else text
    if not (magnitude.isascii() and magnitude.isdigit()):
        raise _Invalid(f"invalid timestamp {_show(text)} (expected an integer)")
    raw = int(text) if len(text) <= 24 else _MAX_NS + 1
    if not unit[2] <= raw <= unit[3]:
        raise _Invalid(f"timestamp {_show(text)} is out of range ({unit[2]} to {unit[3]})")
    return raw * unit[0] // unit[1]


_CACHE_LIMIT = 50_000
_measurements: dict[str, str] = {}
_tag_names: dict[str, str] = {}
_field_keys: dict[str, str] = {}
_MEASUREMENT_ESCAPES = str.maketrans({",": "\\,", " ": "\\ "})
_KEY_ESCAPES = str.maketrans({",": "\\,", "=": "\\=", " ": "\\ "})
_STRING_ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"'})


def render_lines(points: Iterable[Point]) -> str:
    """Render points as line protocol, one line each, timestamps in milliseconds.

    Tags are written in the order of each point's dict, floats with ``repr`` (an exact round
    trip), integers as ``12i``, :class:`~streams.records.UInt` as ``12u``.

    Raises:
        ValueError: a point cannot be written; see the module docstring.
    """
    lines: list[str] = []
    append = lines.append
    measurements, tag_names, field_keys = _measurements, _tag_names, _field_keys
    for index, point in enumerate(points):
        try:
            measurement, tags, fields, ts = point
            head = measurements.get(measurement) or _escape(measurement, "measurement")
            for key, value in tags.items():
                head = (
                    f"{head},{tag_names.get(key) or _escape(key, 'tag key')}"
                    f"={tag_names.get(value) or _escape(value, 'tag value')}"
                )
            parts = []
            for key, field in fields.items():
                name = field_keys.get(key) or _escape(key, "field key")
                if type(field) is float and not field - field:
                    parts.append(f"{name}={field!r}")
                else:
                    parts.append(f"{name}={_value_text(field)}")
            if not parts:
                raise ValueError("a point needs at least one field")
            if type(ts) is not int or not _MIN_MS <= ts <= _MAX_MS:
                raise ValueError(f"timestamp {ts!r} is not an integer from {_MIN_MS} to {_MAX_MS}")
            append(f"{head} {','.join(parts)} {ts}")
        except (ValueError, TypeError, AttributeError) as exc:
            raise ValueError(f"point {index} cannot be written: {exc}") from None
    return "\n".join(lines)


NameKind = Literal["measurement", "tag key", "tag value", "field key"]
"""What a name is in a point; each kind has its own escapes."""


def check_name(name: str, kind: NameKind) -> None:
    """Raise ValueError, saying why, when :func:`render_lines` could not write ``name``.

    Example:
        >>> check_name("web-1", "tag value")
        >>> check_name("a\\\\", "tag value")
        Traceback (most recent call last):
        ...
        ValueError: tag value 'a\\\\' has a backslash at the end or before one of ',= '
    """
    _escape(name, kind)


def _escape(name: object, what: str) -> str:
    """Validate and escape a measurement, tag or field name, and cache it."""
    if type(name) is not str:
        raise ValueError(f"{what} must be a string, not {type(name).__name__}")
    if not name:
        raise ValueError(f"{what} is empty")
    if "\n" in name:
        raise ValueError(f"{what} {name!r} holds a newline")
    if what == "measurement":
        specials, table, cache = ", ", _MEASUREMENT_ESCAPES, _measurements
        if name[0] in "#\t":
            raise ValueError(f"{what} {name!r} starts with {name[0]!r}, which a parser skips")
    elif what == "field key":
        specials, table, cache = ',= "', _KEY_ESCAPES, _field_keys
        if name[0] == "\t":
            raise ValueError(f"{what} {name!r} starts with a tab, which a parser skips")
    else:
        specials, table, cache = ",= ", _KEY_ESCAPES, _tag_names
    if name[-1] == "\\" or any("\\" + char in name for char in specials):
        raise ValueError(
            f"{what} {name!r} has a backslash at the end or before one of {specials!r}"
        )
    if len(cache) >= _CACHE_LIMIT:
        cache.clear()
    cache[name] = escaped = name.translate(table)
    return escaped


def _value_text(value: object) -> str:
    """The text of any field value but a finite float (the caller's fast case)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, UInt):
        if not 0 <= value <= _UINT64_MAX:
            raise ValueError(f"unsigned integer {int(value)} is out of range (0 to 2**64-1)")
        return f"{int(value)}u"
    if isinstance(value, int):
        if not _INT64[0] <= value <= _INT64[1]:
            raise ValueError(f"integer {value} is out of range (signed 64-bit)")
        return f"{int(value)}i"
    if isinstance(value, float):
        if value - value:
            raise ValueError(f"float {value!r} is not finite")
        return repr(float(value))
    if isinstance(value, str):
        if "\n" in value:
            raise ValueError(f"string {value!r:.40} holds a newline")
        return f'"{value.translate(_STRING_ESCAPES)}"'
    raise ValueError(f"a {type(value).__name__} is not a field value")
