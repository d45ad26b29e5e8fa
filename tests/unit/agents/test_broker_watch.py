"""The worker's broker watch (agents.broker_watch) and restart in place (agents.restart), with
a fake broker, fake topic creation and a fake exec."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Collection

import pytest
from aiokafka.errors import KafkaConnectionError

from agents.broker_watch import BrokerWatch
from agents.restart import Restart
from streams.broker_loss import BrokerState, Partition
from streams.settings import Settings

SETTINGS = Settings.load(None)
TOPICS = frozenset(SETTINGS.topics.pipeline(SETTINGS.kafka.partitions))
RAW = SETTINGS.topics.raw


class FakeBroker:
    """Answers the probe with ``topics`` and ``ends``; ``away`` makes it unreachable."""

    def __init__(self) -> None:
        self.topics: set[str] = set(TOPICS)
        self.ends: dict[Partition, int] = {}
        self.away = False
        self.asked: list[set[Partition]] = []

    async def __call__(self, partitions: Collection[Partition]) -> BrokerState:
        self.asked.append(set(partitions))
        if self.away:
            raise KafkaConnectionError("connection refused")
        return BrokerState(frozenset(self.topics), dict(self.ends))


class Harness:
    def __init__(self) -> None:
        self.broker = FakeBroker()
        self.committed: dict[Partition, int] = {(RAW, 0): 5000}
        self.restarts: list[str] = []
        self.recreated = 0
        self.halted = 0

        async def recreate() -> None:
            self.recreated += 1
            self.broker.topics |= TOPICS

        def halt() -> None:
            self.halted += 1

        def restart(reason: str, prepare: Callable[[], object]) -> None:
            self.restarts.append(reason)
            self.prepare = prepare

        self.watch = BrokerWatch(
            SETTINGS,
            self.broker,
            lambda: self.committed,
            restart,
            recreate,
            halt_commits=halt,
        )


async def test_a_broker_back_empty_is_said_once_then_topics_are_recreated_and_the_worker_restarts(
    caplog: pytest.LogCaptureFixture,
) -> None:
    h = Harness()
    h.broker.ends = {(RAW, 0): 6000}
    await h.watch.check()
    h.broker.away = True  # stopped, its storage wiped
    await h.watch.check()
    h.broker.away, h.broker.topics, h.broker.ends = False, set(), {}
    with caplog.at_level(logging.ERROR, logger="agents.broker_watch"):
        await h.watch.check()
        assert (h.recreated, h.restarts) == (0, [])  # one look is not enough
        await h.watch.check()
        await h.watch.check()
    assert (h.halted, h.recreated) == (1, 0)  # not while the stopping worker may commit
    assert len(h.restarts) == 1 and RAW in h.restarts[0]
    await asyncio.to_thread(h.prepare)  # the worker stopped: its event loop is gone
    assert h.recreated == 1 and h.broker.topics >= TOPICS
    errors = [r.getMessage() for r in caplog.records]
    assert (
        len(errors) == 1 and "came back empty" in errors[0] and SETTINGS.kafka.broker in errors[0]
    )
    assert h.broker.asked[-1] == {(RAW, 0)}  # it asked about the committed partitions


async def test_a_broker_that_kept_its_data_through_a_restart_changes_nothing() -> None:
    h = Harness()
    h.broker.ends = {(RAW, 0): 5000}
    for away in (False, True, True, False, False, False):
        h.broker.away = away
        await h.watch.check()
    assert (h.halted, h.recreated, h.restarts) == (0, 0, [])


async def test_recreated_topics_behind_the_committed_offsets_are_a_loss() -> None:
    h = Harness()
    h.broker.ends = {(RAW, 0): 5000}
    await h.watch.check()
    h.broker.ends = {(RAW, 0): 40}  # a collector's producer recreated it (Tansu creates topics)
    await h.watch.check()
    await h.watch.check()
    assert h.halted == 1 and "ends at offset 40" in h.restarts[0]


def test_a_restart_stops_the_worker_once_then_execs_the_same_command_line() -> None:
    stops: list[bool] = []
    execs: list[tuple[str, list[str]]] = []
    restart = Restart(
        ["python", "-m", "streams", "worker"],
        execv=lambda path, argv: execs.append((path, argv)),
        stop=lambda: stops.append(True),
        deadline_s=60,
    )
    restart.exec_if_requested()
    assert execs == []  # nothing asked
    prepared: list[int] = []
    restart.request("the broker came back empty", lambda: prepared.append(len(execs)))
    restart.request("again", lambda: prepared.append(-1))
    assert stops == [True] and restart.reason == "the broker came back empty"
    assert prepared == []  # not before the worker stopped
    restart.exec_if_requested()
    assert prepared == [0]  # before the new start
    assert [argv for _, argv in execs] == [["python", "-m", "streams", "worker"]]


def test_a_stop_that_hangs_does_not_keep_the_new_start_away() -> None:
    import threading

    done = threading.Event()
    execs: list[list[str]] = []

    def execv(path: str, argv: list[str]) -> None:
        execs.append(argv)
        done.set()

    Restart(["w"], execv=execv, stop=lambda: None, deadline_s=0.05).request("hang")
    assert done.wait(10) and execs == [["w"]]
