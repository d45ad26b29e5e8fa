"""What the downsampler emits: aggregate rows and refused (late) samples.

A :class:`Row` is one InfluxDB point of a tier's bucket. Its timestamp is the window's
**start**, so a window's row is written under the same timestamp every time; a corrected
row overwrites the earlier one (InfluxDB keeps the last write of a series + timestamp +
field). A row holds, for each source field ``f`` of the measurement + tags::

    f_min f_max f_sum f_count f_mean f_last        (and f_increase for counters)

``f_count`` is an integer, every other aggregate a float (so a field's type never changes
between rows, which InfluxDB would refuse). Rows of several fields of the same measurement,
tags and window are merged into one when they are emitted together.

Example:
    >>> Row("cpu", {"host": "a"}, {"usage_max": 0.9}, 1_700_000_040_000, "1m").ts_ms
    1700000040000
"""

from __future__ import annotations

import math
import sys
from typing import NamedTuple

from streams.records import FieldValue, Point

SeriesKey = tuple[tuple[str, ...], str]
"""A series: ``((measurement, *tag_keys, *tag_values), field)``, tags in key order."""

Agg = tuple[int, float, float, float, float, float]
"""A window's aggregate: count, min, max, sum, last, increase."""

SUFFIXES = ("_min", "_max", "_sum", "_count", "_mean", "_last", "_increase")


class Row(NamedTuple):
    """One aggregate row of one tier.

    Attributes:
        measurement: the source measurement.
        tags: the source tags, in key order.
        fields: ``<field>_<aggregate>`` to value (see the module docs).
        ts_ms: the window's start, milliseconds since the epoch.
        tier: the tier's name (``1m``, ``1h``).

    Example:
        >>> row = Row("cpu", {"host": "a"}, {"busy_max": 0.9, "busy_count": 4}, 0, "1m")
        >>> Point(row.measurement, row.tags, row.fields, row.ts_ms).fields["busy_count"]
        4
    """

    measurement: str
    tags: dict[str, str]
    fields: dict[str, float | int]
    ts_ms: int
    tier: str


class Late(NamedTuple):
    """A sample the downsampler refused, for the late-data output.

    Attributes:
        point: the sample as a one-field point.
        reason: ``late`` (its window is final) or ``future`` (ahead of the clock).

    Example:
        >>> Late(Point("cpu", {}, {"busy": 0.5}, 0), "late").point.fields
        {'busy': 0.5}
    """

    point: Point
    reason: str


def tags_of(pk: tuple[str, ...]) -> dict[str, str]:
    """The tags of a point key ``(measurement, *keys, *values)``."""
    n = len(pk) >> 1
    return {pk[i]: pk[i + n] for i in range(1, n + 1)}


def late_point(pk: tuple[str, ...], field: str, value: FieldValue, ts: int) -> Point:
    """A one-field point of a refused sample."""
    return Point(pk[0], tags_of(pk), {field: value}, ts)


class RowSink:
    """Collects emitted rows, merging fields of the same measurement, tags and window."""

    __slots__ = ("_fields", "_names", "_pks", "_starts", "rows", "tiers")

    def __init__(self, tiers: tuple[str, ...]) -> None:
        self.tiers = tiers
        self.rows: list[Row] = []
        self._names: dict[str, tuple[str, ...]] = {}
        # The last row emitted per tier, to merge the next field of the same point into it.
        self._pks: list[tuple[str, ...]] = [()] * len(tiers)
        self._starts: list[float] = [0.0] * len(tiers)
        self._fields: list[dict[str, float | int]] = [{} for _ in tiers]

    def take(self) -> list[Row]:
        """The rows emitted since the last take."""
        rows, self.rows = self.rows, []
        self._pks = [()] * len(self.tiers)
        return rows

    def emit(
        self, tier: int, pk: tuple[str, ...], field: str, start: float, agg: Agg, counter: bool
    ) -> None:
        """Emit the aggregate of one field of one window."""
        names = self._names.get(field)
        if names is None:
            names = self._names[field] = tuple(field + s for s in SUFFIXES)
        count, lo, hi, total, last, inc = agg
        if total - total != 0.0:  # the sum overflowed; InfluxDB takes no Inf
            total = math.copysign(sys.float_info.max, total)
        fields: dict[str, float | int] = {
            names[0]: lo,
            names[1]: hi,
            names[2]: total,
            names[3]: count,
            names[4]: total / count,
            names[5]: last,
        }
        if counter:
            fields[names[6]] = inc if inc - inc == 0.0 else sys.float_info.max
        last_pk = self._pks[tier]
        if (last_pk is pk or last_pk == pk) and self._starts[tier] == start:
            self._fields[tier].update(fields)
            return
        n = len(pk) >> 1
        tags = {pk[i]: pk[i + n] for i in range(1, n + 1)}
        # tuple.__new__ skips NamedTuple's Python-level __new__: this runs once per row.
        self.rows.append(tuple.__new__(Row, (pk[0], tags, fields, int(start), self.tiers[tier])))
        self._pks[tier] = pk
        self._starts[tier] = start
        self._fields[tier] = fields
