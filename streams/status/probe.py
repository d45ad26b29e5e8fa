"""One look at a running cluster: Kafka's admin API, the members topic, each process's pages.

Everything here is I/O; what it finds goes into an
:class:`~streams.status.observation.Observation` unjudged, with whatever could not be read
listed in ``problems`` (the view shows a cluster half up as half up, it does not fail).

Where the processes are comes from the settings and from the cluster itself:

- workers: the web address each Faust worker announces in its group metadata; the settings'
  ``worker.web_host:web_port`` when the group has none; plus any ``--worker URL``;
- collectors: ``collector.listen`` from the settings, every live member of the members topic
  whose id is ``HOST:PORT`` (the default id), plus any ``--collector URL``.

Example:
    >>> look = await observe(settings, Targets.from_settings(settings))  # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp
import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from streams.alertmanager.api.client import AlertmanagerClient, ClientError
from streams.collector.membership import MemberTable
from streams.errors import PulselineError
from streams.settings import Settings
from streams.status.exposition import ExpositionError, Metrics
from streams.status.lag import GroupMember, PartitionOffsets, group_member, shows_lag
from streams.status.observation import CollectorPage, Observation, ProcessKind, Scrape

HTTP_TIMEOUT_S = 5.0
"""Longest wait for one process's page."""


def reachable(listen: str) -> str:
    """The URL of a server bound to ``HOST:PORT``, with a wildcard host made local.

    Example:
        >>> reachable("0.0.0.0:9091"), reachable("10.1.2.3:9091")
        ('http://127.0.0.1:9091', 'http://10.1.2.3:9091')
    """
    host, _, port = listen.rpartition(":")
    host = "127.0.0.1" if host in ("", "0.0.0.0", "::", "[::]") else host
    return f"http://{host}:{port}"


def member_url(member: str) -> str | None:
    """The URL of a collector whose member id is ``HOST:PORT`` (the default id), else None.

    Example:
        >>> member_url("collector-1:9091"), member_url("eu-west-a")
        ('http://collector-1:9091', None)
    """
    host, sep, port = member.rpartition(":")
    return f"http://{host}:{port}" if sep and host and port.isdigit() else None


@dataclass(frozen=True, slots=True)
class Targets:
    """The processes to read besides those the cluster names.

    Attributes:
        workers: worker URLs always read (``--worker``).
        collectors: collector URLs always read (``--collector``).
        default_worker: read when the group names no worker: the settings' address.
        default_collector: the settings' collector address.
    """

    workers: tuple[str, ...]
    collectors: tuple[str, ...]
    default_worker: str
    default_collector: str

    @classmethod
    def from_settings(
        cls, settings: Settings, workers: Sequence[str] = (), collectors: Sequence[str] = ()
    ) -> Targets:
        """The settings' addresses, and the extra URLs given on the command line."""
        worker = settings.worker
        return cls(
            tuple(u.rstrip("/") for u in workers),
            tuple(u.rstrip("/") for u in collectors),
            reachable(f"{worker.web_host}:{worker.web_port}"),
            reachable(settings.collector.listen),
        )


class KafkaLook:
    """Reads the worker group, its offsets and the topics' sizes with one admin client."""

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

    async def group(self) -> tuple[str, list[GroupMember]]:
        """The worker group's state and members."""
        group_id = self._settings.worker.group_id
        [response] = await self._admin.describe_consumer_groups([group_id])
        error, _, state, _, _, members = response.groups[0][:6]
        if error:
            raise PulselineError(f"group {group_id!r}: DescribeGroups answered error {error}")
        return state, [group_member(*m[:5]) for m in members]

    async def committed(self) -> dict[tuple[str, int], int]:
        """The group's committed offsets, by ``(topic, partition)``."""
        offsets = await self._admin.list_consumer_group_offsets(self._settings.worker.group_id)
        return {(tp.topic, tp.partition): o.offset for tp, o in offsets.items() if o.offset >= 0}

    async def bounds(self, topics: Sequence[str]) -> dict[tuple[str, int], tuple[int, int]]:
        """The log start and end offsets of every partition of ``topics`` that exist."""
        await self._consumer._client.force_metadata_update()
        tps = [
            TopicPartition(topic, p)
            for topic in topics
            for p in sorted(self._consumer.partitions_for_topic(topic) or ())
        ]
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


async def _get(session: aiohttp.ClientSession, url: str) -> tuple[int, bytes]:
    async with session.get(url) as response:
        return response.status, await response.read()


async def scrape(
    session: aiohttp.ClientSession, kind: ProcessKind, url: str, member: str = ""
) -> Scrape:
    """Read one process's ``/metrics`` (and a collector's ``/targets``); ``member`` is the
    collector's id when its URL was derived from it."""
    try:
        status, body = await _get(session, f"{url}/metrics")
        if status != 200:
            return Scrape(kind, url, None, f"/metrics answered {status}", member=member)
        metrics = Metrics.parse(body.decode(errors="replace"), f"{url}/metrics")
        page = None
        if kind == "collector":
            status, body = await _get(session, f"{url}/targets")
            if status == 200:
                page = CollectorPage.from_json(orjson.loads(body))
        return Scrape(kind, url, metrics, "", page, member)
    except (aiohttp.ClientError, TimeoutError, ExpositionError, ValueError) as exc:
        return Scrape(kind, url, None, str(exc) or type(exc).__name__, member=member)


async def firing(urls: Sequence[str]) -> tuple[tuple[dict[str, Any], ...], str]:
    """The alerts of the first worker whose API answers, and a problem if none did."""
    errors = []
    for url in urls:
        try:
            return tuple(await AlertmanagerClient(url, HTTP_TIMEOUT_S).alerts()), ""
        except ClientError as exc:
            errors.append(str(exc))
    return (), "no worker's alert API answered" + (f": {errors[-1]}" if errors else "")


async def observe(
    settings: Settings,
    targets: Targets,
    *,
    clock: Callable[[], float] = time.monotonic,
    wall: Callable[[], float] = time.time,
) -> Observation:
    """Look at the cluster once. Kafka out of reach is a problem listed, not an error."""
    topics = settings.topics
    group_id = settings.worker.group_id
    problems: list[str] = []
    state = ""
    members: list[GroupMember] = []
    offsets: list[PartitionOffsets] = []
    held: dict[str, int] = {}
    live: tuple[str, ...] = ()
    set_aside = [topics.dlq(topics.raw), topics.late]
    try:
        async with KafkaLook(settings) as kafka:
            state, members = await kafka.group()
            committed = await kafka.committed()
            consumed = {t for t, _ in committed} | {t for m in members for t, _ in m.assigned}
            consumed = {t for t in consumed if shows_lag(t, group_id)}
            consumed = (consumed | {topics.raw}) - {*set_aside, topics.members}
            bounds = await kafka.bounds(sorted(consumed) + set_aside)
            offsets = [
                PartitionOffsets(t, p, start, end, committed.get((t, p)))
                for (t, p), (start, end) in sorted(bounds.items())
                if t in consumed
            ]
            for t in set_aside:
                held[t] = sum(e - s for (topic, _), (s, e) in bounds.items() if topic == t)
            live = await kafka.heartbeats(topics.members, settings.collector.member_timeout_s)
    except (PulselineError, KafkaError, OSError) as exc:
        problems.append(str(exc) or type(exc).__name__)
    announced = [m.url for m in members if m.url]
    workers = list(dict.fromkeys([*targets.workers, *(announced or [targets.default_worker])]))
    named = list(dict.fromkeys([*targets.collectors, targets.default_collector]))
    timeout = aiohttp.ClientTimeout(total=HTTP_TIMEOUT_S)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        scrapes = await asyncio.gather(
            *(scrape(session, "worker", u) for u in workers),
            *(scrape(session, "collector", u) for u in named),
        )
        # Then the live members that none of the collectors read so far says it is.
        known = {s.page.member for s in scrapes if s.page is not None}
        unknown = [(m, member_url(m)) for m in live if m not in known]
        scrapes += await asyncio.gather(
            *(scrape(session, "collector", url, member=m) for m, url in unknown if url)
        )
    alerts, problem = await firing([s.url for s in scrapes if s.kind == "worker" and s.metrics])
    if problem:
        problems.append(problem)
    return Observation(
        at=clock(),
        wall=wall(),
        group=group_id,
        group_state=state,
        offsets=tuple(offsets),
        members=tuple(members),
        held=held,
        scrapes=_one_per_collector(scrapes),
        collector_members=live,
        alerts=alerts,
        problems=tuple(problems),
    )


def _one_per_collector(scrapes: Sequence[Scrape]) -> tuple[Scrape, ...]:
    """The scrapes, a collector reached at two URLs (a `--collector` and the settings') once."""
    seen: set[str] = set()
    kept = []
    for s in scrapes:
        if s.page is not None:
            if s.page.member in seen:
                continue
            seen.add(s.page.member)
        kept.append(s)
    return tuple(kept)
