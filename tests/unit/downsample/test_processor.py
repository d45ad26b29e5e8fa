"""The downsampling stage: writes before snapshots, acks after them, and crash recovery."""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streams.downsample import DownsampleSettings, Late, WindowEngine
from streams.downsample.processor import Downsampler, counter_test
from streams.downsample.store import ChunkedStore
from streams.errors import SnapshotError
from streams.records import Point, encode_batch
from streams.settings import TierSettings
from streams.sinks.batch import BatchSink, RecordRef
from streams.sinks.raw import InRecord
from streams.testing import CollectingWriter

T0 = 1_700_000_040_000 - 1_700_000_040_000 % 3_600_000  # an hour boundary
TIERS = (
    TierSettings(name="raw", retention_s=1, bucket="raw"),
    TierSettings(name="1m", window_s=60, retention_s=1, bucket="m"),
    TierSettings(name="1h", window_s=3600, retention_s=1, bucket="h"),
)
SETTINGS = DownsampleSettings(lateness_s=5, correction_s=60)


class Crash(BaseException):
    """A simulated SIGKILL: nothing catches it (a failure would be retried)."""


class MemoryTable:
    """A key-value table; ``crash_after`` puts makes the next one die."""

    def __init__(self) -> None:
        self.data: dict[bytes, bytes] = {}
        self.puts: list[tuple[int, bytes, int]] = []
        self.crash_after: int | None = None

    def get(self, key: bytes) -> bytes | None:
        return self.data.get(key)

    async def put(self, partition: int, key: bytes, value: bytes | None) -> None:
        if self.crash_after is not None:
            if self.crash_after == 0:
                raise Crash
            self.crash_after -= 1
        self.puts.append((partition, key, len(value or b"")))
        if value is None:
            self.data.pop(key, None)
        else:
            self.data[key] = value


class LateBox:
    def __init__(self) -> None:
        self.items: list[tuple[int, Late]] = []

    async def __call__(self, partition: int, late: Sequence[Late]) -> None:
        self.items += [(partition, item) for item in late]


class Clock:
    def __init__(self, now: float = 0.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def make_stage(
    table: MemoryTable, writers: dict[str, CollectingWriter], *, chunk: int = 4096, **kw: Any
) -> tuple[Downsampler[int], LateBox]:
    engine = WindowEngine(TIERS, SETTINGS, clock=lambda: T0 + 10 * 3_600_000)
    sinks = {name: BatchSink(w, batch_lines=1000, retry_min_s=0.001) for name, w in writers.items()}
    late = LateBox()
    stage: Downsampler[int] = Downsampler(
        engine, sinks, late, ChunkedStore(table, chunk_bytes=chunk), **kw
    )
    return stage, late


def writers() -> dict[str, CollectingWriter]:
    return {"1m": CollectingWriter(bucket="m"), "1h": CollectingWriter(bucket="h")}


def record(partition: int, offset: int, points: list[Point], types: Any = None) -> InRecord:
    return InRecord(RecordRef("metrics.raw", partition, offset), b"k", encode_batch(points, types))


def stream(partitions: int = 2, minutes: int = 75, seed: int = 1) -> list[InRecord]:
    """Records of a counter and a gauge per partition, every 10 s, with a few disorders."""
    rng = random.Random(seed)
    records: list[InRecord] = []
    offsets = [0] * partitions
    total = [0] * partitions
    for step in range(minutes * 6):
        ts = T0 + 5_000 + step * 10_000
        for p in range(partitions):
            total[p] += rng.randint(0, 5) if rng.random() > 0.02 else -total[p]  # resets
            jitter = rng.randint(-3000, 0)  # inside the lateness
            points = [
                Point("net", {"host": f"h{p}"}, {"bytes": total[p]}, ts),
                Point("cpu", {"host": f"h{p}"}, {"busy": rng.random()}, ts + jitter),
            ]
            records.append(record(p, offsets[p], points, {"net": "counter"}))
            offsets[p] += 1
    return records


def final_rows(ws: dict[str, CollectingWriter]) -> dict[str, dict[tuple[str, str], str]]:
    """Per tier, the last line written per series and timestamp (as InfluxDB keeps it)."""
    out: dict[str, dict[tuple[str, str], str]] = {}
    for name, w in ws.items():
        rows: dict[tuple[str, str], str] = {}
        for line in w.lines:
            head, fields, ts = line.rsplit(" ", 2)
            rows[(head, ts)] = fields
        out[name] = rows
    return out


async def run(stage: Downsampler[int], records: Sequence[InRecord], size: int = 7) -> list[int]:
    acked: list[int] = []
    for i in range(0, len(records), size):
        batch = records[i : i + size]
        acked += await stage.process([(r, r.ref.offset * 10 + r.ref.partition) for r in batch])
    return acked


async def test_rows_reach_each_tier_and_acks_wait_for_a_snapshot() -> None:
    table, ws = MemoryTable(), writers()
    stage, _ = make_stage(table, ws)
    records = stream(partitions=1, minutes=3)
    await stage.process([(r, r.ref.offset) for r in records[:1]])  # sets the boundaries
    saved = dict(table.data)
    second = await stage.process([(r, r.ref.offset) for r in records[1:3]])
    assert second == []  # no window closed: nothing may be acknowledged
    assert stage.held(0) == 2 and table.data == saved
    rest = await stage.process([(r, r.ref.offset) for r in records[3:]])
    assert rest and rest == sorted(rest) and rest[0] == 1
    # Everything acknowledged is covered by the persisted snapshot.
    restored = WindowEngine(TIERS, SETTINGS)
    restored.restore(0, ChunkedStore(table, chunk_bytes=4096).load(0) or b"")
    assert restored.offset(0) is not None and restored.offset(0) >= rest[-1]
    lines = ws["1m"].lines
    assert lines and all(line.startswith(("net,host=h0 ", "cpu,host=h0 ")) for line in lines)
    assert any("bytes_increase=" in line for line in lines)  # the record's type: a counter
    assert not any("busy_increase" in line for line in lines)
    assert ws["1h"].lines == []  # the hour has not closed


async def test_a_stage_killed_anywhere_resumes_to_the_same_rows() -> None:
    records = stream(partitions=2, minutes=75)
    reference = writers()
    stage, _ = make_stage(MemoryTable(), reference)
    await run(stage, records)
    await stage.tick(lambda p: True)
    expected = final_rows(reference)
    assert expected["1h"], "the test must close an hour window"

    puts = len(MemoryTable().puts)  # 0; count the puts of a clean run to choose kill points
    probe_table = MemoryTable()
    probe, _ = make_stage(probe_table, writers())
    await run(probe, records)
    puts = len(probe_table.puts)
    for kill_at in sorted({1, 2, 3, puts // 3, puts // 2, puts - 1}):
        table, ws = MemoryTable(), writers()
        table.crash_after = kill_at
        stage, _ = make_stage(table, ws)
        committed: dict[int, int] = {}
        with pytest.raises(Crash):
            for i in range(0, len(records), 7):
                batch = records[i : i + 7]
                for token in await stage.process(
                    [(r, r.ref.offset * 10 + r.ref.partition) for r in batch]
                ):
                    committed[token % 10] = token // 10 + 1
        table.crash_after = None
        stage, _ = make_stage(table, ws)  # the restarted worker, same table, same buckets
        replay = [r for r in records if r.ref.offset >= committed.get(r.ref.partition, 0)]
        await run(stage, replay)
        await stage.tick(lambda p: True)
        assert final_rows(ws) == expected, f"killed after {kill_at} table writes"


async def test_undecodable_records_are_counted_and_released() -> None:
    table, ws = MemoryTable(), writers()
    clock = Clock()
    stage, _ = make_stage(table, ws, snapshot_max_s=30, clock=clock)
    bad = InRecord(RecordRef("metrics.raw", 0, 0), b"k", b"not json")
    assert await stage.process([(bad, 0)]) == []
    clock.now = 31
    good = record(0, 1, [Point("cpu", {}, {"busy": "text"}, T0)])  # strings only: no window
    assert await stage.process([(good, 1)]) == [0, 1]  # released by age, not by a window
    assert stage.stats.undecodable == 1


async def test_late_samples_go_to_the_late_output() -> None:
    table, ws = MemoryTable(), writers()
    stage, late = make_stage(table, ws)
    await stage.process([(record(0, 0, [Point("cpu", {}, {"busy": 1.0}, T0 + 3_600_000)]), 0)])
    await stage.process([(record(0, 1, [Point("cpu", {}, {"busy": 2.0}, T0)]), 1)])
    assert [(p, item.reason, item.point.ts_ms) for p, item in late.items] == [(0, "late", T0)]
    assert stage.stats.late_sent == 1


class Flaky:
    """Fails ``failures`` times with a connection error (Kafka away), then does ``then``."""

    def __init__(self, failures: int, then: Any) -> None:
        self.failures = failures
        self.then = then

    async def __call__(self, *args: Any) -> Any:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("Kafka away")
        return await self.then(*args)


async def test_late_samples_and_snapshots_are_retried_not_acknowledged_without() -> None:
    table, ws = MemoryTable(), writers()
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    stage, late = make_stage(table, ws, sleep=sleep)
    stage._late = Flaky(2, late)  # type: ignore[assignment]  # the late topic's sends fail
    table.put = Flaky(3, table.put)  # type: ignore[method-assign]  # so do the table's
    hour = [(record(0, 0, [Point("cpu", {}, {"busy": 1.0}, T0 + 3_600_000)]), 0)]
    assert await stage.process(hour) == [0]  # its snapshot, after three failed puts
    old = [(record(0, 1, [Point("cpu", {}, {"busy": 2.0}, T0)]), 1)]
    assert await stage.process(old) == []
    assert [(item.reason, item.point.ts_ms) for _, item in late.items] == [("late", T0)]
    assert stage.stats.late_sent == 1 and len(waits) == 5


async def test_tick_closes_quiet_partitions_only() -> None:
    table, ws = MemoryTable(), writers()
    stage, _ = make_stage(table, ws)
    now = [T0 + 70_000]
    stage.engine.clock = lambda: now[0]
    for p in (0, 1):
        await stage.process([(record(p, 0, [Point("cpu", {"p": str(p)}, {"busy": 1.0}, T0)]), p)])
    now[0] += 120_000
    await stage.tick(lambda p: p == 0)
    assert [line.split(" ")[0] for line in ws["1m"].lines] == ["cpu,p=0"]


async def test_a_revoked_partition_is_resumed_from_its_snapshot() -> None:
    table, ws = MemoryTable(), writers()
    stage, _ = make_stage(table, ws)
    records = stream(partitions=1, minutes=3)
    acked = await run(stage, records)
    stage.revoke([0])
    assert stage.engine.series_count(0) == 0 and stage.held(0) == 0
    stage.assign([0])
    assert stage.engine.offset(0) == acked[-1] // 10
    assert stage.stats.restores == 1


def test_counter_test_reads_the_record_types() -> None:
    test = counter_test({"req_total": "counter", "lat": "histogram", "q": "summary", "t": "gauge"})
    assert test is not None
    assert test("req_total", {}, "value")
    assert test("lat_bucket", {}, "value") is False  # the family name itself is not a series
    assert counter_test({"lat_bucket": "histogram"})("lat_bucket", {}, "value")  # type: ignore[misc]
    assert not test("t", {}, "value") and not test("other", {}, "value")
    assert counter_test({}) is None


@settings(max_examples=30, deadline=None)
@given(st.binary(max_size=20_000), st.integers(1024, 5000))
async def test_chunked_store_round_trips(data: bytes, chunk: int) -> None:
    table = MemoryTable()
    store = ChunkedStore(table, chunk_bytes=chunk)
    await store.save(3, b"old" * 2000)
    await store.save(3, data)
    assert store.load(3) == data
    assert all(size <= chunk for _, _, size in table.puts)
    assert {p for p, _, _ in table.puts} == {3}
    assert not [k for k in table.data if k.startswith(b"ds/3/1/")]  # the old generation is gone


async def test_a_crash_while_saving_keeps_the_previous_snapshot() -> None:
    table = MemoryTable()
    store = ChunkedStore(table, chunk_bytes=1024)
    await store.save(0, b"a" * 5000)
    table.crash_after = 3  # three of the new chunks, then death before the head
    with pytest.raises(Crash):
        await store.save(0, b"b" * 5000)
    assert store.load(0) == b"a" * 5000


async def test_a_missing_chunk_is_an_error() -> None:
    table = MemoryTable()
    store = ChunkedStore(table, chunk_bytes=1024)
    await store.save(0, b"a" * 5000)
    del table.data[b"ds/0/1/2"]
    with pytest.raises(SnapshotError, match="lacks chunk 2 of 5"):
        store.load(0)
    assert store.load(1) is None
