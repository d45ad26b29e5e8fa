"""The samples that rules read: an in-memory store of recent series, per worker.

A series is identified by its :data:`Labels`: the sorted ``(name, value)`` pairs of its labels,
the metric name included as ``__name__`` (Prometheus' label set). Each series keeps its
``(ts_ms, value)`` samples in time order, only as far back as rules can look (the *horizon*:
the longest range of any rule plus the 5-minute lookback).

Samples arrive at least once: a sample at or below a series' newest timestamp is a replay and
is ignored (the first value for a timestamp wins) and counted in :attr:`SampleStore.replayed`.
:data:`STALE` marks a series as gone at a timestamp (Prometheus' staleness marker): an instant
selector does not see a series whose newest sample at or before the instant is stale.

Each series remembers the provenance (any hashable, e.g. ``(topic, partition, offset)``) of
its newest sample, so an evaluation can say which inputs its result came from.

Example:
    >>> store = SampleStore(horizon_ms=600_000)
    >>> up = series_labels("up", {"job": "node"})
    >>> up
    (('__name__', 'up'), ('job', 'node'))
    >>> store.add(up, 1_000, 1.0, ("metrics.raw", 0, 42)), store.add(up, 1_000, 0.0)
    (True, False)
    >>> store.replayed, store.get(up).source
    (1, ('metrics.raw', 0, 42))
"""

from __future__ import annotations

import math
import struct
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Hashable, Iterable, Iterator, Mapping
from typing import TypeAlias

from streams.names import metric_name
from streams.promql.expr import Expr, RangeCall, Selector, children

Labels: TypeAlias = tuple[tuple[str, str], ...]
"""A label set: ``(name, value)`` pairs sorted by name, ``__name__`` included when present."""

METRIC_NAME = "__name__"
LOOKBACK_MS = 300_000
"""How far back an instant selector looks for a series' newest sample (Prometheus' default)."""


class _Stale(float):
    """The type of :data:`STALE`; a NaN so it can travel as a float."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "STALE"


STALE: float = _Stale("nan")
"""The staleness marker: pass it as a value to :meth:`SampleStore.add` to end a series."""


class Provenance(tuple):  # type: ignore[type-arg]
    """Several sources as one: what a rule's output sample came from, when it is stored as a
    series (a recorded series' samples carry the sources of the rule's inputs)."""

    __slots__ = ()


def sources_of(series: Series) -> tuple[Hashable, ...]:
    """The sources a series' newest sample came from (none, one, or a :class:`Provenance`)."""
    source = series.source
    if source is None:
        return ()
    return source if isinstance(source, Provenance) else (source,)


def is_stale(value: float) -> bool:
    """Whether ``value`` is the staleness marker (an ordinary NaN is not)."""
    return value is STALE


PROMETHEUS_STALE_NAN_BITS = 0x7FF0000000000002
_BITS = struct.Struct("<d")
_U64 = struct.Struct("<Q")


def from_prometheus(value: float) -> float:
    """A value as Prometheus sends it (remote write): its staleness NaN becomes :data:`STALE`.

    Example:
        >>> stale_nan = struct.unpack("<d", struct.pack("<Q", PROMETHEUS_STALE_NAN_BITS))[0]
        >>> from_prometheus(stale_nan) is STALE, from_prometheus(1.5)
        (True, 1.5)
    """
    if value != value and _U64.unpack(_BITS.pack(value))[0] == PROMETHEUS_STALE_NAN_BITS:
        return STALE
    return value


def series_labels(metric: str, labels: Mapping[str, str]) -> Labels:
    """The label set of metric ``metric`` with ``labels``; empty values are no label.

    Example:
        >>> series_labels("cpu_usage_idle", {"host": "a", "cpu": "", "Zone": "z"})
        (('Zone', 'z'), ('__name__', 'cpu_usage_idle'), ('host', 'a'))
    """
    pairs = [(name, value) for name, value in labels.items() if value and name != METRIC_NAME]
    pairs.append((METRIC_NAME, metric))
    pairs.sort()
    return tuple(pairs)


def metric_of(labels: Labels) -> str | None:
    """The ``__name__`` of a label set, or None."""
    for name, value in labels:
        if name == METRIC_NAME:
            return value
    return None


def sample_value(raw: object) -> float | None:
    """A field value as a sample: booleans 0 and 1, numbers as floats, strings None."""
    if isinstance(raw, bool):
        return 1.0 if raw else 0.0
    if isinstance(raw, int | float):
        return float(raw)
    return None


def point_samples(
    measurement: str, tags: Mapping[str, str], fields: Mapping[str, object], ts_ms: int
) -> list[tuple[Labels, int, float]]:
    """The samples of one pipeline point, as ``(labels, ts_ms, value)``.

    Each field is the series :func:`streams.names.metric_name` names: ``value`` is the
    measurement, any other field ``f`` is ``<measurement>_<f>``. Booleans are 0 and 1;
    strings are no sample.

    Example:
        >>> for sample in point_samples("cpu", {"host": "a"}, {"usage_idle": 97.5, "ok": True}, 5):
        ...     print(sample)
        ((('__name__', 'cpu_usage_idle'), ('host', 'a')), 5, 97.5)
        ((('__name__', 'cpu_ok'), ('host', 'a')), 5, 1.0)
    """
    out: list[tuple[Labels, int, float]] = []
    for field, raw in fields.items():
        value = sample_value(raw)
        if value is not None:
            out.append((series_labels(metric_name(measurement, field), tags), ts_ms, value))
    return out


def horizon_ms(exprs: Iterable[Expr], lookback_ms: int = LOOKBACK_MS) -> int:
    """How far back the store must keep samples for ``exprs``: longest range plus lookback."""
    longest = 0
    for expr in exprs:
        longest = max([longest, *(round(r.range_s * 1000) for r in _range_calls(expr))])
    return longest + lookback_ms


def _range_calls(expr: Expr) -> Iterator[RangeCall]:
    if isinstance(expr, RangeCall):
        yield expr
    for child in children(expr):
        yield from _range_calls(child)


class Series:
    """One series: its samples in time order, and the provenance of the newest one.

    Attributes:
        labels: the label set.
        label_map: the same labels as a dict, for matchers.
        ts: sample timestamps (ms), ascending.
        values: sample values, parallel to ``ts`` (NaN where stale).
        stale: the timestamps that hold a staleness marker, or None when there are none.
        source: the provenance passed with the newest sample.
    """

    __slots__ = ("label_map", "labels", "prune_at", "source", "stale", "ts", "values")

    def __init__(self, labels: Labels) -> None:
        self.labels = labels
        self.label_map = dict(labels)
        self.ts = array("q")
        self.values = array("d")
        self.stale: set[int] | None = None
        self.source: Hashable = None
        self.prune_at = 0.0

    def window(self, start_ms: int, end_ms: int) -> tuple[list[int], list[float]]:
        """The samples in ``[start_ms, end_ms]`` (both ends included, as Prometheus 2.x),
        staleness markers left out."""
        lo = bisect_left(self.ts, start_ms)
        hi = bisect_right(self.ts, end_ms)
        ts = self.ts[lo:hi].tolist()
        values = self.values[lo:hi].tolist()
        if self.stale is not None and any(t in self.stale for t in ts):
            kept = [(t, v) for t, v in zip(ts, values, strict=True) if t not in self.stale]
            return [t for t, _ in kept], [v for _, v in kept]
        return ts, values

    def newest(self) -> tuple[int, float] | None:
        """The newest ``(ts_ms, value)`` (STALE when it is a marker), or None."""
        if not self.ts:
            return None
        t = self.ts[-1]
        return t, STALE if self.stale is not None and t in self.stale else self.values[-1]


class SampleStore:
    """Recent samples of many series, indexed by metric name.

    Args:
        horizon_ms: keep samples no older than a series' newest minus this (see
            :func:`horizon_ms`); None keeps everything (rule unit tests).

    Attributes:
        replayed: samples ignored because their series already had one at or after their
            timestamp.
        epoch: counts the prunes that dropped series (see :meth:`created`).
    """

    def __init__(self, horizon_ms: int | None = None) -> None:
        self.horizon_ms = horizon_ms
        self.replayed = 0
        self.epoch = 0
        self._series: dict[Labels, Series] = {}
        self._by_name: dict[str, dict[Labels, Series]] = {}
        self._created: dict[str, list[Series]] = {}

    def __len__(self) -> int:
        return len(self._series)

    def add(self, labels: Labels, ts_ms: int, value: float, source: Hashable = None) -> bool:
        """Append one sample; False (and counted) when it is a replay.

        Args:
            labels: the series, as made by :func:`series_labels`.
            ts_ms: the sample's timestamp.
            value: the value, or :data:`STALE`.
            source: where the sample came from, for provenance.
        """
        series = self._series.get(labels)
        if series is None:
            series = self._create(labels)
        ts = series.ts
        if ts and ts_ms <= ts[-1]:
            self.replayed += 1
            return False
        ts.append(ts_ms)
        if value is STALE:
            if series.stale is None:
                series.stale = set()
            series.stale.add(ts_ms)
        series.values.append(value)
        series.source = source
        if ts_ms >= series.prune_at:
            self._prune(series, ts_ms)
        return True

    def get(self, labels: Labels) -> Series | None:
        """The series with exactly these labels, or None."""
        return self._series.get(labels)

    def series(self) -> Iterator[Series]:
        """Every series, in no particular order."""
        return iter(self._series.values())

    def created(self, metric: str) -> list[Series]:
        """The series of ``metric`` in the order they were created; only appended to until
        :attr:`epoch` changes (an index can follow it from where it stopped)."""
        return self._created.get(metric, [])

    def select(self, selector: Selector) -> list[Series]:
        """The series a selector matches, sorted by labels (as Prometheus' storage returns
        them); the name index narrows the search whenever the metric name is constrained."""
        name_matchers = [m for m in selector.matchers if m.name == METRIC_NAME]
        if selector.metric is not None:
            pools = [self._by_name.get(selector.metric, {})]
        elif name_matchers:
            pools = [
                pool
                for name, pool in self._by_name.items()
                if all(m.matches(name) for m in name_matchers)
            ]
        else:
            pools = [self._series]
        others = [m for m in selector.matchers if m.name != METRIC_NAME]
        found = [
            s
            for pool in pools
            for s in pool.values()
            if all(m.matches(s.label_map.get(m.name, "")) for m in others)
            and all(m.matches(s.label_map[METRIC_NAME]) for m in name_matchers)
        ]
        found.sort(key=lambda s: s.labels)
        return found

    def prune(self, now_ms: int) -> int:
        """Forget series whose newest sample is older than ``now_ms`` minus the horizon.

        Returns:
            How many series were dropped.
        """
        if self.horizon_ms is None:
            return 0
        cutoff = now_ms - self.horizon_ms
        gone = [labels for labels, s in self._series.items() if not s.ts or s.ts[-1] < cutoff]
        for labels in gone:
            del self._series[labels]
            name = metric_of(labels) or ""
            pool = self._by_name[name]
            del pool[labels]
            if not pool:
                del self._by_name[name]
        if gone:
            self.epoch += 1
            self._created = {name: list(pool.values()) for name, pool in self._by_name.items()}
        return len(gone)

    def _create(self, labels: Labels) -> Series:
        series = Series(labels)
        series.prune_at = math.inf if self.horizon_ms is None else 0.0
        self._series[labels] = series
        name = metric_of(labels) or ""
        self._by_name.setdefault(name, {})[labels] = series
        self._created.setdefault(name, []).append(series)
        return series

    def _prune(self, series: Series, now_ms: int) -> None:
        assert self.horizon_ms is not None
        cut = bisect_left(series.ts, now_ms - self.horizon_ms)
        if cut:
            if series.stale is not None:
                series.stale = {t for t in series.stale if t >= series.ts[cut]} or None
            del series.ts[:cut]
            del series.values[:cut]
        series.prune_at = now_ms + max(self.horizon_ms // 2, 1)
