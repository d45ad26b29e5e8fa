"""Timers that take their turn, and rule histories read outside the evaluation lock."""

from __future__ import annotations

import asyncio

import pytest

from agents.history import Histories
from agents.timers import run_every


async def test_a_timer_waits_for_the_lock_instead_of_skipping_its_turn() -> None:
    lock = asyncio.Lock()
    turns: list[float] = []
    loop = asyncio.get_running_loop()

    async def tick() -> None:
        async with lock:
            turns.append(loop.time())

    async def busy_agent() -> None:  # holds the lock 90 % of the time, as under steady load
        while True:
            async with lock:
                await asyncio.sleep(0.009)
            await asyncio.sleep(0.001)

    agent = asyncio.ensure_future(busy_agent())
    timer = asyncio.ensure_future(run_every(0.02, tick, name="test-tick"))
    await asyncio.sleep(0.6)
    timer.cancel()
    agent.cancel()
    # a turn every 20 ms plus at most one batch (10 ms) of waiting: about 20 in 0.6 s
    assert len(turns) >= 15


async def test_a_timer_never_overlaps_itself_and_outlives_its_errors() -> None:
    running, most, calls = [0], [0], [0]

    async def slow() -> None:
        calls[0] += 1
        running[0] += 1
        most[0] = max(most[0], running[0])
        await asyncio.sleep(0.03)  # longer than the interval
        running[0] -= 1
        if calls[0] == 2:
            raise RuntimeError("a failing turn")

    timer = asyncio.ensure_future(run_every(0.01, slow, name="slow-tick"))
    await asyncio.sleep(0.3)
    timer.cancel()
    assert most[0] == 1 and calls[0] >= 4


async def test_histories_are_read_outside_the_lock_all_at_once() -> None:
    lock = asyncio.Lock()
    reading: set[int] = set()
    started = asyncio.Event()
    release = asyncio.Event()
    applied: list[tuple[int, int, bool]] = []

    async def read(p: int) -> list[object]:
        reading.add(p)
        if len(reading) == 3:
            started.set()
        await release.wait()
        return [object()] * p

    def apply(p: int, history: list[object]) -> None:
        applied.append((p, len(history), lock.locked()))

    histories = Histories(read, apply, lock)  # type: ignore[arg-type]
    histories.prefetch([1, 2, 3])
    await asyncio.wait_for(started.wait(), 1)  # the three reads run at once
    waiting = asyncio.ensure_future(histories.ensure(2))
    await asyncio.sleep(0.01)
    async with lock:  # the lock is free while histories are read: evaluations go on
        assert not waiting.done()
    release.set()
    assert await waiting is True
    assert applied == [(2, 2, True)]  # handed to the runtime under the lock, once
    assert await histories.ensure(2) is True and len(applied) == 1
    assert histories.loaded == {2}


async def test_a_partition_revoked_while_its_history_is_read_is_not_applied() -> None:
    lock = asyncio.Lock()
    never = asyncio.Event()
    applied: list[int] = []

    async def read(p: int) -> list[object]:
        await never.wait()
        return []

    histories = Histories(read, lambda p, h: applied.append(p), lock)  # type: ignore[arg-type]
    histories.prefetch([4])
    waiting = asyncio.ensure_future(histories.ensure(4))
    await asyncio.sleep(0.01)
    histories.drop([4])
    assert await asyncio.wait_for(waiting, 1) is False
    assert applied == [] and histories.loaded == set()


async def test_a_failed_read_reaches_the_caller_and_the_next_call_reads_again() -> None:
    failures = [1]

    async def read(p: int) -> list[object]:
        if failures[0]:
            failures[0] -= 1
            raise ConnectionError("broker away")
        return []

    histories = Histories(read, lambda p, h: None, asyncio.Lock())  # type: ignore[arg-type]
    with pytest.raises(ConnectionError):
        await histories.ensure(0)
    assert await histories.ensure(0) is True
