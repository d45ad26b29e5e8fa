import math

import pytest

from streams.promql.notation import NotationError, expand_values, parse_series
from streams.promql.series import STALE


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # the examples of Prometheus' unit testing documentation
        ("-2+4x3", [-2.0, 2.0, 6.0, 10.0]),
        (" 1-2x4", [1.0, -1.0, -3.0, -5.0, -7.0]),
        (" 1x4", [1.0, 1.0, 1.0, 1.0, 1.0]),
        (" 1 _x3 stale", [1.0, None, None, None, STALE]),
        ("1 _ 3", [1.0, None, 3.0]),
        ("_x0 5", [5.0]),
        ("0x0", [0.0]),
        ("7x1", [7.0, 7.0]),
        ("1  2\t3 ", [1.0, 2.0, 3.0]),
        ("", []),
        ("+5 -0.5 .25 1e3 1.5E-1", [5.0, -0.5, 0.25, 1000.0, 0.15]),
        ("010 09", [8.0, 9.0]),  # Go's ParseInt with base 0: a leading 0 is octal
        ("1e2x1", [100.0, 100.0]),
        ("1.x1", [1.0, 1.0]),
    ],
)
def test_expanding_notation(text: str, expected: list[float | None]) -> None:
    assert expand_values(text) == expected


def test_increments_are_repeated_additions_as_in_go() -> None:
    # 0.1 + 0.1 + 0.1 is not 0.3 in floats; a + 3*b would be
    assert expand_values("0.1+0.1x3") == [0.1, 0.2, 0.1 + 0.1 + 0.1, 0.1 + 0.1 + 0.1 + 0.1]
    assert expand_values("0.1+0.1x3")[2] != 0.1 + 3 * 0.1


def test_infinities_and_nan() -> None:
    values = expand_values("Inf -Inf +inf NaN nan")
    assert values[:3] == [math.inf, -math.inf, math.inf]
    assert all(v is not None and math.isnan(v) for v in values[3:])


def test_a_stale_start_continues_as_plain_nan() -> None:
    first, *rest = expand_values("stale+1x2")
    assert first is STALE
    assert len(rest) == 2 and all(v is not STALE and v != v for v in rest if v is not None)


@pytest.mark.parametrize(
    ("text", "column", "fragment"),
    [
        ("1 x3", 3, 'unexpected "x"'),
        ("1,2", 2, "unexpected character"),
        ("4x-1", 3, "<op:->"),
        ("1 Stale", 3, 'expected number or "stale"'),
        ("1 stalex2", 3, '"stalex2"'),
        ("1x2.5", 3, "invalid repetition"),
        ("1a", 1, "bad number syntax"),
        ("1e400", 1, "out of range"),
        ("1+2", 0, "unexpected end of input"),
    ],
)
def test_notation_errors_say_where(text: str, column: int, fragment: str) -> None:
    with pytest.raises(NotationError) as info:
        expand_values(text)
    assert fragment in info.value.reason
    assert info.value.column == column


@pytest.mark.parametrize(
    ("text", "labels"),
    [
        ("up", (("__name__", "up"),)),
        ('up{job="a",}', (("__name__", "up"), ("job", "a"))),
        ("{b='2', a=\"1\"}", (("a", "1"), ("b", "2"))),
        ("{}", ()),
        ("job:up:sum{}", (("__name__", "job:up:sum"),)),
        ('x{a="q\\"uote\\n"}', (("__name__", "x"), ("a", 'q"uote\n'))),
        ("x{a=`raw\\n`}", (("__name__", "x"), ("a", "raw\\n"))),
        ('{__name__="x", z="1"}', (("__name__", "x"), ("z", "1"))),
    ],
)
def test_series_descriptors(text: str, labels: tuple[tuple[str, str], ...]) -> None:
    assert parse_series(text) == labels


def test_empty_label_values_are_kept_only_when_asked() -> None:
    assert parse_series('x{a=""}') == (("__name__", "x"),)
    assert parse_series('x{a=""}', keep_empty=True) == (("__name__", "x"), ("a", ""))


@pytest.mark.parametrize("text", ["", "x{", "x{a=1}", "x y", '{a="1" b="2"}', 'x{a:b="1"}'])
def test_bad_series_descriptors(text: str) -> None:
    with pytest.raises(NotationError):
        parse_series(text)
