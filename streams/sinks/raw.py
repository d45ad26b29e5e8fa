"""The raw tier: decode batch records and write every point to the raw bucket.

This is the logic of the raw-sink agent, free of Faust so it can be tested with a fake
writer. :meth:`RawSink.process` returns only when each point is written or dead.

A record carries up to thousands of points of many series. A point that cannot be written
(line protocol cannot express it, or the database refuses it) is a dead letter alone: its
record's dead letter holds only the refused points (with the record's metric types), and the
record's other points are written. A record that is not a batch at all goes to the DLQ as it
came.

Example:
    >>> sink = RawSink(BatchSink(writer, batch_lines=5000))  # doctest: +SKIP
    >>> dead = await sink.process([InRecord(ref, b"host-1", value)])  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from streams.codecs.lineprotocol import render_lines
from streams.errors import RecordDecodeError
from streams.names import Render
from streams.records import Batch, Point, decode_record, encode_batch
from streams.sinks.batch import BatchSink, DeadLetter, Pending, RecordRef


@dataclass(frozen=True, slots=True)
class InRecord:
    """A Kafka record as the agent received it."""

    ref: RecordRef
    key: bytes | None
    value: bytes | None


@dataclass(slots=True)
class RawStats:
    """Counters of the raw sink beyond the writes themselves."""

    records: int = 0
    points: int = 0
    samples: int = 0
    undecodable: int = 0
    dead_points: int = 0


class RawSink:
    """Writes the points of batch records to the raw bucket through a :class:`BatchSink`.

    Args:
        sink: the raw bucket's sink.
        render: how points become lines for the store (``streams.names.RENDERERS``).
    """

    def __init__(self, sink: BatchSink, render: Render = render_lines) -> None:
        self.sink = sink
        self.stats = RawStats()
        self._render = render

    async def process(self, records: Sequence[InRecord]) -> list[DeadLetter]:
        """Write the records; return the dead letters: undecodable records whole, and the
        points line protocol or the database refused, per record."""
        dead: list[DeadLetter] = []
        pending: list[Pending] = []
        written: dict[RecordRef, tuple[Batch, list[Point]]] = {}
        refused: dict[RecordRef, tuple[str, list[Point]]] = {}
        stats = self.stats
        for record in records:
            stats.records += 1
            try:
                batch = decode_record(record.value or b"")
            except RecordDecodeError as exc:
                stats.undecodable += 1
                dead.append(DeadLetter(record.ref, f"undecodable record: {exc}"))
                continue
            points = batch.points
            stats.points += len(points)
            stats.samples += sum(len(p.fields) for p in points)
            try:
                text = self._render(points)
                good = points
            except ValueError:
                text, good, bad, reason = _render_each(points, self._render)
                refused[record.ref] = (f"unwritable point: {reason}", bad)
            written[record.ref] = (batch, good)
            pending.append(Pending(record.ref, text, len(good)))
        for letter in await self.sink.write(pending):
            batch, good = written[letter.ref]
            lines = range(len(good)) if letter.lines is None else letter.lines
            reason, bad = refused.get(letter.ref, (letter.reason, []))
            refused[letter.ref] = (reason, bad + [good[i] for i in lines])
        for record in records:
            if record.ref in refused:
                reason, bad = refused[record.ref]
                stats.dead_points += len(bad)
                value = encode_batch(bad, written[record.ref][0].types or None)
                dead.append(DeadLetter(record.ref, reason, value=value))
        return dead


def _render_each(
    points: Sequence[Point], render: Render
) -> tuple[str, list[Point], list[Point], str]:
    """Render the points one by one: (text of the good ones, good, bad, first reason)."""
    lines: list[str] = []
    good: list[Point] = []
    bad: list[Point] = []
    reason = ""
    for point in points:
        try:
            lines.append(render((point,)))
            good.append(point)
        except ValueError as exc:
            bad.append(point)
            reason = reason or f"{point.measurement}: {str(exc).removeprefix('point 0 ')}"
    return "\n".join(lines), good, bad, reason
