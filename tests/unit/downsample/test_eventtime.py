"""A partition's event time follows its sources, not the one with a wrong clock."""

from __future__ import annotations

from streams.downsample import DownsampleSettings, Row, WindowEngine
from streams.downsample.eventtime import SourceClock
from streams.records import Point

M = 60_000
S = 1_000
T0 = 1_700_000_020_000 // M * M  # a minute boundary
HOSTS = [f"h{i}" for i in range(5)]


def rows_of(rows: list[Row]) -> dict[tuple[str, int], tuple[float, float]]:
    """``(host, window start) -> (count, sum)`` of the 1-minute rows (corrections replace)."""
    out = {}
    for r in rows:
        if r.tier == "1m":
            out[(r.tags["host"], r.ts_ms)] = (float(r.fields["v_count"]), r.fields["v_sum"])
    return out


def test_one_source_minutes_ahead_costs_the_others_nothing() -> None:
    """Five hosts send one sample a second for three minutes, ten seconds per record; a sixth
    host, whose clock is nine minutes ahead (inside max_future_s), sends one sample early on.
    Every sample of the five must be counted, in rows equal to a brute-force aggregation."""
    now = [T0 + M]
    engine = WindowEngine(settings=DownsampleSettings(), clock=lambda: now[0])  # 30 s lateness
    rows: list[Row] = []
    offset = 0
    for k in range(18):  # 18 records of 10 s per host
        for host in HOSTS:
            points = [
                Point("cpu", {"host": host}, {"v": float(i)}, T0 + i * S)
                for i in range(k * 10, k * 10 + 10)
            ]
            rows += engine.add_points(0, points, offset=offset, source=host)
            offset += 1
        if k == 2:
            wrong = [Point("cpu", {"host": "skewed"}, {"v": 1.0}, T0 + 9 * M)]
            rows += engine.add_points(0, wrong, offset=offset, source="skewed")
            offset += 1
        now[0] += 10 * S
    rows += engine.advance(0, T0 + 3 * M)
    stats = engine.stats(0)
    assert (stats.late, stats.future) == (0, 0)
    expected = {
        (host, T0 + m * M): (60.0, float(sum(range(m * 60, m * 60 + 60))))
        for host in HOSTS
        for m in range(3)
    }
    assert {k: v for k, v in rows_of(rows).items() if k[0] in HOSTS} == expected


def test_the_event_time_is_the_median_of_the_sources_heard_from_lately() -> None:
    clock = SourceClock(quiet_ms=60_000)
    clock.observe("a", 10_000, now_ms=0)
    assert clock.time() == 10_000  # one source: its newest timestamp
    clock.observe("ahead", 900_000, now_ms=0)
    assert clock.time() == 10_000  # two: the older one's
    clock.observe("b", 12_000, now_ms=30_000)
    clock.observe("a", 11_000, now_ms=50_000)
    assert clock.time() == 12_000
    clock.observe("c", 5_000, now_ms=50_000)  # a source behind
    assert clock.time() == 11_000
    clock.forget_quiet(now_ms=61_000)  # "ahead" was heard last at 0
    assert (len(clock), clock.time()) == (3, 11_000)
    clock.observe("a", 8_000, now_ms=61_000)  # an older sample never moves a source back
    assert clock.time() == 11_000


def test_a_restored_partition_keeps_its_sources() -> None:
    now = [T0 + M]
    engine = WindowEngine(settings=DownsampleSettings(), clock=lambda: now[0])
    for host in HOSTS:
        engine.add_points(0, [Point("cpu", {"host": host}, {"v": 1.0}, T0 + 10 * S)], source=host)
    again = WindowEngine(settings=DownsampleSettings(), clock=lambda: now[0])
    again.restore(0, engine.snapshot(0))
    skewed = [Point("cpu", {"host": "skewed"}, {"v": 1.0}, T0 + 9 * M)]
    again.add_points(0, skewed, source="skewed")
    assert again.watermark(0) == T0 + 10 * S - 30 * S  # as before the restore


async def test_the_stage_takes_each_records_key_as_its_source() -> None:
    from streams.downsample.processor import Downsampler
    from streams.records import encode_batch
    from streams.sinks.batch import BatchSink, RecordRef
    from streams.sinks.raw import InRecord
    from streams.testing import CollectingWriter

    class NoSnapshots:
        def load(self, partition: int) -> None:
            return None

        async def save(self, partition: int, data: bytes) -> None:
            return None

    async def no_late(partition: int, late: object) -> None:
        return None

    engine = WindowEngine(settings=DownsampleSettings(), clock=lambda: T0 + M)
    sinks = {t: BatchSink(CollectingWriter(), batch_lines=1000) for t in ("1m", "1h")}
    stage: Downsampler[int] = Downsampler(engine, sinks, no_late, NoSnapshots())

    def rec(offset: int, key: bytes, ts: int) -> tuple[InRecord, int]:
        points = [Point("cpu", {"host": key.decode()}, {"v": 1.0}, ts)]
        return InRecord(RecordRef("metrics.raw", 0, offset), key, encode_batch(points)), offset

    await stage.process([rec(0, b"a", T0 + 10 * S), rec(1, b"b", T0 + 11 * S)])
    await stage.process([rec(2, b"skewed", T0 + 9 * M)])
    assert engine.watermark(0) == T0 + 11 * S - 30 * S  # the median of a, b, skewed: b
    await stage.process([rec(3, b"a", T0 + 20 * S), rec(4, b"b", T0 + 21 * S)])
    assert engine.stats(0).late == 0
