"""The broker stopped and started again on its log directory, or killed and restarted, under
a running pipeline: nothing Kafka acknowledged before or after is lost.

The module runs its own Apache Kafka (the session's is shared). Half the load is in Kafka and
partly written when the broker goes away; the worker stays up and reconnects by itself; the
other half is produced once the broker is back. Every sample must be in the raw tier once,
and every 1-minute row exact.
"""

from __future__ import annotations

import time

import pytest
from faultkit import FaultRun, load_for
from servers import Pipeline, Tsdb, kafka_only

from streams.stack.processes import ManagedProcess

pytestmark = [pytest.mark.integration, kafka_only]

FAULTS = [
    pytest.param(None, id="restart", marks=pytest.mark.full),  # SIGKILL, started again at once
    pytest.param(30, id="outage-30s", marks=pytest.mark.full),  # SIGTERM, down for 30 s
]


@pytest.fixture(scope="module")
def broker(own_broker: tuple[ManagedProcess, str]) -> str:
    """This module's pipelines use its own broker, which its tests stop and kill."""
    return own_broker[1]


@pytest.mark.parametrize("outage_s", FAULTS)
def test_a_broker_outage_or_restart_loses_nothing(
    outage_s: int | None,
    full: bool,
    own_broker: tuple[ManagedProcess, str],
    pipeline: Pipeline,
    tsdb: Tsdb,
    minute_store: Tsdb,
    request: pytest.FixtureRequest,
) -> None:
    process, broker = own_broker
    load = load_for(request, hosts=300 if full else 40, minutes=12 if full else 4)
    name = "broker restart" if outage_s is None else f"broker outage {outage_s} s"
    run = FaultRun(name, pipeline, tsdb, minute_store, broker, load, full)
    half = load.minutes // 2
    run.produce(range(half))
    pipeline.worker()
    run.wait_written(load.total // 4, 120)
    if outage_s is None:
        process.kill()
    else:
        process.stop(deadline=30)
        time.sleep(outage_s)  # the outage lasts its length
    process.start().wait_ready(120)
    since = time.monotonic()
    before = run.written()
    run.produce(range(half, load.minutes))
    run.settle(since, before).assert_clean()
