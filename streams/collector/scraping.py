"""Pull collection: scrape the targets this collector owns and produce one record per scrape.

Targets come from the scrape config (static and file SD); the hash ring over the live
collectors decides which ones this collector owns. Each owned target is scraped every
``scrape_interval`` at a fixed offset inside the interval (derived from its key, so scrapes
spread out), with ``scrape_timeout``. A scrape becomes one Kafka record keyed by the target's
instance, holding its samples, their metric types, and ``up``, ``scrape_duration_seconds``
and ``scrape_samples_scraped``. A scrape that fails (unreachable, timeout, garbage, over a
limit) produces only those three with ``up`` = 0: never half of a page.

Scraped points pass the collector's :class:`~streams.collector.door.Door`: a sample the store
could not keep as it is (a timestamp past the raw tier's retention, too many or too long
labels, a label value ending in a backslash...) is dropped, counted in
``pulseline_collector_refused_points_total{reason}``, shown on ``/targets`` and logged when the
reason changes; the rest of the page is stored, as Prometheus skips samples it cannot append.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from streams.collector.door import Door
from streams.collector.exposition import (
    ACCEPT,
    REPORT_TYPES,
    ScrapeError,
    parse_scrape,
    report_points,
)
from streams.collector.metrics import CollectorMetrics
from streams.collector.ring import HashRing, stable_hash
from streams.collector.scrapeconfig import Job, ScrapeConfig, TargetFiles
from streams.kafka import ProduceError, RecordProducer
from streams.names import without_created
from streams.records import Point, encode_batch

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Target:
    """One scrape target of a job."""

    job: Job
    address: str
    labels: tuple[tuple[str, str], ...]

    @property
    def key(self) -> str:
        """The target's key on the hash ring."""
        return f"{self.job.job_name}/{self.address}"

    @property
    def url(self) -> str:
        """The URL scraped."""
        return f"{self.job.scheme}://{self.address}{self.job.metrics_path}"


@dataclass
class TargetHealth:
    """What ``GET /targets`` shows of a target."""

    health: str = "unknown"
    last_scrape: float | None = None
    last_duration_s: float | None = None
    last_error: str = ""
    samples: int = 0
    scrapes: int = 0
    failures: int = 0
    refused: int = 0
    last_refusal: str = ""


def discover(config: ScrapeConfig, files: dict[str, TargetFiles], base: Path) -> list[Target]:
    """Every target of every job, static ones and those in file SD files."""
    targets: dict[str, Target] = {}
    for job in config.scrape_configs:
        groups = list(job.static_configs)
        for index, sd in enumerate(job.file_sd_configs):
            key = f"{job.job_name}#{index}"
            reader = files.get(key)
            if reader is None:
                reader = files[key] = TargetFiles(sd.files, base)
            groups.extend(reader.groups())
        for group in groups:
            for address in group.targets:
                target = Target(job, address, tuple(sorted(group.labels.items())))
                targets.setdefault(target.key, target)
    return list(targets.values())


class Scraper:
    """Scrapes one target and produces the result.

    Args:
        producer: where records go (acknowledged).
        topic: the raw topic.
        session: the HTTP client session.
        metrics: the collector's counters (scrapes by job and result, drops, refusals).
        clock: wall-clock seconds (injected in tests).
        door: what decides whether a scraped point can be stored; none: every point.
        keep_created: store the ``*_created`` series too (:func:`streams.names.without_created`).
    """

    def __init__(
        self,
        producer: RecordProducer,
        topic: str,
        session: aiohttp.ClientSession,
        metrics: CollectorMetrics | None = None,
        clock: Callable[[], float] = time.time,
        door: Door | None = None,
        keep_created: bool = False,
    ) -> None:
        self._keep_created = keep_created
        self._metrics = metrics
        self._door = door
        self._producer = producer
        self._topic = topic
        self._session = session
        self._clock = clock

    async def scrape(self, target: Target, health: TargetHealth) -> None:
        """Scrape ``target`` once, produce what it gave, and update ``health``."""
        job = target.job
        labels = dict(target.labels)
        started = self._clock()
        ts_ms = int(started * 1000)
        points: list[Point] = []
        types = dict(REPORT_TYPES)
        scraped = 0
        try:
            body, content_type = await self._fetch(target)
            result = parse_scrape(
                body,
                content_type,
                job=job.job_name,
                instance=target.address,
                target_labels=labels,
                honor_labels=job.honor_labels,
                sample_limit=job.sample_limit,
                label_limit=job.label_limit,
                scrape_ts_ms=ts_ms,
            )
            points, scraped = result.points, result.samples_scraped
            if not self._keep_created:
                points = without_created(points, result.types)
            types.update(result.types)
            if self._metrics is not None:
                for reason, count in result.dropped.items():
                    if count:
                        self._metrics.dropped.labels(reason).inc(count)
            error = ""
        except ScrapeError as exc:
            error = str(exc)
        duration = self._clock() - started
        points.extend(
            report_points(job.job_name, target.address, labels, not error, duration, scraped, ts_ms)
        )
        health.scrapes += 1
        health.last_scrape, health.last_duration_s = started, duration
        health.health, health.last_error = ("down", error) if error else ("up", "")
        health.samples = scraped
        points = self._admit(target, points, health)
        if self._metrics is not None:
            self._metrics.scrapes.labels(job.job_name, "down" if error else "up").inc()
        if error:
            health.failures += 1
            log.info("scrape of %s failed: %s", target.url, error)
        try:
            await self._producer.send_all(
                self._topic, [(target.address.encode(), encode_batch(points, types))]
            )
        except ProduceError as exc:
            health.health, health.last_error = "down", f"not delivered to Kafka: {exc}"

    def _admit(self, target: Target, points: list[Point], health: TargetHealth) -> list[Point]:
        """The points the door lets through; the others are counted and reported."""
        if self._door is None:
            return points
        refused = self._door.refusals(points)
        health.refused = len(refused)
        if not refused:
            health.last_refusal = ""
            return points
        if self._metrics is not None:
            for refusal in refused:
                self._metrics.refused.labels(refusal.reason).inc()
        first = refused[0].message
        if first != health.last_refusal:
            log.warning(
                "scrape of %s: %d sample(s) not stored, first: %s", target.url, len(refused), first
            )
        health.last_refusal = first
        dropped = {refusal.position for refusal in refused}
        return [point for index, point in enumerate(points) if index not in dropped]

    async def _fetch(self, target: Target) -> tuple[bytes, str | None]:
        job = target.job
        assert job.scrape_timeout_s is not None
        headers = {
            "Accept": ACCEPT,
            "X-Prometheus-Scrape-Timeout-Seconds": f"{job.scrape_timeout_s:g}",
        }
        timeout = aiohttp.ClientTimeout(total=job.scrape_timeout_s)
        try:
            async with self._session.get(target.url, headers=headers, timeout=timeout) as resp:
                if resp.status != 200:
                    raise ScrapeError(f"server returned HTTP status {resp.status} {resp.reason}")
                return await _read_limited(resp, job.body_size_limit), resp.headers.get(
                    "Content-Type"
                )
        except TimeoutError:
            raise ScrapeError(f"context deadline exceeded ({job.scrape_timeout_s:g}s)") from None
        except aiohttp.ClientError as exc:
            raise ScrapeError(f"{type(exc).__name__}: {exc}") from None


async def _first(*waits: Coroutine[Any, Any, Any]) -> None:
    tasks = [asyncio.ensure_future(w) for w in waits]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()


async def _read_limited(resp: aiohttp.ClientResponse, limit: int) -> bytes:
    """The whole body, or :class:`ScrapeError` as soon as it passes ``limit`` (0: none)."""
    if not limit:
        return await resp.read()
    body = bytearray()
    async for chunk in resp.content.iter_any():  # read(n) may return less than n: loop
        body += chunk
        if len(body) > limit:
            raise ScrapeError(f"body size limit exceeded: more than {limit} bytes")
    return bytes(body)


@dataclass
class ScrapeManager:
    """Runs a scrape loop for each target this collector owns, and nothing else."""

    member_id: str
    scraper: Scraper
    config: ScrapeConfig
    base: Path
    health: dict[str, TargetHealth] = field(default_factory=dict)
    owned: dict[str, Target] = field(default_factory=dict)
    targets: list[Target] = field(default_factory=list)
    replication_factor: int = 1
    ring: HashRing = field(default_factory=HashRing)
    _tasks: dict[str, asyncio.Task[None]] = field(default_factory=dict)
    _files: dict[str, TargetFiles] = field(default_factory=dict)

    def reconcile(self, members: frozenset[str]) -> None:
        """Re-read targets, rebuild the ring if members changed, start and stop loops."""
        self.targets = discover(self.config, self._files, self.base)
        if set(self.ring.members) != members:
            self.ring = HashRing(members, replication_factor=self.replication_factor)
        owned = {t.key: t for t in self.targets if self.ring.owns(self.member_id, t.key)}
        for key in self._tasks.keys() - owned.keys():
            self._tasks.pop(key).cancel()
            log.info("no longer scraping %s", key)
        for key, target in owned.items():
            if key not in self._tasks:
                self.health.setdefault(key, TargetHealth())
                self._tasks[key] = asyncio.create_task(self._loop(target))
                log.info("now scraping %s (%s)", key, target.url)
        self.owned = owned

    async def _loop(self, target: Target) -> None:
        interval = target.job.scrape_interval_s
        assert interval is not None
        offset = (stable_hash(target.key) % 10_000) / 10_000 * interval
        next_at = (time.time() // interval) * interval + offset
        if next_at < time.time():
            next_at += interval
        while True:
            await asyncio.sleep(max(0.0, next_at - time.time()))
            await self.scraper.scrape(target, self.health[target.key])
            next_at += interval
            while next_at < time.time():  # a slow scrape skips ticks rather than bunch up
                next_at += interval

    def files_errors(self) -> dict[str, str]:
        """Errors of target files that could not be read (their last good groups stay)."""
        return {name: err for reader in self._files.values() for name, err in reader.errors.items()}

    async def run(
        self, members: Callable[[], frozenset[str]], changed: asyncio.Event, stop: asyncio.Event
    ) -> None:
        """Reconcile at once when membership ``changed``, else every second, until ``stop``."""
        while not stop.is_set():
            changed.clear()
            self.reconcile(members())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(_first(changed.wait(), stop.wait()), timeout=1.0)
        await self.stop()

    async def stop(self) -> None:
        """Cancel every scrape loop."""
        for task in self._tasks.values():
            task.cancel()
        await asyncio.gather(*self._tasks.values(), return_exceptions=True)
        self._tasks.clear()
