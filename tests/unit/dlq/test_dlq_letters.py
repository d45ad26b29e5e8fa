"""What a dead letter says, which ones a command selects, and ``--since``."""

import pytest

from streams.dlq.letters import Letter, Selection, SinceError, Tally, describe, parse_since


def _letter(partition: int, offset: int, ts: int, reason: str, value: bytes = b"v") -> Letter:
    headers = (
        ("pulseline-reason", reason.encode()),
        ("pulseline-stage", b"raw-sink"),
        ("pulseline-source", f"metrics.raw[{partition}]@{offset * 10}".encode()),
    )
    return Letter(partition, offset, ts, b"host-1", value, headers)


def test_since_takes_a_duration_ago_a_unix_time_or_an_rfc3339_time() -> None:
    now = 1_714_564_800.0  # `date -u -d 2024-05-01T12:00:00Z +%s`
    assert parse_since("90m", now) == (1_714_564_800 - 5400) * 1000
    assert parse_since("1714564800.5", now) == 1_714_564_800_500
    assert parse_since("2024-05-01T12:00:00Z", 0.0) == 1_714_564_800_000
    assert parse_since("2024-05-01T14:00:00+02:00", 0.0) == 1_714_564_800_000
    assert parse_since("2024-05-01T12:00:00", 0.0) == 1_714_564_800_000  # no offset: UTC


def test_since_that_is_none_of_them_says_what_is_accepted() -> None:
    with pytest.raises(SinceError, match=r"--since 'yesterday': not a duration ago \(2h\)"):
        parse_since("yesterday", 0.0)


def test_selection_by_time_and_reason() -> None:
    letters = [
        _letter(0, 0, 1000, "bucket 'metrics': answered 413: too large"),
        _letter(0, 1, 2000, "undecodable record: value is not JSON"),
        _letter(1, 0, 3000, "bucket 'metrics': answered 413: too large"),
    ]
    since = Selection(since_ms=2000)
    assert [(x.partition, x.offset) for x in letters if since.wants(x)] == [(0, 1), (1, 0)]
    large = Selection(reason="413")
    assert [(x.partition, x.offset) for x in letters if large.wants(x)] == [(0, 0), (1, 0)]
    assert [x.offset for x in letters if Selection().wants(x)] == [0, 1, 0]


def test_a_letter_without_headers_still_shows() -> None:
    bare = Letter(3, 7, 0, None, None)
    assert (bare.reason, bare.stage, bare.source, bare.size) == ("", "", "", 0)
    assert describe(bare, "t.dlq") == (
        "t.dlq[3]@7  1970-01-01T00:00:00.000Z  from ?  ?  key=-  0 bytes\n    reason: (none given)"
    )


def test_tally_counts_records_bytes_partitions_and_stages() -> None:
    tally = Tally()
    tally.extend(
        [_letter(2, 0, 0, "a", b"12345"), _letter(0, 0, 0, "b", b"1"), _letter(2, 1, 0, "c", b"")]
    )
    assert tally.summary() == (
        "3 records (6 bytes); by partition: 0: 1, 2: 2; by stage: raw-sink: 3"
    )
    assert Tally().summary() == "0 records"
