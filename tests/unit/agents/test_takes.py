"""Takes: batches of a stream's events, handed once and in order, acknowledged as processed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest

from agents.takes import Takes
from streams.offsets import OffsetLedger

TOPIC = "metrics.raw"


@dataclass
class Message:
    topic: str
    partition: int
    offset: int
    generation_id: int | None = 1


@dataclass(frozen=True)
class App:
    consumer_generation_id: int = 1


APP = App()


@dataclass
class Event:
    message: Message
    app: App = APP
    acked: list[int] = field(default_factory=list)

    def ack(self) -> bool:
        self.acked.append(1)
        return True


def event(partition: int, offset: int, generation: int | None = 1) -> Event:
    return Event(Message(TOPIC, partition, offset, generation))


class FakeStream:
    """What Takes uses of a Faust stream: ``enable_acks`` and ``events()``."""

    def __init__(self, queue: asyncio.Queue[Event | None]) -> None:
        self.enable_acks = True
        self._queue = queue

    async def events(self) -> AsyncIterator[Event]:
        while (item := await self._queue.get()) is not None:
            yield item


class FakeLog:
    def __init__(self) -> None:
        self.seeks: list[tuple[tuple[str, int], int]] = []
        self.end: int | None = None

    def end_offset(self, tp: tuple[str, int]) -> int | None:
        return self.end

    async def first_offset(self, tp: tuple[str, int], at: int) -> int | None:
        return at

    async def seek(self, tp: tuple[str, int], offset: int) -> None:
        self.seeks.append((tp, offset))


async def collect(takes: Takes, items: list[Event | None]) -> list[list[tuple[int, int]]]:
    queue: asyncio.Queue[Event | None] = asyncio.Queue()
    for item in items:
        queue.put_nowait(item)
    stream = FakeStream(queue)
    out = [
        [(e.message.partition, e.message.offset) for e in batch]
        async for batch in takes.batches(stream)
    ]
    assert stream.enable_acks is False  # Faust must not acknowledge on its own
    return out


async def test_batches_hold_at_most_max_records() -> None:
    ledger = OffsetLedger()
    ledger.register(TOPIC, "sink")
    ledger.start({(TOPIC, 0): 0}, generation=1)
    takes = Takes(ledger, "sink", TOPIC, max_records=3, within_s=5)
    batches = await collect(takes, [event(0, o) for o in range(7)] + [None])
    assert batches == [[(0, 0), (0, 1), (0, 2)], [(0, 3), (0, 4), (0, 5)], [(0, 6)]]


async def test_a_batch_is_handed_within_the_wait_after_its_first_record() -> None:
    ledger = OffsetLedger()
    takes = Takes(ledger, "sink", TOPIC, max_records=100, within_s=0.05)
    queue: asyncio.Queue[Event | None] = asyncio.Queue()
    queue.put_nowait(event(0, 0))
    it = takes.batches(FakeStream(queue))
    loop = asyncio.get_running_loop()
    began = loop.time()
    first = await asyncio.wait_for(anext(it), timeout=2)
    assert [e.message.offset for e in first] == [0]
    assert 0.04 <= loop.time() - began < 1
    queue.put_nowait(event(0, 1))
    queue.put_nowait(None)
    assert [e.message.offset for e in await anext(it)] == [1]
    with pytest.raises(StopAsyncIteration):
        await anext(it)


async def test_records_of_an_older_generation_and_duplicates_are_released_unhanded() -> None:
    ledger = OffsetLedger()
    ledger.register(TOPIC, "sink")
    ledger.consuming()
    ledger.start({(TOPIC, 0): 5}, generation=1)
    takes = Takes(ledger, "sink", TOPIC, max_records=10, within_s=0.01)
    stale, fresh, dup = event(0, 5, generation=0), event(0, 5), event(0, 5)
    batches = await collect(takes, [stale, fresh, dup, event(0, 6), None])
    assert batches == [[(0, 5), (0, 6)]]
    assert stale.acked and dup.acked and not fresh.acked  # released: Faust's refcount drops
    assert ledger.stats.stale == 2


async def test_a_hole_in_the_sequence_is_read_again_before_anything_after_it() -> None:
    log = FakeLog()
    ledger = OffsetLedger(log)
    ledger.register(TOPIC, "sink")
    ledger.start({(TOPIC, 2): 15}, generation=1)
    takes = Takes(ledger, "sink", TOPIC, max_records=100, within_s=0.01)
    items: list[Event | None] = [event(2, o) for o in (16, 17)]  # from before the start's seek
    items += [event(2, o) for o in (15, 16, 18, 19)]  # what the seek brings; 17 is lost
    items += [event(2, o) for o in (17, 18, 19)]  # what the seek back to 17 brings
    batches = await collect(takes, [*items, None])
    assert log.seeks == [((TOPIC, 2), 17)]
    assert [o for batch in batches for _, o in batch] == [15, 16, 17, 18, 19]


async def test_records_of_an_assignment_wait_for_its_start() -> None:
    ledger = OffsetLedger()
    ledger.register(TOPIC, "sink")
    ledger.consuming()
    takes = Takes(ledger, "sink", TOPIC, max_records=10, within_s=0.01)
    queue: asyncio.Queue[Event | None] = asyncio.Queue()
    it = takes.batches(FakeStream(queue))
    queue.put_nowait(event(0, 7))  # delivered while the consumer still seeks
    first = asyncio.ensure_future(anext(it))
    await asyncio.sleep(0.05)
    assert not first.done()  # held, not dropped: it is the start's first record
    ledger.start({(TOPIC, 0): 7}, generation=1)
    assert [e.message.offset for e in await asyncio.wait_for(first, 2)] == [7]
    queue.put_nowait(None)
    with pytest.raises(StopAsyncIteration):
        await anext(it)


async def test_a_quiet_agent_that_waits_for_records_in_vain_has_them_read_again() -> None:
    log = FakeLog()
    log.end = 20
    ledger = OffsetLedger(log, seek_patience_s=0)
    ledger.register(TOPIC, "sink")
    ledger.start({(TOPIC, 0): 15}, generation=1)
    takes = Takes(ledger, "sink", TOPIC, max_records=10, within_s=0.01, idle_s=0.02)
    queue: asyncio.Queue[Event | None] = asyncio.Queue()
    it = takes.batches(FakeStream(queue))
    waiting = asyncio.ensure_future(anext(it))
    for _ in range(100):
        if log.seeks:
            break
        await asyncio.sleep(0.01)
    assert log.seeks[0] == ((TOPIC, 0), 15)  # 15..19 exist; nothing came: read them again
    waiting.cancel()


async def test_ack_finishes_offsets_in_the_ledger_and_releases_the_events() -> None:
    ledger = OffsetLedger()
    ledger.register(TOPIC, "sink")
    ledger.register(TOPIC, "rules")
    ledger.start({(TOPIC, 0): 0}, generation=1)
    sink = Takes(ledger, "sink", TOPIC, max_records=10, within_s=0.01)
    rules = Takes(ledger, "rules", TOPIC, max_records=10, within_s=0.01)
    events = [event(0, o) for o in range(4)]
    (batch,) = [b async for b in sink.batch(_aiter(events))]
    sink.ack(batch[:2])  # the last two are not processed yet
    assert ledger.committable((TOPIC, 0)) == 0  # "rules" has processed nothing
    (batch2,) = [b async for b in rules.batch(_aiter(events))]
    rules.ack(batch2)
    assert ledger.committable((TOPIC, 0)) == 2
    sink.ack(batch[2:])
    assert ledger.committable((TOPIC, 0)) == 4
    assert all(len(e.acked) == 2 for e in events)  # once per reader


async def _aiter(items: list[Event]) -> AsyncIterator[Event]:
    for item in items:
        yield item
