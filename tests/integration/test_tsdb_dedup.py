"""A sample written twice is stored once, as InfluxDB overwrites a point: the TSDB of the
local stack and of the tests keeps one sample per series and millisecond.

Delivery is at least once, so a worker restarted after a crash writes again what it wrote
before its last commit. InfluxDB overwrites the same measurement, tags and timestamp;
VictoriaMetrics keeps every copy unless started with ``-dedup.minScrapeInterval``, and
``count_over_time`` then counts a replayed sample twice. The same batch is written twice, as
a replay writes it, to a VictoriaMetrics as the stack starts it and to one without dedup
(which shows the copies a replay leaves, so the check can fail).
"""

from __future__ import annotations

import asyncio
import json
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from streams.names import RENDERERS
from streams.records import Point
from streams.sinks.influx import InfluxWriter
from streams.stack import components
from streams.stack.processes import free_port

pytestmark = pytest.mark.integration


def copies_after_a_replay(workdir: Path, *, dedup: bool) -> tuple[int, int]:
    """Write 100 samples twice, as a replay does; return (samples stored, count_over_time)."""
    port = free_port()
    vm = components.victoria_metrics(port, workdir, dedup=dedup).start().wait_ready(30)
    url = f"http://127.0.0.1:{port}"
    start = (int(time.time()) - 3600) * 1000
    points = [
        Point("replay", {"host": "a"}, {"value": float(i)}, start + i * 1000) for i in range(100)
    ]
    lines = RENDERERS["victoriametrics"](points)  # as the sinks write: the series is replay

    async def write() -> None:
        writer = InfluxWriter(url=url, org="pulseline", token="", bucket="metrics")
        try:
            await writer.write(lines)
            await writer.write(lines)
        finally:
            await writer.close()

    def read() -> tuple[int, int]:
        query = urllib.parse.urlencode({"match[]": "replay"})
        with urllib.request.urlopen(f"{url}/api/v1/export?{query}", timeout=30) as resp:
            rows = [json.loads(line) for line in resp.read().decode().splitlines()]
        stored = sum(len(row["timestamps"]) for row in rows)
        query = urllib.parse.urlencode({"query": "sum(count_over_time(replay[2h]))", "nocache": 1})
        with urllib.request.urlopen(f"{url}/api/v1/query?{query}", timeout=30) as resp:
            result = json.loads(resp.read())["data"]["result"]
        counted = int(float(result[0]["value"][1])) if result else 0
        return stored, counted

    try:
        asyncio.run(write())
        # Written and acknowledged; becomes searchable within VictoriaMetrics' flush interval.
        deadline = time.monotonic() + 30
        while (seen := read())[1] < seen[0] or seen[0] < 100:
            assert time.monotonic() < deadline, f"not searchable: {seen}"
            time.sleep(0.2)
    finally:
        vm.stop()
    return seen


def test_a_replayed_batch_is_stored_once_and_counted_once(workdir: Path) -> None:
    assert copies_after_a_replay(workdir, dedup=True) == (100, 100)


def test_without_dedup_a_replay_leaves_copies(workdir: Path) -> None:
    assert copies_after_a_replay(workdir, dedup=False) == (200, 200)
