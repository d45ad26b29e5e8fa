"""A worker killed with SIGKILL and restarted with a backlog loses no acknowledged sample.

The sequence oracle (:mod:`sequences`) puts numbered samples of many hosts in Kafka; the
worker is killed twice while it works through them and restarted each time with the rest
still waiting. Afterwards the raw tier must hold every sample, with the right value and
once (the restarted worker writes again what it wrote after its last commit; the store
keeps one sample per series and timestamp, as InfluxDB does), and every 1-minute row must
count each sample exactly once.
"""

from __future__ import annotations

import json
import time
import urllib.parse
import urllib.request

import pytest
from conftest import Pipeline, Tsdb, wait_for
from sequences import Sequences, check_minutes, check_raw, produce

from streams.status.exposition import Metrics

pytestmark = [pytest.mark.integration, pytest.mark.long(90)]

MINUTE = 60_000


def written(tsdb: Tsdb, load: Sequences) -> int:
    """Samples the store holds, copies included (it shows writes a second or so late)."""
    query = urllib.parse.urlencode(
        {
            "query": f"sum(count_over_time({load.metric}[1d]))",
            "time": time.time(),
            "nocache": 1,  # the samples are older than VictoriaMetrics' cache horizon
        }
    )
    with urllib.request.urlopen(f"{tsdb.url}/api/v1/query?{query}", timeout=30) as resp:
        result = json.loads(resp.read())["data"]["result"]
    return int(float(result[0]["value"][1])) if result else 0


def sunk(pipeline: Pipeline) -> float:
    """Samples the running worker's raw sink wrote since it started (0 while it cannot say)."""
    try:
        with urllib.request.urlopen(f"{pipeline.worker_web}/metrics", timeout=5) as response:
            scraped = Metrics.parse(response.read().decode())
    except OSError:
        return 0
    return scraped.total("pulseline_sink_samples_total", tier="raw") or 0


def test_nothing_acknowledged_is_lost_through_two_worker_kills(
    pipeline: Pipeline, tsdb: Tsdb, minute_store: Tsdb, broker: str
) -> None:
    start = (int(time.time() * 1000) // MINUTE - 40) * MINUTE
    load = Sequences(hosts=300, minutes=20, start_ms=start)
    pipeline.env.update(
        {
            "PULSELINE_TIERS": json.dumps(
                [
                    {"name": "raw", "retention_s": "7d", "bucket": "metrics"},
                    {
                        "name": "1m",
                        "window_s": 60,
                        "retention_s": "30d",
                        "bucket": "metrics_1m",
                        "url": minute_store.url,
                    },
                ]
            ),
        }
    )
    produce(broker, pipeline.raw_topic, load.records())
    kills: list[int] = []
    worker = pipeline.worker()
    target = load.total // 5
    for _ in range(2):  # each worker is killed once its raw sink wrote a fifth of the load
        # Counted by the worker itself: the store shows writes a second or so late, and a
        # worker that drains the backlog in seconds would be killed with nothing left to do.
        wait_for(lambda: sunk(pipeline) >= target, 180, f"{target} samples sunk", 0.02)
        worker.kill()
        kills.append(written(tsdb, load))
        worker = pipeline.worker()  # the rest of the backlog waits for it
    began = time.monotonic()
    wait_for(lambda: not check_raw(load, tsdb.url).missing, 240, "every sample in the raw tier")
    drained = time.monotonic() - began
    raw = check_raw(load, tsdb.url)
    print(
        f"raw: {load.total} samples, {written(tsdb, load)} counted, shown by the store right "
        f"after the kills {kills}, drained {drained:.1f}s after the second restart"
    )
    assert (raw.wrong, raw.duplicated, written(tsdb, load)) == ([], 0, load.total)
    deadline = time.monotonic() + 180
    while (problems := check_minutes(load, minute_store.url)) and time.monotonic() < deadline:
        time.sleep(1)
    assert not problems, f"{len(problems)} wrong 1-minute rows, e.g. {problems[:5]}"
