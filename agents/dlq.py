"""Sending dead letters: the original record, with the reason and provenance in headers."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import faust

from streams.retry import retry
from streams.sinks.batch import DeadLetter, RecordRef
from streams.sinks.raw import InRecord

log = logging.getLogger(__name__)


class DeadLetterSender:
    """Produces dead letters to a DLQ topic and waits for Kafka's acknowledgement.

    A dead letter is the record as it came, or, when only some of its points were refused, a
    batch of those points (with the record's key). Headers: ``pulseline-reason``,
    ``pulseline-stage``, ``pulseline-source`` (``topic[p]@offset``). A failed send is retried
    until it succeeds: the records are not acknowledged before.
    """

    def __init__(self, app: faust.App, topic: str, *, stage: str) -> None:
        self._topic = app.topic(topic)
        self._stage = stage.encode()

    async def send(self, dead: Sequence[DeadLetter], records: Mapping[RecordRef, InRecord]) -> None:
        """Send every dead letter; return once Kafka acknowledged all of them."""
        for letter in dead:
            record = records[letter.ref]
            headers = [
                ("pulseline-reason", letter.reason.encode()[:4000]),
                ("pulseline-stage", self._stage),
                ("pulseline-source", str(letter.ref).encode()),
            ]
            if letter.value is not None:
                record = InRecord(record.ref, record.key, letter.value)
            await self._send_one(record, headers)

    async def _send_one(self, record: InRecord, headers: list[tuple[str, bytes]]) -> None:
        async def send() -> None:
            future: Any = await self._topic.send(
                key=record.key, value=record.value, headers=headers, force=True
            )
            await future

        # Kafka away: hold the record (unacknowledged) until it is back.
        await retry(send, what=f"sending {record.ref} to the DLQ", max_s=10.0, logger=log)
