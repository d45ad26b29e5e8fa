"""The ``pulseline collect`` process: push endpoints and, with a scrape config, scraping."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
from collections.abc import Awaitable

import aiohttp
from aiohttp import web

from streams.collector.door import Door
from streams.collector.membership import Membership
from streams.collector.metrics import CollectorMetrics
from streams.collector.push import create_push_app
from streams.collector.scrapeconfig import load_scrape_config
from streams.collector.scraping import ScrapeManager, Scraper
from streams.collector.targets import MANAGER_KEY, targets_view
from streams.errors import PulselineError
from streams.kafka import RecordProducer
from streams.settings import Settings

log = logging.getLogger(__name__)


async def _connect(producer: RecordProducer, broker: str) -> None:
    delay = 0.5
    while True:
        try:
            await producer.start()
        except PulselineError as exc:
            log.warning("%s; answering 503 and retrying in %.0fs", exc, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 10.0)
        else:
            log.info("connected to Kafka at %s", broker)
            return


def member_id(settings: Settings) -> str:
    """This collector's id: configured, else ``HOSTNAME:PORT``."""
    port = settings.collector.listen.rpartition(":")[2]
    return settings.collector.member_id or f"{socket.gethostname()}:{port}"


async def serve(settings: Settings, stop: asyncio.Event) -> None:
    """Serve until ``stop`` is set; then drain requests in flight and disconnect."""
    c = settings.collector
    producer = RecordProducer(settings.kafka)
    metrics = CollectorMetrics()
    app = create_push_app(settings, producer, metrics)
    background: list[Awaitable[None]] = [_connect(producer, settings.kafka.broker)]
    session: aiohttp.ClientSession | None = None
    if c.scrape_config is not None:
        config = load_scrape_config(c.scrape_config)
        me = member_id(settings)
        membership = Membership(
            producer,
            settings.kafka,
            settings.topics.members,
            me,
            heartbeat_s=c.heartbeat_s,
            timeout_s=c.member_timeout_s,
        )
        session = aiohttp.ClientSession(auto_decompress=True)
        manager = ScrapeManager(
            me,
            Scraper(
                producer,
                settings.topics.raw,
                session,
                metrics,
                door=Door(settings),
                keep_created=settings.collector.keep_created,
            ),
            config,
            c.scrape_config.parent,
            replication_factor=c.replication_factor,
        )
        app[MANAGER_KEY] = manager
        metrics.expect_jobs(job.job_name for job in config.scrape_configs)
        app.router.add_get("/targets", targets_view)
        background += [membership.run(stop), manager.run(membership.live, membership.changed, stop)]
        log.info("collector %s scraping %d jobs", me, len(config.scrape_configs))
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    host, _, port = c.listen.rpartition(":")
    site = web.TCPSite(runner, host, int(port), reuse_address=True)
    tasks = [asyncio.ensure_future(job) for job in background]
    try:
        await site.start()
        log.info("collector listening on http://%s", c.listen)
        await stop.wait()
        # Membership announces leaving and the scrape loops end by themselves on stop.
        if len(tasks) > 1:
            await asyncio.wait(tasks[1:], timeout=5)
    finally:
        for task in tasks:
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(*tasks, return_exceptions=True)
        await runner.cleanup()
        if session is not None:
            await session.close()
        await producer.stop()
        log.info("collector stopped")


def run(settings: Settings) -> None:
    """Run the collector until SIGINT or SIGTERM."""

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await serve(settings, stop)

    asyncio.run(main())
