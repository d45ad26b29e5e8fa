"""One look at a running cluster: Kafka's admin API, the members topic, each process's pages.

Everything here is I/O; what it finds goes into an
:class:`~streams.status.observation.Observation` unjudged, with whatever could not be read
listed in ``problems`` (the view shows a cluster half up as half up, it does not fail).

The worker groups looked at are those of the pipeline the broker knows, ``worker.app_id``
and its store and alert groups, else the settings' group (:mod:`streams.status.groups`).
Where the processes are comes from the settings and from the cluster itself:

- workers: the web address each Faust worker announces in its group metadata, in any of
  those groups; the settings' ``worker.web_host:web_port`` when none announces one; plus any
  ``--worker URL``;
- collectors: ``collector.listen`` from the settings, every live member of the members topic
  whose id is ``HOST:PORT`` (the default id), plus any ``--collector URL``.

Example:
    >>> look = await observe(settings, Targets.from_settings(settings))  # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp
import orjson
from aiokafka.errors import KafkaError

from streams.alertmanager.api.client import AlertmanagerClient, ClientError
from streams.errors import PulselineError
from streams.settings import Settings
from streams.status.exposition import ExpositionError, Metrics
from streams.status.groups import pipeline_groups, shown_groups
from streams.status.kafka import KafkaLook
from streams.status.lag import GroupMember, PartitionOffsets, shows_lag
from streams.status.observation import (
    CollectorPage,
    Observation,
    ProcessKind,
    Scrape,
    WorkerGroup,
)

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
        default_worker: read when no group names a worker: the settings' address.
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
    configured = settings.worker.group_id
    candidates = pipeline_groups(settings.worker)
    problems: list[str] = []
    groups: list[WorkerGroup] = []
    members: list[GroupMember] = []
    offsets: list[PartitionOffsets] = []
    held: dict[str, int] = {}
    live: tuple[str, ...] = ()
    set_aside = [topics.dlq(topics.raw), topics.late]
    leave_out = {*set_aside, topics.members}
    try:
        async with KafkaLook(settings) as kafka:
            shown = shown_groups(candidates, await kafka.known_groups(), configured)
            committed: dict[str, dict[tuple[str, int], int]] = {}
            consumed: dict[str, set[str]] = {}
            for group_id, roles in shown.items():
                state, found = await kafka.group(group_id)
                groups.append(WorkerGroup(group_id, roles, state))
                members += found
                committed[group_id] = await kafka.committed(group_id)
                consumed[group_id] = _consumed(group_id, committed[group_id], found, topics.raw)
                consumed[group_id] -= leave_out
            bounds = await kafka.bounds(sorted(set().union(*consumed.values())) + set_aside)
            offsets = [
                PartitionOffsets(g, t, p, start, end, committed[g].get((t, p)))
                for g in shown
                for (t, p), (start, end) in sorted(bounds.items())
                if t in consumed[g]
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
        group=configured,
        # Kafka not read: the settings' group, its state unknown.
        groups=tuple(groups) or (WorkerGroup(configured, candidates[configured]),),
        offsets=tuple(offsets),
        members=tuple(members),
        held=held,
        scrapes=_one_per_collector(scrapes),
        collector_members=live,
        alerts=alerts,
        problems=tuple(problems),
    )


def _consumed(
    group: str, committed: Iterable[tuple[str, int]], members: Iterable[GroupMember], raw: str
) -> set[str]:
    """The topics whose lag ``group``'s rows show: those it committed offsets of or is
    assigned, less Faust's own (see :func:`~streams.status.lag.shows_lag`), and ``raw``."""
    topics = {t for t, _ in committed} | {t for m in members for t, _ in m.assigned}
    return {t for t in topics if shows_lag(t, group)} | {raw}


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
