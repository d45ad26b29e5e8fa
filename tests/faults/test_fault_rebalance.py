"""Two and three workers in one group: one joins mid-stream, one is SIGKILLed mid-stream.

The load arrives minute by minute. With one worker fewer than the scenario's running, the
last one joins once a quarter is written; the group must spread the partitions evenly (no
worker more than one partition ahead of another). Once half is written, the first worker is
killed with SIGKILL and not restarted: the survivors take its partitions, evenly again.
Afterwards nothing is missing from the raw tier, and every 1-minute row is exact (a window
counted by two owners, or by the killed one and its successor twice, would not be).

Alerts fire and resolve through it all (:mod:`faultalerts`: a rule group per partition, every
alert a notification group of its own, one webhook receiver): a set of breaches before the
join, resolved after it; one after the join, resolved while the killed worker's partitions
are orphaned; one made just before the kill, resolved after the takeover; one after the
takeover. Each set is resolved once its firing was notified. Every breach must be notified
firing and resolved, and none twice (the receiver dedupes by idempotency key).
"""

from __future__ import annotations

import time

import pytest
from faultalerts import Breaches, configure
from faultkit import FaultRun, holdings, load_for, poll, spread
from servers import Pipeline, Receiver, Tsdb

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
    receiver = Receiver().start()
    request.addfinalizer(receiver.stop)
    configure(pipeline, receiver)
    breaches = Breaches(pipeline, broker, receiver)
    per_set = 8 if full else 4
    before, joined, at_kill, after = (
        [f"{phase}-{i}" for i in range(per_set)] for phase in ("before", "joined", "kill", "after")
    )
    ports = [free_port() for _ in range(workers)]
    webs = [f"http://127.0.0.1:{port}" for port in ports]
    topic = pipeline.raw_topic
    started = [pipeline.worker(f"worker-{i}", port) for i, port in enumerate(ports[:-1])]
    assert poll(lambda: spread(webs[:-1], topic, PARTITIONS) is not None, 90)
    stream = run.stream(range(load.minutes), every_s=3 if full else 2)
    run.wait_written(load.hosts * 60, 180)  # the load's sources first (faultalerts.SOURCE)
    breaches.fire(before)

    run.wait_written(load.total // 4, 180)
    started.append(pipeline.worker(f"worker-{workers - 1}", ports[-1]))
    assert poll(lambda: spread(webs, topic, PARTITIONS) is not None, 90), {
        web: holdings(web, topic) for web in webs
    }
    after_join = spread(webs, topic, PARTITIONS)
    breaches.wait_notified(before, "firing", 60)
    breaches.resolve(before)
    breaches.fire(joined)

    run.wait_written(load.total // 2, 180)
    breaches.wait_notified(joined, "firing", 60)
    breaches.fire(at_kill)
    started[0].kill()
    since, written = time.monotonic(), run.written()
    breaches.resolve(joined)
    survivors = webs[1:]
    assert poll(lambda: spread(survivors, topic, PARTITIONS) is not None, 90), {
        web: holdings(web, topic) for web in survivors
    }
    after_kill = spread(survivors, topic, PARTITIONS)
    breaches.fire(after)
    for hosts in (at_kill, after):
        breaches.wait_notified(hosts, "firing", 60)
        breaches.resolve(hosts)
    print(f"{name}: after the join {after_join}, after the kill {after_kill}")
    stream.join()
    run.settle(since, written, alerts=breaches.figures).assert_clean()
