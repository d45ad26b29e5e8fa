"""The offset ledger: what a consumer group may commit, from what each reader finished."""

from __future__ import annotations

import asyncio
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streams.offsets import Offer, OffsetLedger, Progress

TP = ("metrics.raw", 3)


class FakeLog:
    """A partition log holding ``offsets``; records the seeks asked for."""

    def __init__(self, offsets: set[int], *, fail: bool = False) -> None:
        self.offsets = offsets
        self.seeks: list[tuple[tuple[str, int], int]] = []
        self.asked: list[int] = []
        self.fail = fail

    async def first_offset(self, tp: tuple[str, int], at: int) -> int | None:
        self.asked.append(at)
        if self.fail:
            raise ConnectionError("broker away")
        return min((o for o in self.offsets if o >= at), default=None)

    async def seek(self, tp: tuple[str, int], offset: int) -> None:
        self.seeks.append((tp, offset))

    def end_offset(self, tp: tuple[str, int]) -> int | None:
        return max(self.offsets, default=-1) + 1


def ledger_with(*readers: str, log: FakeLog | None = None, base: int = 31) -> OffsetLedger:
    ledger = OffsetLedger(log)
    for reader in readers:
        ledger.register(TP[0], reader)
    ledger.start({TP: base}, generation=1)
    return ledger


def test_progress_finishes_ranges_in_any_order() -> None:
    p = Progress(handed=0, done_to=0)
    for start, end in [(5, 6), (2, 4), (8, 9), (1, 2)]:
        p.finish(start, end)
    assert (p.done_to, p.ahead) == (0, [[1, 4], [5, 6], [8, 9]])
    p.finish(0, 1)
    assert (p.done_to, p.ahead) == (4, [[5, 6], [8, 9]])
    p.finish(4, 5)
    assert (p.done_to, p.ahead) == (6, [[8, 9]])
    p.finish(3, 6)  # already finished: nothing changes
    assert (p.done_to, p.ahead) == (6, [[8, 9]])


def test_the_committable_offset_is_the_slowest_readers_first_unfinished() -> None:
    ledger = ledger_with("sink", "rules")
    for o in range(31, 41):
        assert ledger.offer("sink", TP, o) is Offer.HAND
        ledger.finish("sink", TP, o)
    assert ledger.committable(TP) == 31  # "rules" has not processed anything
    for o in range(31, 36):
        assert ledger.offer("rules", TP, o) is Offer.HAND
    for o in (31, 33, 34):
        ledger.finish("rules", TP, o)
    assert ledger.committable(TP) == 32  # 32 is still in "rules"' hands
    ledger.finish("rules", TP, 32)
    assert ledger.committable(TP) == 35


async def test_records_past_the_base_wait_for_the_assignments_seek() -> None:
    log = FakeLog(set(range(0, 200)))
    ledger = ledger_with("sink", log=log)
    # still on their way from before the seek to the committed offset: released
    assert [o for o in range(36, 50) if await ledger.admit("sink", TP, o)] == []
    assert log.seeks == []  # the assignment's seek brings them
    assert log.asked == [31]  # looked into once: 31 exists
    assert [o for o in range(31, 50) if await ledger.admit("sink", TP, o)] == list(range(31, 50))


async def test_a_record_never_received_is_read_again_not_stepped_over() -> None:
    log = FakeLog(set(range(0, 200)))
    ledger = ledger_with("sink", log=log)
    assert await ledger.admit("sink", TP, 31)
    ledger.finish("sink", TP, 31)
    # 32 is dropped on the way: the reader receives 33..91
    admitted = [o for o in range(33, 92) if await ledger.admit("sink", TP, o)]
    assert admitted == []
    assert log.seeks == [(TP, 32)]  # one seek, not one per record after the hole
    assert ledger.committable(TP) == 32
    # the seek brings 32.. again
    admitted = [o for o in range(32, 92) if await ledger.admit("sink", TP, o)]
    assert admitted == list(range(32, 92))
    for o in admitted:
        ledger.finish("sink", TP, o)
    assert ledger.committable(TP) == 92
    assert ledger.stats.gaps == 1 and ledger.stats.seeks == 1


async def test_one_seek_serves_every_reader_of_the_partition() -> None:
    log = FakeLog(set(range(100)))
    ledger = ledger_with("sink", "rules", log=log, base=0)
    for reader in ("sink", "rules"):
        assert [o for o in range(10) if await ledger.admit(reader, TP, o)] == list(range(10))
    assert not await ledger.admit("sink", TP, 11)  # 10 was lost on the way to both
    assert await ledger.admit("sink", TP, 10)  # the seek brings it to "sink" first
    assert not await ledger.admit("rules", TP, 12)  # "rules" still gets what was in flight
    assert await ledger.admit("rules", TP, 10)
    assert log.seeks == [(TP, 10)]  # no second seek for the slower reader


async def test_an_absent_base_is_stepped_over_at_once() -> None:
    log = FakeLog({33, 34})  # the committed 31 and 32 were deleted by retention
    ledger = ledger_with("sink", log=log)
    assert await ledger.admit("sink", TP, 33)
    ledger.finish("sink", TP, 33)
    assert ledger.committable(TP) == 34


async def test_offsets_with_no_record_are_finished_as_absent() -> None:
    log = FakeLog({31, 32, 40, 41})  # 33..39: deleted, compacted or transaction markers
    ledger = ledger_with("sink", "rules", log=log)
    for reader in ("sink", "rules"):
        for o in (31, 32, 40, 41):
            assert await ledger.admit(reader, TP, o)
            ledger.finish(reader, TP, o)
    assert ledger.committable(TP) == 42
    assert log.asked == [33]  # the second reader used what the first one learnt
    assert log.seeks == []
    assert ledger.stats.absent == 14  # 7 offsets, for each of the two readers


async def test_a_hole_partly_absent_seeks_to_its_first_record() -> None:
    log = FakeLog({31, 35, 36, 37})
    ledger = ledger_with("sink", log=log)
    assert await ledger.admit("sink", TP, 31)
    assert not await ledger.admit("sink", TP, 37)  # 35 and 36 exist and were missed
    assert log.seeks == [(TP, 35)]
    ledger.finish("sink", TP, 31)
    assert ledger.committable(TP) == 35  # 32..34 are absent: finished
    assert [o for o in (35, 36, 37) if await ledger.admit("sink", TP, o)] == [35, 36, 37]


async def test_a_seek_that_brings_nothing_is_looked_into_again_after_the_patience() -> None:
    now = [0.0]
    log = FakeLog(set(range(100)))
    ledger = OffsetLedger(log, seek_patience_s=30, clock=lambda: now[0])
    ledger.register(TP[0], "sink")
    ledger.start({TP: 31}, generation=1)
    assert await ledger.admit("sink", TP, 31)
    assert not await ledger.admit("sink", TP, 33)
    now[0] = 29
    assert not await ledger.admit("sink", TP, 34)
    assert log.seeks == [(TP, 32)]
    now[0] = 31
    assert not await ledger.admit("sink", TP, 35)
    assert log.seeks == [(TP, 32), (TP, 32)]


async def test_a_log_that_cannot_be_read_never_makes_a_record_skipped() -> None:
    log = FakeLog(set(range(100)), fail=True)
    ledger = ledger_with("sink", log=log)
    assert await ledger.admit("sink", TP, 31)
    assert not await ledger.admit("sink", TP, 40)
    assert log.seeks == [(TP, 32)]
    ledger.finish("sink", TP, 31)
    assert ledger.committable(TP) == 32


def test_duplicates_and_partitions_not_assigned_are_skipped() -> None:
    ledger = ledger_with("sink")
    assert ledger.offer("sink", TP, 31) is Offer.HAND
    assert ledger.offer("sink", TP, 31) is Offer.SKIP  # handed already (a seek brought it)
    assert ledger.offer("sink", TP, 30) is Offer.SKIP  # below the committed offset
    assert ledger.offer("sink", ("metrics.raw", 4), 0) is Offer.SKIP  # not assigned here
    assert ledger.stats.stale == 3


def test_an_assignment_restarts_each_partition_at_its_base() -> None:
    ledger = ledger_with("sink")
    for o in range(31, 35):
        ledger.offer("sink", TP, o)
    ledger.finish("sink", TP, 31)
    ledger.start({TP: 32, ("metrics.raw", 5): 0}, generation=2)
    assert ledger.committable(TP) == 32
    assert ledger.offer("sink", TP, 33) is Offer.GAP  # 32 must be handed again first
    assert ledger.offer("sink", TP, 32) is Offer.HAND
    ledger.finish("sink", TP, 33)  # finished before the rebalance: still true
    ledger.finish("sink", TP, 32)
    assert ledger.committable(TP) == 34
    assert ledger.committable(("metrics.raw", 5)) == 0
    assert ledger.committable(("metrics.raw", 6)) is None


def test_before_any_assignment_nothing_is_committed() -> None:
    ledger = OffsetLedger()
    ledger.register(TP[0], "sink")
    assert ledger.offer("sink", TP, 7) is Offer.HAND  # no consumer (a test context)
    ledger.finish("sink", TP, 7)
    assert ledger.committable(TP) is None
    ledger.consuming()  # a consumer runs: records come after its first assignment
    assert ledger.offer("sink", TP, 8) is Offer.SKIP


def test_a_reader_must_be_registered() -> None:
    ledger = ledger_with("sink")
    with pytest.raises(ValueError, match="'rules' is not registered"):
        ledger.offer("rules", TP, 31)


@settings(max_examples=150, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    size=st.integers(1, 60),
    drop=st.floats(0, 0.3),
    absent=st.floats(0, 0.3),
)
def test_nothing_unfinished_is_ever_committable_and_everything_gets_done(
    seed: int, size: int, drop: float, absent: float
) -> None:
    """A model of the worker: a log with holes, a fetcher that drops records, two readers
    that finish what they were handed in any order, and seeks that move the fetcher."""
    rng = random.Random(seed)
    offsets = {o for o in range(size) if rng.random() >= absent} or {0}
    end = max(offsets) + 1
    log = FakeLog(offsets)
    step = [0.0]
    ledger = OffsetLedger(log, seek_patience_s=5, clock=lambda: step[0])
    readers = ("sink", "rules")
    for r in readers:
        ledger.register(TP[0], r)
    ledger.start({TP: 0}, generation=1)
    finished: dict[str, set[int]] = {r: set() for r in readers}
    handed: dict[str, list[int]] = {r: [] for r in readers}

    def check() -> None:
        c = ledger.committable(TP)
        assert c is not None
        for r in readers:
            unfinished = [o for o in sorted(offsets) if o not in finished[r]]
            assert not unfinished or c <= unfinished[0], (r, c, unfinished[:3])

    async def run() -> None:
        cursor = {r: 0 for r in readers}  # each reader's stream position in the log
        for _ in range(size * 20):
            step[0] += 1
            if all(cursor[r] >= end for r in readers) and not any(handed.values()):
                break
            r = rng.choice(readers)
            if handed[r] and rng.random() < 0.4:  # finish something handed, in any order
                o = handed[r].pop(rng.randrange(len(handed[r])))
                ledger.finish(r, TP, o)
                finished[r].add(o)
            elif cursor[r] < end:
                o = cursor[r]
                cursor[r] += 1
                if o not in offsets or rng.random() < drop:
                    continue  # absent from the log, or dropped on the way
                seeks = len(log.seeks)
                if await ledger.admit(r, TP, o):
                    handed[r].append(o)
                if len(log.seeks) > seeks:  # a seek moves every reader's stream
                    for other in readers:
                        cursor[other] = min(cursor[other], log.seeks[-1][1])
            check()
        # a restart from what was committed, and a read without drops, finish everything
        base = ledger.committable(TP)
        assert base is not None
        ledger.start({TP: base}, generation=2)
        for r in readers:
            for o in range(base, end):
                if o in offsets and await ledger.admit(r, TP, o):
                    ledger.finish(r, TP, o)
                    finished[r].add(o)
                check()
        assert ledger.committable(TP) == end

    asyncio.run(run())
