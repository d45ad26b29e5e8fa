import math

import pytest

from streams.promql.errors import ExprError
from streams.promql.expr import (
    Absent,
    Aggregate,
    LabelMatcher,
    Matching,
    RangeCall,
    ScalarOp,
    Selector,
    SetOp,
    VectorOp,
    output_labels,
    selectors,
    to_promql,
)
from streams.promql.locate import find_construct, position
from streams.promql.parse import parse_expr

SUPPORTED = [
    'cpu_usage_idle{cpu="cpu-total"}',
    'cpu_usage_idle{cpu!="cpu-total"}',
    'cpu_usage_idle{host=~"web-.*"}',
    'cpu_usage_idle{host!~"db-.*|cache"}',
    '{__name__=~"disk_used_percent|mem_used_percent",host="a"}',
    "rate(net_bytes_recv[5m])",
    "irate(net_bytes_recv[1m])",
    "increase(net_bytes_recv[1h])",
    "delta(mem_used_percent[10m])",
    "avg_over_time(cpu_usage_idle[5m])",
    "min_over_time(cpu_usage_idle[5m])",
    "max_over_time(cpu_usage_idle[5m])",
    "sum_over_time(cpu_usage_idle[5m])",
    "count_over_time(cpu_usage_idle[5m])",
    "last_over_time(cpu_usage_idle[5m])",
    'absent_over_time(cpu_usage_idle{host="a"}[5m])',
    'absent(up{job="pulseline"})',
    "absent(sum(up))",
    "sum(x)",
    "avg by (host) (x)",
    "min without (cpu) (x)",
    "max(x) by (host, cpu)",
    "count by () (x)",
    "SUM BY (host) (x)",
    "x > 90",
    "x >= bool 90",
    "90 < x",
    "x == 1",
    "x != 0",
    "x <= 5",
    "x + 1",
    "100 - x",
    "x * 8",
    "x / 1024 / 1024",
    "x % 60",
    "x ^ 2",
    "-x",
    "x > -1",
    "x / y",
    "x / on (host) y",
    "x - ignoring (cpu) y",
    "x > bool on (host) y",
    "x and y",
    "x or on (host) y",
    "x unless ignoring (path) y",
    "(x > 1) and (y < 2)",
    "100 * (1 - avg by (host) (rate(cpu_usage_idle[5m])))",
    "x > 1024 * 1024  # a comment",
    "rate((x[5m]))",
]


@pytest.mark.parametrize("text", SUPPORTED)
def test_supported_constructs_are_accepted_and_print_back(text: str) -> None:
    tree = parse_expr(text)
    assert parse_expr(to_promql(tree)) == tree


def test_tree_shape() -> None:
    tree = parse_expr('sum by (host) (rate(net_bytes_recv{interface!~"lo"}[5m])) * 8 > 1e9')
    assert tree == ScalarOp(
        ">",
        ScalarOp(
            "*",
            Aggregate(
                "sum",
                RangeCall(
                    "rate",
                    Selector("net_bytes_recv", (LabelMatcher("interface", "!~", "lo"),)),
                    300.0,
                ),
                ("host",),
            ),
            8.0,
        ),
        1e9,
    )


def test_vector_and_set_operations() -> None:
    assert parse_expr("a / on (host) b") == VectorOp(
        "/", Selector("a"), Selector("b"), Matching(on=True, labels=("host",))
    )
    assert parse_expr("a > bool ignoring (cpu) b") == VectorOp(
        ">", Selector("a"), Selector("b"), Matching(labels=("cpu",)), return_bool=True
    )
    assert parse_expr("a unless b") == SetOp("unless", Selector("a"), Selector("b"))
    assert parse_expr("absent(a)") == Absent(Selector("a"))


def test_scalar_left_and_unary_minus() -> None:
    assert parse_expr("100 - x") == ScalarOp("-", Selector("x"), 100.0, scalar_left=True)
    assert parse_expr("-x") == ScalarOp("*", Selector("x"), -1.0, scalar_left=True)
    assert parse_expr("x < bool -1") == ScalarOp("<", Selector("x"), -1.0, return_bool=True)


@pytest.mark.parametrize(
    ("text", "scalar"),
    [
        ("x > 1024 * 1024", 1048576.0),
        ("x > 2 ^ 10", 1024.0),
        ("x > 7 % 4", 3.0),
        ("x > (1 + 2) * 3", 9.0),
        ("x > 1 / 0", math.inf),
        ("x > -1 / 0", -math.inf),
        ("x > (2 > bool 1)", 1.0),
        ("x > 0x10", 16.0),
    ],
)
def test_constant_folding(text: str, scalar: float) -> None:
    tree = parse_expr(text)
    assert isinstance(tree, ScalarOp)
    assert tree.scalar == scalar


def test_nan_constant() -> None:
    tree = parse_expr("x > 0 / 0")
    assert isinstance(tree, ScalarOp)
    assert math.isnan(tree.scalar)


UNSUPPORTED = [
    ("histogram_quantile(0.9, rate(x[5m]))", "function 'histogram_quantile'", 1),
    ("topk(3, x)", "aggregation 'topk'", 1),
    ("x + bottomk(3, y)", "aggregation 'bottomk'", 5),
    ("quantile(0.9, x)", "aggregation 'quantile'", 1),
    ('count_values("v", x)', "aggregation 'count_values'", 1),
    ("stddev by (host) (x)", "aggregation 'stddev'", 1),
    ("group(x)", "aggregation 'group'", 1),
    ("max_over_time(x[10m:1m])", "subquery", 16),
    ("x offset 5m", "modifier 'offset'", 3),
    ("rate(x[5m] offset 1h)", "modifier 'offset'", 12),
    ("x @ 1700000000", "modifier '@'", 3),
    ("x @ start()", "modifier '@'", 3),
    ('label_replace(x, "a", "$1", "b", "(.*)")', "function 'label_replace'", 1),
    ('label_join(x, "a", ",", "b")', "function 'label_join'", 1),
    ('"a string"', "string literal", 1),
    ("quantile_over_time(0.9, x[5m])", "function 'quantile_over_time'", 1),
    ("stddev_over_time(x[5m])", "function 'stddev_over_time'", 1),
    ("x * on (host) group_left (role) y", "modifier 'group_left'", 15),
    ("x * on (host) group_right y", "modifier 'group_right'", 15),
    ("x atan2 y", "operator 'atan2'", 3),
    ("abs(x)", "function 'abs'", 1),
    ("clamp_max(x, 100)", "function 'clamp_max'", 1),
    ("vector(1)", "function 'vector'", 1),
    ("x > scalar(y)", "function 'scalar'", 5),
    ("time() - x", "function 'time'", 1),
    ("predict_linear(x[1h], 3600) < 0", "function 'predict_linear'", 1),
    ("sort(x)", "function 'sort'", 1),
    ('x{a="b" or c="d"}', "'or' inside a selector's braces", 9),
]


@pytest.mark.parametrize(("text", "construct", "column"), UNSUPPORTED)
def test_unsupported_constructs_are_refused_with_position(
    text: str, construct: str, column: int
) -> None:
    with pytest.raises(ExprError) as info:
        parse_expr(text)
    issue = info.value.issues[0]
    assert f"unsupported {construct} at column {column}" in issue.message
    assert issue.offset == column - 1


def test_every_unsupported_construct_is_reported_once() -> None:
    with pytest.raises(ExprError) as info:
        parse_expr("topk(3, x offset 1m) + rate(y[5m] offset 2m) + topk(1, z)")
    messages = [i.message for i in info.value.issues]
    assert len(messages) == 3  # the offset inside the refused topk is not repeated
    assert messages[0].startswith("unsupported aggregation 'topk' at column 1 ")
    assert messages[1].startswith("unsupported modifier 'offset' at column 35 ")
    assert messages[2].startswith("unsupported aggregation 'topk' at column 48 ")


def test_position_in_a_multi_line_expression() -> None:
    with pytest.raises(ExprError) as info:
        parse_expr("sum(x)\n  /\n  topk(1, y)")
    assert "unsupported aggregation 'topk' at 3:3" in info.value.issues[0].message


def test_top_level_scalar_and_range_vector_are_refused() -> None:
    with pytest.raises(ExprError, match="scalar"):
        parse_expr("1 + 1")
    with pytest.raises(ExprError, match="range vector"):
        parse_expr("x[5m]")


@pytest.mark.parametrize("text", ["x{", "rate(x)", "sum(x", "foo(x)", "x > > 1", "1 > 2", ""])
def test_syntax_errors_come_from_promql_parser(text: str) -> None:
    with pytest.raises(ExprError, match="PromQL syntax error") as info:
        parse_expr(text)
    assert info.value.issues[0].offset is None


def test_regex_python_cannot_compile_is_refused() -> None:
    with pytest.raises(ExprError, match=r"regex '\(\?<n>a\)' at column 4 is not supported"):
        parse_expr('x{a=~"(?<n>a)"}')


def test_matchers_are_anchored() -> None:
    sel = parse_expr('x{host=~"web-.", env!~"dev|test", cpu!="cpu-total"}')
    assert isinstance(sel, Selector)
    assert sel.matches("x", {"host": "web-1", "env": "prod"})
    assert not sel.matches("x", {"host": "web-12", "env": "prod"})
    assert not sel.matches("x", {"host": "web-1", "env": "dev"})
    assert not sel.matches("y", {"host": "web-1"})
    assert not sel.matches("x", {"host": "web-1", "cpu": "cpu-total"})


def test_selectors_and_output_labels() -> None:
    tree = parse_expr("sum by (host) (rate(a[5m])) / on (host) sum by (host) (b) or absent(c)")
    assert [s.metric for s in selectors(tree)] == ["a", "b", "c"]
    assert output_labels(tree) == frozenset({"host"})
    assert output_labels(parse_expr('absent(up{job="x", env=~"p.*"})')) == frozenset({"job"})
    assert output_labels(parse_expr('absent_over_time(up{job="x"}[5m])')) == frozenset({"job"})
    assert output_labels(parse_expr("max without (cpu) (x)")) is None
    assert output_labels(parse_expr("rate(x[5m]) > 1")) is None
    assert output_labels(parse_expr("sum(x) or y")) is None


def test_locate_skips_strings_comments_and_braces() -> None:
    text = 'x{a="topk(1, y)"} + topk(1, z)  # topk(2, w)'
    assert find_construct(text, "agg:topk", 1) == 20
    assert find_construct(text, "agg:topk", 2) is None
    assert position("a\nbc", 3) == (2, 2)
