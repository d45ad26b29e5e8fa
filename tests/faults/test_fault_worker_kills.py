"""Worker SIGKILL under load: killed at seeded points of a stream, restarted each time.

The load arrives minute by minute; the worker is killed with SIGKILL once it wrote a seeded
fraction of it, and a new one starts at once, a backlog waiting for it. Afterwards every sample
is in the raw tier once with its value, and every 1-minute row counts each sample once.
"""

from __future__ import annotations

import random
import time

import pytest
from faultkit import FaultRun, load_for
from servers import Pipeline, Tsdb

pytestmark = pytest.mark.integration

PLANS = [
    pytest.param(1, 1, id="seed1-1kill"),
    pytest.param(2, 3, id="seed2-3kills", marks=pytest.mark.full),
    pytest.param(3, 3, id="seed3-3kills", marks=pytest.mark.full),
    pytest.param(4, 5, id="seed4-5kills", marks=pytest.mark.full),
]


@pytest.mark.parametrize(("seed", "kills"), PLANS)
def test_worker_sigkills_under_load_lose_nothing(
    seed: int,
    kills: int,
    full: bool,
    pipeline: Pipeline,
    tsdb: Tsdb,
    minute_store: Tsdb,
    broker: str,
    request: pytest.FixtureRequest,
) -> None:
    load = load_for(request, hosts=300 if full else 40, minutes=20 if full else 6)
    run = FaultRun(
        f"worker SIGKILL seed {seed}, {kills} kills",
        pipeline,
        tsdb,
        minute_store,
        broker,
        load,
        full,
    )
    rng = random.Random(seed)
    points = sorted(rng.uniform(0.1, 0.8) for _ in range(kills))
    worker = pipeline.worker()
    stream = run.stream(range(load.minutes), every_s=3 if full else 2)
    for point in points:
        run.wait_written(int(point * load.total), 240)
        worker.kill()
        since, before = time.monotonic(), run.still()
        worker = pipeline.worker()  # the rest of the backlog waits for it
    stream.join()
    run.settle(since, before).assert_clean()
