"""Kafka's side of one look at a cluster: worker groups, committed offsets, topics' sizes and
the collectors' heartbeats, read with one admin client and one consumer.

Example:
    >>> async with KafkaLook(settings) as kafka:  # doctest: +SKIP
    ...     state, members = await kafka.group("pulseline-store")
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from streams.collector.membership import MemberTable
from streams.errors import PulselineError
from streams.settings import Settings
from streams.status.lag import GroupMember, group_member


class KafkaLook:
    """Reads the worker groups, their offsets and the topics' sizes with one admin client."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        kafka = settings.kafka
        self._admin = AIOKafkaAdminClient(
            bootstrap_servers=kafka.bootstrap_servers,
            request_timeout_ms=int(kafka.request_timeout_s * 1000),
        )
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=kafka.bootstrap_servers,
            enable_auto_commit=False,
            request_timeout_ms=int(kafka.request_timeout_s * 1000),
        )
        self._partitions: dict[str, list[int]] | None = None

    async def __aenter__(self) -> KafkaLook:
        try:
            await self._admin.start()
            await self._consumer.start()
        except (KafkaError, OSError) as exc:
            await self.__aexit__()
            raise PulselineError(
                f"cannot reach Kafka at {self._settings.kafka.broker}: {exc}"
            ) from None
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._consumer.stop()
        await self._admin.close()

    async def _topics(self) -> dict[str, list[int]]:
        """Every topic's partitions, asked of the broker once per look."""
        if self._partitions is None:
            await self._consumer._client.force_metadata_update()
            self._partitions = {
                topic: sorted(self._consumer.partitions_for_topic(topic) or ())
                for topic in sorted(await self._consumer.topics())
            }
        return self._partitions

    async def known_groups(self) -> set[str]:
        """The ids of the consumer groups the broker knows (with members or offsets)."""
        return {str(listed[0]) for listed in await self._admin.list_consumer_groups()}

    async def group(self, group_id: str) -> tuple[str, list[GroupMember]]:
        """A group's state and members."""
        # One group per request: Tansu answers a request for several with a broken response.
        [response] = await self._admin.describe_consumer_groups([group_id])
        error, _, state, _, _, members = response.groups[0][:6]
        if error:
            raise PulselineError(f"group {group_id!r}: DescribeGroups answered error {error}")
        return state, [group_member(group_id, *m[:5]) for m in members]

    async def committed(self, group_id: str) -> dict[tuple[str, int], int]:
        """A group's committed offsets, by ``(topic, partition)``.

        Asked for every partition of every topic by name: Tansu cannot answer a request for
        all of a group's offsets (aiokafka cannot read its answer and drops the connection).
        """
        tps = [TopicPartition(t, p) for t, parts in (await self._topics()).items() for p in parts]
        if not tps:
            return {}
        offsets = await self._admin.list_consumer_group_offsets(group_id, partitions=tps)
        return {(tp.topic, tp.partition): o.offset for tp, o in offsets.items() if o.offset >= 0}

    async def bounds(self, topics: Sequence[str]) -> dict[tuple[str, int], tuple[int, int]]:
        """The log start and end offsets of every partition of ``topics`` that exist."""
        known = await self._topics()
        tps = [TopicPartition(topic, p) for topic in topics for p in known.get(topic, ())]
        if not tps:
            return {}
        starts = await self._consumer.beginning_offsets(tps)
        ends = await self._consumer.end_offsets(tps)
        return {(tp.topic, tp.partition): (starts[tp], ends[tp]) for tp in tps}

    async def heartbeats(self, topic: str, timeout_s: float) -> tuple[str, ...]:
        """The collectors live in the members topic: a heartbeat younger than ``timeout_s``
        (by the records' timestamps) and no ``leaving`` after it."""
        tp = TopicPartition(topic, 0)
        reader = AIOKafkaConsumer(
            bootstrap_servers=self._settings.kafka.bootstrap_servers, enable_auto_commit=False
        )
        await reader.start()
        try:
            reader.assign([tp])
            now_ms = time.time() * 1000
            found = await reader.offsets_for_times({tp: int(now_ms - timeout_s * 1000)})
            end = (await reader.end_offsets([tp]))[tp]
            if found.get(tp) is None:
                return ()
            reader.seek(tp, found[tp].offset)
            table = MemberTable(timeout_s)
            while await reader.position(tp) < end:
                batch = await reader.getmany(tp, timeout_ms=1000)
                for message in batch.get(tp, []):
                    try:
                        beat = orjson.loads(message.value or b"")
                        table.saw(str(beat["member"]), str(beat["state"]), message.timestamp / 1000)
                    except (orjson.JSONDecodeError, KeyError, TypeError):
                        continue
            return tuple(sorted(table.live(now_ms / 1000)))
        finally:
            await reader.stop()
