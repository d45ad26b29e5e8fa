"""Targets that hang, answer garbage or too many series fail whole: up = 0, a reason, no samples."""

from __future__ import annotations

import asyncio
import json
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiohttp import web
from conftest import Pipeline, Tsdb, wait_for

from streams.stack.processes import free_port

pytestmark = pytest.mark.integration

BIG = "".join(f'big_series{{n="{i}"}} {i}\n' for i in range(50_000)).encode()


@pytest.fixture
def bad_targets() -> Iterator[str]:
    """An HTTP server with /hang, /garbage, /big and /good, in a thread of its own."""

    async def hang(request: web.Request) -> web.Response:
        await asyncio.sleep(30)
        return web.Response(text="late 1\n")

    async def garbage(request: web.Request) -> web.Response:
        return web.Response(body=b"\x00\x01 this is { not exposition", content_type="text/plain")

    async def big(request: web.Request) -> web.Response:
        return web.Response(body=BIG, content_type="text/plain")

    async def good(request: web.Request) -> web.Response:
        return web.Response(text="# TYPE fine gauge\nfine 7\n", content_type="text/plain")

    port = free_port()
    loop = asyncio.new_event_loop()
    ready = threading.Event()

    async def serve() -> web.AppRunner:
        app = web.Application()
        for path, handler in (
            ("/hang", hang),
            ("/garbage", garbage),
            ("/big", big),
            ("/good", good),
        ):
            app.router.add_get(path, handler)
        runner = web.AppRunner(app)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        return runner

    def run() -> None:
        asyncio.set_event_loop(loop)
        runner = loop.run_until_complete(serve())
        ready.set()
        loop.run_forever()
        loop.run_until_complete(runner.cleanup())

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    ready.wait(10)
    yield f"127.0.0.1:{port}"
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)


def test_failed_scrapes_are_whole_failures_with_reasons(
    pipeline: Pipeline, tsdb: Tsdb, bad_targets: str, tmp_path: Path
) -> None:
    config = tmp_path / "scrape.yml"
    jobs = {"hang": "/hang", "garbage": "/garbage", "big": "/big", "good": "/good"}
    config.write_text(
        "global: {scrape_interval: 2s, scrape_timeout: 1s}\nscrape_configs:\n"
        + "".join(
            f"  - job_name: {job}\n    metrics_path: {path}\n    sample_limit: 1000\n"
            f"    static_configs: [{{targets: ['{bad_targets}']}}]\n"
            for job, path in jobs.items()
        )
        + "  - job_name: bodylimit\n    metrics_path: /big\n    body_size_limit: 100KiB\n"
        f"    static_configs: [{{targets: ['{bad_targets}']}}]\n"
    )
    port = free_port()
    pipeline.collector(
        env={
            "PULSELINE_COLLECTOR__LISTEN": f"127.0.0.1:{port}",
            "PULSELINE_COLLECTOR__SCRAPE_CONFIG": str(config),
            "PULSELINE_COLLECTOR__HEARTBEAT_S": "0.5",
        }
    )
    pipeline.worker()

    def targets() -> dict[str, dict]:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/targets", timeout=5) as resp:
            return {t["job"]: t for t in json.load(resp)["activeTargets"]}

    wait_for(
        lambda: all(t["scrapes"] >= 2 for t in targets().values()) and len(targets()) == 5,
        60,
        "two scrapes of every target",
    )
    seen = targets()
    assert seen["good"]["health"] == "up" and seen["good"]["lastError"] == ""
    assert seen["hang"]["health"] == "down"
    assert "deadline exceeded" in seen["hang"]["lastError"]
    assert seen["garbage"]["health"] == "down" and seen["garbage"]["lastError"]
    assert seen["big"]["health"] == "down"
    assert "sample limit exceeded" in seen["big"]["lastError"]
    assert "50000" in seen["big"]["lastError"] and "1000" in seen["big"]["lastError"]
    assert seen["bodylimit"]["health"] == "down"
    assert "body size limit exceeded" in seen["bodylimit"]["lastError"]

    failing = ("hang", "garbage", "big", "bodylimit")
    wait_for(
        lambda: all(tsdb.count(f'{{__name__="up",job="{j}"}}') >= 2 for j in failing),
        60,
        "up of every failing target",
    )
    for job in failing:
        ups = tsdb.export(f'{{__name__="up",job="{job}"}}')
        assert {v for s in ups.values() for v in s.values()} == {0.0}, job
    assert tsdb.count('{__name__="big_series"}') == 0
    wait_for(lambda: tsdb.count('{__name__="fine"}') >= 1, 30, "the good target's sample")
    assert tsdb.count('{__name__="up",job="good"}') >= 1
