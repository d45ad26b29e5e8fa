"""``pulseline demo``: refuses what cannot work, and names its hosts with a prefix."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from streams.demo import DemoError, run_demo
from streams.stack.processes import free_port


class Collector:
    """Answers /ping and records the bodies pushed to /api/v2/write with ``status``."""

    def __init__(self) -> None:
        self.bodies: list[str] = []
        self.status = 204

    async def ping(self, request: web.Request) -> web.Response:
        return web.Response(status=204)

    async def write(self, request: web.Request) -> web.Response:
        self.bodies.append((await request.read()).decode())  # the server inflates gzip
        return web.Response(status=self.status, text="" if self.status == 204 else "nope")


@pytest.fixture
async def collector() -> AsyncIterator[tuple[Collector, str]]:
    state = Collector()
    app = web.Application()
    app.router.add_get("/ping", state.ping)
    app.router.add_post("/api/v2/write", state.write)
    async with TestServer(app) as server:
        yield state, f"http://{server.host}:{server.port}"


async def test_an_unreachable_collector_is_an_error_at_once() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(DemoError, match=f"cannot reach the collector at {url}"):
        await run_demo(url, hosts=2, interval_s=10, duration_s=10)


@pytest.mark.parametrize(
    ("hosts", "interval", "duration", "words"),
    [
        (-5, 1.0, None, "--hosts -5"),
        (0, 1.0, None, "--hosts 0"),
        (2, 0.0, None, "--interval 0"),
        (2, 1.0, -1.0, "--duration -1"),
    ],
)
async def test_arguments_out_of_range_are_refused(
    hosts: int, interval: float, duration: float | None, words: str
) -> None:
    with pytest.raises(DemoError, match=words):
        await run_demo("http://127.0.0.1:1", hosts=hosts, interval_s=interval, duration_s=duration)


async def test_hosts_are_named_with_the_prefix(collector: tuple[Collector, str]) -> None:
    state, url = collector
    await run_demo(url, hosts=2, interval_s=0.2, duration_s=0.1, prefix="lab-")
    body = state.bodies[0]
    hosts = {
        tag.split("=")[1]
        for line in body.splitlines()
        for tag in line.split(" ")[0].split(",")
        if tag.startswith("host=")
    }
    assert hosts == {"lab-000", "lab-001"}


async def test_a_refusal_that_retrying_cannot_fix_is_an_error(
    collector: tuple[Collector, str],
) -> None:
    state, url = collector
    state.status = 404
    with pytest.raises(DemoError, match="answered 404: nope"):
        await run_demo(url, hosts=1, interval_s=0.01, duration_s=5)


async def test_a_collector_answering_503_is_retried(collector: tuple[Collector, str]) -> None:
    state, url = collector
    state.status = 503
    await run_demo(url, hosts=1, interval_s=0.01, duration_s=0.05)
    assert len(state.bodies) >= 2
