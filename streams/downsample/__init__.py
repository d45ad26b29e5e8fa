"""Downsampling: raw samples into 1-minute rows, 1-minute rows into 1-hour rows, and so on.

A pure engine (no Faust, Kafka or I/O). An agent feeds it each record's points and writes
the rows it returns to the tier's bucket; a timer calls :meth:`WindowEngine.tick`; snapshots
go to a table at window transitions. Semantics are documented in
:mod:`streams.downsample.windows` and the modules it points to.

Example:
    >>> from streams.records import Point
    >>> engine = WindowEngine(counters={("net", "bytes")})
    >>> rows = engine.add_points(0, [Point("net", {"if": "eth0"}, {"bytes": 10}, 0)], offset=0)
"""

from streams.downsample.config import WindowPlan
from streams.downsample.rows import Late, Row
from streams.downsample.state import DownsampleStats
from streams.downsample.windows import CounterTest, WindowEngine
from streams.errors import SnapshotError
from streams.settings import DownsampleSettings

__all__ = [
    "CounterTest",
    "DownsampleSettings",
    "DownsampleStats",
    "Late",
    "Row",
    "SnapshotError",
    "WindowEngine",
    "WindowPlan",
]
