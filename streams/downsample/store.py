"""Snapshots kept in a key-value table, in pieces below the broker's message size limit.

A partition's snapshot can be far larger than one Kafka message (1 MB by default), so
:class:`ChunkedStore` keeps it as a :class:`~streams.chunks.ChunkedValues` value: numbered
chunks, then a small head that names them, written so that a worker killed at any moment
leaves the previous snapshot whole.

Keys, per partition ``p`` (generation ``g``, chunk ``i``)::

    ds/p            {"gen": g, "chunks": n, "size": bytes}
    ds/p/g/i        the i-th piece of the snapshot

Example:
    >>> store = ChunkedStore(table, chunk_bytes=500_000)  # doctest: +SKIP
    >>> await store.save(0, engine.snapshot(0))  # doctest: +SKIP
    >>> engine.restore(0, store.load(0))  # doctest: +SKIP
"""

from __future__ import annotations

from streams.chunks import ChunkedValues, KeyValue

__all__ = ["ChunkedStore", "KeyValue"]


def _head_key(partition: int) -> bytes:
    return f"ds/{partition}".encode()


class ChunkedStore:
    """A :class:`~streams.downsample.processor.SnapshotStore` over a :class:`KeyValue` table.

    Args:
        table: the table.
        chunk_bytes: the largest piece written.
    """

    def __init__(self, table: KeyValue, *, chunk_bytes: int = 500_000) -> None:
        self._values = ChunkedValues(table, chunk_bytes=chunk_bytes)

    def load(self, partition: int) -> bytes | None:
        """The partition's newest snapshot, or None if it has none.

        Raises:
            SnapshotError: the head names a chunk that is missing, or the sizes disagree.
        """
        return self._values.get(_head_key(partition))

    async def save(self, partition: int, data: bytes) -> None:
        """Write a snapshot as the partition's newest; return once every piece is durable."""
        await self._values.save(partition, _head_key(partition), data)
