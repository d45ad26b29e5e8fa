"""Take a batch, acknowledge exactly what was processed: every agent's way to read a topic.

Faust's ``Stream.take``/``noack_take`` and its commit bookkeeping lost records after a worker
restart with a backlog (see :mod:`streams.offsets` for how). :class:`Takes` replaces them:

- it reads the agent's stream itself, with Faust's acknowledgements off;
- it hands each partition's records in offset order, each once, none skipped: a record
  from an older rebalance generation or already handed is released unprocessed, and a hole
  in the sequence makes the ledger read the missing records again;
- :meth:`Takes.ack` tells the :class:`~streams.offsets.OffsetLedger` which records the
  agent finished; the worker commits only offsets that every reader of the topic finished
  (:class:`agents.consumer.LedgerConsumer`).

A batch holds at most ``max_records`` records and is handed at most ``within_s`` seconds
after its first record arrived.

Example::

    takes = Takes(ledger, "raw-sink", "metrics.raw", max_records=100, within_s=0.2)

    @app.agent(topic, name="raw-sink", concurrency=1)
    async def raw_sink(stream):
        async for events in takes.batches(stream):
            await write(events)
            takes.ack(events)  # only what was processed; the rest is read again
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterable
from typing import Any

from streams.offsets import OffsetLedger


class Takes:
    """One agent's batches of one or more topics, and their acknowledgement.

    Args:
        ledger: the worker's ledger; the agent is registered as a reader of ``topics``.
        agent: the agent's name (one reader per agent).
        topics: the topics the agent reads.
        max_records: most records in one batch.
        within_s: longest wait, after a batch's first record, for the batch to fill.
        idle_s: after this long without a record, ask the ledger whether records the
            agent waits for exist (:meth:`~streams.offsets.OffsetLedger.idle`).
    """

    def __init__(
        self,
        ledger: OffsetLedger,
        agent: str,
        topics: str | Iterable[str],
        *,
        max_records: int,
        within_s: float,
        idle_s: float = 10.0,
    ) -> None:
        if max_records < 1:
            raise ValueError("max_records must be at least 1")
        self.ledger = ledger
        self.agent = agent
        self._max = max_records
        self._within = within_s
        self._idle = idle_s
        for topic in [topics] if isinstance(topics, str) else topics:
            ledger.register(topic, agent)

    async def batches(self, stream: Any) -> AsyncIterator[list[Any]]:
        """The agent's events, in batches; the stream's own acknowledgements are turned off."""
        stream.enable_acks = False  # acknowledgements are the agent's, through ack()
        async for batch in self.batch(stream.events()):
            yield batch

    async def batch(self, events: AsyncIterator[Any]) -> AsyncIterator[list[Any]]:
        """Batches of ``events`` (Faust events: ``.message`` and ``.ack()``) as handed.

        At most one record is read ahead while the agent processes a batch.
        """
        loop = asyncio.get_running_loop()
        it = aiter(events)
        pending: asyncio.Future[Any] | None = None
        try:
            while True:
                batch: list[Any] = []
                deadline: float | None = None
                ended = False
                while len(batch) < self._max:
                    if pending is None:
                        pending = asyncio.ensure_future(anext(it))
                    left = None if deadline is None else max(0.0, deadline - loop.time())
                    timeout = self._idle if left is None else left
                    done, _ = await asyncio.wait({pending}, timeout=timeout)
                    if not done:
                        if deadline is None:
                            await self.ledger.idle(self.agent)
                            continue
                        break  # the record read ahead stays pending for the next batch
                    ready, pending = pending, None
                    try:
                        event = ready.result()
                    except StopAsyncIteration:
                        ended = True
                        break
                    if await self._admit(event):
                        batch.append(event)
                        if deadline is None:
                            deadline = loop.time() + self._within
                    else:
                        event.ack()  # release Faust's reference; the ledger decides commits
                if batch:
                    yield batch
                if ended:
                    return
        finally:
            if pending is not None:
                pending.cancel()
                with contextlib.suppress(BaseException):
                    await pending

    async def _admit(self, event: Any) -> bool:
        message = event.message
        return await self.ledger.admit(
            self.agent,
            (message.topic, message.partition),
            message.offset,
            generation=message.generation_id,
            current=event.app.consumer_generation_id,
        )

    def ack(self, events: Iterable[Any]) -> None:
        """Record ``events`` as processed: their offsets may be committed once every reader
        of their topic processed them. Acknowledge only what was processed (written,
        dead-lettered, or decided to need nothing); the rest is read again after a restart.
        """
        ledger, agent = self.ledger, self.agent
        for event in events:
            message = event.message
            ledger.finish(agent, (message.topic, message.partition), message.offset)
            event.ack()
