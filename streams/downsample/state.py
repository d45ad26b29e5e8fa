"""The state of one Kafka partition of the downsampler, and its counters."""

from __future__ import annotations

from array import array
from dataclasses import dataclass

from streams.downsample.eventtime import SourceClock
from streams.downsample.layout import NO_TS
from streams.downsample.rows import Late, SeriesKey


@dataclass(slots=True)
class DownsampleStats:
    """Counters of one partition; every sample offered ends in exactly one outcome.

    ``samples`` are offered; of those, ``duplicates``, ``late``, ``future`` and
    ``non_numeric`` (strings) are not counted in any window, and ``non_finite`` (NaN, Inf)
    are removed when their window closes. The rest are in the rows.

    Attributes:
        samples: field values offered (numeric or not), replays excluded.
        duplicates: samples whose series and timestamp were already counted (first kept).
        late: samples whose window was final; sent to the late-data output.
        future: samples more than ``max_future_s`` ahead of the clock; sent there too.
        non_numeric: string values, which have no aggregates.
        non_finite: NaN or infinite values, dropped at window close.
        replayed_records: whole batches skipped because their offset was already counted.
        rows: rows emitted (merged rows count once), corrections included.
        corrections: rows emitted again for a closed window that took late samples.
        evicted: idle series forgotten.

    Example:
        >>> DownsampleStats(samples=10, late=1).late
        1
    """

    samples: int = 0
    duplicates: int = 0
    late: int = 0
    future: int = 0
    non_numeric: int = 0
    non_finite: int = 0
    replayed_records: int = 0
    rows: int = 0
    corrections: int = 0
    evicted: int = 0


class PartitionState:
    """Series, watermark and boundaries of one partition.

    Attributes:
        series: series key to its state array (see :mod:`streams.downsample.layout`).
        max_ts: the partition's event time (ms), or ``NO_TS``: the median of its sources'
            newest timestamps (see :mod:`streams.downsample.eventtime`); it never goes back.
        sources: each source's newest timestamp, and when it was last heard from.
        sources_checked: the clock (ms) when quiet sources were last looked for.
        wm: the watermark (ms): windows ending at or before it are closed.
        closed_to: finest windows ending at or before this are closed; later ones open.
        final_to: finest windows ending at or before this are final; cascaded windows
            ending at or before it are closed.
        offset: the highest source offset added, or None.
        last_arrival: the clock (ms) when the last batch was added, for :meth:`tick`.
        late: refused samples not yet taken.
        stats: the counters.
        transitions: windows closed since the last snapshot (snapshot when non-zero).
    """

    __slots__ = (
        "closed_to",
        "final_to",
        "last_arrival",
        "late",
        "max_ts",
        "offset",
        "series",
        "sources",
        "sources_checked",
        "stats",
        "transitions",
        "wm",
    )

    def __init__(self, now_ms: int, quiet_ms: int = 120_000) -> None:
        self.series: dict[SeriesKey, array[float]] = {}
        self.sources = SourceClock(quiet_ms)
        self.sources_checked = now_ms
        self.max_ts = NO_TS
        self.wm = NO_TS
        self.closed_to = NO_TS
        self.final_to = NO_TS
        self.offset: int | None = None
        self.last_arrival = now_ms
        self.late: list[Late] = []
        self.stats = DownsampleStats()
        self.transitions = 0
