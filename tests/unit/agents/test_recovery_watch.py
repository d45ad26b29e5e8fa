"""A changelog partition whose recovery got nothing while behind is sought back and read again."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from faust.types import TP
from prometheus_client import CollectorRegistry, generate_latest

from agents.recovery_watch import RecoveryWatch, stalled

BEHIND, DONE, MOVING = TP("s-changelog", 2), TP("s-changelog", 3), TP("a-changelog", 0)


@dataclass
class FakeConsumer:
    resumed: list[TP] = field(default_factory=list)
    sought: list[dict[TP, int]] = field(default_factory=list)

    def resume_partitions(self, tps: set[TP]) -> None:
        self.resumed.extend(tps)

    async def seek_wait(self, offsets: dict[TP, int]) -> None:
        self.sought.append(dict(offsets))


def recovering_app(started_at: float, received: dict[TP, float]) -> Any:
    recovery = SimpleNamespace(
        active_tps={BEHIND, DONE, MOVING},
        active_offsets=Counter({BEHIND: -1, DONE: 13, MOVING: 40}),
        active_highwaters=Counter({BEHIND: 0, DONE: 13, MOVING: 90}),
        _active_events_received_at=received,
        _recovery_started_at=started_at,
    )
    return SimpleNamespace(
        in_recovery=True, tables=SimpleNamespace(recovery=recovery), consumer=FakeConsumer()
    )


def test_only_a_partition_behind_that_got_nothing_for_the_stall_time_is_stalled() -> None:
    offsets = {BEHIND: -1, DONE: 13, MOVING: 40}
    highwaters = {BEHIND: 0, DONE: 13, MOVING: 90}
    received = {DONE: 1.0, MOVING: 8.0}
    assert stalled(offsets, highwaters, received, started_at=0.0, now=9.9, stall_s=10) == {}
    assert stalled(offsets, highwaters, received, started_at=0.0, now=10.0, stall_s=10) == {
        BEHIND: 0
    }
    assert stalled(offsets, highwaters, received, started_at=0.0, now=18.0, stall_s=10) == {
        BEHIND: 0,
        MOVING: 41,
    }


def test_a_stalled_partition_is_resumed_and_sought_to_the_record_after_the_last_read() -> None:
    now = [100.0]
    app = recovering_app(started_at=85.0, received={DONE: 99.0, MOVING: 99.5})
    watch = RecoveryWatch(app, stall_s=10.0, clock=lambda: now[0])
    asyncio.run(watch.check())
    assert app.consumer.sought == [{BEHIND: 0}]
    assert app.consumer.resumed == [BEHIND]
    # Sought back, it has the stall time again before it is sought once more.
    now[0] = 105.0
    app.tables.recovery._active_events_received_at[MOVING] = 104.0
    asyncio.run(watch.check())
    assert app.consumer.sought == [{BEHIND: 0}]
    now[0] = 110.0
    app.tables.recovery._active_events_received_at[MOVING] = 109.0
    asyncio.run(watch.check())
    assert app.consumer.sought == [{BEHIND: 0}, {BEHIND: 0}]
    registry = CollectorRegistry()
    registry.register(watch)
    assert b"pulseline_recovery_reads_again_total 2.0" in generate_latest(registry)


def test_nothing_is_sought_outside_a_recovery() -> None:
    app = recovering_app(started_at=0.0, received={})
    app.in_recovery = False
    asyncio.run(RecoveryWatch(app, clock=lambda: 100.0).check())
    assert app.consumer.sought == []
