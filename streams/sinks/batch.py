"""Acknowledged batch writes with retries, back-pressure and dead-letter isolation.

:class:`BatchSink` writes the line-protocol text of many Kafka records as few large
requests. It returns only when every line is either acknowledged by the database or
isolated as a dead letter (see :mod:`streams.sinks.policy`); transient failures are retried
forever with backoff, which blocks the caller and so the partition: Kafka keeps the rest.
A refused request is split in halves until the refused records are alone, and a refused
record in halves until its refused lines are alone: one bad point costs only itself.

Example:
    >>> sink = BatchSink(writer, batch_lines=5000)  # doctest: +SKIP
    >>> dead = await sink.write([Pending(ref, "cpu usage=1 1", lines=1)])  # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from streams.errors import SinkError
from streams.sinks.influx import LineWriter
from streams.sinks.policy import Action, backoff, decide

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RecordRef:
    """Where a Kafka record came from."""

    topic: str
    partition: int
    offset: int

    def __str__(self) -> str:
        return f"{self.topic}[{self.partition}]@{self.offset}"


@dataclass(frozen=True, slots=True)
class Pending:
    """One record's rendered lines, waiting to be written."""

    ref: RecordRef
    text: str
    lines: int


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A record, or some lines of it, that cannot be written, and why.

    Attributes:
        ref: the record.
        reason: the database's answer (to the first refused line).
        lines: the positions of the refused lines in the record's text; None: the whole
            record (its other lines, if any, are written).
        value: what to send to the dead-letter topic instead of the record (the refused
            points of it); None: the record as it came.
    """

    ref: RecordRef
    reason: str
    lines: tuple[int, ...] | None = None
    value: bytes | None = None


@dataclass(slots=True)
class SinkStats:
    """Counters of one sink, read by the metrics endpoint."""

    lines_written: int = 0
    requests: int = 0
    failed_requests: int = 0
    retries: int = 0
    dead_letters: int = 0
    blocked: bool = False
    last_error: str = ""
    failures_by_status: dict[str, int] = field(default_factory=dict)


class BatchSink:
    """Writes batches of records through a :class:`LineWriter`, never losing one.

    Args:
        writer: the database client for one bucket.
        batch_lines: most lines in one request; records are never split across requests.
        retry_min_s: first backoff.
        retry_max_s: longest backoff.
        sleep: how to wait (injected so tests need not wait).
        rng: jitter source.
    """

    def __init__(
        self,
        writer: LineWriter,
        *,
        batch_lines: int,
        retry_min_s: float = 0.2,
        retry_max_s: float = 10.0,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.writer = writer
        self.stats = SinkStats()
        self._batch_lines = batch_lines
        self._retry_min = retry_min_s
        self._retry_max = retry_max_s
        self._sleep = sleep
        self._rng = rng or random.Random()

    async def write(self, items: Sequence[Pending]) -> list[DeadLetter]:
        """Write every item; return the ones isolated as dead letters.

        Returns only when each item is acknowledged or dead. Never raises but for
        cancellation.
        """
        dead: list[DeadLetter] = []
        for group in self._groups([i for i in items if i.lines]):
            await self._write_group(group, dead)
        return dead

    def _groups(self, items: Sequence[Pending]) -> list[list[Pending]]:
        groups: list[list[Pending]] = []
        current: list[Pending] = []
        size = 0
        for item in items:
            if current and size + item.lines > self._batch_lines:
                groups.append(current)
                current, size = [], 0
            current.append(item)
            size += item.lines
        if current:
            groups.append(current)
        return groups

    async def _write_group(self, group: list[Pending], dead: list[DeadLetter]) -> None:
        refused = await self._send("\n".join(item.text for item in group), group)
        if refused is None:
            self.stats.lines_written += sum(item.lines for item in group)
        elif len(group) > 1:
            half = len(group) // 2
            await self._write_group(group[:half], dead)
            await self._write_group(group[half:], dead)
        elif group[0].lines > 1:
            await self._isolate_lines(group[0], refused, dead)
        else:
            self._dead(DeadLetter(group[0].ref, str(refused)), dead)

    async def _isolate_lines(self, item: Pending, exc: SinkError, dead: list[DeadLetter]) -> None:
        """Find the refused lines of a refused record, writing the others."""
        lines = item.text.split("\n")
        refused: list[tuple[int, SinkError]] = []

        async def narrow(positions: list[int], exc: SinkError) -> None:
            if len(positions) == 1:
                refused.append((positions[0], exc))
                return
            half = len(positions) // 2
            for part in (positions[:half], positions[half:]):
                failed = await self._send("\n".join(lines[i] for i in part), [item])
                if failed is None:
                    self.stats.lines_written += len(part)
                else:
                    await narrow(part, failed)

        await narrow(list(range(len(lines))), exc)
        bad = tuple(i for i, _ in refused)
        more = f" (and {len(bad) - 1} more of its lines)" if len(bad) > 1 else ""
        self._dead(DeadLetter(item.ref, f"{refused[0][1]}{more}", bad), dead)

    def _dead(self, letter: DeadLetter, dead: list[DeadLetter]) -> None:
        which = "" if letter.lines is None else f" lines {list(letter.lines)[:10]}"
        log.error("dead letter %s%s: %s", letter.ref, which, letter.reason)
        self.stats.dead_letters += 1
        dead.append(letter)

    async def _send(self, text: str, group: Sequence[Pending]) -> SinkError | None:
        """Write ``text``, retrying transient failures; the error when it was refused."""
        attempt = 0
        while True:
            self.stats.requests += 1
            try:
                await self.writer.write(text)
            except SinkError as exc:
                self._count_failure(exc)
                if decide(exc.status) is Action.RETRY:
                    delay = backoff(
                        attempt, minimum=self._retry_min, maximum=self._retry_max, rng=self._rng
                    )
                    self._log_retry(exc, attempt, delay, group)
                    attempt += 1
                    self.stats.retries += 1
                    self.stats.blocked = True
                    await self._sleep(delay)
                    continue
                self.stats.blocked = False
                return exc
            self.stats.blocked = False
            if attempt:
                log.warning(
                    "bucket %r: write succeeded after %d retries", self.writer.bucket, attempt
                )
            return None

    def _count_failure(self, exc: SinkError) -> None:
        self.stats.failed_requests += 1
        self.stats.last_error = str(exc)
        key = "none" if exc.status is None else str(exc.status)
        self.stats.failures_by_status[key] = self.stats.failures_by_status.get(key, 0) + 1

    def _log_retry(
        self, exc: SinkError, attempt: int, delay: float, group: Sequence[Pending]
    ) -> None:
        # Log the first failure and then every tenth, so an outage is visible but not a flood.
        if attempt % 10 == 0:
            first, last = group[0].ref, group[-1].ref
            log.warning(
                "%s; retry %d in %.1fs, holding %d records (%s .. %s) until it succeeds",
                exc,
                attempt + 1,
                delay,
                len(group),
                first,
                last,
            )
