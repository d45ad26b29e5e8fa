"""What one look at a cluster found: Kafka's offsets and groups, each process's ``/metrics``.

:mod:`streams.status.probe` fills an :class:`Observation` from the network; everything after
that (:mod:`streams.status.report`) is plain computation on two of them, so it is tested
without a cluster.

Example:
    >>> page = CollectorPage.from_json({"member": "c1:9091", "members": ["c1:9091"],
    ...     "activeTargets": [{"health": "up"}, {"health": "down"}]})
    >>> page.member, page.targets, page.targets_down
    ('c1:9091', 2, 1)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from streams.settings import Role
from streams.status.exposition import Metrics
from streams.status.lag import GroupMember, PartitionOffsets

ProcessKind = Literal["worker", "collector"]


@dataclass(frozen=True, slots=True)
class WorkerGroup:
    """One consumer group of the pipeline's workers, as its coordinator describes it.

    Attributes:
        group: its id.
        roles: the roles of the workers that join it: both for ``worker.app_id``, one for
            ``APP_ID-store`` and ``APP_ID-alert``.
        state: the coordinator's word for it (``Stable``, ``Empty``, ...); empty if unknown.
    """

    group: str
    roles: tuple[Role, ...]
    state: str = ""


@dataclass(frozen=True, slots=True)
class CollectorPage:
    """What a scraping collector's ``GET /targets`` says about itself.

    Attributes:
        member: its id in the collectors' cluster.
        members: the members its hash ring holds.
        targets: the targets it owns.
        targets_down: those whose last scrape failed.
    """

    member: str
    members: tuple[str, ...]
    targets: int
    targets_down: int

    @classmethod
    def from_json(cls, document: Mapping[str, Any]) -> CollectorPage:
        """Read the JSON document of ``GET /targets``."""
        active = document.get("activeTargets") or []
        return cls(
            str(document.get("member", "")),
            tuple(str(m) for m in document.get("members") or ()),
            len(active),
            sum(1 for t in active if t.get("health") == "down"),
        )


@dataclass(frozen=True, slots=True)
class Scrape:
    """One process's ``/metrics`` (and a collector's ``/targets``), or why it was not read.

    Attributes:
        kind: ``worker`` or ``collector``.
        url: the process's base URL.
        metrics: its samples; None when it could not be read.
        error: why it could not be read, or empty.
        page: a scraping collector's ``/targets``; None for workers and push-only collectors.
        member: the collector's id in the members topic, when its URL was derived from it.
    """

    kind: ProcessKind
    url: str
    metrics: Metrics | None
    error: str = ""
    page: CollectorPage | None = None
    member: str = ""

    @property
    def name(self) -> str:
        """A collector's member id, as its ``/targets`` or the members topic gives it."""
        return self.page.member if self.page is not None else self.member


@dataclass(frozen=True, slots=True)
class Observation:
    """Everything one look at the cluster found.

    Attributes:
        at: when (seconds on a monotonic clock: only differences are used).
        wall: when, as a Unix time.
        group: the worker group of the settings (``worker.group_id``).
        groups: the worker groups looked at, by id: those of the pipeline the broker knows,
            else the settings' one (see :mod:`streams.status.groups`).
        offsets: every partition each group consumes, with its offsets.
        members: every group's members and their assignments.
        held: records held by each topic no group consumes (dead-letter and late topics):
            end offset minus log start, summed over partitions.
        scrapes: every worker's and collector's metrics.
        collector_members: the collectors live in the members topic's heartbeats.
        alerts: the alerts of ``GET /api/v2/alerts`` (Alertmanager's API v2 objects).
        problems: what could not be read (Kafka, a worker's API, ...).
    """

    at: float
    wall: float
    group: str
    groups: tuple[WorkerGroup, ...] = ()
    offsets: tuple[PartitionOffsets, ...] = ()
    members: tuple[GroupMember, ...] = ()
    held: Mapping[str, int] = field(default_factory=dict)
    scrapes: tuple[Scrape, ...] = ()
    collector_members: tuple[str, ...] = ()
    alerts: tuple[Mapping[str, Any], ...] = ()
    problems: tuple[str, ...] = ()

    def scrape(self, url: str) -> Scrape | None:
        """The scrape of the process at ``url``, if any."""
        for scrape in self.scrapes:
            if scrape.url == url:
                return scrape
        return None
