"""Raw samples of a query's selectors, read from a tier's store.

A graph evaluates its query with pulseline's own PromQL (:mod:`streams.web.graph`) over
samples read here, so a graph reads as the rules do. :class:`ExportReader` reads them from
VictoriaMetrics' export API (``/api/v1/export``, the raw samples exactly as stored), the store
of the local stack and the tests (``influx.store: victoriametrics``);
:class:`streams.web.flux.FluxReader` reads them from InfluxDB 2.

Names are :mod:`streams.names`'. A series is stored in the fields
:func:`~streams.names.stored_fields` names (a windowed tier's rows hold its aggregates), and
VictoriaMetrics calls each field by its series name, :func:`~streams.names.metric_name`: the raw
``up`` is ``up``, ``cpu usage_idle`` is ``cpu_usage_idle``; the 1-minute mean of ``up`` (field
``value_mean``) is ``up_value_mean``, that of ``cpu usage_idle`` is ``cpu_usage_idle_mean``. A
selector of ``m`` asks for the names of ``m``'s stored fields (:func:`stored_names`), and the
series found are named ``m`` again, so one query draws the same curve from the raw tier and
from any tier's aggregates. A selector without a metric name (``{__name__=~"..."}``) is passed
on as written.

Example:
    >>> from streams.promql.parse import parse_expr
    >>> from streams.promql.expr import selectors
    >>> (selector,) = selectors(parse_expr('cpu_usage_idle{host=~"web-.*"}'))
    >>> match_text(selector, "mean", windowed=False)
    '{__name__="cpu_usage_idle",host=~"web-.*"}'
    >>> match_text(selector, "mean", windowed=True)
    '{__name__=~"cpu_usage_idle_value_mean|cpu_usage_idle_mean",host=~"web-.*"}'
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import orjson

from streams.names import metric_name, stored_fields
from streams.promql.expr import Selector
from streams.promql.series import METRIC_NAME, Labels, series_labels

Get = Callable[[str, Sequence[tuple[str, str]]], Awaitable[bytes]]
"""An HTTP GET of a URL with query parameters; returns the body of a 2xx answer and raises
:class:`~streams.errors.PulselineError` otherwise (injected: aiohttp in the worker)."""


@dataclass
class RawSeries:
    """One series as read: its labels (rule names) and samples in time order."""

    labels: Labels
    ts: list[int] = field(default_factory=list)
    values: list[float] = field(default_factory=list)


def stored_names(metric: str, aggregate: str | None) -> tuple[str, ...]:
    """The names VictoriaMetrics holds the series ``metric`` under, in a tier's store.

    Args:
        metric: the series as rules name it.
        aggregate: the window aggregate of a windowed tier (``mean``...), None for raw.

    Example:
        >>> stored_names("up", None), stored_names("up", "max")
        (('up',), ('up_value_max',))
    """
    names = (metric_name(m, f) for m, f in stored_fields(metric, aggregate))
    return tuple(dict.fromkeys(names))


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def match_text(selector: Selector, aggregate: str, *, windowed: bool) -> str:
    """The ``match[]`` series selector that reads ``selector``'s series from a store."""
    parts = []
    if selector.metric is not None:
        names = stored_names(selector.metric, aggregate if windowed else None)
        if len(names) == 1:
            parts.append(f"{METRIC_NAME}={_quote(names[0])}")
        else:
            parts.append(f"{METRIC_NAME}=~{_quote('|'.join(re.escape(n) for n in names))}")
    parts += [f"{m.name}{m.op}{_quote(m.value)}" for m in selector.matchers]
    return "{" + ",".join(parts) + "}"


def _rename(metric: Mapping[str, str], selector: Selector) -> Labels:
    labels = dict(metric)
    name = labels.pop(METRIC_NAME, "")
    return series_labels(selector.metric or name, labels)


class ExportReader:
    """Reads raw samples from one store's ``/api/v1/export``.

    Args:
        url: the store's base URL (the tier's URL).
        get: the HTTP GET to use.
        aggregate: which window aggregate a windowed tier is read for.
        windowed: whether the store holds a windowed tier.
    """

    def __init__(self, url: str, get: Get, *, aggregate: str = "mean", windowed: bool) -> None:
        self.url = url.rstrip("/")
        self._get = get
        self._aggregate = aggregate
        self._windowed = windowed

    async def read(
        self, selectors: Sequence[Selector], start_ms: int, end_ms: int
    ) -> list[RawSeries]:
        """The samples in ``[start_ms, end_ms]`` of every series a selector selects.

        Raises:
            PulselineError: the store did not answer, or answered an error (from ``get``).
        """
        found: dict[Labels, RawSeries] = {}
        for selector in selectors:
            params = [
                ("match[]", match_text(selector, self._aggregate, windowed=self._windowed)),
                ("start", f"{start_ms / 1000:.3f}"),
                ("end", f"{end_ms / 1000:.3f}"),
            ]
            body = await self._get(f"{self.url}/api/v1/export", params)
            for line in body.splitlines():
                if not line.strip():
                    continue
                row = orjson.loads(line)
                labels = _rename(row["metric"], selector)
                series = found.setdefault(labels, RawSeries(labels))
                series.ts += row["timestamps"]
                series.values += [float(v) for v in row["values"]]
        return in_time_order(found.values())


def in_time_order(found: Iterable[RawSeries]) -> list[RawSeries]:
    """``found`` with each series' samples sorted by time (a series read from several stored
    fields arrives in pieces)."""
    for series in found:
        pairs = sorted(zip(series.ts, series.values, strict=True), key=lambda p: p[0])
        series.ts = [t for t, _ in pairs]
        series.values = [v for _, v in pairs]
    return list(found)
