"""Reads again a changelog partition whose table recovery stalled.

After a rebalance a worker reads its tables back from their changelogs, and consumes nothing
until every changelog partition is read up to the offset it ended at when recovery began.
Faust can lose records of a changelog partition on their way to the recovery (a record the
consumer fetched is dropped when a rebalance or a flow change lands between the fetch and its
delivery): the consumer's position is already past them, nothing more comes, and the worker
waits for ever, logging "No event received for active tp". :class:`RecoveryWatch` looks every
``EVERY_S`` seconds: a changelog partition still behind, that got nothing for ``stall_s``, is
sought back to the record after the last one read, and the recovery carries on. Reading a
record twice is harmless: a changelog holds the newest value of each key, read in order.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from faust.types import TP
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector

log = logging.getLogger(__name__)

STALL_S = 10.0
"""How long a changelog partition still behind may get no record before it is read again."""
EVERY_S = 5.0
"""How often a recovery is looked at."""


def stalled(
    offsets: Mapping[TP, int],
    highwaters: Mapping[TP, int | None],
    received_at: Mapping[TP, float],
    started_at: float,
    now: float,
    stall_s: float = STALL_S,
) -> dict[TP, int]:
    """The changelog partitions of a recovery that stalled, with the offset to read from.

    Args:
        offsets: the last offset read of each partition (-1: none yet).
        highwaters: the last offset each must be read up to (Faust's "highwater").
        received_at: when each last got a record (absent: not since the recovery started).
        started_at: when the recovery started.
        now: the time now, on the clock of the two above.
        stall_s: how long a partition behind may get nothing.

    Example:
        >>> tp = TP("t-changelog", 2)
        >>> stalled({tp: -1}, {tp: 0}, {}, started_at=0.0, now=12.0)
        {TP(topic='t-changelog', partition=2): 0}
        >>> stalled({tp: 0}, {tp: 0}, {}, started_at=0.0, now=12.0)
        {}
    """
    out: dict[TP, int] = {}
    for tp, have in offsets.items():
        need = highwaters.get(tp)
        if need is None or have >= need:
            continue
        if now - received_at.get(tp, started_at) >= stall_s:
            out[tp] = have + 1
    return out


class RecoveryWatch(Collector):
    """Seeks the stalled changelog partitions of a Faust app's recovery (see the module), and
    exposes how often as ``pulseline_recovery_reads_again_total``.

    Args:
        app: the Faust app (its ``tables.recovery`` and ``consumer`` are read only while it
            recovers).
        stall_s: how long a partition behind may get no record.
        clock: the recovery's clock (``time.monotonic``).
    """

    def __init__(
        self, app: Any, stall_s: float = STALL_S, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._app = app
        self._stall_s = stall_s
        self._clock = clock
        self._sought: dict[TP, float] = {}
        self.reads_again = 0

    async def check(self) -> None:
        """Seek every stalled changelog partition back to the record it waits for."""
        app = self._app
        recovery = app.tables.recovery
        started_at = recovery._recovery_started_at
        if not app.in_recovery or started_at is None:
            self._sought.clear()
            return
        now = self._clock()
        offsets = {tp: recovery.active_offsets[tp] for tp in recovery.active_tps}
        # A partition sought back counts as having just got a record: it has stall_s again.
        received = {**recovery._active_events_received_at}
        for tp, at in self._sought.items():
            received[tp] = max(at, received.get(tp, at))
        behind = stalled(
            offsets, recovery.active_highwaters, received, started_at, now, self._stall_s
        )
        for tp, offset in sorted(behind.items()):
            log.warning(
                "%s[%d]: table recovery got nothing for %.0f s at offset %d of %s; reading "
                "it again from offset %d",
                tp.topic,
                tp.partition,
                self._stall_s,
                offsets[tp],
                recovery.active_highwaters[tp],
                offset,
            )
            app.consumer.resume_partitions({tp})
            await app.consumer.seek_wait({tp: offset})
            self._sought[tp] = now
            self.reads_again += 1

    def collect(self) -> Iterator[Metric]:
        family = CounterMetricFamily(
            "pulseline_recovery_reads_again",
            "Changelog partitions read again because their table recovery stalled.",
        )
        family.add_metric([], self.reads_again)
        yield family
