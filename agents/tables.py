"""Faust tables as the plain key-value stores the engines under ``streams/`` persist to."""

from __future__ import annotations

from typing import Any


class TableKeyValue:
    """A Faust table as a :class:`~streams.downsample.store.KeyValue` (bytes keys and values).

    Writes go to the changelog partition named by the caller (the partition of the source
    topic the table is co-partitioned with) and are awaited until Kafka acknowledged them,
    so a caller can acknowledge its input only once its state is durable.
    """

    def __init__(self, table: Any) -> None:
        self._table = table

    def get(self, key: bytes) -> bytes | None:
        value: bytes | None = self._table.data.get(key)
        return value

    async def put(self, partition: int, key: bytes, value: bytes | None) -> None:
        if value is None:
            self._table.data.pop(key, None)
        else:
            self._table.data[key] = value
        await self._table.send_changelog(partition, key, value)
