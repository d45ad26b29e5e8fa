"""``/graph`` on InfluxDB 2: a series pushed through the pipeline comes back from each bucket.

A real collector and worker write the raw samples and the 1-minute rows to InfluxDB 2
(``influx.store: influxdb``, the docker-compose stack's store); the graph's Flux reader reads
them back under the names rules give them, and the worker's ``/graph`` page draws them.
"""

from __future__ import annotations

import asyncio
import html
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import Pipeline, wait_for
from influxdb2 import (
    ensure,
    influx_env,
    influxdb2_server,  # noqa: F401  (the fixture `influxdb2`)
    tier_buckets,
)

from agents.web import http_post
from streams.promql.expr import selectors
from streams.stack.influxdb2 import InfluxDB2
from streams.web.flux import FluxReader
from streams.web.graph import parse_query
from streams.web.svg import format_value

pytestmark = pytest.mark.integration

MINUTE = 60_000
T0 = (int(time.time() * 1000) // MINUTE - 120) * MINUTE  # a minute boundary, two hours back
TIMES = [T0 + i * 15_000 for i in range(12)]  # three 1-minute windows of four samples
CELSIUS = [20.0 + i / 4 for i in range(12)]  # exact in binary and in text
DEPTH = [float(i % 5) for i in range(12)]


def read(server: InfluxDB2, bucket: str, query: str, windowed: bool) -> dict[str, list[tuple]]:
    """What the graph's reader reads for ``query``: series name -> (ts_ms, value)s."""
    reader = FluxReader(server.url, bucket, org=server.org, token=server.token, post=http_post,
                        aggregate="mean", windowed=windowed)  # fmt: skip
    found = asyncio.run(reader.read(selectors(parse_query(query)), T0 - MINUTE, T0 + 5 * MINUTE))
    return {str(dict(s.labels)): list(zip(s.ts, s.values, strict=True)) for s in found}


def means(values: list[float]) -> list[tuple[int, float]]:
    return [(T0 + w * MINUTE, sum(values[4 * w : 4 * w + 4]) / 4) for w in range(3)]


def test_graph_reads_a_pushed_series_from_the_raw_and_the_1m_bucket(
    pipeline: Pipeline, influxdb2: InfluxDB2, tmp_path: Path
) -> None:
    buckets = tier_buckets()
    pipeline.env.update(influx_env(influxdb2, buckets) | {"PULSELINE_DOWNSAMPLE__LATENESS_S": "5"})
    assert ensure(pipeline.env, tmp_path).returncode == 0
    pipeline.collector()
    pipeline.worker()
    lines = [
        f"itemp,host=h1,sensor=s1 celsius={c} {t}" for t, c in zip(TIMES, CELSIUS, strict=True)
    ]
    lines += [f"pulse_depth,host=h1 value={d} {t}" for t, d in zip(TIMES, DEPTH, strict=True)]
    lines.append(f"imark,host=h1 value=1 {T0 + 10 * MINUTE}")  # moves event time on
    status, text = pipeline.push("\n".join(lines).encode())
    assert status == 204, text

    itemp = "{'__name__': 'itemp_celsius', 'host': 'h1', 'sensor': 's1'}"
    depth = "{'__name__': 'pulse_depth', 'host': 'h1'}"
    want_raw = {
        itemp: list(zip(TIMES, CELSIUS, strict=True)),
        depth: list(zip(TIMES, DEPTH, strict=True)),
    }
    want_1m = {itemp: means(CELSIUS), depth: means(DEPTH)}
    query = '{__name__=~"itemp_celsius|pulse_depth"}'

    def found() -> tuple[dict[str, list[tuple]], dict[str, list[tuple]]]:
        raw = read(influxdb2, buckets["raw"], 'itemp_celsius{sensor="s1"} or pulse_depth', False)
        return raw, read(influxdb2, buckets["1m"], query, True)

    wait_for(lambda: found() == (want_raw, want_1m), 90, "the raw samples and 1-minute rows")

    # The worker's page reads the 1m bucket the same way (influx.store: influxdb)
    end = datetime.fromtimestamp((T0 + 3 * MINUTE) / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    url = (f"{pipeline.worker_web}/graph?query=itemp_celsius&range=10m&tier=1m&field=max"
           f"&end={urllib.request.quote(end)}")  # fmt: skip
    with urllib.request.urlopen(url, timeout=30) as response:
        page = html.unescape(response.read().decode())
    assert 'id="graph-error"' not in page, page
    assert '<b id="graph-tier">1m</b>' in page
    last_max = max(CELSIUS[8:12])  # the last window's maximum, the value at the last step
    legend = '{__name__="itemp_celsius", host="h1", sensor="s1"} <span class="muted">'
    assert f"{legend}{format_value(last_max)}</span>" in page, page
