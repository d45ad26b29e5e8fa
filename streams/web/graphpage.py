"""The ``/graph`` page: a query over a range, read from a tier, drawn as a chart.

The page's fields are those of Prometheus' graph page: ``query``, ``range`` (``1h``,
``7d``...), ``end`` (RFC 3339, default now), ``step`` (default from the range); and two of
pulseline's: ``tier`` (``auto``, the default, picks it from the range as the Grafana
dashboards do; or a tier's name) and ``field``, the window aggregate a windowed tier is read
for (``mean`` by default; ``last`` for counters read with ``rate``). :data:`READY_VIEWS` are
links to a few graphs of the demo hosts and of the pipeline itself.

Example:
    >>> from streams.settings import DEFAULT_TIERS
    >>> request = GraphRequest.parse({"query": "up", "range": "1d"}, now_ms=100 * 86_400_000)
    >>> plan = plan_graph(request, DEFAULT_TIERS, now_ms=100 * 86_400_000)
    >>> plan.tier.name, plan.step_ms, plan.end_ms - plan.start_ms
    ('1m', 345000, 86400000)
    >>> READY_VIEWS[0].link
    '/graph?query=100+-+cpu_usage_idle%7Bcpu%3D%22cpu-total%22%7D&range=1h&field=mean'
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import urlencode

from streams.durations import format_duration, parse_duration
from streams.errors import PulselineError
from streams.promql.expr import Expr, Selector
from streams.settings import TierSettings
from streams.web.errors import PageError
from streams.web.graph import (
    default_step_ms,
    evaluate_range,
    parse_query,
    query_selectors,
    read_span,
)
from streams.web.store import RawSeries
from streams.web.svg import Chart, line_chart
from streams.web.tiers import TIER_FIELDS, TierField, choose_tier
from streams.web.when import parse_utc, utc

PAGE = "/graph"
RANGES = ("15m", "1h", "6h", "1d", "7d", "30d", "1y")
"""The ranges offered as buttons (any Prometheus duration is accepted)."""


class Reader(Protocol):
    """Reads the samples of selectors from one tier (:class:`streams.web.store.ExportReader`)."""

    def read(
        self, selectors: Sequence[Selector], start_ms: int, end_ms: int
    ) -> Awaitable[list[RawSeries]]:
        """The samples in ``[start_ms, end_ms]`` of every selected series."""


ReaderFor = Callable[[TierSettings, TierField], Reader]
"""Makes the reader of a tier, for a window aggregate."""


@dataclass(frozen=True)
class ReadyView:
    """A ready graph: a title, a query, a range and the window aggregate it reads."""

    section: str
    title: str
    query: str
    range: str = "1h"
    field: TierField = "mean"

    @property
    def link(self) -> str:
        """The ``/graph`` URL of the view."""
        return f"{PAGE}?" + urlencode(
            {"query": self.query, "range": self.range, "field": self.field}
        )


READY_VIEWS = (
    ReadyView("hosts", "CPU busy % per host", '100 - cpu_usage_idle{cpu="cpu-total"}'),
    ReadyView("hosts", "Memory used % per host", "mem_used_percent", "6h"),
    ReadyView("hosts", "Load (1 min) per host", "system_load1", "1d"),
    ReadyView("hosts", "Disk used % per host", "disk_used_percent", "7d", "max"),
    ReadyView(
        "hosts",
        "Bytes received/s per host",
        "sum by (host) (rate(net_bytes_recv[5m]))",
        "1h",
        "last",
    ),
    ReadyView(
        "pipeline",
        "Points pushed/s to the collectors",
        "sum(rate(pulseline_collector_points_total[5m]))",
        "1h",
        "last",
    ),
    ReadyView(
        "pipeline",
        "Lines written/s per tier",
        "sum by (tier) (rate(pulseline_sink_lines_written_total[5m]))",
        "1h",
        "last",
    ),
    ReadyView("pipeline", "Consumer lag", "sum by (topic) (pulseline_consumer_lag)", "1h", "max"),
    ReadyView("pipeline", "Alerts in the alert manager", "pulseline_alertmanager_alerts", "6h"),
)
"""Links to graphs of the demo hosts (Telegraf-style ``cpu``, ``mem``... of ``make run``'s
demo load) and of the pipeline's own metrics (scraped by the collector)."""


@dataclass(frozen=True)
class GraphRequest:
    """The page's fields, checked.

    Attributes:
        query: the PromQL expression ("" shows the form alone).
        range_s: the range's length.
        end_ms: its end.
        end_text: the ``end`` field as given ("" for now).
        tier: ``auto`` or a tier's name.
        field: the window aggregate read from windowed tiers.
        step_ms: the step, None for the default.
    """

    query: str = ""
    range_s: float = 3600.0
    end_ms: int = 0
    end_text: str = ""
    tier: str = "auto"
    field: TierField = "mean"
    step_ms: int | None = None

    @property
    def range_text(self) -> str:
        """The range as a duration (``1h``)."""
        return format_duration(self.range_s)

    @classmethod
    def parse(cls, fields: Mapping[str, str], *, now_ms: int) -> GraphRequest:
        """The request from the query string.

        Raises:
            PageError: a field is malformed (named in the message).
        """
        try:
            range_s = parse_duration(fields.get("range", "") or "1h")
        except ValueError as exc:
            raise PageError(PAGE, "range", str(exc)) from None
        end_text = fields.get("end", "").strip()
        try:
            end_ms = parse_utc(end_text) if end_text else now_ms
        except ValueError:
            raise PageError(PAGE, "end", f"{end_text!r} is not an RFC 3339 time") from None
        step_text = fields.get("step", "").strip()
        try:
            step_ms = round(parse_duration(step_text) * 1000) if step_text else None
        except ValueError as exc:
            raise PageError(PAGE, "step", str(exc)) from None
        wanted = fields.get("field", "") or "mean"
        if wanted not in TIER_FIELDS:
            raise PageError(PAGE, "field", f"{wanted!r} is not one of {', '.join(TIER_FIELDS)}")
        if range_s <= 0:
            raise PageError(PAGE, "range", "the range must be longer than 0s")
        return cls(
            query=fields.get("query", "").strip(),
            range_s=range_s,
            end_ms=end_ms,
            end_text=end_text,
            tier=fields.get("tier", "") or "auto",
            field=wanted,
            step_ms=step_ms,
        )


@dataclass(frozen=True)
class GraphPlan:
    """What to read and evaluate for a request."""

    expr: Expr
    tier: TierSettings
    start_ms: int
    end_ms: int
    step_ms: int


def plan_graph(request: GraphRequest, tiers: Sequence[TierSettings], *, now_ms: int) -> GraphPlan:
    """The tier, range and step of a request.

    Raises:
        PageError: the query does not parse, or the tier is unknown.
    """
    expr = parse_query(request.query)
    span_ms = round(request.range_s * 1000)
    start_ms = request.end_ms - span_ms
    if request.tier == "auto":
        tier = choose_tier(tiers, request.range_s, (now_ms - start_ms) / 1000)
    else:
        named = [t for t in tiers if t.name == request.tier]
        if not named:
            known = ", ".join(t.name for t in tiers)
            raise PageError(PAGE, "tier", f"no tier {request.tier!r}; tiers: auto, {known}")
        tier = named[0]
    step_ms = request.step_ms or default_step_ms(span_ms, tier.window_s)
    return GraphPlan(expr, tier, start_ms, request.end_ms, step_ms)


@dataclass(frozen=True)
class GraphPage:
    """The ``/graph`` page.

    Attributes:
        request: the fields, to fill the form again.
        tiers: the tier names offered (``auto`` first).
        views: the ready views.
        chart: the chart, None without a query or on an error.
        tier: the tier read ("" without a chart).
        step: the step used.
        range_label: the range drawn, in UTC.
        error: what went wrong ("" when nothing did).
    """

    request: GraphRequest
    tiers: list[str]
    views: Sequence[ReadyView] = READY_VIEWS
    chart: Chart | None = None
    tier: str = ""
    step: str = ""
    range_label: str = ""
    error: str = ""
    ranges: Sequence[str] = field(default=RANGES)


async def graph_page(
    fields: Mapping[str, str],
    tiers: Sequence[TierSettings],
    reader_for: ReaderFor,
    *,
    now_ms: int,
) -> GraphPage:
    """Answer the page: parse, plan, read, evaluate and draw; errors shown on the page."""
    names = ["auto", *(t.name for t in tiers)]
    try:
        request = GraphRequest.parse(fields, now_ms=now_ms)
    except PageError as exc:
        return GraphPage(GraphRequest(query=fields.get("query", "")), names, error=str(exc))
    if not request.query:
        return GraphPage(request, names)
    try:
        plan = plan_graph(request, tiers, now_ms=now_ms)
        first, last = read_span(plan.expr, plan.start_ms, plan.end_ms)
        reader = reader_for(plan.tier, request.field)
        series = await reader.read(query_selectors(plan.expr), first, last)
        lines = evaluate_range(plan.expr, series, plan.start_ms, plan.end_ms, plan.step_ms)
    except PulselineError as exc:
        return GraphPage(request, names, error=str(exc))
    chart = line_chart(
        [(line.name, line.points) for line in lines],
        plan.start_ms,
        plan.end_ms,
        step_ms=plan.step_ms,
    )
    return GraphPage(
        request,
        names,
        chart=chart,
        tier=plan.tier.name,
        step=format_duration(plan.step_ms / 1000),
        range_label=f"{utc(plan.start_ms)} to {utc(plan.end_ms)}",
    )
