"""Raw samples of a query's selectors, read from a tier's store.

A graph evaluates its query with pulseline's own PromQL (:mod:`streams.web.graph`) over
samples read here, so a graph reads as the rules do. :class:`ExportReader` reads them from a
store with VictoriaMetrics' export API (``/api/v1/export``, the raw samples exactly as stored),
the store of the local stack and the tests.

Names differ between the store and the rules. The rules call a point's field ``f`` of
measurement ``m`` the metric ``m_f``, and its field ``value`` the metric ``m``
(:func:`streams.promql.series.metric_name`); VictoriaMetrics calls the latter ``m_value``. A
windowed tier stores the aggregate ``a`` of a field under ``m_f_a`` (``m_value_a``). A selector
of the metric ``m`` is therefore asked for every name the store may hold it under
(:func:`stored_names`), and the series found are named ``m`` again, so one query draws the same
curve from the raw tier and from the aggregates of any tier. A selector without a metric name
(``{__name__=~"..."}``) is passed on as written.

Example:
    >>> from streams.promql.parse import parse_expr
    >>> from streams.promql.expr import selectors
    >>> (selector,) = selectors(parse_expr('cpu_usage_idle{host=~"web-.*"}'))
    >>> match_text(selector, "mean", windowed=True)
    '{__name__=~"cpu_usage_idle_mean|cpu_usage_idle_value_mean",host=~"web-.*"}'
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field

import orjson

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
    """The names a store may hold the rule metric ``metric`` under.

    Args:
        metric: the metric as rules name it.
        aggregate: the window aggregate of a windowed tier (``mean``...), None for raw.

    Example:
        >>> stored_names("up", None)
        ('up', 'up_value')
    """
    suffix = "" if aggregate is None else f"_{aggregate}"
    return (f"{metric}{suffix}", f"{metric}_value{suffix}")


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def match_text(selector: Selector, aggregate: str, *, windowed: bool) -> str:
    """The ``match[]`` series selector that reads ``selector``'s series from a store."""
    parts = []
    if selector.metric is not None:
        names = stored_names(selector.metric, aggregate if windowed else None)
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
        for series in found.values():  # two stored names of one series: merge in time order
            pairs = sorted(zip(series.ts, series.values, strict=True), key=lambda p: p[0])
            series.ts = [t for t, _ in pairs]
            series.values = [v for _, v in pairs]
        return list(found.values())
