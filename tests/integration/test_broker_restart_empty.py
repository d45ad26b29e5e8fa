"""A broker that comes back empty: the worker notices, recreates the topics and starts over.

The broker is stopped, its log directory wiped (every topic, record and committed offset
gone, as with a broker whose storage was lost) and started again on the same port. The
worker, running all along, must say so once, create the pipeline's topics again and read
the new topics from their beginning: every sample produced after the restart lands in the
store, and the log has the one error instead of a commit failure every few seconds.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import Pipeline, Tsdb, kafka_only, wait_for
from sequences import Sequences, check_raw, produce

from streams.kafka import ProduceError
from streams.stack import components
from streams.stack.processes import ManagedProcess, free_port

pytestmark = [pytest.mark.integration, kafka_only]

MINUTE = 60_000
LOST = "came back empty"
"""Part of the worker's one error line about the empty broker."""
PARTITIONS = 4
"""Partitions of each topic (the ``pipeline`` fixture's)."""
COMMITTED_TOPICS = 3
"""Topics the worker commits offsets for in one request (raw, alerts, alert groups)."""


class RestartableBroker:
    """An Apache Kafka of this module that a test may wipe and start again on its port."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.process: ManagedProcess = self._start()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _start(self) -> ManagedProcess:
        process = components.broker(self.port, self.workdir, "kafka")
        return process.start().wait_ready(120)

    def restart_empty(self) -> None:
        """Stop, delete the log directory (formatted again at start), start on the same port."""
        self.process.stop(deadline=30)
        shutil.rmtree(self.workdir / f"kafka-{self.port}" / "data")
        self.process = self._start()


@pytest.fixture(scope="module")
def restartable(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RestartableBroker]:
    broker = RestartableBroker(tmp_path_factory.mktemp("empty-broker"))
    yield broker
    broker.process.stop(deadline=30)


@pytest.fixture(scope="module")
def broker(restartable: RestartableBroker) -> str:
    """The pipelines of this module use its own broker."""
    return restartable.address


def produce_when_possible(broker: str, topic: str, load: Sequences, timeout: float) -> None:
    """Produce ``load`` once the topic exists again (the worker recreates it)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            produce(broker, topic, load.records())
            return
        except ProduceError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def test_a_worker_starts_over_on_a_broker_that_came_back_empty(
    pipeline: Pipeline, tsdb: Tsdb, restartable: RestartableBroker
) -> None:
    start = (int(time.time() * 1000) // MINUTE - 30) * MINUTE
    before = Sequences(hosts=40, minutes=5, start_ms=start, metric="before")
    after = Sequences(hosts=40, minutes=5, start_ms=start + 10 * MINUTE, metric="after")
    worker = pipeline.worker()
    produce(restartable.address, pipeline.raw_topic, before.records())
    wait_for(lambda: not check_raw(before, tsdb.url).missing, 120, "the first load stored")

    restartable.restart_empty()
    produce_when_possible(restartable.address, pipeline.raw_topic, after, 60)
    wait_for(lambda: not check_raw(after, tsdb.url).missing, 120, "the second load stored")

    raw = check_raw(after, tsdb.url)
    assert (raw.wrong, raw.duplicated) == ([], 0)
    log = worker.log_path.read_text(errors="replace").splitlines()
    lost = [i for i, line in enumerate(log) if LOST in line]
    unknown = [i for i, line in enumerate(log) if "UnknownTopicOrPartition" in line]
    print(
        f"log: {len(log)} lines, {len(lost)} empty-broker error, "
        f"{len(unknown)} UnknownTopicOrPartition lines"
    )
    assert len(lost) == 1, [log[i] for i in lost]
    # A commit in flight when the broker came back fails once more, then commits are halted;
    # after the new start, none fails: it commits to the new topics.
    started_again = next(i for i in range(lost[0], len(log)) if "[^Worker]: Starting" in log[i])
    failed = [line for line in log[lost[0] : started_again] if "OffsetCommit failed" in line]
    assert len(failed) <= PARTITIONS * COMMITTED_TOPICS, failed[:5]
    assert not [log[i] for i in unknown if i > started_again]
    # The Kafka client's retries are logged once per message and period, with a count.
    assert len(log) < 3000, f"{len(log)} lines of log"
