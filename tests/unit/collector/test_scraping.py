"""A scrape through the door: what the store cannot keep is dropped and counted, the rest stored."""

from __future__ import annotations

from collections.abc import Sequence

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer
from prometheus_client import generate_latest

from streams.collector.door import Door
from streams.collector.metrics import CollectorMetrics
from streams.collector.scrapeconfig import Job
from streams.collector.scraping import Scraper, Target, TargetHealth
from streams.records import Point, decode_batch
from streams.settings import Settings

NOW = 1_700_000_000.0
PAGE = (
    'jobs_total{queue="mail"} 3\n'
    'jobs_total{queue="C:\\\\tmp\\\\"} 4\n'  # the value is C:\tmp\ : it ends in a backslash
    'jobs_total{queue="two\\nlines"} 5\n'  # a newline in a label value
    'jobs_total{queue="old"} 6 1000\n'  # a timestamp of 1970
    "nan_value NaN\n"
)


class Producer:
    def __init__(self) -> None:
        self.sent: list[bytes] = []

    async def send_all(self, topic: str, records: Sequence[tuple[bytes, bytes]]) -> None:
        self.sent.extend(value for _, value in records)


async def scrape_page(page: str) -> tuple[list[Point], TargetHealth, str]:
    async def metrics(request: web.Request) -> web.Response:
        return web.Response(text=page, content_type="text/plain")

    app = web.Application()
    app.router.add_get("/metrics", metrics)
    producer, counters, health = Producer(), CollectorMetrics(), TargetHealth()
    async with TestServer(app) as server, aiohttp.ClientSession() as session:
        job = Job(job_name="app", scrape_interval="15s", scrape_timeout="10s")
        target = Target(job, f"{server.host}:{server.port}", ())
        door = Door(Settings.load(None), clock=lambda: NOW)
        scraper = Scraper(producer, "metrics.raw", session, counters, lambda: NOW, door=door)  # type: ignore[arg-type]
        await scraper.scrape(target, health)
    points = [p for value in producer.sent for p in decode_batch(value)]
    return points, health, generate_latest(counters.registry).decode()


async def test_samples_the_store_cannot_keep_are_dropped_and_counted_the_rest_stored() -> None:
    points, health, metrics = await scrape_page(PAGE)
    stored = {(p.measurement, p.tags.get("queue")): p.fields["value"] for p in points}
    assert stored == {
        ("jobs_total", "mail"): 3.0,
        ("up", None): 1.0,
        ("scrape_duration_seconds", None): 0.0,
        ("scrape_samples_scraped", None): 5.0,
    }
    assert health.health == "up" and health.refused == 3
    assert health.last_refusal.startswith('jobs_total{instance="')
    assert "C:\\\\tmp\\\\" in health.last_refusal and "backslash" in health.last_refusal
    assert 'pulseline_collector_refused_points_total{reason="unwritable"} 2.0' in metrics
    assert 'pulseline_collector_refused_points_total{reason="too_old"} 1.0' in metrics
    assert 'pulseline_collector_dropped_samples_total{reason="nan"} 1.0' in metrics


async def test_a_clean_page_clears_the_last_refusal() -> None:
    points, health, _ = await scrape_page('jobs_total{queue="mail"} 3\n')
    assert len(points) == 4 and health.refused == 0 and health.last_refusal == ""


def test_scrape_counters_of_the_configured_jobs_exist_before_a_scrape() -> None:
    counters = CollectorMetrics()
    counters.expect_jobs(["node", "app"])
    text = generate_latest(counters.registry).decode()
    for job in ("node", "app"):
        for result in ("up", "down"):
            assert f'pulseline_collector_scrapes_total{{job="{job}",result="{result}"}} 0.0' in text
