"""Values of any size in a table whose records the broker limits: alert states, snapshots."""

from __future__ import annotations

from pathlib import Path

import pytest

from streams.chunks import ChunkedValues
from streams.errors import SnapshotError
from streams.records import Point
from streams.rules import load_rule_files
from streams.rules.evaluation.routing import Router, decode_forward, encode_forward
from streams.rules.evaluation.runtime import RuleRuntime, state_key

T0 = 1_700_000_000_000
LIMIT = 64_000


class BrokerTable:
    """A changelog-backed table whose records the broker refuses above ``LIMIT`` bytes."""

    def __init__(self) -> None:
        self.data: dict[bytes, bytes] = {}
        self.largest = 0

    def get(self, key: bytes) -> bytes | None:
        return self.data.get(key)

    async def put(self, partition: int, key: bytes, value: bytes | None) -> None:
        if value is not None and len(value) > LIMIT:
            raise ValueError(f"MessageSizeTooLargeError: {len(value)} bytes")
        self.largest = max(self.largest, len(value or b""))
        if value is None:
            self.data.pop(key, None)
        else:
            self.data[key] = value


async def test_a_group_state_above_the_message_limit_survives_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "rules.yml"
    path.write_text(
        "groups:\n  - name: rooms\n    rules:\n"
        "      - alert: Hot\n        expr: room_celsius > 30\n        for: 1m\n"
    )
    router = Router(load_rule_files([path]))
    rooms = [Point("room", {"room": f"r{i:04d}"}, {"celsius": 35.0}, T0) for i in range(1000)]
    forwarded = [
        decode_forward(encode_forward(g, [("metrics.raw", 0, 1)], [(0, x) for x in s]))
        for g, s in router.route(rooms).items()
    ]
    clock = [T0]
    table = BrokerTable()
    states = ChunkedValues(table, chunk_bytes=LIMIT // 2)
    runtime = RuleRuntime(router, 1, states, clock=lambda: clock[0])
    outcome = runtime.on_records(0, forwarded)
    assert len(outcome.events) == 1000  # a thousand pending alerts in one group
    state = outcome.states["rooms"]
    assert len(state) > LIMIT  # one record would be refused by the broker
    with pytest.raises(ValueError, match="MessageSizeTooLarge"):
        await table.put(0, state_key("rooms"), state)
    await states.save(0, state_key("rooms"), state)
    assert table.largest <= LIMIT // 2

    clock[0] = T0 + 60_001  # a restarted worker: the same table, no samples
    restarted = RuleRuntime(router, 1, ChunkedValues(table), clock=lambda: clock[0])
    restarted.add_history(0, forwarded)
    fired = restarted.tick(0)
    assert sorted(e["state"] for e in fired.events) == ["firing"] * 1000
    assert {e["startsAt"] for e in fired.events} == {"2023-11-14T22:13:20.000Z"}


async def test_a_value_written_whole_before_chunking_still_reads() -> None:
    table = BrokerTable()
    table.data[b"rules/old"] = b'{"alerts": []}'
    values = ChunkedValues(table, chunk_bytes=4)
    assert values.get(b"rules/old") == b'{"alerts": []}'
    await values.save(0, b"rules/old", b'{"alerts": [1]}')
    assert values.get(b"rules/old") == b'{"alerts": [1]}'
    assert values.get(b"rules/none") is None


async def test_a_value_that_fits_is_one_record_and_may_grow_into_chunks_and_back() -> None:
    table = BrokerTable()
    values = ChunkedValues(table, chunk_bytes=10, whole_if_fits=True)
    await values.save(0, b"rules/g", b"small")
    assert table.data == {b"rules/g": b"small"}
    await values.save(0, b"rules/g", b"y" * 25)
    assert values.get(b"rules/g") == b"y" * 25 and len(table.data) == 4
    await values.save(0, b"rules/g", b"small again")  # 11 bytes: still chunked
    await values.save(0, b"rules/g", b"tiny")
    assert table.data == {b"rules/g": b"tiny"}  # no chunk left behind


async def test_a_missing_chunk_is_an_error_naming_the_key() -> None:
    table = BrokerTable()
    values = ChunkedValues(table, chunk_bytes=10)
    await values.save(0, b"rules/g", b"x" * 35)
    del table.data[b"rules/g/1/3"]
    with pytest.raises(SnapshotError, match="rules/g: generation 1 lacks chunk 3 of 4"):
        values.get(b"rules/g")


async def test_a_damaged_group_state_is_logged_and_the_group_starts_afresh(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "rules.yml"
    path.write_text(
        "groups:\n  - name: rooms\n    rules:\n      - alert: Hot\n        expr: x > 1\n"
    )
    table = BrokerTable()
    values = ChunkedValues(table, chunk_bytes=4)
    await values.save(0, state_key("rooms"), b'{"alerts": {}}')
    del table.data[b"rules/rooms/1/0"]
    runtime = RuleRuntime(Router(load_rule_files([path])), 1, values, clock=lambda: T0)
    assert runtime.tick(0).events == []
    assert "cannot restore its alert state" in caplog.text
