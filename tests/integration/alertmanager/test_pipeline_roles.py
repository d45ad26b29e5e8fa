"""Store and alert workers (``worker.roles``): a hung database holds up storing, not alerting.

An alert worker and a store worker run side by side on one pipeline. The database is stopped
with SIGSTOP (it accepts connections and never answers, the worst kind of outage), a load
enough to fill a worker's stream buffers is pushed, then a breach: the alert worker notifies
while the store worker waits on the database. Once the database runs again, everything
pushed during the outage is stored.
"""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Callable, Iterator

import pytest
from amstack import Receiver, hosts, ops_config, push, receivers, start, worker
from conftest import Pipeline, Tsdb, wait_for

from streams.stack.processes import free_port

pytestmark = pytest.mark.integration

__all__ = ["receivers"]  # the fixture

LOAD_RECORDS = 600
"""Write requests of one sample each during the outage: more records than a worker's stream
buffer of ``metrics.raw`` holds (``4 * worker.take_records``), so a worker with both roles
would stop reading for its rule agents."""


class Outage:
    """The database stopped with SIGSTOP (``begin``) and running again (``end``)."""

    def __init__(self, tsdb: Tsdb) -> None:
        assert tsdb.process.pid is not None
        self.pid = tsdb.process.pid
        self.on = False

    def begin(self) -> None:
        os.kill(self.pid, signal.SIGSTOP)
        self.on = True

    def end(self) -> None:
        if self.on:
            os.kill(self.pid, signal.SIGCONT)
            self.on = False


@pytest.fixture
def outage(tsdb: Tsdb) -> Iterator[Outage]:
    """The database's outage; it runs again at the latest when the test ends."""
    made = Outage(tsdb)
    yield made
    made.end()


def test_an_alert_worker_notifies_while_the_database_hangs(
    pipeline: Pipeline,
    tsdb: Tsdb,
    outage: Outage,
    receivers: Callable[..., Receiver],
) -> None:
    hook = receivers()
    start(pipeline, ops_config(hook.url, group_wait="0s"), {"PULSELINE_WORKER__ROLES": '["alert"]'})
    store_web = f"http://127.0.0.1:{free_port()}"
    worker(pipeline, "store-worker", store_web, {"PULSELINE_WORKER__ROLES": '["store"]'})
    push(pipeline, 20.0, ["before"])
    wait_for(lambda: tsdb.count('amhot_celsius{host="before"}') == 1, 60, "the first sample")

    outage.begin()
    for i in range(LOAD_RECORDS):
        push(pipeline, 20.0, [f"load{i}"])
    push(pipeline, 80.0, ["h1"])
    hook.wait_for(lambda got: len(got) >= 1, "the breach's notification", timeout=60)
    assert hosts(hook.deliveries[0]) == [("h1", "firing")]

    outage.end()
    wait_for(
        lambda: tsdb.count("amhot_celsius") == LOAD_RECORDS + 2,
        120,
        "the samples pushed during the outage to be stored",
    )
    stored = {
        json.loads(key.removeprefix("amhot_celsius"))["host"]
        for key in tsdb.export("amhot_celsius")
    }
    assert stored == {"before", "h1", *(f"load{i}" for i in range(LOAD_RECORDS))}
