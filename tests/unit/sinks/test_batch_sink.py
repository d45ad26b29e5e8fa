from __future__ import annotations

import random

from streams.sinks.batch import BatchSink, Pending, RecordRef
from streams.testing import CollectingWriter


def _items(n: int, lines: int = 1, bad: set[int] | None = None) -> list[Pending]:
    out = []
    for i in range(n):
        text = "\n".join(f"{'bad' if i in (bad or ()) else 'm'} v={i} {j}" for j in range(lines))
        out.append(Pending(RecordRef("t", 0, i), text, lines))
    return out


def _sink(writer: CollectingWriter, waits: list[float], batch_lines: int = 100) -> BatchSink:
    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    return BatchSink(writer, batch_lines=batch_lines, sleep=sleep, rng=random.Random(0))


async def test_transient_failures_are_retried_until_written() -> None:
    writer, waits = CollectingWriter([None, 503, 429, 500, 401]), []
    sink = _sink(writer, waits)
    dead = await sink.write(_items(3))
    assert dead == []
    assert len(waits) == 5 and waits == sorted(waits)
    assert writer.bodies == ["m v=0 0\nm v=1 0\nm v=2 0"]
    assert sink.stats.retries == 5
    assert sink.stats.lines_written == 3
    assert sink.stats.failures_by_status == {"none": 1, "503": 1, "429": 1, "500": 1, "401": 1}
    assert not sink.stats.blocked


async def test_a_refused_record_is_isolated_and_the_rest_written() -> None:
    writer, waits = CollectingWriter(refuse="bad"), []
    sink = _sink(writer, waits)
    dead = await sink.write(_items(8, bad={5}))
    assert [d.ref.offset for d in dead] == [5]
    assert "400" not in dead[0].reason or "unable to parse" in dead[0].reason
    written = sorted(
        int(line.split("v=")[1].split()[0]) for b in writer.bodies for line in b.splitlines()
    )
    assert written == [0, 1, 2, 3, 4, 6, 7]
    assert waits == []
    assert sink.stats.dead_letters == 1


async def test_records_are_grouped_up_to_batch_lines_and_never_split() -> None:
    writer, waits = CollectingWriter(refuse="bad"), []
    sink = _sink(writer, waits, batch_lines=10)
    await sink.write(_items(7, lines=4))
    assert [b.count("\n") + 1 for b in writer.bodies] == [8, 8, 8, 4]


async def test_empty_records_are_not_written() -> None:
    writer, waits = CollectingWriter(refuse="bad"), []
    assert await _sink(writer, waits).write([Pending(RecordRef("t", 0, 0), "", 0)]) == []
    assert writer.attempts == 0


async def test_a_refused_record_is_narrowed_down_to_its_refused_lines() -> None:
    writer, waits = CollectingWriter(refuse="bad"), []
    sink = _sink(writer, waits, batch_lines=10_000)
    lines = [f"m,host=h{i} v={i} 1" for i in range(1000)]
    lines[10], lines[777] = "bad v=1 1", "bad v=2 1"
    item = Pending(RecordRef("t", 0, 9), "\n".join(lines), len(lines))
    dead = await sink.write([item, *_items(3)])
    assert [(d.ref.offset, d.lines) for d in dead] == [(9, (10, 777))]
    assert "and 1 more of its lines" in dead[0].reason
    written = [line for b in writer.bodies for line in b.splitlines()]
    assert sorted(written) == sorted(
        [*lines[:10], *lines[11:777], *lines[778:], *(i.text for i in _items(3))]
    )
    assert sink.stats.lines_written == 1001
    assert sink.stats.requests < 50  # halves, not one request per line
