"""Flushes that wait for the alerts received before them.

Alertmanager puts an alert in its group as its API takes it, so a flush carries every alert
received before it. In pulseline an alert reaches the owner of its group through Kafka
(``alerts.groups``): while the owner is behind on a partition (a burst of alerts, a busy
worker), a flush would carry only part of what was received before it, and the rest would
follow one ``group_interval`` later, in a notification of its own. :class:`CatchUp` holds a
partition's flushes back until the owner has read the records that were in the partition
when they fell due, for ``max_wait`` seconds at most: a consumer that cannot go on must not
hold notifications back for ever.

Example:
    >>> c = CatchUp(max_wait=2.0)
    >>> c.ready(0, now=10.0, read=5, end=5)  # nothing left to read: flush
    True
    >>> c.ready(0, now=10.0, read=5, end=8)  # three records first
    False
    >>> c.ready(0, now=10.2, read=7, end=12)  # records after the flush fell due do not count
    False
    >>> c.ready(0, now=10.3, read=8, end=15)
    True
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field


@dataclass
class CatchUp:
    """The partitions whose due flushes wait for their owner to catch up.

    Attributes:
        max_wait: the longest a flush is held back, in seconds.
    """

    max_wait: float
    _waiting: dict[int, tuple[float, int]] = field(default_factory=dict)

    def ready(self, partition: int, now: float, read: int | None, end: int | None) -> bool:
        """Whether the due flushes of ``partition`` may go at ``now``.

        Args:
            partition: the ``alerts.groups`` partition.
            now: the current instant.
            read: the offset of the next record the owner will read (None: unknown).
            end: the partition's end offset as last seen (None: unknown).
        """
        waiting = self._waiting.get(partition)
        if waiting is None:
            if read is None or end is None or read >= end:
                return True
            self._waiting[partition] = (now, end)
            return False
        since, target = waiting
        if (read is not None and read >= target) or now - since >= self.max_wait:
            del self._waiting[partition]
            return True
        return False

    def forget(self, partitions: Iterable[int]) -> None:
        """Drop what waits on partitions this worker no longer owns."""
        for p in partitions:
            self._waiting.pop(p, None)
