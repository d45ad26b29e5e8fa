import math
import struct

import pytest

from streams.promql.evaluate import evaluate
from streams.promql.expr import LabelMatcher, Selector
from streams.promql.parse import parse_expr
from streams.promql.series import (
    LOOKBACK_MS,
    STALE,
    Provenance,
    SampleStore,
    from_prometheus,
    horizon_ms,
    is_stale,
    point_samples,
    series_labels,
    sources_of,
)

UP_A = series_labels("up", {"job": "a"})
UP_B = series_labels("up", {"job": "b"})


def test_labels_are_sorted_with_the_metric_name_and_without_empty_values() -> None:
    assert series_labels("up", {"zone": "z", "job": "a", "env": ""}) == (
        ("__name__", "up"),
        ("job", "a"),
        ("zone", "z"),
    )
    # "__name__" sorts after upper-case names, as in Prometheus (byte order)
    assert series_labels("up", {"Zone": "z"})[0] == ("Zone", "z")


def test_replayed_samples_are_ignored_and_counted_first_value_wins() -> None:
    store = SampleStore()
    assert store.add(UP_A, 1000, 1.0)
    assert store.add(UP_A, 2000, 2.0)
    assert not store.add(UP_A, 2000, 9.0)  # same timestamp: the first value stays
    assert not store.add(UP_A, 1500, 9.0)  # older than the newest
    assert store.replayed == 2
    series = store.get(UP_A)
    assert series is not None
    assert list(series.ts) == [1000, 2000]
    assert list(series.values) == [1.0, 2.0]


def seen(store: SampleStore, t_ms: int) -> float | None:
    """What the instant selector ``up`` sees of the one series at ``t_ms``."""
    vector = evaluate(parse_expr("up"), store, t_ms)
    return vector[0].value if vector else None


def test_instant_lookback_is_five_minutes_closed_on_both_ends() -> None:
    store = SampleStore()
    store.add(UP_A, 0, 1.0)
    assert seen(store, -1) is None  # nothing at or before
    assert seen(store, 0) == 1.0
    assert seen(store, LOOKBACK_MS) == 1.0  # exactly 5 minutes old: still seen
    assert seen(store, LOOKBACK_MS + 1) is None


def test_a_stale_marker_hides_the_series_until_a_new_sample() -> None:
    store = SampleStore()
    store.add(UP_A, 0, 1.0)
    store.add(UP_A, 60_000, STALE)
    store.add(UP_A, 180_000, 3.0)
    assert seen(store, 59_999) == 1.0
    assert seen(store, 60_000) is None
    assert seen(store, 120_000) is None
    assert seen(store, 180_000) == 3.0
    # ranges leave the marker out but keep the other samples
    series = store.get(UP_A)
    assert series is not None
    assert series.window(0, 180_000) == ([0, 180_000], [1.0, 3.0])
    newest = series.newest()
    assert newest == (180_000, 3.0)


def test_an_ordinary_nan_is_a_value_not_a_marker() -> None:
    store = SampleStore()
    store.add(UP_A, 0, math.nan)
    series = store.get(UP_A)
    assert series is not None
    value = seen(store, 0)
    assert value is not None and math.isnan(value)
    assert not is_stale(math.nan) and is_stale(STALE)


def test_prometheus_stale_nan_becomes_the_marker() -> None:
    stale_nan = struct.unpack("<d", struct.pack("<Q", 0x7FF0000000000002))[0]
    assert from_prometheus(stale_nan) is STALE
    assert from_prometheus(math.nan) is not STALE and from_prometheus(2.0) == 2.0


def test_window_includes_both_ends() -> None:
    store = SampleStore()
    for t in range(0, 600_001, 60_000):
        store.add(UP_A, t, float(t // 60_000))
    series = store.get(UP_A)
    assert series is not None
    ts, values = series.window(60_000, 180_000)
    assert ts == [60_000, 120_000, 180_000]
    assert values == [1.0, 2.0, 3.0]


def test_samples_older_than_the_horizon_are_dropped() -> None:
    store = SampleStore(horizon_ms=600_000)
    for t in range(0, 3_600_001, 10_000):
        store.add(UP_A, t, 1.0)
    series = store.get(UP_A)
    assert series is not None
    assert series.ts[-1] == 3_600_000
    # everything the horizon needs is there, at most 1.5 horizons are kept
    assert series.ts[0] <= 3_600_000 - 600_000
    assert series.ts[0] >= 3_600_000 - 900_000
    assert series.window(3_000_000, 3_600_000)[0][0] == 3_000_000


def test_pruning_keeps_stale_markers_in_step() -> None:
    store = SampleStore(horizon_ms=100)
    store.add(UP_A, 0, STALE)
    for t in range(10, 400, 10):
        store.add(UP_A, t, 1.0)
    store.add(UP_A, 400, STALE)
    series = store.get(UP_A)
    assert series is not None
    assert series.stale == {400}
    assert seen(store, 400) is None and seen(store, 390) == 1.0


def test_quiet_series_are_forgotten() -> None:
    store = SampleStore(horizon_ms=600_000)
    store.add(UP_A, 0, 1.0)
    store.add(UP_B, 900_000, 1.0)
    assert store.prune(1_000_000) == 1
    assert store.get(UP_A) is None and store.get(UP_B) is not None
    assert [s.labels for s in store.select(Selector("up"))] == [UP_B]


def test_selection_uses_the_name_index_and_sorts_by_labels() -> None:
    store = SampleStore()
    store.add(UP_B, 0, 1.0)
    store.add(UP_A, 0, 1.0)
    store.add(series_labels("down", {"job": "a"}), 0, 1.0)
    assert [s.labels for s in store.select(Selector("up"))] == [UP_A, UP_B]
    by_regex = Selector(None, (LabelMatcher("__name__", "=~", "up|down"),))
    assert len(store.select(by_regex)) == 3
    by_label = Selector(None, (LabelMatcher("job", "=", "a"),))
    assert len(store.select(by_label)) == 2
    missing_label = Selector("up", (LabelMatcher("zone", "=", ""),))
    assert len(store.select(missing_label)) == 2


def test_the_newest_source_is_kept_and_rule_outputs_carry_several() -> None:
    store = SampleStore()
    store.add(UP_A, 0, 1.0, ("metrics.raw", 0, 10))
    store.add(UP_A, 1, 1.0, ("metrics.raw", 0, 11))
    series = store.get(UP_A)
    assert series is not None
    assert sources_of(series) == (("metrics.raw", 0, 11),)
    store.add(UP_B, 0, 1.0, Provenance((("t", 0, 1), ("t", 1, 2))))
    series_b = store.get(UP_B)
    assert series_b is not None
    assert sources_of(series_b) == (("t", 0, 1), ("t", 1, 2))


def test_points_map_to_metrics_the_telegraf_way() -> None:
    samples = point_samples(
        "disk", {"host": "a", "path": "/"}, {"value": 3, "used": 1.5, "ro": False, "fs": "ext4"}, 7
    )
    assert samples == [
        ((("__name__", "disk"), ("host", "a"), ("path", "/")), 7, 3.0),
        ((("__name__", "disk_used"), ("host", "a"), ("path", "/")), 7, 1.5),
        ((("__name__", "disk_ro"), ("host", "a"), ("path", "/")), 7, 0.0),
    ]


def test_horizon_is_the_longest_range_plus_the_lookback() -> None:
    exprs = [
        parse_expr("rate(x[10m]) > 1"),
        parse_expr("sum(avg_over_time(y[1h]))"),
        parse_expr("z"),
    ]
    assert horizon_ms(exprs) == 3_600_000 + LOOKBACK_MS
    assert horizon_ms([parse_expr("z")]) == LOOKBACK_MS


@pytest.mark.parametrize("bad", [STALE])
def test_stale_repr_is_readable(bad: float) -> None:
    assert repr(bad) == "STALE"
