"""Timers that take their turn: every ``seconds``, one run at a time, never skipped.

Faust's ``app.timer`` calls a function every interval and warns when one run outlasts it;
the agents' timers used to skip their turn while an agent held their lock, which under
steady load is most of the time (``for`` deadlines slipped, idle series were never pruned).
:func:`every` runs the function in its own task: a run that waits for a lock simply runs
late, the next one starts ``seconds`` after it ends, and an exception is logged without
ending the timer.

Example::

    @every(app, 1.0, name="rules-tick")
    async def tick() -> None:
        async with lock:  # waits for the agent's batch, then runs
            ...
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from mode import Service

log = logging.getLogger(__name__)

Tick = Callable[[], Awaitable[None]]


async def run_every(seconds: float, fn: Tick, *, name: str) -> None:
    """Await ``fn()`` every ``seconds`` (after the previous run ended) until cancelled."""
    while True:
        await asyncio.sleep(seconds)
        try:
            await fn()
        except Exception:
            log.exception("%s failed; it runs again in %.1fs", name, seconds)


class _FromStart(Service):
    """A timer that runs from the app's start, through its first table recovery."""

    def __init__(self, seconds: float, fn: Tick, name: str) -> None:
        super().__init__()
        self._seconds, self._fn, self._name = seconds, fn, name

    async def on_start(self) -> None:
        self.add_future(run_every(self._seconds, self._fn, name=self._name))


def every(
    app: Any, seconds: float, *, name: str, from_start: bool = False
) -> Callable[[Tick], Tick]:
    """Register ``fn`` to run every ``seconds`` in a task of ``app`` (see :func:`run_every`).

    Faust starts an app's tasks once its tables are read back; ``from_start`` runs ``fn``
    from the app's start instead (a timer that watches the recovery itself).
    """

    def register(fn: Tick) -> Tick:
        if from_start:
            app.add_dependency(_FromStart(seconds, fn, name))
            return fn

        async def timer() -> None:
            await run_every(seconds, fn, name=name)

        timer.__name__ = timer.__qualname__ = name.replace("-", "_")
        app.task(timer)
        return fn

    return register
