"""A group evaluated on arrival evaluates only the outputs the changed series feed."""

from pathlib import Path

from test_group_evaluator import group_of

from streams.promql.series import STALE, SampleStore, series_labels
from streams.rules.evaluation.group import GroupEvaluator

M = 60_000


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
