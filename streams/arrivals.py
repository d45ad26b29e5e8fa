"""Which records of a topic's partition its owner holds: read back, or taken on the way in.

A worker that writes a record to a partition it owns itself may process it as soon as Kafka
holds it, one Kafka hop earlier than its agent reads it back (the alert manager's
``alerts.groups`` records, the rule agents' ``rules.samples`` records); but only in the
order Kafka holds them: a record behind records still unread (another worker's, written
just before) waits to be read, or an older copy could go in after, and over, a newer one.

:class:`Arrivals` keeps, per partition, the next offset the agent reads and the records
taken on their way in (each with a token the agent waits on before acknowledging it).

Example:
    >>> a = Arrivals()
    >>> a.may_take(0, 7)  # nothing read on partition 0 yet: where it stands is unknown
    False
    >>> print(a.read(0, 5))  # the agent read offset 5: not taken, it goes in now
    None
    >>> a.may_take(0, 7)  # offset 6 is not read yet: 7 waits to be read
    False
    >>> a.may_take(0, 6)
    True
    >>> a.took(0, 6, "held-6")
    >>> a.caught_up(0), a.may_take(0, 7)
    (7, True)
    >>> a.read(0, 6)  # read back: already processed, wait for its token
    'held-6'
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass
class Arrivals(Generic[T]):
    """Per partition: the next offset read back, and the records taken on their way in."""

    _next: dict[int, int] = field(default_factory=dict)
    _taken: dict[int, dict[int, T]] = field(default_factory=dict)

    def caught_up(self, partition: int) -> int | None:
        """The offset below which the owner holds every record of ``partition``: those read
        back and those taken right after them (None: nothing read since it was assigned)."""
        offset = self._next.get(partition)
        taken = self._taken.get(partition, {})
        while offset is not None and offset in taken:
            offset += 1
        return offset

    def may_take(self, partition: int, offset: int) -> bool:
        """Whether the record at ``offset`` may be processed now: the one right after
        every record the owner holds."""
        return offset == self.caught_up(partition)

    def took(self, partition: int, offset: int, token: T) -> None:
        """Record that the record at ``offset`` went in on its way in; ``token`` is handed
        back when the agent reads it."""
        self._taken.setdefault(partition, {})[offset] = token

    def untake(self, partition: int, offset: int, token: T) -> None:
        """Forget a record taken with ``token`` (its changes were not held): if it is not
        read yet, the agent puts it in when it reads it."""
        taken = self._taken.get(partition, {})
        if taken.get(offset) is token:
            del taken[offset]

    def read(self, partition: int, offset: int) -> T | None:
        """The agent read the record at ``offset``: the token of a record taken on its way
        in, or None when it was not and still has to go in."""
        self._next[partition] = max(self._next.get(partition, 0), offset + 1)
        return self._taken.get(partition, {}).pop(offset, None)

    def forget(self, partitions: Iterable[int]) -> None:
        """The partitions went to another owner."""
        for p in partitions:
            self._next.pop(p, None)
            self._taken.pop(p, None)
