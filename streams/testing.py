"""A test kit for pulseline users and our own tests: fakes for what talks to the outside.

Example:
    >>> writer = CollectingWriter(failures=[503])  # the first write fails with 503
    >>> sink = BatchSink(writer, batch_lines=5000)  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Iterable

from streams.errors import SinkError


class CollectingWriter:
    """A :class:`streams.sinks.influx.LineWriter` that keeps what it is given.

    Args:
        failures: HTTP statuses (None: no answer) for the next writes to fail with, in order.
        refuse: a write whose text contains this string fails with 400, as a database
            refuses a bad line.
        bucket: the bucket name it reports.
    """

    def __init__(
        self,
        failures: Iterable[int | None] = (),
        *,
        refuse: str | None = None,
        bucket: str = "metrics",
    ) -> None:
        self.bucket = bucket
        self.failures = list(failures)
        self.refuse = refuse
        self.bodies: list[str] = []
        self.attempts = 0

    @property
    def lines(self) -> list[str]:
        """Every line written so far, in order."""
        return [line for body in self.bodies for line in body.splitlines()]

    async def write(self, lines: str) -> None:
        """Keep ``lines``, or fail as told."""
        self.attempts += 1
        if self.failures:
            raise SinkError("injected failure", status=self.failures.pop(0), bucket=self.bucket)
        if self.refuse is not None and self.refuse in lines:
            raise SinkError(f"unable to parse {self.refuse!r}", status=400, bucket=self.bucket)
        self.bodies.append(lines)

    async def close(self) -> None:
        """Nothing to release."""
