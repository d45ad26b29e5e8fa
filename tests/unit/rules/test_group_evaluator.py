import json
from pathlib import Path

from streams.promql.series import STALE, SampleStore, series_labels
from streams.rules.evaluation.group import GroupEvaluator
from streams.rules.loader import load_rule_file
from streams.rules.model import RuleGroup

M = 60_000


def group_of(tmp_path: Path, text: str) -> RuleGroup:
    path = tmp_path / "rules.yml"
    path.write_text(text)
    return load_rule_file(path).groups[0]


RULES = """\
groups:
  - name: g
    labels: {team: infra}
    rules:
      - record: host:busy:max
        expr: max by (host) (busy)
      - alert: Busy
        expr: host:busy:max > 90
        for: 1m
      - record: broken
        expr: busy + on () busy
      - record: host:busy:double
        expr: host:busy:max * 2
"""


def test_recorded_samples_feed_later_rules_and_go_stale(tmp_path: Path) -> None:
    evaluator = GroupEvaluator(group_of(tmp_path, RULES))
    store = SampleStore()
    a = series_labels("busy", {"host": "a", "cpu": "0"})
    store.add(a, 0, 95.0, ("raw", 0, 1))
    result = evaluator.evaluate(store, 0)
    recorded = {s.labels: (s.value, s.sources) for s in result.samples}
    assert recorded == {
        (("__name__", "host:busy:max"), ("host", "a"), ("team", "infra")): (95.0, (("raw", 0, 1),)),
        (("__name__", "host:busy:double"), ("host", "a"), ("team", "infra")): (
            190.0,
            (("raw", 0, 1),),
        ),
        (("__name__", "broken"), ("team", "infra")): (190.0, (("raw", 0, 1),)),
    }
    [change] = result.changes
    assert (change.kind, dict(change.labels)) == (
        "pending",
        {"alertname": "Busy", "host": "a", "team": "infra"},
    )
    assert change.sources == (("raw", 0, 1),)  # through the recorded series
    # the one-series "broken" rule works until a second series makes it many-to-many
    store.add(series_labels("busy", {"host": "b", "cpu": "0"}), M, 10.0)
    result = evaluator.evaluate(store, M)
    assert [(e.rule, e.reason.split(";")[0][:26]) for e in result.errors] == [
        ("broken", "found duplicate series for")
    ]
    assert [(c.kind, dict(c.labels)["host"]) for c in result.changes] == [("firing", "a")]
    # host a ends: its recorded series end; the failed rule's series are left as they were
    store.add(a, 2 * M, STALE)
    result = evaluator.evaluate(store, 2 * M)
    stale = [s.labels for s in result.samples if s.value is STALE]
    assert stale == [
        (("__name__", "host:busy:max"), ("host", "a"), ("team", "infra")),
        (("__name__", "host:busy:double"), ("host", "a"), ("team", "infra")),
    ]
    assert [(c.kind, dict(c.labels)["host"]) for c in result.changes] == [("resolved", "a")]


def test_state_survives_json(tmp_path: Path) -> None:
    group = group_of(tmp_path, RULES)
    store = SampleStore()
    store.add(series_labels("busy", {"host": "a"}), 0, 95.0)
    first = GroupEvaluator(group)
    first.evaluate(store, 0)
    second = GroupEvaluator(group)
    second.restore(json.loads(json.dumps(first.to_dict())))
    store.add(series_labels("busy", {"host": "a"}), M, 96.0)
    changes = second.evaluate(store, M).changes
    assert [(c.kind, c.starts_at_ms) for c in changes] == [("firing", 0)]
