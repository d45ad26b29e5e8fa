"""The rows of ``pulseline status``, computed from two observations of a cluster.

Counters become rates between the two observations (:mod:`streams.status.rates`); offsets
become lag per group (:mod:`streams.status.lag`, :mod:`streams.status.groups`); everything
else is read from the newer one. With a single observation (``before`` None) every rate is
unknown (None), never a made-up 0.

Example:
    >>> from streams.status.lag import PartitionOffsets
    >>> from streams.status.observation import WorkerGroup
    >>> seen = Observation(0.0, 0.0, "pulseline", (WorkerGroup("pulseline", ("store", "alert"),
    ...     "Empty"),), offsets=(PartitionOffsets("pulseline", "metrics.raw", 0, 0, end=12,
    ...     committed=5),))
    >>> status = build_status(None, seen, Layout("metrics.raw", ("raw",), ("metrics.raw.dlq",),
    ...     "metrics.late"))
    >>> status.topics[0].lag, status.partitions[0].owner, status.group_state
    (7, None, 'Empty')
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from streams.status.exposition import Metrics
from streams.status.groups import GroupRow, group_rows, mixed_roles
from streams.status.lag import LagRow, TopicLag, lag_rows, topic_lags
from streams.status.observation import Observation
from streams.status.rates import (
    Reading,
    cluster_rate,
    cluster_total,
    process_rate,
    records_in_rate,
)

TIER_COUNTERS = {
    "lines_written": "pulseline_sink_lines_written_total",
    "dead_letters": "pulseline_sink_dead_letters_total",
    "retries": "pulseline_sink_write_retries_total",
}
"""The per-tier counters of a worker's sinks (labelled ``tier``) a tier row shows."""

COLLECTOR_RATES = {
    "samples_per_s": "pulseline_collector_samples_total",
    "records_per_s": "pulseline_collector_records_total",
    "scrapes_per_s": "pulseline_collector_scrapes_total",
}
"""The collector counters whose rates a collector row shows."""


@dataclass(frozen=True, slots=True)
class Layout:
    """The names the status view looks for, from the settings.

    Attributes:
        raw: the topic of point batches (its partitions are listed one by one).
        tiers: the tiers' names, raw first.
        dead_letter_topics: the dead-letter topics.
        late: the topic of samples refused as late.
    """

    raw: str
    tiers: tuple[str, ...]
    dead_letter_topics: tuple[str, ...]
    late: str


@dataclass(frozen=True, slots=True)
class TierRow:
    """Writes to one tier's bucket, summed over workers.

    Attributes:
        tier: the tier's name.
        lines_per_s: lines the database acknowledged per second (None: unknown).
        lines_written: lines acknowledged since the workers started.
        dead_letters: records or rows refused as bad data (400, 413, 422).
        retries: writes retried after a transient failure.
        blocked: workers whose sink for this tier is retrying now (holding its partitions).
    """

    tier: str
    lines_per_s: float | None
    lines_written: float | None
    dead_letters: float | None
    retries: float | None
    blocked: int


@dataclass(frozen=True, slots=True)
class CollectorRow:
    """One collector: reachable or not, its ingest rates and its targets.

    Attributes:
        name: its member id; empty for a collector that does not scrape (push only) or was
            not reached at a URL of the settings.
        url: its base URL, or empty when only its heartbeats are known.
        up: whether its ``/metrics`` answered.
        samples_per_s: pushed samples Kafka acknowledged per second.
        records_per_s: Kafka records produced per second for pushes.
        scrapes_per_s: scrapes per second.
        targets: targets it scrapes (None: push only, or unknown).
        targets_down: of those, the ones whose last scrape failed.
        error: why it could not be read, or empty.
    """

    name: str
    url: str
    up: bool
    samples_per_s: float | None
    records_per_s: float | None
    scrapes_per_s: float | None
    targets: int | None
    targets_down: int | None
    error: str


@dataclass(frozen=True, slots=True)
class WorkerRow:
    """One worker: reachable or not, what it holds.

    Attributes:
        url: its web address.
        group: the worker group it is a member of; None if it is in none (a ``--worker``, or
            the settings' address when no worker announces one).
        up: whether its ``/metrics`` answered.
        partitions: partitions of the raw topic assigned to it.
        series: series with downsampling window state on it.
        error: why it could not be read, or empty.
    """

    url: str
    group: str | None
    up: bool
    partitions: int
    series: float | None
    error: str


@dataclass(frozen=True, slots=True)
class AlertRow:
    """One alert of the alert manager.

    Attributes:
        name: its ``alertname``.
        state: ``active`` (firing, notified) or ``suppressed`` (silenced or inhibited).
        since: when it started firing (RFC 3339).
        labels: its other labels as ``name="value"`` pairs.
    """

    name: str
    state: str
    since: str
    labels: str


@dataclass(frozen=True, slots=True)
class Status:
    """Everything ``pulseline status`` shows. ``None`` means unknown, not zero.

    ``groups`` are the worker groups looked at; ``group`` and ``group_state`` are the
    settings' group and its state (empty when it is not among ``groups``). ``members``,
    ``partitions`` and ``topics`` are those of every group, each row naming its group.
    ``records_done_per_s`` is the slowest group's; ``groups`` has each one's. ``warnings``
    say what is wrong with what was read (``problems``: what could not be read).
    """

    wall: float
    group: str
    group_state: str
    groups: list[GroupRow]
    members: list[str]
    partitions: list[LagRow]
    topics: list[TopicLag]
    records_in_per_s: float | None
    records_done_per_s: float | None
    samples_stored_per_s: float | None
    tiers: list[TierRow]
    collectors: list[CollectorRow]
    workers: list[WorkerRow]
    active_series: float | None
    rule_series: float | None
    alerts: list[AlertRow]
    dead_letters: dict[str, int]
    late_samples: float | None
    late_topic_records: int | None
    problems: list[str]
    warnings: list[str]

    def to_json(self) -> dict[str, Any]:
        """The status as plain data (``--once -o json``)."""
        return asdict(self)

    @property
    def firing(self) -> int:
        """How many alerts fire and are not suppressed."""
        return sum(1 for alert in self.alerts if alert.state == "active")


def _metric(name: str, **labels: str) -> Reading:
    """Reads the sum of ``name`` over the samples with ``labels`` from a page."""
    return lambda metrics: metrics.total(name, **labels)


def tier_rows(
    before: Observation | None, after: Observation, tiers: tuple[str, ...]
) -> list[TierRow]:
    """One row per tier, counters summed over the workers that answered."""
    rows = []
    for tier in tiers:
        totals = {
            field: cluster_total(after, "worker", _metric(metric, tier=tier))
            for field, metric in TIER_COUNTERS.items()
        }
        rate = cluster_rate(
            before, after, "worker", _metric(TIER_COUNTERS["lines_written"], tier=tier)
        )
        blocked = cluster_total(after, "worker", _metric("pulseline_sink_blocked", tier=tier))
        rows.append(
            TierRow(
                tier,
                rate,
                totals["lines_written"],
                totals["dead_letters"],
                totals["retries"],
                int(blocked or 0),
            )
        )
    return rows


def collector_rows(before: Observation | None, after: Observation) -> list[CollectorRow]:
    """One row per collector read, then one per live member none of them is."""
    rows = []
    seen: set[str] = set()
    for scrape in after.scrapes:
        if scrape.kind != "collector":
            continue
        page = scrape.page
        seen.add(scrape.name)
        rates = {
            field: process_rate(before, after, scrape.url, _metric(metric))
            for field, metric in COLLECTOR_RATES.items()
        }
        rows.append(
            CollectorRow(
                scrape.name,
                scrape.url,
                scrape.metrics is not None,
                rates["samples_per_s"],
                rates["records_per_s"],
                rates["scrapes_per_s"],
                page.targets if page else None,
                page.targets_down if page else None,
                scrape.error,
            )
        )
    for member in after.collector_members:
        if member not in seen:
            rows.append(
                CollectorRow(
                    member, "", False, None, None, None, None, None, "heartbeats only: not reached"
                )
            )
    return rows


def worker_rows(after: Observation, raw: str) -> list[WorkerRow]:
    """One row per worker read, with its group and the raw topic's partitions it is assigned."""
    owned: dict[str, int] = {}
    groups: dict[str, str] = {}
    for member in after.members:
        count = sum(1 for topic, _ in member.assigned if topic == raw)
        owned[member.name] = owned.get(member.name, 0) + count
        groups.setdefault(member.name, member.group)
    return [
        WorkerRow(
            scrape.url,
            groups.get(scrape.url),
            scrape.metrics is not None,
            owned.get(scrape.url, 0),
            _series(scrape.metrics),
            scrape.error,
        )
        for scrape in after.scrapes
        if scrape.kind == "worker"
    ]


def _series(metrics: Metrics | None) -> float | None:
    return None if metrics is None else metrics.total("pulseline_downsample_series")


def alert_rows(after: Observation) -> list[AlertRow]:
    """The alerts, firing ones first, then by name and start."""
    rows = []
    for alert in after.alerts:
        labels = dict(alert.get("labels") or {})
        name = labels.pop("alertname", "")
        state = str((alert.get("status") or {}).get("state", ""))
        others = " ".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
        rows.append(AlertRow(name, state, str(alert.get("startsAt", "")), others))
    return sorted(rows, key=lambda r: (r.state != "active", r.name, r.since))


def build_status(before: Observation | None, after: Observation, layout: Layout) -> Status:
    """The status shown for ``after``, with rates since ``before`` (None: no rates)."""
    partitions = lag_rows(after.offsets, after.members)
    groups = group_rows(before, after, layout.raw)
    done = [g.records_done_per_s for g in groups if g.records_done_per_s is not None]
    late = cluster_total(after, "worker", _metric("pulseline_downsample_late_total"))
    future = cluster_total(after, "worker", _metric("pulseline_downsample_future_total"))
    return Status(
        wall=after.wall,
        group=after.group,
        group_state=next((g.state for g in after.groups if g.group == after.group), ""),
        groups=groups,
        members=sorted(member.name for member in after.members),
        partitions=partitions,
        topics=topic_lags(partitions),
        records_in_per_s=records_in_rate(before, after, layout.raw),
        records_done_per_s=min(done) if done else None,
        samples_stored_per_s=cluster_rate(
            before, after, "worker", _metric("pulseline_sink_samples_total", tier=layout.tiers[0])
        ),
        tiers=tier_rows(before, after, layout.tiers),
        collectors=collector_rows(before, after),
        workers=worker_rows(after, layout.raw),
        active_series=cluster_total(after, "worker", _metric("pulseline_downsample_series")),
        rule_series=cluster_total(after, "worker", _metric("pulseline_rules_series")),
        alerts=alert_rows(after),
        dead_letters={t: after.held[t] for t in layout.dead_letter_topics if t in after.held},
        late_samples=None if late is None and future is None else (late or 0) + (future or 0),
        late_topic_records=after.held.get(layout.late),
        problems=list(after.problems),
        warnings=mixed_roles(groups),
    )
