"""Faust tables as the plain key-value stores the engines under ``streams/`` persist to."""

from __future__ import annotations

from collections.abc import Awaitable
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
        await self.put_soon(partition, key, value)

    def put_soon(self, partition: int, key: bytes, value: bytes | None) -> Awaitable[Any]:
        """Write at once and send the change; the result is done once Kafka acknowledged it.

        Several writes sent this way, then awaited together, wait for one round trip to
        Kafka instead of one each.
        """
        if value is None:
            self._table.data.pop(key, None)
        else:
            self._table.data[key] = value
        sent: Awaitable[Any] = self._table.send_changelog(partition, key, value)
        return sent
