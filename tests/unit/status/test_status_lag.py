"""Lag per partition, owners, and reading a Faust worker's group membership."""

from aiokafka.coordinator.protocol import (
    ConsumerProtocolMemberAssignment,
    ConsumerProtocolMemberMetadata,
)
from faust.assignor.client_assignment import ClientAssignment, ClientMetadata

from streams.status.lag import (
    GroupMember,
    PartitionOffsets,
    group_member,
    lag_row,
    lag_rows,
    topic_lags,
    worker_url,
)


def _faust_metadata(url: str) -> bytes:
    """The subscription a Faust worker sends when it joins, built with Faust's own classes."""
    user_data = ClientMetadata(
        assignment=ClientAssignment(actives={}, standbys={}),
        url=url,
        changelog_distribution={},
        topic_groups={},
    ).dumps()
    return ConsumerProtocolMemberMetadata(4, ["metrics.raw"], user_data).encode()


def test_a_faust_members_url_and_assignment_are_read() -> None:
    assignment = ConsumerProtocolMemberAssignment(
        0, [("metrics.raw", [0, 2]), ("rules.samples", [1])], b""
    ).encode()
    member = group_member(
        "pulseline",
        "faust-1-abc",
        "faust-0.15.3",
        "/10.1.2.3",
        _faust_metadata("http://w1:6066"),
        assignment,
    )
    assert member.group == "pulseline"
    assert member.url == "http://w1:6066"
    assert member.assigned == {("metrics.raw", 0), ("metrics.raw", 2), ("rules.samples", 1)}
    assert member.name == "http://w1:6066"


def test_a_worker_bound_to_every_interface_is_named_by_the_address_kafka_sees() -> None:
    member = group_member("g", "m", "c", "/172.18.0.7", _faust_metadata("http://0.0.0.0:6066"), b"")
    assert member.url == "http://172.18.0.7:6066"
    assert worker_url(b'{"url": "http://[::]:6066"}', "/fd00::5") == "http://[fd00::5]:6066"


def test_a_member_that_is_not_faust_is_named_by_client_and_host() -> None:
    metadata = ConsumerProtocolMemberMetadata(0, ["metrics.raw"], b"").encode()
    member = group_member("g", "m", "console-consumer", "/10.0.0.9", metadata, b"")
    assert (member.url, member.name) == (None, "console-consumer@10.0.0.9")


def test_garbage_metadata_leaves_the_member_unnamed_and_unassigned() -> None:
    member = group_member("g", "m", "c", "/h", b"\x00", b"\x00\x01")
    assert (member.url, member.assigned) == (None, frozenset())


def test_lag_is_end_minus_committed() -> None:
    row = lag_row(PartitionOffsets("g", "t", 3, start=10, end=250, committed=200), "w")
    assert (row.lag, row.lost, row.note, row.owner) == (50, 0, "", "w")


def test_nothing_committed_counts_from_the_log_start() -> None:
    # Workers start at the earliest record: 40 records from offset 60 to 100.
    row = lag_row(PartitionOffsets("g", "t", 0, start=60, end=100, committed=None), None)
    assert (row.lag, row.lost) == (40, 0)
    assert row.note == "nothing committed yet"


def test_records_deleted_before_the_workers_finished_them_are_reported_lost() -> None:
    # Committed 30, but retention removed everything below 80: 50 records never finished;
    # the workers resume at 80, so 20 remain.
    row = lag_row(PartitionOffsets("g", "t", 0, start=80, end=100, committed=30), None)
    assert (row.lag, row.lost) == (20, 50)
    assert "50 records deleted by retention" in row.note


def test_a_commit_past_the_end_says_the_topic_lost_records() -> None:
    row = lag_row(PartitionOffsets("g", "t", 0, start=0, end=5, committed=9), None)
    assert row.lag == 0
    assert "past the end" in row.note


def test_rows_are_sorted_and_owned_by_the_member_assigned() -> None:
    w1 = GroupMember("g", "1", "c", "/a", "http://a:6066", frozenset({("raw", 1)}))
    w2 = GroupMember("g", "2", "c", "/b", None, frozenset({("raw", 0), ("alerts", 0)}))
    offsets = [
        PartitionOffsets("g", "raw", 1, 0, 9, 9),
        PartitionOffsets("g", "raw", 0, 0, 9, 4),
        PartitionOffsets("g", "raw", 2, 0, 3, 0),
        PartitionOffsets("g", "alerts", 0, 0, 1, 1),
    ]
    rows = lag_rows(offsets, [w1, w2])
    assert [(r.topic, r.partition, r.lag, r.owner) for r in rows] == [
        ("alerts", 0, 0, "c@b"),
        ("raw", 0, 5, "c@b"),
        ("raw", 1, 0, "http://a:6066"),
        ("raw", 2, 3, None),
    ]
    raw = topic_lags(rows)[1]
    assert (raw.topic, raw.partitions, raw.lag, raw.max_lag, raw.unowned) == ("raw", 3, 8, 5, 1)
