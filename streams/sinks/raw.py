"""The raw tier: decode batch records and write every point to the raw bucket.

This is the logic of the raw-sink agent, free of Faust so it can be tested with a fake
writer. :meth:`RawSink.process` returns only when each record is written or dead.

Example:
    >>> sink = RawSink(BatchSink(writer, batch_lines=5000))  # doctest: +SKIP
    >>> dead = await sink.process([InRecord(ref, b"host-1", value)])  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from streams.codecs.lineprotocol import render_lines
from streams.errors import RecordDecodeError
from streams.records import decode_batch
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


class RawSink:
    """Writes the points of batch records to the raw bucket through a :class:`BatchSink`."""

    def __init__(self, sink: BatchSink) -> None:
        self.sink = sink
        self.stats = RawStats()

    async def process(self, records: Sequence[InRecord]) -> list[DeadLetter]:
        """Write the records; return those that went dead (undecodable or refused)."""
        dead: list[DeadLetter] = []
        pending: list[Pending] = []
        stats = self.stats
        for record in records:
            stats.records += 1
            try:
                points = decode_batch(record.value or b"")
                text = render_lines(points)
            except (RecordDecodeError, ValueError) as exc:
                stats.undecodable += 1
                dead.append(DeadLetter(record.ref, f"undecodable record: {exc}"))
                continue
            stats.points += len(points)
            stats.samples += sum(len(p.fields) for p in points)
            pending.append(Pending(record.ref, text, len(points)))
        dead.extend(await self.sink.write(pending))
        return dead
