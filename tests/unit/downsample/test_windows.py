from __future__ import annotations

import math
import sys
from typing import Any

import pytest

from streams.downsample import (
    DownsampleSettings,
    Late,
    Row,
    SnapshotError,
    WindowEngine,
    WindowPlan,
)
from streams.errors import ConfigError
from streams.records import Point, UInt
from streams.settings import DEFAULT_TIERS, TierSettings

H = 3_600_000
M = 60_000
S = 1_000
T0 = 1_700_000_000_000 - 1_700_000_000_000 % H  # an hour boundary
NOW = T0 + 100 * H


def engine(
    lateness: float = 0, horizon: float = 0, idle: float = 3600, clock: int = NOW, **kw: Any
) -> WindowEngine:
    settings = DownsampleSettings(lateness_s=lateness, correction_s=horizon, idle_s=idle)
    return WindowEngine(settings=settings, clock=lambda: clock, **kw)


def pt(ts: int, value: Any = 1.0, m: str = "cpu", host: str = "a", field: str = "v") -> Point:
    return Point(m, {"host": host}, {field: value}, ts)


def by_tier(rows: list[Row], tier: str) -> dict[int, dict[str, Any]]:
    return {r.ts_ms: r.fields for r in rows if r.tier == tier}


def test_row_of_a_window_has_every_aggregate_and_the_window_start() -> None:
    e = engine()
    assert e.add_points(0, [pt(T0 + 5 * S, 4.0), pt(T0 + 20 * S, 1), pt(T0 + 40 * S, True)]) == []
    rows = e.advance(0, T0 + M)
    assert rows == [
        Row(
            "cpu",
            {"host": "a"},
            {"v_min": 1.0, "v_max": 4.0, "v_sum": 6.0, "v_count": 3, "v_mean": 2.0, "v_last": 1.0},
            T0,
            "1m",
        )
    ]
    assert all(type(v) is float for k, v in rows[0].fields.items() if k != "v_count")


def test_counter_increase_handles_resets_and_window_boundaries() -> None:
    e = engine(lateness=120, counters={("cpu", "v")})
    e.add_points(0, [pt(T0 + 10 * S, 10), pt(T0 + 50 * S, 15)])  # first sample: no predecessor
    e.add_points(0, [pt(T0 + M + 10 * S, 3), pt(T0 + M + 30 * S, UInt(8))])  # reset, then +5
    e.add_points(0, [pt(T0 + 2 * M + 10 * S, 20)])  # +12 across the boundary
    rows = e.advance(0, T0 + H)
    minute = by_tier(rows, "1m")
    assert [minute[T0 + k * M]["v_increase"] for k in range(3)] == [5.0, 8.0, 12.0]
    assert by_tier(rows, "1h")[T0]["v_increase"] == 25.0
    assert by_tier(rows, "1h")[T0]["v_last"] == 20.0


def test_out_of_order_samples_within_lateness_are_placed_in_time_order() -> None:
    e = engine(lateness=30, counters={("cpu", "v")})
    e.add_points(0, [pt(T0 + 40 * S, 30), pt(T0 + 10 * S, 10)])
    e.add_points(0, [pt(T0 + 25 * S, 5)])  # between them: 10 -> 5 is a reset, 5 -> 30 is +25
    f = by_tier(e.advance(0, T0 + M), "1m")[T0]
    assert (f["v_increase"], f["v_last"], f["v_count"]) == (30.0, 30.0, 3)


def test_duplicates_keep_the_first_value_and_are_counted() -> None:
    e = engine(lateness=30)
    e.add_points(0, [pt(T0 + 10 * S, 1.0), pt(T0 + 20 * S, 2.0)])
    e.add_points(0, [pt(T0 + 20 * S, 9.0), pt(T0 + 10 * S, 9.0), pt(T0 + 15 * S, 3.0)])
    f = by_tier(e.advance(0, T0 + M), "1m")[T0]
    assert (f["v_count"], f["v_max"], f["v_sum"]) == (3, 3.0, 6.0)
    assert e.stats(0).duplicates == 2


def test_fields_of_one_point_share_one_row() -> None:
    e = engine()
    e.add_points(0, [Point("cpu", {"host": "a"}, {"user": 1.0, "sys": 2.0, "note": "x"}, T0)])
    rows = e.advance(0, T0 + M)
    assert len(rows) == 1
    assert {"user_max", "sys_max"} <= rows[0].fields.keys()
    assert not any(k.startswith("note") for k in rows[0].fields)
    assert e.stats(0).non_numeric == 1


def test_non_finite_values_are_dropped_at_close_and_counted() -> None:
    e = engine(lateness=120)
    e.add_points(0, [pt(T0 + S, 1.0)])
    e.add_points(0, [pt(T0 + M, math.nan), pt(T0 + M + S, 2.0), pt(T0 + M + 2 * S, -math.inf)])
    e.add_points(0, [pt(T0 + 2 * M + S, math.nan)])
    rows = e.advance(0, T0 + H)
    assert by_tier(rows, "1m")[T0 + M]["v_sum"] == 2.0
    assert T0 + 2 * M not in by_tier(rows, "1m")  # nothing finite left: no row
    assert by_tier(rows, "1h")[T0]["v_sum"] == 3.0
    assert by_tier(rows, "1h")[T0]["v_count"] == 2
    assert e.stats(0).non_finite == 3


def test_a_window_closes_when_the_watermark_passes_its_end() -> None:
    e = engine(lateness=30)
    assert e.add_points(0, [pt(T0 + 50 * S)]) == []
    assert e.add_points(0, [pt(T0 + M + 29 * S)]) == []  # watermark T0+59s
    rows = e.add_points(0, [pt(T0 + M + 30 * S)])  # watermark T0+60s: [T0, T0+1m) closes
    assert [(r.tier, r.ts_ms) for r in rows] == [("1m", T0)]
    assert e.watermark(0) == T0 + M


def test_tick_closes_the_last_window_of_a_quiet_partition() -> None:
    clock = [NOW]
    e = WindowEngine(settings=DownsampleSettings(lateness_s=30), clock=lambda: clock[0])
    e.add_points(0, [pt(T0 + 50 * S)])
    assert e.tick(0) == []  # not quiet: no time has passed since the batch
    assert e.tick(0, NOW + 39 * S) == []  # watermark T0+50s+39s-30s = T0+59s
    assert [r.ts_ms for r in e.tick(0, NOW + 40 * S)] == [T0]
    assert e.tick(1) == []  # a partition never seen


def test_late_sample_within_the_horizon_corrects_the_row_with_the_same_timestamp() -> None:
    e = engine(lateness=0, horizon=120)
    e.add_points(0, [pt(T0 + 10 * S, 1.0, host="slow"), pt(T0 + 10 * S, 1.0, host="fast")])
    rows = e.add_points(0, [pt(T0 + M + 5 * S, 1.0, host="fast")])  # closes minute 0
    assert sorted(r.tags["host"] for r in rows) == ["fast", "slow"]
    rows = e.add_points(0, [pt(T0 + 30 * S, 5.0, host="slow")])  # late, newer than its newest
    assert [(r.ts_ms, r.tags["host"], r.fields["v_count"], r.fields["v_last"]) for r in rows] == [
        (T0, "slow", 2, 5.0)
    ]
    s = e.stats(0)
    assert (s.corrections, s.late) == (1, 0)
    rows = e.add_points(0, [pt(T0 + 2 * M + 5 * S, host="fast")])  # closes minute 1 only
    assert [(r.ts_ms, r.tags["host"]) for r in rows] == [(T0 + M, "fast")]


def test_late_samples_beyond_the_horizon_or_behind_the_series_go_to_the_late_output() -> None:
    e = engine(lateness=0, horizon=120)
    e.add_points(0, [pt(T0 + 10 * S), pt(T0 + M + 10 * S)])
    e.add_points(0, [pt(T0 + 2 * M + 10 * S)])
    e.add_points(0, [pt(T0 + 50 * S)])  # minute 0 is not the series' newest window any more
    e.add_points(0, [pt(T0 + 10 * M)])  # watermark passes minute 2 + horizon
    e.add_points(0, [pt(T0 + 2 * M + 20 * S, host="b")])  # final: beyond the horizon
    late = e.take_late(0)
    assert late == [
        Late(pt(T0 + 50 * S), "late"),
        Late(pt(T0 + 2 * M + 20 * S, host="b"), "late"),
    ]
    assert e.stats(0).late == 2
    assert e.take_late(0) == []


def test_two_late_windows_of_one_series_in_one_batch_are_both_corrected() -> None:
    e = engine(lateness=0, horizon=600)
    e.add_points(0, [pt(T0 + 10 * S, 1.0), pt(T0 + 5 * M, 0.0, host="b")])
    rows = e.add_points(0, [pt(T0 + 20 * S, 2.0), pt(T0 + M + 10 * S, 3.0)])
    minute = by_tier(rows, "1m")
    assert (minute[T0]["v_count"], minute[T0]["v_last"]) == (2, 2.0)
    assert minute[T0 + M]["v_count"] == 1


def test_future_samples_are_refused() -> None:
    e = engine(clock=T0)
    e.add_points(0, [pt(T0 + 11 * M)])
    assert e.take_late(0) == [Late(pt(T0 + 11 * M), "future")]
    assert e.stats(0).future == 1
    assert e.watermark(0) is None


def test_the_hour_is_built_from_minutes_and_closes_after_the_horizon() -> None:
    e = engine(lateness=0, horizon=120, counters={("cpu", "v")})
    rows: list[Row] = []
    for k in range(60):
        rows += e.add_points(0, [pt(T0 + k * M + 30 * S, float(k * 2))])
    rows += e.add_points(0, [pt(T0 + H + 30 * S, 200.0, host="b")])
    assert by_tier(rows, "1h") == {}  # waits for the horizon: late minutes could still change
    rows += e.advance(0, T0 + H + 2 * M)
    hour = by_tier(rows, "1h")[T0]
    minutes = by_tier([r for r in rows if r.tags["host"] == "a"], "1m")
    assert hour["v_count"] == sum(f["v_count"] for f in minutes.values()) == 60
    assert hour["v_max"] == max(f["v_max"] for f in minutes.values()) == 118.0
    assert hour["v_sum"] == sum(f["v_sum"] for f in minutes.values())
    assert hour["v_increase"] == sum(f["v_increase"] for f in minutes.values()) == 118.0


def test_an_hour_closes_early_when_the_series_moves_into_the_next_one() -> None:
    e = engine(lateness=0, horizon=3000)
    e.add_points(0, [pt(T0 + 59 * M, 7.0)])
    e.add_points(0, [pt(T0 + H + 10 * S, 1.0)])
    rows = e.add_points(0, [pt(T0 + H + M + 10 * S, 1.0)])  # minute 60 final: series moved on
    assert by_tier(rows, "1h")[T0]["v_max"] == 7.0


def test_state_per_series_stays_bounded_and_idle_series_are_forgotten() -> None:
    e = engine(lateness=30, idle=600)
    for k in range(6 * 60 * 4):  # six hours at 15 s
        e.add_points(0, [pt(T0 + k * 15 * S, float(k)), pt(T0 + k * 15 * S, 1.0, host="b")])
        if k == 100:
            e.add_points(0, [pt(T0 + k * 15 * S, 1.0, host="gone")])
    p = e._parts[0]
    assert e.series_count(0) == 2
    assert max(len(a) for a in p.series.values()) <= 9 + 2 * 6
    assert e.stats(0).evicted == 1


def test_offsets_recognise_replayed_records() -> None:
    e = engine(lateness=30)
    e.add_points(0, [pt(T0 + 10 * S, 1.0)], offset=5)
    assert e.add_points(0, [pt(T0 + 20 * S, 1.0)], offset=5) == []
    assert e.add_points(0, [pt(T0 + 20 * S, 1.0)], offset=4) == []
    assert e.stats(0).replayed_records == 2
    assert e.offset(0) == 5


def test_snapshot_restore_resumes_without_losing_or_doubling() -> None:
    tiers = [*DEFAULT_TIERS]
    a = engine(lateness=30, counters={("cpu", "v")})
    a.add_points(0, [pt(T0 + 10 * S, 1.0), pt(T0 + 20 * S, 3.0)], offset=0)
    a.advance(0, T0 + 2 * M)
    a.add_points(0, [pt(T0 + 2 * M + 10 * S, 5.0)], offset=1)
    assert a.needs_snapshot(0)
    data = a.snapshot(0)
    assert not a.needs_snapshot(0)
    b = WindowEngine(tiers, DownsampleSettings(lateness_s=30, correction_s=0), clock=lambda: NOW)
    b.restore(0, data)
    assert b.add_points(0, [pt(T0 + 2 * M + 10 * S, 5.0)], offset=1) == []  # replayed
    b.add_points(0, [pt(T0 + 2 * M + 20 * S, 9.0)], offset=2)
    assert b.series_count(0) == 1 and b.stats(0).samples == 4
    rows = b.advance(0, T0 + 2 * H)
    assert by_tier(rows, "1m")[T0 + 2 * M]["v_count"] == 2
    assert by_tier(rows, "1m")[T0 + 2 * M]["v_increase"] == 6.0  # from 3.0, before the snapshot
    assert by_tier(rows, "1h")[T0]["v_count"] == 4
    assert b.series_count(0) == 0  # idle for an hour after its windows closed: forgotten


def test_restore_refuses_foreign_or_damaged_data() -> None:
    a = engine()
    a.add_points(0, [pt(T0)])
    data = a.snapshot(0)
    other = [DEFAULT_TIERS[0], TierSettings(name="5m", window_s=300, retention_s=1, bucket="b")]
    with pytest.raises(SnapshotError, match="windows"):
        WindowEngine(other).restore(0, data)
    with pytest.raises(SnapshotError, match="magic"):
        a.restore(0, b"nope")
    with pytest.raises(SnapshotError, match="truncated"):
        a.restore(0, data[:-8])


def test_partitions_have_their_own_watermarks() -> None:
    e = engine()
    e.add_points(0, [pt(T0 + 5 * M)])
    e.add_points(1, [pt(T0 + 10 * S)])
    assert e.watermark(0) == T0 + 5 * M and e.watermark(1) == T0 + 10 * S
    assert e.stats(1).late == 0
    e.drop(1)
    assert e.series_count(1) == 0 and e.watermark(1) is None


def test_counter_test_may_be_a_callable() -> None:
    e = engine(counters=lambda m, tags, f: tags.get("host") == "a")
    e.add_points(0, [pt(T0, 1.0), pt(T0, 1.0, host="b")])
    rows = e.advance(0, T0 + M)
    assert {r.tags["host"]: "v_increase" in r.fields for r in rows} == {"a": True, "b": False}


def test_tiers_must_be_built_from_the_tier_before() -> None:
    assert WindowPlan.from_tiers(DEFAULT_TIERS).names == ("1m", "1h")
    raw = DEFAULT_TIERS[0]
    bad = TierSettings(name="90s", window_s=90, retention_s=1, bucket="b")
    with pytest.raises(ConfigError, match="multiple"):
        WindowPlan.from_tiers([raw, DEFAULT_TIERS[1], bad])
    with pytest.raises(ConfigError, match="no windowed tier"):
        WindowPlan.from_tiers([raw])


def test_window_state_per_series_is_a_few_hundred_bytes() -> None:
    e = engine(lateness=30)
    for k in range(10):  # 0..135 s at 15 s: one minute closed into the hour, 6 buffered
        e.add_points(0, [pt(T0 + k * 15 * S, float(k), host=f"h{i}") for i in range(100)])
    sizes = [sys.getsizeof(a) for a in e._parts[0].series.values()]
    assert max(sizes) <= 400


def test_points_per_series_year_of_the_default_tiers() -> None:
    from streams.downsample.config import points_per_series_year
    from streams.settings import DEFAULT_TIERS

    kept = points_per_series_year(DEFAULT_TIERS, 10)
    assert kept == 7 * 8640 + 30 * 1440 + 365 * 24
    assert 27 < (365 * 8640) / kept < 29
