import hashlib
import json
from collections.abc import Callable
from types import MappingProxyType

import pytest

from streams.promql.evaluate import Sample
from streams.promql.parse import parse_expr
from streams.rules.evaluation.alerts import AlertError, AlertState, fingerprint
from streams.rules.model import AlertingRule
from streams.rules.templating.templates import compile_template

M = 60_000


def rule(
    for_s: float = 0.0,
    keep_s: float = 0.0,
    labels: dict[str, str] | None = None,
    annotations: dict[str, str] | None = None,
) -> AlertingRule:
    return AlertingRule(
        "DiskFull",
        parse_expr("disk_used_percent > 90"),
        "disk_used_percent > 90",
        for_s,
        keep_s,
        MappingProxyType({k: compile_template(v) for k, v in (labels or {}).items()}),
        MappingProxyType({k: compile_template(v) for k, v in (annotations or {}).items()}),
    )


def disk(host: str, value: float, source: object = None) -> Sample:
    labels = (("__name__", "disk_used_percent"), ("host", host))
    return Sample(labels, value, () if source is None else (source,))


def kinds(changes: list) -> list[tuple[str, str]]:  # type: ignore[type-arg]
    return [(c.kind, dict(c.labels)["host"]) for c in changes]


def test_pending_then_firing_after_for_then_resolved() -> None:
    state = AlertState(rule(for_s=120))
    changes = state.update([disk("a", 95.0, ("raw", 0, 1))], 0)
    assert kinds(changes) == [("pending", "a")]
    assert changes[0].previous == "inactive" and changes[0].starts_at_ms == 0
    assert changes[0].sources == (("raw", 0, 1),)
    assert state.update([disk("a", 96.0)], M) == []  # still pending: 60 s < 120 s
    [fired] = state.update([disk("a", 97.0)], 2 * M)
    assert (fired.kind, fired.previous, fired.value, fired.starts_at_ms) == (
        "firing",
        "pending",
        97.0,
        0,
    )
    assert fired.ends_at_ms is None
    [resolved] = state.update([], 3 * M)
    assert (resolved.kind, resolved.previous, resolved.ends_at_ms) == ("resolved", "firing", 3 * M)
    assert state.alerts == {}


def test_firing_at_once_without_for() -> None:
    state = AlertState(rule())
    [change] = state.update([disk("a", 95.0)], 0)
    assert (change.kind, change.previous) == ("firing", "inactive")


def test_pending_that_ends_becomes_inactive() -> None:
    state = AlertState(rule(for_s=300))
    state.update([disk("a", 95.0)], 0)
    [change] = state.update([], M)
    assert (change.kind, change.previous, change.ends_at_ms) == ("inactive", "pending", M)
    # it comes back as a new alert, with a new active time
    [again] = state.update([disk("a", 95.0)], 2 * M)
    assert (again.kind, again.starts_at_ms) == ("pending", 2 * M)


def test_evaluations_at_arbitrary_instants() -> None:
    state = AlertState(rule(for_s=90))
    state.update([disk("a", 95.0)], 1_000)
    assert state.update([disk("a", 95.0)], 90_999) == []
    assert kinds(state.update([disk("a", 95.0)], 91_000)) == [("firing", "a")]


def test_keep_firing_for_holds_a_resolved_condition() -> None:
    state = AlertState(rule(keep_s=120))
    state.update([disk("a", 95.0)], 0)
    # the condition is gone from 1m: kept firing while t - 1m < 2m, with the last value
    assert state.update([], M) == []
    assert state.update([], 2 * M) == []
    assert [a.value for a in state.firing()] == [95.0]
    # back in the result: the hold restarts
    assert state.update([disk("a", 93.0)], 2 * M + 30_000) == []
    assert state.update([], 3 * M) == []
    assert state.update([], 4 * M) == []
    [resolved] = state.update([], 5 * M)
    assert (resolved.kind, resolved.value) == ("resolved", 93.0)


def test_keep_firing_for_does_not_hold_pending_alerts() -> None:
    state = AlertState(rule(for_s=300, keep_s=600))
    state.update([disk("a", 95.0)], 0)
    assert kinds(state.update([], M)) == [("inactive", "a")]


def test_labels_and_annotations_are_rendered_and_follow_the_result() -> None:
    state = AlertState(
        rule(
            labels={
                "severity": "{{ if gt $value 98.0 }}page{{ else }}ticket{{ end }}",
                "empty": "",
            },
            annotations={
                "summary": "{{ $labels.host }} at {{ $value }}%",
                "bad": "{{ $labels.nope }}",
            },
        )
    )
    [change] = state.update([disk("a", 95.5)], 0)
    assert dict(change.labels) == {"alertname": "DiskFull", "host": "a", "severity": "ticket"}
    annotations = dict(change.annotations)
    assert annotations["summary"] == "a at 95.5%"
    assert annotations["bad"].startswith("<error expanding template: ")
    state.update([disk("a", 96.5)], M)
    [alert] = state.firing()
    assert dict(alert.annotations)["summary"] == "a at 96.5%" and alert.value == 96.5


def test_a_label_template_on_the_value_makes_a_new_alert() -> None:
    state = AlertState(
        rule(labels={"severity": "{{ if gt $value 98.0 }}page{{ else }}ticket{{ end }}"})
    )
    state.update([disk("a", 95.0)], 0)
    changes = state.update([disk("a", 99.0)], M)
    assert sorted((c.kind, dict(c.labels)["severity"]) for c in changes) == [
        ("firing", "page"),
        ("resolved", "ticket"),
    ]


def test_duplicate_label_sets_fail_and_change_nothing() -> None:
    state = AlertState(rule(for_s=60))
    state.update([disk("a", 95.0)], 0)
    other = Sample((("__name__", "other"), ("host", "a")), 1.0)
    with pytest.raises(AlertError, match="same labelset after applying alert labels"):
        state.update([disk("a", 95.0), other], M)
    [alert] = state.alerts.values()
    assert alert.state == "pending" and alert.active_at_ms == 0


def test_the_limit_drops_every_alert() -> None:
    state = AlertState(rule(), limit=1)
    state.update([disk("a", 95.0)], 0)
    with pytest.raises(AlertError, match="exceeded limit of 1 with 2 alerts") as info:
        state.update([disk("a", 95.0), disk("b", 95.0)], M)
    assert len(info.value.dropped) == 2 and state.alerts == {}


def roundtrip(state: AlertState) -> AlertState:
    saved = json.loads(json.dumps(state.to_dict()))  # as a Faust table would store it
    return AlertState.from_dict(state.rule, saved)


@pytest.mark.parametrize("restart", [roundtrip, lambda s: s])
def test_a_restored_pending_alert_keeps_its_active_time(
    restart: Callable[[AlertState], AlertState],
) -> None:
    state = AlertState(rule(for_s=300))
    state.update([disk("a", 95.0, ["raw", 1, 7])], 60_000)
    state = restart(state)
    assert state.update([disk("a", 95.0)], 300_000) == []
    [fired] = state.update([disk("a", 95.0)], 360_000)
    assert (fired.kind, fired.starts_at_ms) == ("firing", 60_000)


def test_a_restored_firing_alert_is_not_announced_again() -> None:
    state = AlertState(rule(keep_s=120), external_labels={"region": "eu"})
    state.update([disk("a", 95.0, ("raw", 1, 7))], 0)
    state.update([], M)  # held by keep_firing_for since 1m
    restored = roundtrip(state)
    [alert] = restored.alerts.values()
    assert alert == state.alerts[alert.fingerprint]
    assert alert.sources == (("raw", 1, 7),)
    assert restored.update([], 2 * M) == []
    [resolved] = restored.update([], 3 * M)
    assert resolved.kind == "resolved" and resolved.starts_at_ms == 0


def test_non_finite_values_survive_json() -> None:
    state = AlertState(rule())
    state.update([disk("a", float("inf"))], 0)
    text = json.dumps(state.to_dict(), allow_nan=False)
    [alert] = AlertState.from_dict(state.rule, json.loads(text)).alerts.values()
    assert alert.value == float("inf")


def test_fingerprints_are_stable() -> None:
    labels = (("alertname", "A"), ("host", "a"))
    assert fingerprint(labels) == fingerprint(tuple(labels))
    assert fingerprint(labels) != fingerprint((("alertname", "A"), ("host", "b")))
    assert fingerprint((("a", "bc"),)) != fingerprint((("ab", "c"),))
    # the same in every process: no salted hash()
    digest = hashlib.blake2b(b"alertname\xffA\xffhost\xffa\xff", digest_size=8)
    assert fingerprint(labels) == digest.hexdigest()


def test_alerts_series_as_prometheus_writes_them() -> None:
    state = AlertState(rule(for_s=60, labels={"severity": "page"}))
    state.update([disk("a", 95.0)], 90_500)
    series = dict(state.series())
    assert (
        series[
            (
                ("__name__", "ALERTS"),
                ("alertname", "DiskFull"),
                ("alertstate", "pending"),
                ("host", "a"),
                ("severity", "page"),
            )
        ]
        == 1.0
    )
    assert (
        series[
            (
                ("__name__", "ALERTS_FOR_STATE"),
                ("alertname", "DiskFull"),
                ("host", "a"),
                ("severity", "page"),
            )
        ]
        == 90.0
    )
