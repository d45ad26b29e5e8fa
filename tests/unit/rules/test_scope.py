"""Evaluation narrowed to what changed gives what a whole evaluation gives, for those outputs."""

from pathlib import Path

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from test_group_evaluator import group_of
from test_promtool_properties import Gen, expression, series_set

from streams.rules.evaluate import EvalError, evaluate
from streams.rules.group import GroupEvaluator
from streams.rules.notation import expand_values, parse_series
from streams.rules.promql import parse_expr
from streams.rules.scope import Narrower, plan_of
from streams.rules.series import STALE, SampleStore, series_labels

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


RULES = """\
groups:
  - name: g
    rules:
      - record: host:busy:max
        expr: max by (host) (busy)
      - alert: Busy
        expr: host:busy:max > 90
        for: 1m
      - alert: MemoryFull
        expr: mem_used > 99
      - alert: Absent
        expr: absent(heartbeat)
"""


def evaluator_and_store(tmp_path: Path) -> tuple[GroupEvaluator, SampleStore]:
    return GroupEvaluator(group_of(tmp_path, RULES)), SampleStore()


def busy(host: str, cpu: str = "0") -> tuple:
    return series_labels("busy", {"host": host, "cpu": cpu})


def test_an_arrival_evaluates_only_the_outputs_its_series_feed(tmp_path: Path) -> None:
    evaluator, store = evaluator_and_store(tmp_path)
    for host in "ab":
        store.add(busy(host), 0, 95.0)
    store.add(series_labels("heartbeat", {}), 0, 1.0)
    first = evaluator.evaluate(store, 0)
    assert sorted((c.kind, dict(c.labels).get("host")) for c in first.changes) == [
        ("pending", "a"),
        ("pending", "b"),
    ]
    # Only host a's CPU 1 arrives, a minute later: host a's recorded series and alert are
    # evaluated (it fires); b's stay as they were, though its `for` ran out too.
    store.add(busy("a", "1"), M, 97.0)
    result = evaluator.evaluate(store, M, changed=[busy("a", "1")])
    assert [(s.labels, s.value) for s in result.samples] == [
        ((("__name__", "host:busy:max"), ("host", "a")), 97.0)
    ]
    assert [(c.kind, dict(c.labels)["host"]) for c in result.changes] == [("firing", "a")]
    # The timer then evaluates the alerts whose `for` ran out, and only those: b fires.
    due = evaluator.evaluate_due(store, M)
    assert due is not None
    assert [(c.kind, dict(c.labels)["host"]) for c in due.changes] == [("firing", "b")]
    assert due.samples == []
    assert evaluator.evaluate_due(store, M + 1) is None  # nothing left pending
    # A whole evaluation is what a full one always was: both firing, nothing new.
    assert evaluator.evaluate(store, M + 2).changes == []


def test_the_deadline_evaluation_fires_a_pending_alert_with_no_new_sample(tmp_path: Path) -> None:
    evaluator, store = evaluator_and_store(tmp_path)
    store.add(busy("a"), 0, 95.0)
    store.add(series_labels("heartbeat", {}), 0, 1.0)
    evaluator.evaluate(store, 0)
    assert evaluator.evaluate_due(store, M - 1) is None
    result = evaluator.evaluate_due(store, M)
    assert result is not None
    assert [(c.kind, c.starts_at_ms) for c in result.changes] == [("firing", 0)]


def test_a_narrowed_evaluation_marks_stale_only_its_own_outputs(tmp_path: Path) -> None:
    evaluator, store = evaluator_and_store(tmp_path)
    for host in "ab":
        store.add(busy(host), 0, 95.0)
    evaluator.evaluate(store, 0)
    store.add(busy("a"), M, STALE)
    result = evaluator.evaluate(store, M, changed=[busy("a")])
    assert [(s.labels, s.value) for s in result.samples] == [
        ((("__name__", "host:busy:max"), ("host", "a")), STALE)
    ]
    assert [(c.kind, dict(c.labels)["host"]) for c in result.changes] == [("inactive", "a")]
    # b's recorded series lives on and goes stale at a whole evaluation once b is gone.
    store.add(busy("b"), 2 * M, STALE)
    stale = [s.labels for s in evaluator.evaluate(store, 2 * M).samples if s.value is STALE]
    assert stale == [(("__name__", "host:busy:max"), ("host", "b"))]


def test_rules_reading_no_changed_series_are_skipped(tmp_path: Path) -> None:
    evaluator, store = evaluator_and_store(tmp_path)
    store.add(series_labels("mem_used", {"host": "a"}), 0, 99.5)
    result = evaluator.evaluate(store, 0, changed=[series_labels("mem_used", {"host": "a"})])
    # neither the recording rule nor absent(heartbeat), which reads no changed series, ran
    assert result.samples == []
    assert [c.rule for c in result.changes] == ["MemoryFull"]
    assert [c.rule for c in evaluator.evaluate(store, 1).changes] == ["Absent"]
    # a rule without a plan is evaluated whole when it reads a changed series
    store.add(series_labels("heartbeat", {}), 2, 1.0)
    result = evaluator.evaluate(store, 2, changed=[series_labels("heartbeat", {})])
    assert [(c.rule, c.kind) for c in result.changes] == [("Absent", "resolved")]
