"""The one way to retry: call, and on a transient failure wait a jittered backoff and call again.

:func:`retry` runs an async call until it succeeds, a failure is not retryable, the attempts
run out or the deadline passes. Waits come from :func:`streams.sinks.policy.backoff`: capped
exponential growth with jitter, so many workers do not retry in lockstep. Every failure is
logged with what was being done (``what``: a receiver, a topic) and reported to an optional
``on_failure`` hook, where callers count failures for ``/metrics``.

Whether a failure is retryable is asked of the exception: one with a false ``retryable``
attribute (as :class:`~streams.alertmanager.notify.NotifyError` has for a 400) is raised at
once; any other :class:`Exception` is retried. Cancellation is never retried.

Example:
    >>> import asyncio, random
    >>> calls, waits = [], []
    >>> async def flaky() -> str:
    ...     calls.append(1)
    ...     if len(calls) < 3:
    ...         raise ConnectionError("refused")
    ...     return "sent"
    >>> async def sleep(s: float) -> None:
    ...     waits.append(s)
    >>> asyncio.run(retry(flaky, what="webhook", min_s=1, max_s=8,
    ...                   rng=random.Random(1), sleep=sleep))
    'sent'
    >>> len(calls), 0.5 <= waits[0] <= 1 <= waits[1] <= 2  # ceilings 1 then 2, upper half
    (3, True)
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from streams.sinks.policy import backoff

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Failure:
    """One failed attempt, as given to the ``on_failure`` hook.

    Attributes:
        what: what was being done, as given to :func:`retry`.
        attempt: 1 for the first call, 2 for the first retry...
        error: what the call raised.
        retrying_in: seconds until the next attempt; None when there is none.
    """

    what: str
    attempt: int
    error: Exception
    retrying_in: float | None


def is_retryable(error: Exception) -> bool:
    """False when the error says so with ``retryable = False``; true otherwise.

    >>> Refused = type("Refused", (Exception,), {"retryable": False})
    >>> is_retryable(ConnectionError()), is_retryable(Refused())
    (True, False)
    """
    return bool(getattr(error, "retryable", True))


async def retry(
    call: Callable[[], Awaitable[T]],
    *,
    what: str,
    attempts: int | None = None,
    deadline_s: float | None = None,
    min_s: float = 0.5,
    max_s: float = 30.0,
    rng: random.Random | None = None,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    clock: Callable[[], float] = time.monotonic,
    retryable: Callable[[Exception], bool] = is_retryable,
    on_failure: Callable[[Failure], None] | None = None,
    logger: logging.Logger = log,
) -> T:
    """Await ``call()`` until it returns, retrying transient failures with jittered backoff.

    Args:
        call: makes one attempt; called anew for each.
        what: names what is retried in log lines (a receiver, a topic); never a secret.
        attempts: calls at most, the first included; None: no limit.
        deadline_s: seconds from now after which no new attempt starts; waits are cut to
            end at it. None: no deadline. With neither limit, retries go on until success or
            a failure that is not retryable.
        min_s: the first wait's ceiling; it doubles with each failure.
        max_s: the largest wait.
        rng: source of jitter (seeded in tests).
        sleep: waits; tests pass one that records and returns at once.
        clock: monotonic seconds, for the deadline.
        retryable: whether a failure is worth another attempt (default :func:`is_retryable`).
        on_failure: told of every failure, before the wait; counts failures for metrics.
        logger: where failures are logged (warning while retrying, error when giving up).

    Returns:
        What ``call`` returned.

    Raises:
        Exception: the last failure, when it is not retryable or no attempt is left.
    """
    end = None if deadline_s is None else clock() + deadline_s
    attempt = 0
    while True:
        attempt += 1
        try:
            return await call()
        except Exception as error:
            # Made at the first failure only: seeding one costs an os.urandom read, and the
            # agents call this once per batch they produce, nearly always with success.
            rng = rng or random.Random()
            wait: float | None = backoff(attempt - 1, minimum=min_s, maximum=max_s, rng=rng)
            if end is not None and wait is not None:
                left = end - clock()
                wait = min(wait, left) if left > 0 else None
            if not retryable(error) or (attempts is not None and attempt >= attempts):
                wait = None
            if on_failure is not None:
                on_failure(Failure(what, attempt, error, wait))
            if wait is None:
                logger.error("%s: attempt %d failed, giving up: %s", what, attempt, error)
                raise
            logger.warning(
                "%s: attempt %d failed, retrying in %.2fs: %s", what, attempt, wait, error
            )
            await sleep(wait)
