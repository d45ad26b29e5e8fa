"""Range queries: read through the store's export API, evaluated step by step, drawn."""

from __future__ import annotations

from collections.abc import Sequence

import orjson
import pytest

from streams.errors import PulselineError
from streams.promql.expr import selectors
from streams.promql.series import series_labels
from streams.settings import DEFAULT_TIERS
from streams.web.errors import PageError
from streams.web.graph import evaluate_range, parse_query
from streams.web.graphpage import READY_VIEWS, graph_page
from streams.web.store import ExportReader, RawSeries

MIN = 60_000
NOW = 1_700_000_000_000


def raw(metric: str, labels: dict[str, str], points: list[tuple[int, float]]) -> RawSeries:
    return RawSeries(series_labels(metric, labels), [t for t, _ in points], [v for _, v in points])


def test_each_step_is_an_instant_evaluation_with_the_five_minute_lookback() -> None:
    a = raw("temp", {"room": "a"}, [(0, 10.0), (2 * MIN, 20.0)])
    b = raw("temp", {"room": "b"}, [(MIN, 1.0)])
    lines = evaluate_range(parse_query("sum(temp)"), [a, b], 0, 8 * MIN, 2 * MIN)
    # t=0: a=10 (b not yet); 2m: a=20, b=1; 4m: same; 6m: b's sample is exactly 5 m old and
    # still seen (the lookback [t - 5m, t] includes its start); 8m: both older than 5 m: none
    assert [(line.labels, line.points) for line in lines] == [
        ((), [(0, 10.0), (2 * MIN, 21.0), (4 * MIN, 21.0), (6 * MIN, 21.0)])
    ]


def test_a_selector_keeps_the_name_and_series_are_named_by_their_labels() -> None:
    a = raw("temp", {"room": "a"}, [(0, 10.0)])
    (line,) = evaluate_range(parse_query('temp{room="a"}'), [a], 0, 0, MIN)
    assert line.name == '{__name__="temp", room="a"}'


def test_bad_queries_and_ranges_are_page_errors() -> None:
    with pytest.raises(PageError, match="/graph, query: PromQL syntax error"):
        parse_query("sum(")
    with pytest.raises(PageError, match="/graph, step: 11001 steps"):
        evaluate_range(parse_query("up"), [], 0, 11_000 * 1000, 1000)


class FakeStore:
    """Answers /api/v1/export from rows as VictoriaMetrics writes them, recording the asks."""

    def __init__(self, rows: list[dict[str, object]]) -> None:
        self.rows = rows
        self.asked: list[tuple[str, list[tuple[str, str]]]] = []

    async def __call__(self, url: str, params: Sequence[tuple[str, str]]) -> bytes:
        self.asked.append((url, list(params)))
        return b"\n".join(orjson.dumps(row) for row in self.rows) + b"\n"


async def test_the_reader_asks_the_names_streams_names_stores_and_names_series_as_rules_do() -> (
    None
):
    # net_bytes_recv is the field bytes_recv of net (a Telegraf line) or the field value of
    # net_bytes_recv (a Prometheus sample); VictoriaMetrics names their 1-minute last values
    # net_bytes_recv_last and net_bytes_recv_value_last: one series for the rules, merged here
    store = FakeStore(
        [
            {
                "metric": {"__name__": "net_bytes_recv_value_last", "host": "w"},
                "values": [1, 0],
                "timestamps": [0, 2 * MIN],
            },
            {"metric": {"__name__": "net_bytes_recv_last", "host": "w"}, "values": [5],
             "timestamps": [MIN]},
        ]
    )  # fmt: skip
    reader = ExportReader("http://tsdb:8429/", store, aggregate="last", windowed=True)
    (selector,) = selectors(parse_query('net_bytes_recv{host="w"}'))
    (series,) = await reader.read([selector], 0, 3 * MIN)
    want = '{__name__=~"net_bytes_recv_value_last|net_bytes_recv_last",host="w"}'
    assert store.asked == [
        (
            "http://tsdb:8429/api/v1/export",
            [("match[]", want), ("start", "0.000"), ("end", "180.000")],
        )
    ]
    assert series.labels == (("__name__", "net_bytes_recv"), ("host", "w"))
    assert (series.ts, series.values) == ([0, MIN, 2 * MIN], [1.0, 5.0, 0.0])
    raw = ExportReader("http://tsdb:8428", store, windowed=False)
    await raw.read(selectors(parse_query('up{job="w"}')), 0, MIN)
    assert store.asked[-1][1][0] == ("match[]", '{__name__="up",job="w"}')


async def test_the_page_reads_the_tier_the_range_picks_and_draws_it() -> None:
    store = FakeStore(
        [
            {
                "metric": {"__name__": "cpu_usage_idle_mean", "host": "a"},
                "values": [90.0, 80.0],
                "timestamps": [NOW - 20 * MIN, NOW - 10 * MIN],
            }
        ]
    )
    tiers_read: list[str] = []

    def reader_for(tier, field):  # type: ignore[no-untyped-def]
        tiers_read.append(f"{tier.name}/{field}")
        return ExportReader("http://x", store, aggregate=field, windowed=tier.window_s is not None)

    page = await graph_page(
        {"query": "100 - cpu_usage_idle", "range": "1d"}, DEFAULT_TIERS, reader_for, now_ms=NOW
    )
    assert page.error == ""
    assert tiers_read == ["1m/mean"] and page.tier == "1m"
    assert page.chart is not None
    assert [(e.name, e.last) for e in page.chart.legend] == [('{host="a"}', "20")]
    # the read starts 5 minutes (the lookback) before the range
    params = dict(store.asked[0][1])
    assert float(params["start"]) * 1000 == NOW - 86_400_000 - 300_000


async def test_errors_are_shown_on_the_page() -> None:
    async def down(url: str, params: Sequence[tuple[str, str]]) -> bytes:
        raise PulselineError(f"{url} answered 503: busy")

    def reader_for(tier, field):  # type: ignore[no-untyped-def]
        return ExportReader("http://x", down, windowed=False)

    page = await graph_page({"query": "up", "range": "1h"}, DEFAULT_TIERS, reader_for, now_ms=NOW)
    assert page.chart is None and page.error == "http://x/api/v1/export answered 503: busy"
    page = await graph_page({"query": "up", "range": "soon"}, DEFAULT_TIERS, reader_for, now_ms=NOW)
    assert page.error.startswith("/graph, range: 'soon' is not a duration")
    page = await graph_page({"query": "up", "tier": "5m"}, DEFAULT_TIERS, reader_for, now_ms=NOW)
    assert page.error == "/graph, tier: no tier '5m'; tiers: auto, raw, 1m, 1h"


def test_every_ready_view_parses() -> None:
    for view in READY_VIEWS:
        parse_query(view.query)
    assert {view.section for view in READY_VIEWS} == {"hosts", "pipeline"}
