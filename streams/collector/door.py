"""The door: a collector acknowledges only points the store can keep as they are.

Every write endpoint and every scrape passes its points through a :class:`Door` before they go
to Kafka. Whatever is refused here would otherwise be answered 204 and then lost further on:
dropped by the store while it answers 2xx (VictoriaMetrics drops samples outside its retention
or more than two days ahead, truncates long label values and keeps only 30 labels besides the
name), refused by the downsampler, or unwritable as line protocol, which sends a whole record
of other hosts' points to the dead-letter topic. The checks, each a ``reason`` of
``pulseline_collector_refused_points_total``:

==================  =========================================================================
reason              a point is refused when
==================  =========================================================================
``too_old``         its timestamp is older than the raw tier's retention (the first of
                    ``tiers``; 0 keeps everything) or before 1970 (VictoriaMetrics stores no
                    negative timestamps)
``too_new``         its timestamp is more than ``downsample.max_future_s`` ahead of the
                    collector's clock (the downsampler would refuse it)
``too_many_labels`` it has more than ``collector.max_labels_per_series`` labels, the name
                    included: tags plus one
``too_long``        a tag key or field key is longer than ``collector.max_label_name_length``
                    bytes (UTF-8), or a tag value or the measurement longer than
                    ``collector.max_label_value_length``; 0 is no limit
``unwritable``      a name holds something line protocol cannot carry: a newline, a backslash
                    at the end or before a separator, a measurement starting with ``#``
                    (the rules of :func:`streams.codecs.lineprotocol.render_lines`)
==================  =========================================================================

Names found good are remembered, so a point of known series costs a few set lookups.

Example:
    >>> from streams.settings import Settings
    >>> door = Door(Settings.load(None), clock=lambda: 1_700_000_000.0)
    >>> ok = Point("cpu", {"host": "a"}, {"v": 1.0}, 1_700_000_000_000)
    >>> door.refusals([ok])
    []
    >>> late = Point("cpu", {"host": "a"}, {"v": 1.0}, 1_600_000_000_000)
    >>> [(r.position, r.reason) for r in door.refusals([ok, late])]
    [(1, 'too_old')]
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import NamedTuple

from streams.codecs.lineprotocol import NameKind, check_name
from streams.collector.batching import describe
from streams.durations import format_duration
from streams.records import Point
from streams.settings import Settings

REASONS = ("too_old", "too_new", "too_many_labels", "too_long", "unwritable")
"""Every reason a point is refused for, in the order they are checked."""
_CACHE_LIMIT = 200_000


class Refusal(NamedTuple):
    """A point the door refused.

    Attributes:
        position: the point's index in the list checked.
        reason: one of :data:`REASONS`.
        message: what is wrong, naming the series.
    """

    position: int
    reason: str
    message: str


class Door:
    """Decides whether points can be stored as they are.

    Args:
        settings: the limits (``collector.*``), the raw tier's retention and
            ``downsample.max_future_s``.
        clock: wall-clock seconds (injected in tests).
    """

    def __init__(self, settings: Settings, clock: Callable[[], float] = time.time) -> None:
        c = settings.collector
        self._clock = clock
        self._retention_ms = round(settings.tiers[0].retention_s * 1000)
        self._future_ms = round(settings.downsample.max_future_s * 1000)
        self._retention = format_duration(settings.tiers[0].retention_s)
        self._future = format_duration(settings.downsample.max_future_s)
        self._max_labels = c.max_labels_per_series
        self._max_tags = c.max_labels_per_series - 1 if c.max_labels_per_series else 1 << 62
        self._name_limit = c.max_label_name_length
        self._value_limit = c.max_label_value_length
        self._good: dict[NameKind, set[str]] = {
            "measurement": set(),
            "tag key": set(),
            "tag value": set(),
            "field key": set(),
        }

    def bounds(self) -> tuple[int, int]:
        """The oldest and newest timestamp (ms) accepted now."""
        now_ms = int(self._clock() * 1000)
        oldest = now_ms - self._retention_ms if self._retention_ms else 0
        return max(0, oldest), now_ms + self._future_ms

    def refusals(self, points: Sequence[Point]) -> list[Refusal]:
        """Every point of ``points`` that cannot be stored, in order (empty: all can)."""
        lowest, highest = self.bounds()
        max_tags = self._max_tags
        good = self._good
        measurements, keys = good["measurement"], good["tag key"]
        values, fields = good["tag value"], good["field key"]
        found: list[Refusal] = []
        for index, point in enumerate(points):
            measurement, tags, point_fields, ts = point
            if (
                lowest <= ts <= highest
                and len(tags) <= max_tags
                and measurement in measurements
                and keys.issuperset(tags)
                and values.issuperset(tags.values())
                and fields.issuperset(point_fields)
            ):
                continue
            refusal = self._check(index, point, lowest, highest)
            if refusal is not None:
                found.append(refusal)
        return found

    def _check(self, index: int, point: Point, lowest: int, highest: int) -> Refusal | None:
        """The slow path: find what is wrong with a point, remembering the good names."""
        measurement, tags, fields, ts = point
        if ts < lowest:
            why = (
                "is before 1970, which the store cannot hold"
                if ts < 0 or lowest == 0
                else f"is older than the raw tier's retention ({self._retention})"
            )
            return Refusal(index, "too_old", f"{describe(point)}: timestamp {_when(ts)} {why}")
        if ts > highest:
            return Refusal(
                index,
                "too_new",
                f"{describe(point)}: timestamp {_when(ts)} is more than {self._future} ahead of "
                "the collector's clock (downsample.max_future_s)",
            )
        if len(tags) > self._max_tags:
            return Refusal(
                index,
                "too_many_labels",
                f"{describe(point)}: {len(tags) + 1} labels (the name and {len(tags)} tags), more "
                f"than collector.max_labels_per_series ({self._max_labels})",
            )
        names: list[tuple[str, NameKind, int]] = [(measurement, "measurement", self._value_limit)]
        for key, value in tags.items():
            names.append((key, "tag key", self._name_limit))
            names.append((value, "tag value", self._value_limit))
        names.extend((key, "field key", self._name_limit) for key in fields)
        for name, kind, limit in names:
            known = self._good[kind]
            if name in known:
                continue
            size = _too_long(name, limit)
            if size:
                setting = "value" if kind in ("measurement", "tag value") else "name"
                return Refusal(
                    index,
                    "too_long",
                    f"{describe(point)}: {kind} {_cut(name)} is {size} bytes long, more than "
                    f"collector.max_label_{setting}_length ({limit})",
                )
            try:
                check_name(name, kind)
            except ValueError as exc:
                reason = str(exc) if len(str(exc)) <= 200 else str(exc)[:197] + "..."
                return Refusal(index, "unwritable", f"{describe(point)}: {reason}")
            if len(known) >= _CACHE_LIMIT:
                known.clear()
            known.add(name)
        return None


def _cut(text: str) -> str:
    shown = repr(text)
    return shown if len(shown) <= 60 else shown[:56] + "...'"


def _too_long(text: str, limit: int) -> int:
    """The UTF-8 length of ``text`` when it is over ``limit`` (0: none), else 0."""
    if not limit or len(text) * 4 <= limit:
        return 0
    size = len(text.encode())
    return size if size > limit else 0


def _when(ts_ms: int) -> str:
    """A timestamp in milliseconds and, when it has one, its UTC date."""
    try:
        iso = datetime.fromtimestamp(ts_ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]
    except (OverflowError, ValueError, OSError):
        return f"{ts_ms} ms"
    return f"{ts_ms} ms ({iso}Z)"
