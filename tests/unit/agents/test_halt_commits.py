"""Halting a worker's commits ends a commit aiokafka is retrying (a broker that lost its data)."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest
from aiokafka.consumer.group_coordinator import GroupCoordinator
from aiokafka.errors import CommitFailedError, UnknownTopicOrPartitionError

from agents.consumer import LedgerConsumer


def retrying_coordinator(attempts: list[int], retried: asyncio.Event) -> GroupCoordinator:
    """aiokafka's coordinator, its commit request failing as on a topic the broker lost."""
    coordinator = object.__new__(GroupCoordinator)
    coordinator._commit_lock = asyncio.Lock()
    coordinator._retry_backoff_ms = 1

    async def known() -> None:
        return None

    async def missing_topic(assignment: Any, offsets: Any) -> None:
        attempts.append(1)
        if len(attempts) == 3:
            retried.set()
        raise UnknownTopicOrPartitionError()

    coordinator.ensure_coordinator_known = known
    coordinator._do_commit_offsets = missing_topic
    return coordinator


def test_a_commit_being_retried_ends_once_commits_are_halted() -> None:
    async def run() -> tuple[int, str]:
        attempts: list[int] = []
        retried = asyncio.Event()
        coordinator = retrying_coordinator(attempts, retried)
        client = SimpleNamespace(_coordinator=coordinator)
        consumer = SimpleNamespace(_thread=SimpleNamespace(_consumer=client), _halted=False)
        commit = asyncio.ensure_future(coordinator.commit_offsets(set(), {"tp": 5}))
        await asyncio.wait_for(retried.wait(), 5)  # aiokafka retries a retriable failure
        LedgerConsumer.halt_commits(consumer)  # type: ignore[arg-type]
        with pytest.raises(CommitFailedError) as failed:
            await asyncio.wait_for(commit, 5)
        assert consumer._halted
        return len(attempts), str(failed.value)

    before_halt, message = asyncio.run(run())
    assert before_halt >= 3
    # Faust's consumer takes this wording as a refused commit, not as a reason to crash.
    assert "already rebalanced" in message


def test_halting_a_consumer_not_started_yet_only_marks_it() -> None:
    consumer = SimpleNamespace(_thread=SimpleNamespace(), _halted=False)
    LedgerConsumer.halt_commits(consumer)  # type: ignore[arg-type]
    assert consumer._halted
