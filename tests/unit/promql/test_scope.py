"""Evaluation narrowed to what changed gives what a whole evaluation gives, for those outputs."""

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from test_promtool_properties import Gen, expression, series_set

from streams.promql.evaluate import EvalError, evaluate
from streams.promql.notation import expand_values, parse_series
from streams.promql.parse import parse_expr
from streams.promql.scope import Narrower, plan_of
from streams.promql.series import SampleStore, series_labels

M = 60_000


def bits(vector: list) -> list:
    return [(s.labels, repr(s.value), s.sources) for s in vector]


@given(
    series=series_set(),
    gen=expression(),
    picks=st.lists(st.integers(0, 20), min_size=1, max_size=4),
    step=st.integers(0, 60),
    data=st.data(),
)
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
def test_a_narrowed_evaluation_is_the_whole_one_restricted_to_its_scope(
    series: dict[str, str], gen: Gen, picks: list[int], step: int, data: st.DataObject
) -> None:
    tree = parse_expr(gen.text)
    plan = plan_of(tree)
    assume(plan is not None)
    assert plan is not None
    narrower = Narrower(plan)
    store = SampleStore()
    t_ms = step * 15_000
    # Series are created in any order, some after the narrower first saw the store.
    described = data.draw(st.permutations(list(series.items())))
    early = data.draw(st.integers(0, len(described)))
    for n, (desc, values) in enumerate(described):
        if n == early:
            narrower.narrow(store, store.series())
        for i, value in enumerate(expand_values(values)):
            if value is not None:
                store.add(parse_series(desc), i * 30_000, value, ("raw", n, i))
    try:
        whole = evaluate(tree, store, t_ms)
    except EvalError:
        return  # duplicate label sets: the whole evaluation fails, a narrowed one may not
    every = sorted(store.series(), key=lambda s: s.labels)
    changed = every if data.draw(st.booleans()) else [every[i % len(every)] for i in picks]
    narrowed = narrower.narrow(store, changed)
    if narrowed is None:  # the expression reads none of them
        assert not any(plan.selector.matches(s.labels[0][1], s.label_map) for s in changed)
        return
    view, scope = narrowed
    assert bits(evaluate(tree, view, t_ms)) == bits([s for s in whole if s.labels in scope])


def test_narrowed_inputs_keep_label_order_whatever_order_series_came_in() -> None:
    store = SampleStore()
    tree = parse_expr("sum by (inst) (ga) > 0")
    plan = plan_of(tree)
    assert plan is not None
    narrower = Narrower(plan)
    arrivals = [("b", "y"), ("a", "y"), ("b", "x"), ("c", "x"), ("a", "x")]
    for n, (inst, grp) in enumerate(arrivals + [(inst, "z") for inst in "gfed"]):
        store.add(series_labels("ga", {"inst": inst, "grp": grp}), 0, 2.0**n)
        narrowed = narrower.narrow(store, store.series())
        assert narrowed is not None
        view, _ = narrowed
        assert bits(evaluate(tree, view, 0)) == bits(evaluate(tree, store, 0))
    one = narrower.narrow(store, [store.get(series_labels("ga", {"inst": "a", "grp": "x"}))])
    assert one is not None
    assert [s.labels for s in one[0].select(plan.selector)] == [
        series_labels("ga", {"inst": "a", "grp": g}) for g in "xy"
    ]


def test_what_has_a_plan() -> None:
    planned = ["x", "rate(x[1m]) * 8 > 10", "max by (rack) (x) > 1", "count(last_over_time(x[1m]))"]
    whole = ["x > on (h) y", "absent(x)", "absent_over_time(x[1m])", "x and y", "sum(x + y)"]
    assert [plan_of(parse_expr(e)) is not None for e in planned + whole] == [True] * len(
        planned
    ) + [False] * len(whole)
