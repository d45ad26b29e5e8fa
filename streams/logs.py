"""Kafka client errors that repeat, logged once in a while with a count instead of each time.

While the broker is away or has lost topics, aiokafka logs the same error for every retry:
"Topic ... not found in cluster metadata" for each send waiting on a missing topic, "Unable
connect to node" for each reconnect, hundreds of lines a second. :class:`RepeatFilter`
lets each distinct warning or error through once per ``every_s`` seconds; the next one that
passes says how many were held back meanwhile, so nothing is hidden, only counted.

Example:
    >>> clock = iter([0.0, 1.0, 2.0, 11.0]).__next__
    >>> repeats = RepeatFilter(every_s=10, clock=clock)
    >>> record = lambda: logging.LogRecord("k", logging.ERROR, "", 0, "Topic %s gone", ("t",), None)
    >>> [repeats.filter(record()) for _ in range(3)]
    [True, False, False]
    >>> last = record(); repeats.filter(last), last.getMessage()
    (True, 'Topic t gone (and 2 more like it in the last 11 s)')
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable

KAFKA_CLIENT_LOGGERS = (
    "aiokafka",  # its client module logs under the package's name
    "aiokafka.cluster",
    "aiokafka.conn",
    "aiokafka.consumer.consumer",
    "aiokafka.consumer.fetcher",
    "aiokafka.consumer.group_coordinator",
    "aiokafka.producer.producer",
    "aiokafka.producer.sender",
)
"""The aiokafka modules that log per retry (a filter on a logger sees only its own records)."""

EVERY_S = 10.0
"""How often one message of the Kafka client may be logged."""

MAX_KEYS = 1024
"""Distinct messages remembered before those not seen for ``every_s`` are forgotten."""


class RepeatFilter(logging.Filter):
    """Passes a warning or error (logger, text and arguments) once per ``every_s`` seconds.

    Args:
        every_s: the shortest time between two passes of one message.
        clock: seconds, monotonic (injected by tests).
    """

    def __init__(self, every_s: float = EVERY_S, clock: Callable[[], float] = time.monotonic):
        super().__init__()
        self._every_s = every_s
        self._clock = clock
        self._seen: dict[tuple[str, str, str], list[float]] = {}  # [passed at, held since]

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:  # the client's progress, told once each time
            return True
        key = (record.name, str(record.msg), repr(record.args))
        now = self._clock()
        seen = self._seen.get(key)
        if seen is not None and now - seen[0] < self._every_s:
            seen[1] += 1
            return False
        if len(self._seen) >= MAX_KEYS:
            self._seen = {k: v for k, v in self._seen.items() if now - v[0] < self._every_s}
        self._seen[key] = [now, 0]
        if seen is not None and seen[1]:
            record.msg = (
                f"{record.msg} (and {seen[1]:.0f} more like it in the last {now - seen[0]:.0f} s)"
            )
        return True


def quiet_repeats(loggers: Iterable[str] = KAFKA_CLIENT_LOGGERS) -> RepeatFilter:
    """Put one :class:`RepeatFilter` on ``loggers`` (by default the Kafka client's), unless
    they have one already."""
    repeats = RepeatFilter()
    for name in loggers:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RepeatFilter) for f in logger.filters):
            logger.addFilter(repeats)
    return repeats
