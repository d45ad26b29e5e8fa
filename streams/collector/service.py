"""The ``pulseline collect`` process: the push endpoints in front of a Kafka producer."""

from __future__ import annotations

import asyncio
import logging
import signal

from aiohttp import web

from streams.collector.metrics import CollectorMetrics
from streams.collector.push import create_push_app
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


async def serve(settings: Settings, stop: asyncio.Event) -> None:
    """Serve until ``stop`` is set; then drain requests in flight and disconnect."""
    producer = RecordProducer(settings.kafka)
    app = create_push_app(settings, producer, CollectorMetrics())
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    host, _, port = settings.collector.listen.rpartition(":")
    site = web.TCPSite(runner, host, int(port), reuse_address=True)
    connecting = asyncio.create_task(_connect(producer, settings.kafka.broker))
    try:
        await site.start()
        log.info(
            "collector listening on http://%s (POST /api/v2/write, /write; GET /health, /metrics)",
            settings.collector.listen,
        )
        await stop.wait()
    finally:
        connecting.cancel()
        await runner.cleanup()
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
