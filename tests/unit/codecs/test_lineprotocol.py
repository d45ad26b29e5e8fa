from __future__ import annotations

import doctest
import itertools
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from streams.codecs import lineprotocol
from streams.codecs.lineprotocol import normalize_precision, parse_lines, render_lines
from streams.errors import BodyParseError, ParseError
from streams.records import Point, UInt

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
UINT64_MAX = 2**64 - 1
MAX_MS = 9_223_372_036_854  # InfluxDB's last nanosecond, in milliseconds


def parse(body: str | bytes, precision: Any = "ns", now_ms: int = 42) -> list[Point]:
    return parse_lines(body, precision=precision, now_ms=now_ms)


def parse_one(line: str, **kw: Any) -> Point:
    (point,) = parse(line, **kw)
    return point


def error_of(body: str | bytes, **kw: Any) -> ParseError:
    with pytest.raises(BodyParseError) as caught:
        parse(body, **kw)
    assert caught.value.bad_lines == 1
    (error,) = caught.value.errors
    return error


def typed(points: list[Point]) -> list[Any]:
    """Points with tag order and exact field types made comparable."""
    return [
        (
            p.measurement,
            list(p.tags.items()),
            {k: (type(v), repr(v)) for k, v in p.fields.items()},
            p.ts_ms,
        )
        for p in points
    ]


def test_module_examples() -> None:
    assert doctest.testmod(lineprotocol).failed == 0


# --- precision ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "canonical"),
    [
        ("ns", "ns"),
        ("n", "ns"),
        ("us", "us"),
        ("u", "us"),
        ("ms", "ms"),
        ("s", "s"),
        ("m", "m"),
        ("h", "h"),
    ],
)
def test_normalize_precision(name: str, canonical: str) -> None:
    assert normalize_precision(name) == canonical


@pytest.mark.parametrize("name", ["", "sec", "NS", "µs", "d"])
def test_unknown_precision_names_the_accepted_ones(name: str) -> None:
    with pytest.raises(ValueError, match=r"use one of ns, n, us, u, ms, s, m, h"):
        normalize_precision(name)
    with pytest.raises(ValueError, match="unknown precision"):
        parse("m v=1", precision=name)


@pytest.mark.parametrize(
    ("precision", "raw", "ms"),
    [
        ("ns", 1_700_000_000_123_456_789, 1_700_000_000_123),
        ("ns", 999_999, 0),
        ("ns", -1, -1),
        ("ns", -1_000_000, -1),
        ("ns", -1_000_001, -2),
        ("n", 1_700_000_000_123_456_789, 1_700_000_000_123),
        ("us", 1_700_000_000_123_456, 1_700_000_000_123),
        ("us", -1, -1),
        ("u", -1_001, -2),
        ("ms", 1_700_000_000_123, 1_700_000_000_123),
        ("ms", -5, -5),
        ("s", 1_700_000_000, 1_700_000_000_000),
        ("s", -2, -2_000),
        ("m", 2, 120_000),
        ("m", -1, -60_000),
        ("h", 472_222, 472_222 * 3_600_000),
        ("h", -1, -3_600_000),
        ("ns", 2**63 - 2, MAX_MS),
        ("ns", -(2**63) + 2, -MAX_MS - 1),
        ("s", 9_223_372_036, 9_223_372_036_000),
        ("h", 2_562_047, 2_562_047 * 3_600_000),
    ],
)
def test_timestamps_are_floored_to_milliseconds(precision: str, raw: int, ms: int) -> None:
    assert parse_one(f"m v=1 {raw}", precision=precision).ts_ms == ms


@pytest.mark.parametrize(
    ("precision", "raw"),
    [
        ("ns", 2**63 - 1),
        ("ns", -(2**63) + 1),
        ("ns", -(2**63)),
        ("ns", 10**30),
        ("us", 2**63 // 1000 + 1),
        ("s", 9_223_372_037),
        ("s", -9_223_372_037),
        ("m", 153_722_868),
        ("h", 2_562_048),
    ],
)
def test_out_of_range_timestamps_are_errors(precision: str, raw: int) -> None:
    error = error_of(f"m v=1 {raw}", precision=precision)
    assert "out of range" in error.reason
    assert error.column == 7


@pytest.mark.parametrize("ts", ["1.5", "1e9", "+5", "1_000", "0x10", "--1", "-", "12a", "١٢"])
def test_non_integer_timestamps_are_errors(ts: str) -> None:
    error = error_of(f"m v=1 {ts}")
    assert error.reason == f"invalid timestamp {ts!r} (expected an integer)"
    assert error.column == 7


def test_huge_numbers_are_errors_not_crashes() -> None:
    assert "out of range" in error_of("m v=1 " + "9" * 5000).reason
    assert "out of range" in error_of("m v=" + "9" * 5000 + "i").reason
    assert "out of range" in error_of("m v=" + "9" * 5000 + "u").reason
    assert "out of range" in error_of("m v=1" + "0" * 400).reason


def test_missing_timestamp_is_now() -> None:
    assert parse_one("m v=1", now_ms=1234).ts_ms == 1234
    assert parse_one("m v=1  \t ", now_ms=1234).ts_ms == 1234


# --- field values ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1", 1.0),
        ("-1", -1.0),
        ("1.5", 1.5),
        ("-1.5e10", -1.5e10),
        ("1e-3", 1e-3),
        ("1E+3", 1e3),
        (".5", 0.5),
        ("-.5", -0.5),
        ("1.", 1.0),
        ("007", 7.0),
        ("-0", -0.0),
        ("1.7976931348623157e308", 1.7976931348623157e308),
        ("5e-324", 5e-324),
    ],
)
def test_bare_numbers_are_floats(text: str, value: float) -> None:
    got = parse_one(f"m v={text}").fields["v"]
    assert type(got) is float
    assert repr(got) == repr(value)


@pytest.mark.parametrize(
    "text", ["nan", "NaN", "-nan", "inf", "+inf", "-Inf", "Infinity", "-infinity", "INF"]
)
def test_nan_and_inf_are_rejected(text: str) -> None:
    error = error_of(f"m x={text}")
    assert error.reason == "field 'x': NaN and Inf are not valid field values"
    assert error.column == 5


@pytest.mark.parametrize(
    "text",
    [
        *("1_000", "0x10", "0x1p-2", "+1", "1e", "e5", ".", "-", "1.2.3", "1e5.5", "\u0661", "1-2"),
        *("tRUE", "yes", "1.5i", "+1i", "1_0i", "i", "-i", "0x1i", "-1u", "+1u", "1.0u", "u"),
    ],
)
def test_malformed_values_are_rejected(text: str) -> None:
    error = error_of(f"m v={text}")
    assert error.reason.startswith("field 'v': invalid ")
    assert repr(text) in error.reason
    assert error.column == 5


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("0i", 0),
        ("-0i", 0),
        ("12i", 12),
        (f"{INT64_MAX}i", INT64_MAX),
        (f"{INT64_MIN}i", INT64_MIN),
    ],
)
def test_integers(text: str, value: int) -> None:
    got = parse_one(f"m v={text}").fields["v"]
    assert type(got) is int
    assert got == value


@pytest.mark.parametrize(
    ("text", "value"), [("0u", 0), ("12u", 12), (f"{UINT64_MAX}u", UINT64_MAX)]
)
def test_unsigned_integers(text: str, value: int) -> None:
    got = parse_one(f"m v={text}").fields["v"]
    assert type(got) is UInt
    assert got == value


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (f"{INT64_MAX + 1}i", "integer '9223372036854775808i' is out of range (signed 64-bit)"),
        (f"{INT64_MIN - 1}i", "integer '-9223372036854775809i' is out of range (signed 64-bit)"),
        (f"{UINT64_MAX + 1}u", "unsigned integer '18446744073709551616u' is out of range"),
        ("1e309", "float '1e309' is out of range"),
    ],
)
def test_number_overflow_is_an_error(text: str, reason: str) -> None:
    assert error_of(f"m v={text}").reason.startswith(f"field 'v': {reason}")


@pytest.mark.parametrize("text", ["t", "T", "true", "True", "TRUE"])
def test_true(text: str) -> None:
    assert parse_one(f"m v={text}").fields["v"] is True


@pytest.mark.parametrize("text", ["f", "F", "false", "False", "FALSE"])
def test_false(text: str) -> None:
    assert parse_one(f"m v={text}").fields["v"] is False


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ('""', ""),
        ('"a b,c=d"', "a b,c=d"),
        (r'"say \"hi\""', 'say "hi"'),
        (r'"back\\slash"', "back\\slash"),
        (r'"ends\\"', "ends\\"),
        (r'"a\nb"', "a\\nb"),
        (r'"lone \ backslash"', "lone \\ backslash"),
        (r'"\\\""', '\\"'),
        ('"#not a comment"', "#not a comment"),
        ('"ünïcødé ✓"', "ünïcødé ✓"),
    ],
)
def test_strings(text: str, value: str) -> None:
    point = parse_one(f"m v={text},w=1 5")
    assert point.fields == {"v": value, "w": 1.0}
    assert point.ts_ms == 0


def test_every_type_in_one_line() -> None:
    point = parse_one('m f=1.5,i=-3i,u=3u,b=true,s="x" 1000000')
    assert typed([point]) == typed(
        [Point("m", {}, {"f": 1.5, "i": -3, "u": UInt(3), "b": True, "s": "x"}, 1)]
    )


def test_duplicate_field_key_keeps_the_last_value() -> None:
    assert parse_one("m v=1,w=2,v=3i").fields == {"v": 3, "w": 2.0}


# --- names and escaping ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "measurement", "tags", "fields"),
    [
        (r"my\ cpu v=1", "my cpu", {}, {"v": 1.0}),
        (r"my\,cpu v=1", "my,cpu", {}, {"v": 1.0}),
        (r"a=b v=1", "a=b", {}, {"v": 1.0}),
        (r"a\=b v=1", "a\\=b", {}, {"v": 1.0}),
        (r"a\b v=1", "a\\b", {}, {"v": 1.0}),
        (r'a"b v=1', 'a"b', {}, {"v": 1.0}),
        (r"\ lead v=1", " lead", {}, {"v": 1.0}),
        (r"m,a\ b=c v=1", "m", {"a b": "c"}, {"v": 1.0}),
        (r"m,a\,b=c v=1", "m", {"a,b": "c"}, {"v": 1.0}),
        (r"m,a\=b=c v=1", "m", {"a=b": "c"}, {"v": 1.0}),
        (r"m,k=a\ b v=1", "m", {"k": "a b"}, {"v": 1.0}),
        (r"m,k=a\,b v=1", "m", {"k": "a,b"}, {"v": 1.0}),
        (r"m,k=a\=b v=1", "m", {"k": "a=b"}, {"v": 1.0}),
        (r"m,k=a\b v=1", "m", {"k": "a\\b"}, {"v": 1.0}),
        (r'm,k=a"b v=1', "m", {"k": 'a"b'}, {"v": 1.0}),
        (r"m a\ b=1", "m", {}, {"a b": 1.0}),
        (r"m a\,b=1", "m", {}, {"a,b": 1.0}),
        (r"m a\=b=1", "m", {}, {"a=b": 1.0}),
        (r"m a\"b=1", "m", {}, {'a"b': 1.0}),
        (r'm a"b=1', "m", {}, {'a"b': 1.0}),
        (r"m a\b=1", "m", {}, {"a\\b": 1.0}),
        (r"m #a=1", "m", {}, {"#a": 1.0}),
        ("m\tx v=1", "m\tx", {}, {"v": 1.0}),
        ("m,k=a\tb v=1", "m", {"k": "a\tb"}, {"v": 1.0}),
        ("ünï,ç=✓ é=1", "ünï", {"ç": "✓"}, {"é": 1.0}),
    ],
)
def test_escaping(
    line: str, measurement: str, tags: dict[str, str], fields: dict[str, Any]
) -> None:
    assert parse_one(line) == Point(measurement, tags, fields, 42)


@pytest.mark.parametrize(
    ("line", "column"),
    [(r"a\\,b v=1", 1), (r"m,k=\\\ x v=1", 5), (r"m,k\\\ =x v=1", 3), (r"m a\\\,b=1", 3)],
)
def test_names_that_cannot_be_written_back_are_refused(line: str, column: int) -> None:
    with pytest.raises(BodyParseError) as err:
        parse_lines(line, precision="ms", now_ms=0)
    assert err.value.errors[0].column == column
    assert "cannot be stored unambiguously" in str(err.value)


def test_tags_are_sorted_by_key() -> None:
    point = parse_one("m,zone=z,host=h,app=a,b\\ =x v=1")
    assert list(point.tags) == ["app", "b ", "host", "zone"]


# --- lines, whitespace and comments ------------------------------------------------------


def test_blank_lines_comments_and_crlf() -> None:
    body = "# header\r\n\r\n  \t \nm v=1 1000000\r\n   # indented comment\n\t m v=2\n\n"
    assert parse(body) == [Point("m", {}, {"v": 1.0}, 1), Point("m", {}, {"v": 2.0}, 42)]


def test_empty_bodies() -> None:
    assert parse("") == []
    assert parse(b"") == []
    assert parse("\n\n# only a comment\n") == []


def test_extra_spaces_and_tabs_between_sections() -> None:
    assert parse_one("m,t=1  \t v=1 \t 1000000 \t") == Point("m", {"t": "1"}, {"v": 1.0}, 1)


def test_other_line_breaks_are_ordinary_characters() -> None:
    point = parse_one('m\u2028x,t=a\x0bb v="a\rb\x85c" 5000000')
    assert point == Point("m\u2028x", {"t": "a\x0bb"}, {"v": "a\rb\x85c"}, 5)
    assert error_of("m v=1\r5").reason.startswith("field 'v': invalid value '1\\r5'")


def test_bytes_are_utf8() -> None:
    assert parse('mé,t=ü v="✓"'.encode()) == [Point("mé", {"t": "ü"}, {"v": "✓"}, 42)]


# --- errors ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "column", "reason"),
    [
        ("m", 2, "missing fields"),
        ("m ", 3, "missing fields"),
        ("m,t=1", 6, "missing fields"),
        (",t=1 v=1", 1, "missing measurement"),
        ("  ,t=1 v=1", 3, "missing measurement"),
        ("m, v=1", 3, "missing tag key"),
        ("m,=a v=1", 3, "missing tag key"),
        ("m,t=1, v=1", 7, "missing tag key"),
        ("m,t v=1", 4, "tag 't': missing '=' and tag value"),
        ("m,t=1,u", 8, "tag 'u': missing '=' and tag value"),
        ("m,t= v=1", 5, "tag 't': missing tag value"),
        ("m,t=,u=1 v=1", 5, "tag 't': missing tag value"),
        ("m,t=a=b v=1", 6, "tag 't': '=' in a tag value must be escaped as '\\='"),
        ("m,t=1,t=2 v=1", 7, "duplicate tag key 't'"),
        ("m =1", 3, "missing field key"),
        ("m v=1,=2", 7, "missing field key"),
        ("m v=1,", 7, "missing field key"),
        ("m v=1, w=2", 7, "missing field key"),
        ("m v", 4, "field 'v': missing '=' and field value"),
        ("m v=1,w 5", 8, "field 'w': missing '=' and field value"),
        ("m v=", 5, "field 'v': missing field value"),
        ("m v=,w=1", 5, "field 'v': missing field value"),
        ("m v= 5", 5, "field 'v': missing field value"),
        ('m v="abc', 5, "field 'v': unterminated string"),
        ('m v="abc\\"', 5, "field 'v': unterminated string"),
        ('m v="a"b', 8, "field 'v': expected ',' or ' ' after the closing quote"),
        ('m v="a""b"', 8, "field 'v': expected ',' or ' ' after the closing quote"),
        ("m v=1 5 6", 9, "unexpected text after the timestamp"),
        ("m v=1 5 #comment", 9, "unexpected text after the timestamp"),
        ("m v=1\t5", 5, "field 'v': invalid value '1\\t5'"),
        ("m v=abc", 5, "field 'v': invalid value 'abc'"),
        ("m v=1 1.5", 7, "invalid timestamp '1.5'"),
        ("  m v=x", 7, "field 'v': invalid value 'x'"),
        ("m\\ x,a\\ b=c\\,d v=@", 18, "field 'v': invalid value '@'"),
        ("ünï v=x", 7, "field 'v': invalid value 'x'"),
    ],
)
def test_error_positions(line: str, column: int, reason: str) -> None:
    error = error_of(f"# first\nm ok=1\n{line}\nm ok=2")
    assert error.line == 3
    assert error.column == column
    assert error.reason.startswith(reason)
    assert str(error).startswith(f"line 3, column {column}: {reason}")


def test_long_names_are_cut_in_messages() -> None:
    error = error_of("m " + "k" * 500 + "=x")
    assert len(error.reason) < 160
    assert "kkk...'" in error.reason
    assert error.reason.endswith(
        "invalid value 'x' (expected a number, 12i, 12u, a boolean or a quoted string)"
    )


def test_every_bad_line_counts_and_ten_are_reported() -> None:
    lines = []
    for n in range(40):
        lines.append(f"m v={n}")
        lines.append("m v=bad" if n % 2 else "m,t v=1")
    with pytest.raises(BodyParseError) as caught:
        parse("\n".join(lines))
    exc = caught.value
    assert exc.bad_lines == 40
    assert len(exc.errors) == BodyParseError.MAX_REPORTED
    assert [e.line for e in exc.errors] == list(range(2, 22, 2))
    assert "40 bad line(s)" in str(exc)
    assert "and 30 more bad lines" in str(exc)


def test_one_bad_line_rejects_the_whole_body() -> None:
    body = "m v=1\nm v=2\nm v=NaN\nm v=4"
    with pytest.raises(BodyParseError) as caught:
        parse(body)
    assert [(e.line, e.column) for e in caught.value.errors] == [(3, 5)]


def test_invalid_utf8_names_the_line() -> None:
    body = b"m v=1\nm,t=\xff\xfe v=2\n# comment \xff is fine\nm v=x\n\xc3 v=1"
    with pytest.raises(BodyParseError) as caught:
        parse(body)
    errors = caught.value.errors
    assert [(e.line, e.column, e.reason[:25]) for e in errors] == [
        (2, 5, "invalid UTF-8"),
        (4, 5, "field 'v': invalid value "),
        (5, 1, "invalid UTF-8"),
    ]
    assert caught.value.bad_lines == 3


def test_invalid_utf8_column_counts_characters() -> None:
    assert error_of('é✓ v="'.encode() + b'\xff"').column == 7


# --- rendering ---------------------------------------------------------------------------


def test_render_types_and_order() -> None:
    point = Point(
        "cpu",
        {"z": "1", "a": "2"},
        {
            "f": 0.1,
            "g": 1e16,
            "n": -0.0,
            "i": INT64_MIN,
            "u": UInt(UINT64_MAX),
            "t": True,
            "b": False,
            "s": 'q"\\',
        },
        -5,
    )
    assert render_lines([point]) == (
        "cpu,z=1,a=2 f=0.1,g=1e+16,n=-0.0,i=-9223372036854775808i,"
        'u=18446744073709551615u,t=true,b=false,s="q\\"\\\\" -5'
    )


def test_render_escapes_every_position() -> None:
    point = Point("a b,c=d", {"k =,": "v =,"}, {'f =,"': "s =,"}, 0)
    text = render_lines([point])
    assert text == 'a\\ b\\,c=d,k\\ \\=\\,=v\\ \\=\\, f\\ \\=\\,"="s =," 0'
    assert parse_lines(text, precision="ms", now_ms=1) == [point]


def test_render_joins_lines() -> None:
    points = [Point("a", {}, {"v": 1}, 1), Point("b", {}, {"v": 2}, 2)]
    assert render_lines(points) == "a v=1i 1\nb v=2i 2"
    assert render_lines(iter(points)) == "a v=1i 1\nb v=2i 2"
    assert render_lines([]) == ""


@pytest.mark.parametrize(
    ("point", "message"),
    [
        (Point("", {}, {"v": 1.0}, 0), "measurement is empty"),
        (Point("#m", {}, {"v": 1.0}, 0), "measurement '#m' starts with '#'"),
        (Point("\tm", {}, {"v": 1.0}, 0), "measurement '\\tm' starts with '\\t'"),
        (Point("m\nx", {}, {"v": 1.0}, 0), "holds a newline"),
        (Point("m\\", {}, {"v": 1.0}, 0), "has a backslash at the end"),
        (Point("m\\,x", {}, {"v": 1.0}, 0), "has a backslash at the end or before one of ', '"),
        (Point("m", {"": "v"}, {"v": 1.0}, 0), "tag key is empty"),
        (Point("m", {"k": ""}, {"v": 1.0}, 0), "tag value is empty"),
        (Point("m", {"k\\": "v"}, {"v": 1.0}, 0), "tag key 'k\\\\' has a backslash"),
        (Point("m", {"k": "v\\=x"}, {"v": 1.0}, 0), "tag value 'v\\\\=x' has a backslash"),
        (Point("m", {"k": 5}, {"v": 1.0}, 0), "tag value must be a string, not int"),
        (Point("m", {"k": ["x"]}, {"v": 1.0}, 0), "unhashable"),
        (Point("m", {}, {"": 1.0}, 0), "field key is empty"),
        (Point("m", {}, {"\tv": 1.0}, 0), "starts with a tab"),
        (Point("m", {}, {'v\\"': 1.0}, 0), "field key 'v\\\\\"' has a backslash"),
        (Point("m", {}, {}, 0), "at least one field"),
        (Point("m", {}, {"v": float("nan")}, 0), "float nan is not finite"),
        (Point("m", {}, {"v": float("-inf")}, 0), "float -inf is not finite"),
        (Point("m", {}, {"v": INT64_MAX + 1}, 0), "out of range (signed 64-bit)"),
        (Point("m", {}, {"v": INT64_MIN - 1}, 0), "out of range (signed 64-bit)"),
        (Point("m", {}, {"v": UInt(UINT64_MAX + 1)}, 0), "out of range (0 to 2**64-1)"),
        (Point("m", {}, {"v": UInt(-1)}, 0), "out of range (0 to 2**64-1)"),
        (Point("m", {}, {"v": "a\nb"}, 0), "holds a newline"),
        (Point("m", {}, {"v": None}, 0), "a NoneType is not a field value"),
        (Point("m", {}, {"v": [1]}, 0), "a list is not a field value"),
        (Point("m", {}, {"v": 1.0}, MAX_MS + 1), "timestamp 9223372036855 is not an integer"),
        (Point("m", {}, {"v": 1.0}, -MAX_MS - 1), "is not an integer"),
        (Point("m", {}, {"v": 1.0}, 1.5), "timestamp 1.5 is not an integer"),
        (Point("m", {}, {"v": 1.0}, True), "timestamp True is not an integer"),
    ],
)
def test_render_refuses_what_cannot_be_written(point: Point, message: str) -> None:
    with pytest.raises(ValueError, match="point 1 cannot be written") as caught:
        render_lines([Point("ok", {}, {"v": 1.0}, 0), point])
    assert message in str(caught.value)


def test_render_cache_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lineprotocol, "_CACHE_LIMIT", 3)
    points = [Point(f"m{n}", {f"k{n}": f"v {n}"}, {f"f{n}": 1.0}, n) for n in range(20)]
    text = render_lines(points)
    assert len(lineprotocol._tag_names) <= 3
    assert parse_lines(text, precision="ms", now_ms=0) == points


# --- properties --------------------------------------------------------------------------

SPECIALS = {"measurement": ", ", "tag": ",= ", "field": ',= "'}


def writable(name: str, kind: str) -> bool:
    """Whether render_lines can write ``name``; stated apart from the module's own check."""
    if not name or "\n" in name or name.endswith("\\"):
        return False
    if (kind == "measurement" and name[0] in "#\t") or (kind == "field" and name[0] == "\t"):
        return False
    return not any(a == "\\" and b in SPECIALS[kind] for a, b in itertools.pairwise(name))


name_chars = st.characters(codec="utf-8", exclude_characters="\n") | st.sampled_from(
    list(',= "\\#\t\r\x0b')
)
names = st.text(name_chars, min_size=1, max_size=8)
field_values = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False),
    st.integers(INT64_MIN, INT64_MAX),
    st.integers(0, UINT64_MAX).map(UInt),
    st.booleans(),
    st.text(st.characters(codec="utf-8", exclude_characters="\n") | st.sampled_from('\\"')),
)
timestamps = st.integers(-MAX_MS, MAX_MS)


def points_of(measurements: Any, tag_names: Any, field_keys: Any) -> Any:
    return st.builds(
        Point,
        measurements,
        st.dictionaries(tag_names, tag_names, max_size=4).map(lambda d: dict(sorted(d.items()))),
        st.dictionaries(field_keys, field_values, min_size=1, max_size=4),
        timestamps,
    )


writable_points = points_of(
    names.filter(lambda s: writable(s, "measurement")),
    names.filter(lambda s: writable(s, "tag")),
    names.filter(lambda s: writable(s, "field")),
)


@settings(max_examples=300)
@given(st.lists(writable_points, max_size=5))
@example([Point(" #m", {"k": "\\x\\"[:2]}, {"#": "\\"}, 0)])
@example([Point("m\r", {"a\\b": "\\\\x"}, {'"': '""'}, 0)])
def test_render_then_parse_is_identity(points: list[Point]) -> None:
    text = render_lines(points)
    assert typed(parse_lines(text, precision="ms", now_ms=0)) == typed(points)
    assert typed(parse_lines(text.encode(), precision="ms", now_ms=0)) == typed(points)


@given(points_of(names, names, names))
def test_render_refuses_exactly_the_unwritable_names(point: Point) -> None:
    ok = (
        writable(point.measurement, "measurement")
        and all(writable(k, "tag") and writable(v, "tag") for k, v in point.tags.items())
        and all(writable(k, "field") for k in point.fields)
    )
    if ok:
        assert typed(parse_lines(render_lines([point]), precision="ms", now_ms=0)) == typed([point])
    else:
        with pytest.raises(ValueError, match="cannot be written"):
            render_lines([point])


line_pieces = st.sampled_from(
    [
        *("m", "cpu", "h", ",", "=", " ", "  ", "\t", "\\", '"', "#", "1", "1.5", "-", "+", "_"),
        *(".", "e5", "i", "u", "t", "true", "nan", "170000000000", "x=1", " v=1", ",t=a", '"s"'),
        *("\r", "é"),
    ]
)


def line_of(words: Any, values: Any, separators: Any, stamps: Any) -> Any:
    """Lines shaped like line protocol, from the given pieces."""
    return st.builds(
        lambda m, tags, fields, gap, ts: (
            m
            + "".join(f",{k}={v}" for k, v in tags)
            + gap
            + ",".join(f"{k}={v}" for k, v in fields)
            + ts
        ),
        words,
        st.lists(st.tuples(words, words), max_size=3),
        st.lists(st.tuples(words, values), min_size=1, max_size=3),
        separators,
        stamps,
    )


plain_words = st.sampled_from(["cpu", "host", "v", "k", "é", "a_b", "a\tb"])
plain_values = st.sampled_from(["1", "-1.5", ".5", "1.", "1e5", "1E+5", "2i", "-3i", "4u", "t"])
plain_lines = line_of(plain_words, plain_values, st.just(" "), st.sampled_from(["", " 0", " 17"]))
noisy_lines = line_of(
    plain_words | st.text(st.sampled_from('mé#\t\\"=, -+._1eiu'), min_size=1, max_size=4),
    plain_values
    | st.sampled_from(['"s"', '"a,b c"', "FALSE", "1e999", "1_0", "+1", "nan", "-0u", "1ui"])
    | st.text(st.sampled_from('0123456789.eE+-_iutfTFalsrn"\\, '), max_size=6),
    st.sampled_from([" ", "  ", " \t", "\t", ""]),
    st.sampled_from(["", " -1", " 9223372036854775807", " 1.5", " +5", " ", " 1 ", "  2", " 1 2"]),
)
lines = st.lists(line_pieces, max_size=16).map("".join) | plain_lines | noisy_lines


@settings(max_examples=500)
@given(lines, st.sampled_from(["ns", "s", "h"]))
def test_fast_path_agrees_with_slow_path(line: str, precision: str) -> None:
    unit = lineprotocol._UNITS[precision]
    try:
        slow = lineprotocol._parse_slow(line.removesuffix("\r"), 1, unit, 7)
    except ParseError as exc:
        expected: Any = ("error", exc.column, exc.reason)
    else:
        expected = typed([slow]) if slow is not None else []
    errors: list[ParseError] = []
    got: Any = typed(lineprotocol._parse_body([line], unit, 7, plain=False, errors=errors))
    if errors:
        got = ("error", errors[0].column, errors[0].reason)
    assert got == expected


_TRICKY = st.text(alphabet='ab ,="\\#\t1.i', min_size=1, max_size=12)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.tuples(_TRICKY, _TRICKY, _TRICKY, _TRICKY), min_size=1, max_size=5))
def test_whatever_is_accepted_can_be_written_back(parts: list[tuple[str, ...]]) -> None:
    body = "\n".join(f"{m},{tk}={tv} {fields} 7" for m, tk, tv, fields in parts)
    try:
        points = parse_lines(body, precision="ms", now_ms=0)
    except BodyParseError:
        return
    assert parse_lines(render_lines(points), precision="ms", now_ms=0) == points
