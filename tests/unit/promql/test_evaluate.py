"""The evaluator against values computed by hand from Prometheus 2.42's formulas."""

import math

import pytest

from streams.promql.evaluate import EvalError, Sample, absent_labels, evaluate
from streams.promql.expr import Selector
from streams.promql.functions import (
    avg_over_time,
    extrapolated_rate,
    irate,
    max_over_time,
    min_over_time,
    sum_over_time,
)
from streams.promql.gomath import go_div, go_mod, go_pow
from streams.promql.notation import expand_values, parse_series
from streams.promql.parse import parse_expr
from streams.promql.series import SampleStore

M = 60_000  # one minute in ms


def store_of(series: dict[str, str], interval_ms: int = M) -> SampleStore:
    store = SampleStore()
    for desc, values in series.items():
        for i, value in enumerate(expand_values(values)):
            if value is not None:
                store.add(parse_series(desc), i * interval_ms, value, (desc, i))
    return store


def run(store: SampleStore, expr: str, t_ms: int) -> dict[str, float]:
    """Result as {label set text: value}, for readable assertions."""
    out = {}
    for sample in evaluate(parse_expr(expr), store, t_ms):
        text = ",".join(f"{k}={v}" for k, v in sample.labels)
        assert text not in out
        out[text] = sample.value
    return out


# --- range functions -------------------------------------------------------------------


def test_rate_without_extrapolation_when_samples_reach_both_ends() -> None:
    ts = [0, 60_000, 120_000, 180_000, 240_000, 300_000]
    values = [0.0, 60.0, 120.0, 180.0, 240.0, 300.0]
    assert extrapolated_rate(ts, values, 0, 300_000, 300_000, True, True) == 1.0
    assert extrapolated_rate(ts, values, 0, 300_000, 300_000, True, False) == 300.0


def test_counter_reset_adds_the_value_before_the_reset() -> None:
    ts = [0, 60_000, 120_000]
    # 10 -> 20 -> 5: increase 20 - 10 ... 5 - 10 = -5, plus 20 at the reset = 15
    assert extrapolated_rate(ts, [10.0, 20.0, 5.0], 0, 120_000, 120_000, True, False) == 15.0
    # delta does not know resets
    assert extrapolated_rate(ts, [10.0, 20.0, 5.0], 0, 120_000, 120_000, False, False) == -5.0


def test_far_from_the_ends_extrapolates_half_an_interval() -> None:
    # samples at 2m, 3m, 4m of a [0, 6m] range: 2m away on both sides > 1.1 x 60 s
    ts = [120_000, 180_000, 240_000]
    # delta: 20 over 120 s, extrapolated to 120 + 30 + 30 = 180 s
    assert extrapolated_rate(ts, [10.0, 20.0, 30.0], 0, 360_000, 360_000, False, False) == 30.0


def test_close_to_the_ends_extrapolates_all_the_way() -> None:
    # 66 s threshold; 50 s to the start and 10 s to the end are extrapolated fully
    ts = [50_000, 110_000, 170_000]
    result = extrapolated_rate(ts, [0.5, 1.5, 2.5], 0, 180_000, 180_000, False, False)
    assert result == 2.0 * ((120 + 50 + 10) / 120)


def test_counters_are_not_extrapolated_below_zero() -> None:
    # 120 s sampled, value 10 -> 30: the zero point is 60 s before the first sample,
    # closer than the 300 s to the range start (Prometheus 2.42 applies it before the
    # threshold: 60 s < 66 s, so the start is extrapolated by 60 s)
    ts = [300_000, 360_000, 420_000]
    increase = extrapolated_rate(ts, [10.0, 20.0, 30.0], 0, 600_000, 600_000, True, False)
    assert increase == 20.0 * ((120 + 60 + 30) / 120)  # 35, as promtool 2.42 says
    # a counter that starts at 0 is not extrapolated before its first sample
    assert extrapolated_rate([0, 60_000], [0.0, 60.0], -240_000, 60_000, 300_000, True, True) == (
        60.0 * (60 / 60) / 300
    )


def test_rate_needs_two_samples() -> None:
    assert extrapolated_rate([0], [1.0], 0, 60_000, 60_000, True, True) is None
    assert irate([0], [1.0]) is None


def test_irate_uses_the_last_two_samples_and_knows_resets() -> None:
    assert irate([0, 60_000, 90_000], [1.0, 10.0, 16.0]) == 6.0 / 30
    assert irate([0, 60_000], [10.0, 4.0]) == 4.0 / 60


def test_sum_and_avg_over_time_use_kahan_summation() -> None:
    assert sum_over_time([1.0, 1e100, 1.0, -1e100]) == 2.0  # a plain sum gives 0
    # incremental Kahan mean: 0.2750025 where the plain incremental mean is ...04
    assert avg_over_time([0.1, 0.7, 0.3, 1e-5]) == 0.2750025
    assert avg_over_time([math.inf, 1.0, math.inf]) == math.inf
    assert math.isnan(avg_over_time([math.inf, -math.inf]))


def test_min_and_max_over_time_skip_nan_unless_all_are_nan() -> None:
    assert max_over_time([math.nan, 1.0, 3.0, 2.0]) == 3.0
    assert min_over_time([math.nan, 1.0, 3.0, 0.5]) == 0.5
    assert math.isnan(max_over_time([math.nan, math.nan]))


def test_range_functions_through_the_evaluator() -> None:
    store = store_of({'c{i="1"}': "0 10 20 5 15", 'g{i="1"}': "1 4 2 8 _"})
    t = 4 * M
    # 15 - 0, plus 20 before the reset to 5; samples reach both ends of the range
    assert run(store, "increase(c[4m])", t) == {"i=1": 15 - 0 + 20}
    assert run(store, "rate(c[4m])", t) == {"i=1": 35 * (1 / 240)}
    assert run(store, "count_over_time(g[4m])", t) == {"i=1": 4.0}
    assert run(store, "max_over_time(g[4m])", t) == {"i=1": 8.0}
    assert run(store, "last_over_time(g[4m])", t) == {"__name__=g,i=1": 8.0}
    assert run(store, "irate(c[2m])", t) == {"i=1": 10 / 60}


def test_range_includes_a_sample_exactly_at_the_start() -> None:
    store = store_of({"c": "0 60 120"})
    assert run(store, "count_over_time(c[1m])", 2 * M) == {"": 2.0}
    assert run(store, "count_over_time(c[59s])", 2 * M) == {"": 1.0}


# --- selectors, absent ---------------------------------------------------------------


def test_instant_selectors_and_provenance() -> None:
    store = store_of({'up{job="a"}': "1 0", 'up{job="b"}': "1 _"})
    result = evaluate(parse_expr("up"), store, M)
    assert result == [
        Sample((("__name__", "up"), ("job", "a")), 0.0, (('up{job="a"}', 1),)),
        Sample((("__name__", "up"), ("job", "b")), 1.0, (('up{job="b"}', 0),)),
    ]


def test_absent_takes_labels_from_single_equality_matchers() -> None:
    store = store_of({'up{job="a"}': "1"})
    assert run(store, 'absent(up{job="a"})', 0) == {}
    assert run(store, 'absent(up{job="x",env=~"p.*",zone="z",zone="y"})', 0) == {"job=x": 1.0}
    assert run(store, "absent(sum(nothing))", 0) == {"": 1.0}
    # in order: a later matcher of a label removes it, an earlier non-equality does not
    # (found by the promtool property test; Prometheus 2.42's createLabelsForAbsentFunction)
    for text, labels in [
        ('x{a="", b="2"}', (("b", "2"),)),
        ('x{a="", a="1"}', ()),
        ('x{a!="1", a="1"}', (("a", "1"),)),
        ('x{a="1", a!="1"}', ()),
        ('x{a=~"1", a="1"}', (("a", "1"),)),
    ]:
        selector = parse_expr(text)
        assert isinstance(selector, Selector)
        assert absent_labels(selector) == labels, text


def test_absent_over_time() -> None:
    store = store_of({'hb{job="cron"}': "1 _ _ _"})
    assert run(store, 'absent_over_time(hb{job="cron"}[2m])', 2 * M) == {}
    assert run(store, 'absent_over_time(hb{job="cron"}[2m])', 2 * M + 1) == {"job=cron": 1.0}


# --- aggregations ------------------------------------------------------------------


def test_aggregations_by_and_without() -> None:
    store = store_of(
        {
            'cpu{host="a",cpu="0"}': "10",
            'cpu{host="a",cpu="1"}': "30",
            'cpu{host="b",cpu="0"}': "5",
        }
    )
    assert run(store, "sum by (host) (cpu)", 0) == {"host=a": 40.0, "host=b": 5.0}
    assert run(store, "avg without (cpu) (cpu)", 0) == {"host=a": 20.0, "host=b": 5.0}
    assert run(store, "max(cpu)", 0) == {"": 30.0}
    assert run(store, "min by (cpu) (cpu)", 0) == {"cpu=0": 5.0, "cpu=1": 30.0}
    assert run(store, "count by (nope) (cpu)", 0) == {"": 3.0}
    assert run(store, "sum by (__name__) (cpu)", 0) == {"__name__=cpu": 45.0}


def test_avg_is_an_incremental_mean_as_in_go() -> None:
    store = store_of({'g{i="1"}': "1", 'g{i="2"}': "2", 'g{i="3"}': "4"})
    # mean = 1; += 2/2 - 1/2 -> 1.5; += 4/3 - 1.5/3 -> 2.333333333333333 (7/3 gives ...35)
    assert run(store, "avg(g)", 0) == {"": 1.5 + (4 / 3 - 1.5 / 3)}
    assert run(store, "avg(g)", 0)[""] != 7 / 3


def test_max_and_min_replace_nan() -> None:
    store = store_of({'g{i="1"}': "NaN", 'g{i="2"}': "2", 'g{i="3"}': "NaN"})
    assert run(store, "max(g)", 0) == {"": 2.0}
    assert run(store, "min(g)", 0) == {"": 2.0}


# --- operators -----------------------------------------------------------------------


def test_comparisons_filter_and_keep_the_vector_value_and_name() -> None:
    store = store_of({'x{i="1"}': "5", 'x{i="2"}': "50"})
    assert run(store, "x > 10", 0) == {"__name__=x,i=2": 50.0}
    assert run(store, "10 < x", 0) == {"__name__=x,i=2": 50.0}
    assert run(store, "x > bool 10", 0) == {"i=1": 0.0, "i=2": 1.0}
    assert run(store, "x == 5", 0) == {"__name__=x,i=1": 5.0}


def test_arithmetic_drops_the_name_and_follows_go_floats() -> None:
    store = store_of({'x{i="1"}': "5", 'x{i="0"}': "0", 'x{i="n"}': "-3"})
    assert run(store, "x * 2", 0) == {"i=0": 0.0, "i=1": 10.0, "i=n": -6.0}
    divided = run(store, "x / 0", 0)
    assert divided["i=1"] == math.inf and divided["i=n"] == -math.inf
    assert math.isnan(divided["i=0"])
    assert run(store, "x % 3", 0) == {"i=0": 0.0, "i=1": 2.0, "i=n": -0.0}
    assert run(store, "2 ^ x", 0) == {"i=0": 1.0, "i=1": 32.0, "i=n": 0.125}
    assert run(store, "-x", 0) == {"i=0": -0.0, "i=1": -5.0, "i=n": 3.0}


def test_go_math_special_cases() -> None:
    assert go_div(-1.0, -0.0) == math.inf
    assert math.isnan(go_mod(1.0, 0.0)) and go_mod(5.0, math.inf) == 5.0
    assert go_pow(-8.0, 3.0) == -512.0 and math.isnan(go_pow(-8.0, 0.5))
    assert go_pow(0.0, -1.0) == math.inf and go_pow(-0.0, -1.0) == -math.inf
    assert go_pow(10.0, 400.0) == math.inf and go_pow(10.0, -400.0) == 0.0
    # Go's Pow multiplies mantissas by repeated squaring (1.1^3 = 1.1 * 1.1^2 here), where
    # the C library's pow rounds the exact power once
    assert go_pow(1.1, 3.0) == 1.1 * (1.1 * 1.1)


def test_one_to_one_matching() -> None:
    store = store_of(
        {
            'load{host="a",job="node"}': "6",
            'cpus{host="a",job="telegraf"}': "4",
            'free{host="a",kind="f"}': "25",
            'size{host="a",kind="s"}': "100",
        }
    )
    assert run(store, "load / on (host) cpus", 0) == {"host=a": 1.5}
    assert run(store, "free / ignoring (kind) size", 0) == {"host=a": 0.25}
    assert run(store, "load / cpus", 0) == {}  # job differs
    # a comparison keeps the left side, minus what "on" leaves out
    assert run(store, "free < ignoring (kind) size", 0) == {"__name__=free,host=a": 25.0}
    assert run(store, "load > on (host) cpus", 0) == {"host=a": 6.0}


def test_many_to_many_and_many_to_one_fail_as_in_prometheus() -> None:
    store = store_of({'x{i="1"}': "1", 'x{i="2"}': "2", "y": "3"})
    with pytest.raises(EvalError, match="many-to-many matching not allowed"):
        run(store, "y + on () x", 0)
    with pytest.raises(EvalError, match="many-to-one matching must be explicit"):
        run(store, "x + on () y", 0)
    # nothing on one side: nothing to match, no error
    assert run(store, "x + on () nothing", 0) == {}


def test_same_labelset_after_dropping_the_name_fails() -> None:
    store = store_of({'a{i="1"}': "1", 'b{i="1"}': "2"})
    with pytest.raises(EvalError, match="same labelset"):
        run(store, '{__name__=~"a|b"} * 2', 0)
    with pytest.raises(EvalError, match="same labelset"):
        run(store, 'count_over_time({__name__=~"a|b"}[5m])', 0)
    assert len(run(store, '{__name__=~"a|b"} > 0', 0)) == 2


def test_set_operators() -> None:
    store = store_of({'x{i="1"}': "1", 'x{i="2"}': "2", 'y{i="2"}': "20", 'y{i="3"}': "30"})
    assert run(store, "x and y", 0) == {"__name__=x,i=2": 2.0}
    assert run(store, "x unless y", 0) == {"__name__=x,i=1": 1.0}
    assert run(store, "x or y", 0) == {
        "__name__=x,i=1": 1.0,
        "__name__=x,i=2": 2.0,
        "__name__=y,i=3": 30.0,
    }
    assert run(store, "x and on () y", 0) == {"__name__=x,i=1": 1.0, "__name__=x,i=2": 2.0}
    assert run(store, "x unless nothing", 0) == {"__name__=x,i=1": 1.0, "__name__=x,i=2": 2.0}
    assert run(store, "nothing or y", 0) == {"__name__=y,i=2": 20.0, "__name__=y,i=3": 30.0}


def test_sources_of_every_input_are_reported_once() -> None:
    store = store_of({'x{i="1"}': "1 2", 'x{i="2"}': "3 4"})
    [total] = evaluate(parse_expr("sum(rate(x[1m]))"), store, M)
    assert total.sources == (('x{i="1"}', 1), ('x{i="2"}', 1))
    [ratio] = evaluate(parse_expr('x{i="1"} / on () x{i="2"}'), store, M)
    assert ratio.sources == (('x{i="1"}', 1), ('x{i="2"}', 1))
