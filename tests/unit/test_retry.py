"""The shared retry helper: waits, limits, hooks and logging, with an injected sleep and clock."""

from __future__ import annotations

import asyncio
import logging
import random

import pytest

from streams.retry import Failure, retry


class Refused(Exception):
    retryable = False


class Script:
    """A call that fails with the given errors in turn, then returns ``done``."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "done"


class FakeTime:
    """A clock that advances only when slept on."""

    def __init__(self) -> None:
        self.now = 0.0
        self.waits: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds


async def test_retries_until_success_with_growing_jittered_waits() -> None:
    call, t = Script(*[ConnectionError("refused")] * 5), FakeTime()
    failures: list[Failure] = []
    result = await retry(
        call,
        what="receiver 'ops' webhook[0]",
        min_s=1,
        max_s=4,
        rng=random.Random(7),
        sleep=t.sleep,
        clock=t.clock,
        on_failure=failures.append,
    )
    assert result == "done" and call.calls == 6
    # Ceilings 1, 2, 4, 4, 4 (capped); each wait is in the upper half of its ceiling.
    for wait, ceiling in zip(t.waits, [1, 2, 4, 4, 4], strict=True):
        assert ceiling / 2 <= wait <= ceiling
    assert [f.attempt for f in failures] == [1, 2, 3, 4, 5]
    assert [f.retrying_in for f in failures] == t.waits
    assert all(f.what == "receiver 'ops' webhook[0]" for f in failures)


async def test_jitter_spreads_retries() -> None:
    waits = set()
    for seed in range(5):
        t = FakeTime()
        await retry(Script(OSError()), what="x", min_s=1, rng=random.Random(seed), sleep=t.sleep)
        waits.add(t.waits[0])
    assert len(waits) == 5


async def test_a_failure_that_is_not_retryable_is_raised_at_once() -> None:
    call, t = Script(ConnectionError(), Refused("400 bad request")), FakeTime()
    failures: list[Failure] = []
    with pytest.raises(Refused):
        await retry(call, what="x", sleep=t.sleep, on_failure=failures.append)
    assert call.calls == 2 and len(t.waits) == 1
    assert failures[-1].retrying_in is None


async def test_attempts_limit_the_calls() -> None:
    call, t = Script(*[OSError(str(i)) for i in range(10)]), FakeTime()
    with pytest.raises(OSError, match=r"^2$"):
        await retry(call, what="x", attempts=3, sleep=t.sleep)
    assert call.calls == 3 and len(t.waits) == 2


async def test_the_deadline_cuts_the_last_wait_and_stops() -> None:
    call, t = Script(*[OSError()] * 100), FakeTime()
    with pytest.raises(OSError):
        await retry(call, what="x", deadline_s=10, min_s=1, max_s=4, sleep=t.sleep, clock=t.clock)
    assert t.now == pytest.approx(10.0)
    assert sum(t.waits) == pytest.approx(10.0)
    assert call.calls == len(t.waits) + 1


async def test_cancellation_is_not_retried() -> None:
    calls = 0

    async def cancelled() -> None:
        nonlocal calls
        calls += 1
        raise asyncio.CancelledError

    with pytest.raises(asyncio.CancelledError):
        await retry(cancelled, what="x", sleep=FakeTime().sleep)
    assert calls == 1


async def test_failures_are_logged_with_what(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="streams.retry")
    with pytest.raises(OSError):
        await retry(
            Script(OSError("down"), OSError("still down")),
            what="receiver 'ops' slack[1]",
            attempts=2,
            sleep=FakeTime().sleep,
        )
    assert [(r.levelname, r.getMessage().split(" in ")[0]) for r in caplog.records] == [
        ("WARNING", "receiver 'ops' slack[1]: attempt 1 failed, retrying"),
        ("ERROR", "receiver 'ops' slack[1]: attempt 2 failed, giving up: still down"),
    ]


async def test_a_call_that_succeeds_at_once_makes_no_random_source(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Seeding a random.Random reads os.urandom: the agents retry every batch they produce,
    # nearly always with success, so the source of jitter is made at the first failure only.
    made: list[object] = []

    class Counted(random.Random):
        def __init__(self, *args: object) -> None:
            made.append(self)
            super().__init__(*args)

    monkeypatch.setattr(random, "Random", Counted)
    assert await retry(Script(), what="x") == "done"
    assert made == []
    t = FakeTime()
    assert await retry(Script(OSError()), what="x", sleep=t.sleep, clock=t.clock) == "done"
    assert len(made) == 1 and len(t.waits) == 1
