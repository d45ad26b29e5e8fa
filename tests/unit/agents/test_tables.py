"""A Faust table as a key-value store: writes land at once, their changelog acks are awaitable."""

from __future__ import annotations

import asyncio
from typing import Any

from agents.tables import TableKeyValue


class FakeTable:
    """A table's data and the changelog records sent, each acknowledged when the test says."""

    def __init__(self) -> None:
        self.data: dict[bytes, bytes] = {}
        self.sent: list[tuple[int, bytes, bytes | None, asyncio.Future[Any]]] = []

    def send_changelog(self, partition: int, key: bytes, value: bytes | None) -> Any:
        ack: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.sent.append((partition, key, value, ack))
        return ack


async def test_put_soon_writes_at_once_and_its_ack_comes_with_kafkas() -> None:
    table = FakeTable()
    kv = TableKeyValue(table)
    first = kv.put_soon(2, b"a", b"1")
    second = kv.put_soon(2, b"b", b"2")
    # Both changes are visible and sent before either is acknowledged.
    assert kv.get(b"a") == b"1" and kv.get(b"b") == b"2"
    assert [(p, k, v) for p, k, v, _ in table.sent] == [(2, b"a", b"1"), (2, b"b", b"2")]
    both = asyncio.ensure_future(asyncio.gather(first, second))
    await asyncio.sleep(0)
    assert not both.done()
    for *_, ack in table.sent:
        ack.set_result(None)
    await both


async def test_put_waits_for_the_ack_and_none_deletes() -> None:
    table = FakeTable()
    kv = TableKeyValue(table)
    table.data[b"a"] = b"1"
    put = asyncio.ensure_future(kv.put(0, b"a", None))
    await asyncio.sleep(0)
    assert kv.get(b"a") is None and not put.done()
    table.sent[0][3].set_result(None)
    await put
    assert table.sent[0][:3] == (0, b"a", None)
