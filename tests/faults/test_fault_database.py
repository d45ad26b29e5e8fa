"""A database outage under load: both tiers' VictoriaMetrics stopped, then started again on
their data directories while samples keep arriving.

Half the load waits in Kafka; once the worker wrote some of it, both stores stop, the other
half arrives during the outage (acknowledged by Kafka), and the stores come back. The worker
retries its writes meanwhile; afterwards every sample is in the raw tier once with its value,
and every 1-minute row is exact.
"""

from __future__ import annotations

import time

import pytest
from faultkit import FaultRun, load_for
from servers import Pipeline, Tsdb

pytestmark = pytest.mark.integration

OUTAGES = [
    pytest.param(10, id="10s"),
    pytest.param(30, id="30s", marks=pytest.mark.full),
    pytest.param(120, id="2min", marks=pytest.mark.full),
]


@pytest.mark.parametrize("outage_s", OUTAGES)
def test_a_database_outage_loses_nothing(
    outage_s: int,
    full: bool,
    pipeline: Pipeline,
    tsdb: Tsdb,
    minute_store: Tsdb,
    broker: str,
    request: pytest.FixtureRequest,
) -> None:
    load = load_for(request, hosts=300 if full else 40, minutes=12 if full else 4)
    run = FaultRun(
        f"database outage {outage_s} s", pipeline, tsdb, minute_store, broker, load, full
    )
    half = load.minutes // 2
    run.produce(range(half))
    pipeline.worker()
    run.wait_written(load.total // 4, 120)
    stores = (tsdb.process, minute_store.process)
    for store in stores:
        store.stop()
    back_at = time.monotonic() + outage_s
    stream = run.stream(range(half, load.minutes), every_s=outage_s / (load.minutes - half))
    stream.join()
    time.sleep(max(0.0, back_at - time.monotonic()))  # the outage lasts its length
    for store in stores:
        store.start().wait_ready(60)
    since = time.monotonic()
    run.settle(since, before=run.written()).assert_clean()
