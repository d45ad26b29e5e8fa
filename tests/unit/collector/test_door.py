"""The door's checks, at their exact edges."""

from __future__ import annotations

import pytest

from streams.collector.door import Door
from streams.records import Point
from streams.settings import Settings

NOW = 1_700_000_000.25
NOW_MS = 1_700_000_000_250
DAY_MS = 86_400_000


@pytest.fixture
def door() -> Door:
    return Door(Settings.load(None), clock=lambda: NOW)


def reasons(door: Door, *points: Point) -> list[tuple[int, str]]:
    return [(r.position, r.reason) for r in door.refusals(points)]


def at(ts_ms: int, **tags: str) -> Point:
    return Point("cpu", tags, {"usage": 1.0}, ts_ms)


def test_timestamps_inside_the_raw_retention_and_future_bound_pass_at_their_edges(
    door: Door,
) -> None:
    # Defaults: raw tier 7d, downsample.max_future_s 10m.
    oldest, newest = NOW_MS - 7 * DAY_MS, NOW_MS + 600_000
    assert door.bounds() == (oldest, newest)
    assert reasons(door, at(oldest), at(newest), at(NOW_MS)) == []
    assert reasons(door, at(oldest - 1), at(newest + 1)) == [(0, "too_old"), (1, "too_new")]


def test_far_timestamps_name_their_date_and_the_setting(door: Door) -> None:
    (future,) = door.refusals([at(4_102_444_800_000, host="a")])  # 2100-01-01
    assert future.message == (
        'cpu{host="a"} (fields usage): timestamp 4102444800000 ms (2100-01-01T00:00:00.000Z) is '
        "more than 10m ahead of the collector's clock (downsample.max_future_s)"
    )
    (past,) = door.refusals([at(NOW_MS - 8 * DAY_MS)])
    assert "is older than the raw tier's retention (1w)" in past.message


def test_without_retention_only_timestamps_before_1970_are_too_old(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(
        "PULSELINE_TIERS", '[{"name": "raw", "retention_s": 0, "bucket": "metrics"}]'
    )
    door = Door(Settings.load(None), clock=lambda: NOW)
    assert door.bounds()[0] == 0
    assert reasons(door, at(0), at(-1)) == [(1, "too_old")]
    assert "before 1970" in door.refusals([at(-1)])[0].message


def test_labels_are_counted_with_the_name(door: Door) -> None:
    # max_labels_per_series 31: the name and 30 tags, what VictoriaMetrics keeps.
    thirty = {f"t{i:02d}": "v" for i in range(30)}
    assert reasons(door, at(NOW_MS, **thirty)) == []
    (refusal,) = door.refusals([at(NOW_MS, **thirty, extra="v")])
    assert refusal.reason == "too_many_labels"
    assert "32 labels (the name and 31 tags), more than collector.max_labels_per_series (31)" in (
        refusal.message
    )


def test_lengths_are_utf8_bytes(door: Door) -> None:
    assert reasons(door, at(NOW_MS, k="x" * 16384), at(NOW_MS, **{"k" * 256: "v"})) == []
    refused = door.refusals(
        [
            at(NOW_MS, k="x" * 16385),
            at(NOW_MS, k="é" * 8193),  # 8,193 characters, 16,386 bytes
            at(NOW_MS, **{"k" * 257: "v"}),
            Point("m" * 16385, {}, {"v": 1.0}, NOW_MS),
            Point("m", {}, {"f" * 257: 1.0}, NOW_MS),
        ]
    )
    assert [(r.position, r.reason) for r in refused] == [(i, "too_long") for i in range(5)]
    assert "tag value 'ééé" in refused[1].message and "16386 bytes long" in refused[1].message
    assert "collector.max_label_name_length (256)" in refused[2].message
    assert "collector.max_label_value_length (16384)" in refused[3].message


@pytest.mark.parametrize(
    ("point", "words"),
    [
        (at(NOW_MS, job="a\nb"), "holds a newline"),
        (at(NOW_MS, job="a\\"), "backslash at the end"),
        (at(NOW_MS, job="a\\,b"), "backslash at the end or before one of ',= '"),
        (at(NOW_MS, **{"a\nb": "v"}), "tag key 'a\\nb' holds a newline"),
        (Point("#cpu", {}, {"v": 1.0}, NOW_MS), "starts with '#'"),
        (Point("", {}, {"v": 1.0}, NOW_MS), "measurement is empty"),
    ],
)
def test_names_line_protocol_cannot_carry_are_unwritable(
    door: Door, point: Point, words: str
) -> None:
    (refusal,) = door.refusals([at(NOW_MS, job="fine"), point])
    assert (refusal.position, refusal.reason) == (1, "unwritable")
    assert words in refusal.message


def test_a_refused_name_is_not_remembered_as_good(door: Door) -> None:
    bad = at(NOW_MS, job="x\\")
    assert reasons(door, bad) == [(0, "unwritable")]
    assert reasons(door, bad, at(NOW_MS, job="x")) == [(0, "unwritable")]
