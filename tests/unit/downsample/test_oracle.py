"""Oracle tests: the engine's rows equal a brute-force batch aggregation of the same input.

Random multi-series streams (hypothesis) with out-of-order samples, duplicates, counter
resets, booleans and strings, in batches, on three cascaded tiers (10 s, 1 min, 5 min).
The final row of each tier, series and window (rows merged field by field, as InfluxDB
does) must equal the batch aggregation of the accepted samples: count, min, max, last and
increase exactly, sum and mean within float tolerance.
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from streams.downsample import DownsampleSettings, Row, WindowEngine
from streams.records import Point
from streams.settings import TierSettings

WINDOWS = (10_000, 60_000, 300_000)
TIERS = [TierSettings(name="raw", retention_s=1, bucket="raw")] + [
    TierSettings(name=f"t{w}", window_s=w / 1000, retention_s=1, bucket=f"b{w}") for w in WINDOWS
]
SERIES = [
    ("cpu", {"host": "a"}),
    ("cpu", {"host": "b"}),
    ("net", {"host": "a", "if": "eth0"}),
    ("disk", {}),
]
FIELDS = ("x", "y")
COUNTERS = {("net", "x"), ("net", "y"), ("disk", "x")}
T0 = 1_700_000_000_000
NOW = 2_000_000_000_000
LATENESS = 5_000

Key = tuple[str, tuple[tuple[str, str], ...], str]  # measurement, tags, field
FinalRows = dict[tuple[str, str, tuple[tuple[str, str], ...], int], dict[str, Any]]


def counter_values() -> st.SearchStrategy[Any]:
    ints = st.integers(0, 1000)
    return st.one_of(ints, ints.map(float))


def gauge_values() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.floats(-1e6, 1e6, allow_nan=False),
        st.integers(-1000, 1000),
        st.booleans(),
        st.just("text"),
    )


@st.composite
def streams(draw: st.DrawFn, max_delay: int) -> list[list[Point]]:
    """Batches of points; delays up to ``max_delay`` behind a clock that moves forward."""
    clock = T0 + draw(st.integers(0, WINDOWS[-1]))
    seen: list[tuple[int, int]] = []  # (series index, ts) generated so far
    batches = []
    for _ in range(draw(st.integers(1, 25))):
        clock += draw(st.integers(0, 20_000))
        points = []
        for _ in range(draw(st.integers(0, 5))):
            recent = [s for s in seen if s[1] >= clock - max_delay]
            if recent and draw(st.integers(0, 3)) == 0:
                si, ts = draw(st.sampled_from(recent))  # a duplicate timestamp
            else:
                si, ts = (
                    draw(st.integers(0, len(SERIES) - 1)),
                    clock - draw(st.integers(0, max_delay)),
                )
            seen.append((si, ts))
            m, tags = SERIES[si]
            names = draw(st.lists(st.sampled_from(FIELDS), min_size=1, max_size=2, unique=True))
            fields = {
                f: draw(counter_values() if (m, f) in COUNTERS else gauge_values()) for f in names
            }
            points.append(Point(m, dict(tags), fields, ts))
        batches.append(points)
    return batches


class Model:
    """Which samples the engine accepts, by the documented rules (watermark per batch)."""

    def __init__(self, lateness: int, horizon: int) -> None:
        self.lateness, self.horizon = lateness, horizon
        self.max_ts: int | None = None
        self.closed_to = self.final_to = -(2**62)
        self.accepted: dict[Key, dict[int, float]] = defaultdict(dict)
        self.late: list[tuple[Key, int, Any]] = []

    def batch(self, points: list[Point]) -> None:
        w = WINDOWS[0]
        for m, tags, fields, ts in points:
            if ts >= self.closed_to:
                self.max_ts = ts if self.max_ts is None else max(self.max_ts, ts)
            for f, v in fields.items():
                if isinstance(v, str):
                    continue
                key = (m, tuple(tags.items()), f)
                got = self.accepted[key]
                newest = max(got) if got else None
                closed = ts < self.closed_to
                if closed and ts - ts % w + w <= self.final_to:
                    self.late.append((key, ts, v))  # beyond the correction horizon
                elif (
                    closed
                    and newest is not None
                    and ts < newest
                    and ts - ts % w != newest - newest % w
                ):
                    self.late.append((key, ts, v))  # older than the series' newest window
                elif ts not in got:  # else a duplicate: the first value stays
                    got[ts] = float(v)
        if self.max_ts is not None:
            wm = self.max_ts - self.lateness
            self.closed_to = max(self.closed_to, wm - wm % w)
            fin = wm - self.horizon
            self.final_to = max(self.final_to, fin - fin % w)


def batch_aggregate(accepted: dict[Key, dict[int, float]]) -> FinalRows:
    """Brute force: every tier straight from the samples, increase over consecutive pairs."""
    out: FinalRows = defaultdict(dict)
    for (m, tags, f), samples in accepted.items():
        pairs = sorted(samples.items())
        counter = (m, f) in COUNTERS
        for w in WINDOWS:
            groups: dict[int, list[tuple[float, float]]] = defaultdict(list)  # start -> (v, inc)
            prev = None
            for ts, v in pairs:
                inc = 0.0 if prev is None else (v - prev if v >= prev else v)
                groups[ts - ts % w].append((v, inc))
                prev = v
            for start, items in groups.items():
                vals = [v for v, _ in items]
                row = {
                    f"{f}_min": min(vals),
                    f"{f}_max": max(vals),
                    f"{f}_sum": math.fsum(vals),
                    f"{f}_count": len(vals),
                    f"{f}_mean": math.fsum(vals) / len(vals),
                    f"{f}_last": vals[-1],
                }
                if counter:
                    row[f"{f}_increase"] = sum(i for _, i in items)
                out[(f"t{w}", m, tags, start)].update(row)
    return dict(out)


def collect(final: FinalRows, rows: list[Row], engine: WindowEngine) -> None:
    wm = engine.watermark(0)
    for row in rows:
        window = int(row.tier[1:])
        assert wm is not None and row.ts_ms + window <= wm, "row of a window not yet closed"
        assert row.ts_ms % window == 0
        final.setdefault((row.tier, row.measurement, tuple(row.tags.items()), row.ts_ms), {})
        final[(row.tier, row.measurement, tuple(row.tags.items()), row.ts_ms)].update(row.fields)


def assert_same(got: FinalRows, want: FinalRows) -> None:
    assert got.keys() == want.keys()
    for key, fields in want.items():
        assert got[key].keys() == fields.keys(), key
        for name, value in fields.items():
            if name.endswith(("_sum", "_mean")):
                assert math.isclose(got[key][name], value, rel_tol=1e-9, abs_tol=1e-6), (key, name)
            else:
                assert got[key][name] == value, (key, name, got[key][name], value)
                assert type(got[key][name]) is (int if name.endswith("_count") else float)


def make_engine(horizon_ms: int) -> WindowEngine:
    return WindowEngine(
        TIERS,
        DownsampleSettings(lateness_s=LATENESS / 1000, correction_s=horizon_ms / 1000),
        counters=COUNTERS,
        clock=lambda: NOW,
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batches=streams(max_delay=LATENESS), horizon=st.sampled_from([0, 10_000, 60_000]))
def test_rows_equal_batch_aggregation_within_lateness(
    batches: list[list[Point]], horizon: int
) -> None:
    engine = make_engine(horizon)
    model = Model(LATENESS, horizon)
    final: FinalRows = {}
    for offset, points in enumerate(batches):
        collect(final, engine.add_points(0, points, offset=offset), engine)
        model.batch(points)
    collect(final, engine.advance(0, NOW), engine)
    assert model.late == [] and engine.take_late(0) == []
    assert_same(final, batch_aggregate(model.accepted))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    batches=streams(max_delay=90_000),
    horizon=st.sampled_from([0, 10_000, 60_000]),
    crash=st.data(),
)
def test_late_corrections_and_crash_replay_match_the_model(
    batches: list[list[Point]], horizon: int, crash: st.DataObject
) -> None:
    """Late data beyond lateness; a snapshot, a crash, a restore and a replay midway."""
    engine = make_engine(horizon)
    model = Model(LATENESS, horizon)
    final: FinalRows = {}
    late = []
    snap_at = crash.draw(st.integers(0, len(batches)))
    crash_at = crash.draw(st.integers(snap_at, len(batches)))
    snap = engine.snapshot(0)
    for offset, points in enumerate(batches):
        if offset == snap_at:
            snap = engine.snapshot(0)
        if offset == crash_at:
            break
        collect(final, engine.add_points(0, points, offset=offset), engine)
        late += engine.take_late(0)
    if crash_at < len(batches):
        engine = make_engine(horizon)  # SIGKILL: all memory lost, the last snapshot survives
        engine.restore(0, snap)
        replay_from = crash.draw(st.integers(0, snap_at))  # committed offset <= snapshot's
        for offset in range(replay_from, len(batches)):
            collect(final, engine.add_points(0, batches[offset], offset=offset), engine)
            late += engine.take_late(0)
    for points in batches:
        model.batch(points)
    collect(final, engine.advance(0, NOW), engine)
    assert_same(final, batch_aggregate(model.accepted))
    got_late = {((p.measurement, tuple(p.tags.items()), *p.fields), p.ts_ms) for p, _ in late}
    assert got_late == {(key, ts) for key, ts, _ in model.late}


def test_a_string_in_a_closed_window_does_not_make_later_samples_late() -> None:
    """Found by the oracle: a string field once moved its series' newest window forward."""

    def p(field: str, value: float | str, dt: int) -> Point:
        return Point("cpu", {"host": "a"}, {field: value}, T0 + dt)

    engine = make_engine(60_000)
    rows = engine.add_points(0, [p("x", 0.0, 789), p("x", 0.0, 2452)], offset=0)
    rows += engine.add_points(0, [p("y", 0.0, 25_000)], offset=1)  # closes the first window
    rows += engine.add_points(0, [p("x", "text", 19_999), p("x", 1.0, 3_000)], offset=2)
    assert engine.take_late(0) == []
    assert engine.stats(0).non_numeric == 1
    rows += engine.advance(0, NOW)
    *_, first = (r for r in rows if r.tier == "t10000" and r.ts_ms == T0 and "x_count" in r.fields)
    assert (first.fields["x_count"], first.fields["x_last"]) == (3, 1.0)
