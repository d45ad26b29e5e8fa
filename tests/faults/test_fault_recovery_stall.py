"""A table recovery that lost changelog records carries on: they are read again.

Faust can drop changelog records between the fetch and the recovery (a rebalance or a flow
change in between); the consumer's position is then past them and the recovery waits for
ever, the worker never ready. Here the fault is made on purpose: the restarted worker's
recovery puts every downsampling state changelog partition at its end before it reads, as
if all of it had been fetched and dropped. The worker must read them again (logging it),
become ready, and the 1-minute rows must be exact: the state it resumed is the saved one.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from faultkit import FaultRun, load_for
from servers import Pipeline, Tsdb

pytestmark = pytest.mark.integration

# Imported by the worker's interpreter at startup (sitecustomize on its PYTHONPATH).
LOSE_CHANGELOG = """
import faust.tables.recovery as recovery

_seek = recovery.Recovery._seek_offsets


async def _seek_past_the_state(self, consumer, tps, offsets, title):
    await _seek(self, consumer, tps, offsets, title)
    ends = {
        tp: self.active_highwaters[tp] + 1
        for tp in tps
        if title == "active" and "downsample-state" in tp.topic and self.active_highwaters[tp] >= 0
    }
    if ends:
        await consumer.seek_wait(ends)
        print("fault: recovery sought past", sorted(f"{tp.partition}@{o}" for tp, o in ends.items()))


recovery.Recovery._seek_offsets = _seek_past_the_state
"""


def test_a_recovery_that_lost_its_changelog_records_reads_them_again(
    pipeline: Pipeline,
    tsdb: Tsdb,
    minute_store: Tsdb,
    broker: str,
    request: pytest.FixtureRequest,
    tmp_path: Path,
) -> None:
    load = load_for(request, hosts=20, minutes=4)
    run = FaultRun(
        "recovery lost changelog records", pipeline, tsdb, minute_store, broker, load, False
    )
    worker = pipeline.worker("worker-a")
    run.produce(range(0, 2))
    run.wait_written(load.total // 2, 120)
    worker.kill()
    since, before = time.monotonic(), run.still()
    site = tmp_path / "fault-site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(LOSE_CHANGELOG)
    pipeline.env["PYTHONPATH"] = str(site)
    restarted = pipeline.worker("worker-b")
    run.produce(range(2, load.minutes))
    figures = run.settle(since, before)
    log = restarted.log_path.read_text()
    assert "fault: recovery sought past" in log  # the fault took place
    assert "table recovery got nothing" in log, log[-3000:]
    figures.assert_clean()
