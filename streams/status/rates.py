"""Per-second rates from two readings of Prometheus counters.

A counter only grows, except when its process restarts and it starts again from 0. As in
Prometheus' ``rate()``, a drop is a reset: the increase is then the new value itself.

Example:
    >>> counter_rate(100.0, 160.0, 2.0)
    30.0
    >>> counter_rate(100.0, 8.0, 2.0)  # the process restarted: 8 since then
    4.0
    >>> counter_rate(None, 8.0, 2.0) is None  # no earlier reading
    True
"""

from __future__ import annotations

from collections.abc import Callable

from streams.status.exposition import Metrics
from streams.status.lag import PartitionOffsets
from streams.status.observation import Observation, ProcessKind


def counter_rate(before: float | None, after: float | None, seconds: float) -> float | None:
    """The per-second increase of a counter read as ``before`` and ``seconds`` later ``after``.

    Returns None when either reading is missing or no time passed.
    """
    if before is None or after is None or seconds <= 0:
        return None
    increase = after - before if after >= before else after
    return increase / seconds


Reading = Callable[[Metrics], float | None]
"""A number read from one process's metrics (a counter's sum over some labels)."""


def process_rate(
    before: Observation | None, after: Observation, url: str, read: Reading
) -> float | None:
    """The rate of ``read`` on the process at ``url`` between two observations."""
    if before is None:
        return None
    old, new = before.scrape(url), after.scrape(url)
    if old is None or new is None or old.metrics is None or new.metrics is None:
        return None
    return counter_rate(read(old.metrics), read(new.metrics), after.at - before.at)


def cluster_rate(
    before: Observation | None, after: Observation, kind: ProcessKind, read: Reading
) -> float | None:
    """The sum of ``read``'s rate over the processes of ``kind`` read both times.

    None when no process of that kind could be read twice (no rate known), so a view can
    tell "nothing happens" (0) from "cannot tell".

    Example:
        >>> from streams.status.observation import Scrape
        >>> def look(at, value):
        ...     page = Metrics.parse(f"pulseline_collector_samples_total {value}")
        ...     return Observation(at, at, "g", scrapes=(Scrape("collector", "c", page),))
        >>> read = lambda m: m.total("pulseline_collector_samples_total")
        >>> cluster_rate(look(0.0, 10), look(5.0, 60), "collector", read)
        10.0
    """
    rates = [
        process_rate(before, after, scrape.url, read)
        for scrape in after.scrapes
        if scrape.kind == kind
    ]
    known = [rate for rate in rates if rate is not None]
    return sum(known) if known else None


def cluster_total(after: Observation, kind: ProcessKind, read: Reading) -> float | None:
    """The sum of ``read`` over the processes of ``kind`` that answered; None if none did."""
    values = [
        read(scrape.metrics)
        for scrape in after.scrapes
        if scrape.kind == kind and scrape.metrics is not None
    ]
    known = [value for value in values if value is not None]
    return sum(known) if known else None


def records_in_rate(before: Observation | None, after: Observation, topic: str) -> float | None:
    """Records per second written to ``topic`` (its end offsets) between two observations;
    None without an earlier one."""
    return _offsets_rate(before, after, lambda o: o.end if o.topic == topic else None)


def records_done_rate(
    before: Observation | None, after: Observation, topic: str, group: str
) -> float | None:
    """Records of ``topic`` per second ``group`` finished (its committed offsets) between two
    observations; None without an earlier one.

    Example:
        >>> from streams.status.lag import PartitionOffsets
        >>> def look(at, store, alert):
        ...     return Observation(at, at, "g", offsets=(
        ...         PartitionOffsets("g-store", "raw", 0, 0, end=90, committed=store),
        ...         PartitionOffsets("g-alert", "raw", 0, 0, end=90, committed=alert)))
        >>> records_done_rate(look(0.0, 10, 10), look(2.0, 10, 90), "raw", "g-alert")
        40.0
    """
    return _offsets_rate(
        before, after, lambda o: o.committed if (o.topic, o.group) == (topic, group) else None
    )


def _offsets_rate(
    before: Observation | None,
    after: Observation,
    position: Callable[[PartitionOffsets], int | None],
) -> float | None:
    """Offsets moved forward per second, summed over the partitions ``position`` reads an
    offset of (it answers None for the others)."""
    if before is None or after.at <= before.at:
        return None

    def positions(observation: Observation) -> dict[int, int]:
        out: dict[int, int] = {}
        for o in observation.offsets:
            value = position(o)
            if value is not None:
                out[o.partition] = value
        return out

    old, new = positions(before), positions(after)
    if not new:
        return None
    moved = sum(max(0, value - old.get(partition, value)) for partition, value in new.items())
    return moved / (after.at - before.at)
