"""The detection of a broker that came back empty (streams.broker_loss), on hand-made states."""

from __future__ import annotations

from streams.broker_loss import BrokerState, LossDetector, find_loss

RAW = "metrics.raw"


def state(topics: set[str], ends: dict[tuple[str, int], int] | None = None) -> BrokerState:
    return BrokerState(frozenset(topics), ends or {})


def test_a_broker_with_its_topics_and_longer_logs_lost_nothing() -> None:
    ends = {(RAW, 0): 120, (RAW, 1): 80}
    assert find_loss({RAW}, state({RAW}, ends), {(RAW, 0): 120, (RAW, 1): 79}) is None


def test_a_topic_seen_before_and_gone_now_is_a_loss() -> None:
    assert find_loss({RAW, "alerts.events"}, state({RAW}), {}) == "topic alerts.events is gone"


def test_a_partition_ending_below_its_committed_offset_is_a_loss() -> None:
    # A collector recreated the topic by producing to it: 12 records where 5000 were consumed.
    finding = find_loss({RAW}, state({RAW}, {(RAW, 0): 12, (RAW, 1): 9000}), {(RAW, 0): 5000})
    assert (
        finding
        == "metrics.raw[0] ends at offset 12, below the offset 5000 the group committed there"
    )


def test_partitions_not_looked_at_are_no_evidence() -> None:
    assert find_loss({RAW}, state({RAW}, {}), {(RAW, 3): 5000}) is None


def test_a_topic_never_seen_is_no_loss() -> None:
    # Workers started before `topics create`: the topics appear later, nothing was lost.
    detector = LossDetector({RAW, "alerts.events"})
    for _ in range(3):
        assert detector.look(state(set()), {}) is None
    assert detector.look(state({RAW, "alerts.events"}), {}) is None


def test_a_loss_is_reported_once_when_the_next_look_confirms_it() -> None:
    detector = LossDetector({RAW})
    assert detector.look(state({RAW}), {}) is None
    assert detector.look(state(set()), {}) is None  # a broker halfway through its start
    assert detector.look(state(set()), {}) == "topic metrics.raw is gone"
    assert detector.look(state(set()), {}) is None  # said once


def test_a_finding_the_next_look_contradicts_is_forgotten() -> None:
    detector = LossDetector({RAW})
    detector.look(state({RAW}), {})
    assert detector.look(state({RAW}, {(RAW, 0): 3}), {(RAW, 0): 10}) is None
    assert detector.look(state({RAW}, {(RAW, 0): 10}), {(RAW, 0): 10}) is None
    assert detector.look(state({RAW}, {(RAW, 0): 3}), {(RAW, 0): 10}) is None  # a new streak


def test_only_watched_topics_count() -> None:
    detector = LossDetector({RAW})
    detector.look(state({RAW, "someone.elses"}), {})
    assert detector.look(state({RAW}), {}) is None
    assert detector.look(state({RAW}), {}) is None
