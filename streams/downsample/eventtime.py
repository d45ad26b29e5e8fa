"""A partition's event time, from the progress of the sources that write to it.

Many sources (hosts, targets) share a Kafka partition. Taking the partition's event time
from the newest timestamp of any of them lets one source with a wrong clock move it for all:
a single sample nine minutes ahead closed every window of the partition nine minutes early,
and the other sources' samples became late. Instead each source's newest timestamp is kept,
and the partition's event time is their median, over the sources heard from lately (one
that stopped would otherwise hold it back): a minority of sources ahead or behind cannot
move it. With one source it is that source's newest timestamp, as before; with two, the
older one's.

Example:
    >>> clock = SourceClock(quiet_ms=60_000)
    >>> for source, ts in [("a", 1_000), ("b", 1_500), ("c", 2_000), ("wrong", 540_000)]:
    ...     clock.observe(source, ts, now_ms=0)
    >>> clock.time()
    1500
"""

from __future__ import annotations

import bisect
from typing import Any

from streams.downsample.layout import NO_TS


class SourceClock:
    """Each source's newest timestamp and when it was last heard from.

    Args:
        quiet_ms: a source not heard from for this long (wall clock) no longer counts.
    """

    __slots__ = ("_heard", "_newest", "_order", "quiet_ms")

    def __init__(self, quiet_ms: int) -> None:
        self.quiet_ms = quiet_ms
        self._newest: dict[str, int] = {}
        self._heard: dict[str, int] = {}
        self._order: list[int] = []  # the newest timestamps of the counted sources, sorted

    def __len__(self) -> int:
        return len(self._newest)

    def observe(self, source: str, ts: int, now_ms: int) -> None:
        """``source`` sent samples up to ``ts`` (event time) at ``now_ms`` (wall clock)."""
        self._heard[source] = now_ms
        old = self._newest.get(source)
        if old is None:
            self._newest[source] = ts
            bisect.insort(self._order, ts)
        elif ts > old:
            self._newest[source] = ts
            del self._order[bisect.bisect_left(self._order, old)]
            bisect.insort(self._order, ts)

    def forget_quiet(self, now_ms: int) -> None:
        """Stop counting the sources not heard from for ``quiet_ms``."""
        horizon = now_ms - self.quiet_ms
        quiet = [s for s, heard in self._heard.items() if heard < horizon]
        for source in quiet:
            del self._heard[source]
            ts = self._newest.pop(source)
            del self._order[bisect.bisect_left(self._order, ts)]

    def time(self) -> int:
        """The median newest timestamp of the counted sources (the lower of two middles);
        ``NO_TS`` when none counts."""
        order = self._order
        return order[(len(order) - 1) // 2] if order else NO_TS

    def to_json(self) -> list[list[Any]]:
        """``[source, newest, heard]`` of each counted source, for a snapshot."""
        return [[s, ts, self._heard[s]] for s, ts in self._newest.items()]

    def load(self, rows: list[list[Any]]) -> None:
        """Take the sources of a snapshot (:meth:`to_json`)."""
        for source, ts, heard in rows:
            self.observe(str(source), int(ts), int(heard))
