"""Two and three workers in one group: one joins mid-stream, one is SIGKILLed mid-stream.

The load arrives minute by minute. With one worker fewer than the scenario's running, the
last one joins once a quarter is written; the group must spread the partitions evenly (no
worker more than one partition ahead of another). Once half is written, the first worker is
killed with SIGKILL and not restarted: the survivors take its partitions, evenly again.
Afterwards nothing is missing from the raw tier, and every 1-minute row is exact (a window
counted by two owners, or by the killed one and its successor twice, would not be).
"""

from __future__ import annotations

import time

import pytest
from faultkit import FaultRun, holdings, load_for, poll, spread
from servers import Pipeline, Tsdb

from streams.stack.processes import free_port

pytestmark = pytest.mark.integration

PARTITIONS = 4  # the pipeline fixture's


@pytest.mark.parametrize("workers", [2, pytest.param(3, marks=pytest.mark.full)])
def test_a_worker_joins_and_one_is_killed_mid_stream(
    workers: int,
    full: bool,
    pipeline: Pipeline,
    tsdb: Tsdb,
    minute_store: Tsdb,
    broker: str,
    request: pytest.FixtureRequest,
) -> None:
    load = load_for(request, hosts=300 if full else 40, minutes=20 if full else 10)
    name = f"{workers} workers: one joins, one SIGKILLed"
    run = FaultRun(name, pipeline, tsdb, minute_store, broker, load, full)
    ports = [free_port() for _ in range(workers)]
    webs = [f"http://127.0.0.1:{port}" for port in ports]
    topic = pipeline.raw_topic
    started = [pipeline.worker(f"worker-{i}", port) for i, port in enumerate(ports[:-1])]
    assert poll(lambda: spread(webs[:-1], topic, PARTITIONS) is not None, 90)
    stream = run.stream(range(load.minutes), every_s=3 if full else 2)

    run.wait_written(load.total // 4, 180)
    started.append(pipeline.worker(f"worker-{workers - 1}", ports[-1]))
    joined = poll(lambda: spread(webs, topic, PARTITIONS) is not None, 90)
    assert joined, {web: holdings(web, topic) for web in webs}
    after_join = spread(webs, topic, PARTITIONS)

    run.wait_written(load.total // 2, 180)
    started[0].kill()
    since, before = time.monotonic(), run.written()
    survivors = webs[1:]
    taken_over = poll(lambda: spread(survivors, topic, PARTITIONS) is not None, 90)
    assert taken_over, {web: holdings(web, topic) for web in survivors}
    after_kill = spread(survivors, topic, PARTITIONS)
    print(f"{name}: after the join {after_join}, after the kill {after_kill}")
    stream.join()
    run.settle(since, before).assert_clean()
