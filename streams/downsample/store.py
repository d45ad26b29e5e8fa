"""Snapshots kept in a key-value table, in pieces below the broker's message size limit.

A partition's snapshot can be far larger than one Kafka message (1 MB by default), so
:class:`ChunkedStore` writes it as numbered chunks and then a small head that names them.
Every snapshot gets a new generation number; the head is written last and the previous
generation's chunks are deleted only after it, so a worker killed in between leaves the
previous snapshot whole (its head still points at its own chunks).

Keys, per partition ``p`` (generation ``g``, chunk ``i``)::

    ds/p            {"gen": g, "chunks": n, "size": bytes}
    ds/p/g/i        the i-th piece of the snapshot

Example:
    >>> store = ChunkedStore(table, chunk_bytes=500_000)  # doctest: +SKIP
    >>> await store.save(0, engine.snapshot(0))  # doctest: +SKIP
    >>> engine.restore(0, store.load(0))  # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
from typing import Any, Protocol

import orjson

from streams.errors import SnapshotError


class KeyValue(Protocol):
    """A table whose writes are routed to a given partition and awaited."""

    def get(self, key: bytes) -> bytes | None:
        """A key's value, or None."""

    async def put(self, partition: int, key: bytes, value: bytes | None) -> None:
        """Set (or delete, with None) a key in a partition; return once it is durable."""


def _head_key(partition: int) -> bytes:
    return f"ds/{partition}".encode()


def _chunk_key(partition: int, gen: int, index: int) -> bytes:
    return f"ds/{partition}/{gen}/{index}".encode()


class ChunkedStore:
    """A :class:`~streams.downsample.processor.SnapshotStore` over a :class:`KeyValue` table.

    Args:
        table: the table.
        chunk_bytes: the largest piece written.
    """

    def __init__(self, table: KeyValue, *, chunk_bytes: int = 500_000) -> None:
        if chunk_bytes < 1:
            raise ValueError("chunk_bytes must be positive")
        self._table = table
        self._chunk = chunk_bytes

    def _head(self, partition: int) -> dict[str, Any] | None:
        raw = self._table.get(_head_key(partition))
        if raw is None:
            return None
        try:
            head = orjson.loads(raw)
            return {
                "gen": int(head["gen"]),
                "chunks": int(head["chunks"]),
                "size": int(head["size"]),
            }
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            raise SnapshotError(
                f"partition {partition}: damaged snapshot head {raw[:80]!r}"
            ) from None

    def load(self, partition: int) -> bytes | None:
        """The partition's newest snapshot, or None if it has none.

        Raises:
            SnapshotError: the head names a chunk that is missing, or the sizes disagree.
        """
        head = self._head(partition)
        if head is None:
            return None
        pieces: list[bytes] = []
        for index in range(head["chunks"]):
            piece = self._table.get(_chunk_key(partition, head["gen"], index))
            if piece is None:
                raise SnapshotError(
                    f"partition {partition}: snapshot generation {head['gen']} lacks chunk "
                    f"{index} of {head['chunks']}"
                )
            pieces.append(piece)
        data = b"".join(pieces)
        if len(data) != head["size"]:
            raise SnapshotError(
                f"partition {partition}: snapshot has {len(data)} bytes, "
                f"its head says {head['size']}"
            )
        return data

    async def save(self, partition: int, data: bytes) -> None:
        """Write a snapshot as the partition's newest; return once every piece is durable."""
        try:
            old = self._head(partition)
        except SnapshotError:
            old = None
        gen = old["gen"] + 1 if old else 1
        put, step = self._table.put, self._chunk
        starts = range(0, len(data), step)
        await asyncio.gather(
            *(
                put(partition, _chunk_key(partition, gen, i), data[s : s + step])
                for i, s in enumerate(starts)
            )
        )
        head = {"gen": gen, "chunks": len(starts), "size": len(data)}
        await put(partition, _head_key(partition), orjson.dumps(head))
        if old:
            await asyncio.gather(
                *(
                    put(partition, _chunk_key(partition, old["gen"], i), None)
                    for i in range(old["chunks"])
                )
            )
