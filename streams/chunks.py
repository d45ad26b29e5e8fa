"""Values larger than a Kafka message, kept in a changelog-backed table as numbered chunks.

A table update is one changelog record, and a broker refuses a record above its message
size limit (1 MB by default). :class:`ChunkedValues` writes a value as chunks of at most
``chunk_bytes`` and then a small head that names them. Every write gets a new generation;
the head is written last and the previous generation's chunks are deleted only after it,
so a worker killed in between leaves the previous value whole (its head still points at its
own chunks).

Keys, for a value stored under ``key`` (generation ``g``, chunk ``i``)::

    key             {"gen": g, "chunks": n, "size": bytes}
    key/g/i         the i-th piece of the value

With ``whole_if_fits``, a value no larger than one chunk is written whole under ``key`` (one
record, one round trip to Kafka: the common case of a small value stays as fast as a plain
table update); such a value, or one written before chunking existed, reads back as it is.

Example:
    >>> import asyncio
    >>> class Table(dict):
    ...     async def put(self, partition, key, value):
    ...         self.pop(key, None) if value is None else self.__setitem__(key, value)
    >>> values = ChunkedValues(Table(), chunk_bytes=4)
    >>> asyncio.run(values.save(0, b"state", b"0123456789"))
    >>> values.get(b"state"), sorted(values._table)
    (b'0123456789', [b'state', b'state/1/0', b'state/1/1', b'state/1/2'])
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


def _chunk_key(key: bytes, gen: int, index: int) -> bytes:
    return b"%s/%d/%d" % (key, gen, index)


def _head(raw: bytes) -> dict[str, int] | None:
    """The head in ``raw``, or None when ``raw`` is a whole value of the old layout."""
    try:
        head = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(head, dict) or set(head) != {"gen", "chunks", "size"}:
        return None
    try:
        return {name: int(head[name]) for name in ("gen", "chunks", "size")}
    except (TypeError, ValueError):
        return None


class ChunkedValues:
    """A :class:`KeyValue` table holding values of any size.

    Args:
        table: the table.
        chunk_bytes: the largest piece written (keep it below the broker's message limit).
        whole_if_fits: write a value that fits in one chunk whole (its bytes must never be
            the JSON of a head: an object of exactly ``gen``, ``chunks`` and ``size``).
    """

    def __init__(
        self, table: KeyValue, *, chunk_bytes: int = 500_000, whole_if_fits: bool = False
    ) -> None:
        if chunk_bytes < 1:
            raise ValueError("chunk_bytes must be positive")
        self._table = table
        self._chunk = chunk_bytes
        self._whole = whole_if_fits

    def get(self, key: bytes) -> bytes | None:
        """The value under ``key``, or None.

        Raises:
            SnapshotError: the head names a chunk that is missing, or the sizes disagree.
        """
        raw = self._table.get(key)
        if raw is None:
            return None
        head = _head(raw)
        if head is None:
            return raw
        pieces: list[bytes] = []
        for index in range(head["chunks"]):
            piece = self._table.get(_chunk_key(key, head["gen"], index))
            if piece is None:
                raise SnapshotError(
                    f"{key.decode(errors='replace')}: generation {head['gen']} lacks chunk "
                    f"{index} of {head['chunks']}"
                )
            pieces.append(piece)
        data = b"".join(pieces)
        if len(data) != head["size"]:
            raise SnapshotError(
                f"{key.decode(errors='replace')}: {len(data)} bytes, its head says {head['size']}"
            )
        return data

    async def save(self, partition: int, key: bytes, data: bytes) -> None:
        """Write ``data`` under ``key``; return once every piece is durable."""
        raw = self._table.get(key)
        old = _head(raw) if raw is not None else None
        put, step = self._table.put, self._chunk
        if self._whole and len(data) <= step and _head(data) is None:
            await put(partition, key, data)
        else:
            gen = old["gen"] + 1 if old else 1
            starts = range(0, len(data), step)
            await asyncio.gather(
                *(
                    put(partition, _chunk_key(key, gen, i), data[s : s + step])
                    for i, s in enumerate(starts)
                )
            )
            head: dict[str, Any] = {"gen": gen, "chunks": len(starts), "size": len(data)}
            await put(partition, key, orjson.dumps(head))
        if old:  # the previous generation's chunks, once nothing points at them
            gone = [_chunk_key(key, old["gen"], i) for i in range(old["chunks"])]
            await asyncio.gather(*(put(partition, k, None) for k in gone))
