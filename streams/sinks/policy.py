"""The sink's one error policy: what to do when a write fails.

The decision table, from the HTTP status of the failed write (None: no answer at all, such
as a refused connection or a timeout):

===================  =========  =======================================================
status               action     why
===================  =========  =======================================================
None (no answer)     RETRY      the database is down or unreachable; Kafka holds the data
429, 5xx             RETRY      overloaded or failing; back off and try again
401, 403, 404        RETRY      a token or bucket is wrong: the data is fine, an operator
                                must fix the configuration, so keep it and keep trying
400, 413, 422        ISOLATE    the data is at fault: split the batch until the bad
                                record is alone, then send that record to the DLQ
other 4xx            ISOLATE    as above
===================  =========  =======================================================

A RETRY blocks the partition: that is the back-pressure that keeps nothing lost.

Example:
    >>> decide(503), decide(400), decide(None)
    (<Action.RETRY: 'retry'>, <Action.ISOLATE: 'isolate'>, <Action.RETRY: 'retry'>)
"""

from __future__ import annotations

import enum
import random


class Action(enum.Enum):
    """What the sink does with a batch whose write failed."""

    RETRY = "retry"
    ISOLATE = "isolate"


_CONFIGURATION = frozenset({401, 403, 404})


def decide(status: int | None) -> Action:
    """Decide what to do after a write failed with ``status`` (None: no answer)."""
    if status is None or status == 429 or status >= 500 or status in _CONFIGURATION:
        return Action.RETRY
    return Action.ISOLATE


def backoff(attempt: int, *, minimum: float, maximum: float, rng: random.Random) -> float:
    """Seconds to wait before retry number ``attempt`` (0-based): capped exponential, jittered.

    The wait grows as ``minimum * 2**attempt`` up to ``maximum``; full jitter of the upper
    half keeps many workers from retrying in lockstep.
    """
    ceiling = min(maximum, minimum * 2.0 ** min(attempt, 32))
    return ceiling / 2 + rng.random() * ceiling / 2
