"""Scripted alert scenarios played against Alertmanager-compatible servers at the same moments.

A :class:`Scenario` is an ``alertmanager.yml`` (with ``$webhook`` where the capture's base URL
goes) and a list of timed steps: post alerts, create a silence, expire it. :func:`play` starts
one server per :class:`Side` (each with its own :class:`~streams.stack.capture.WebhookCapture`),
then runs every step on all sides on one monotonic schedule, each side on its own (a side
slow to answer a step delays only its own later steps, never the other's), until the
scenario's end, and returns what each side's receivers got. Times in a scenario are seconds
after its start; the alerts' ``startsAt``/``endsAt`` are that start's wall-clock time plus
the offset.

A server is started by a :data:`Target`: a function of (config text, work directory) giving an
async context manager that yields the API's base URL and stops the server on exit.
:func:`alertmanager_target` starts Debian's ``prometheus-alertmanager``; any server that speaks
Alertmanager's API v2 and delivers webhooks plugs in the same way.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from string import Template
from typing import Any

import aiohttp
from oracle_normal import Normal, Outline, normalise

from streams.errors import PulselineError
from streams.stack import peers
from streams.stack.capture import Delivery, WebhookCapture
from streams.stack.processes import free_port

Target = Callable[[str, Path], AbstractAsyncContextManager[str]]
"""Start a server with an alertmanager.yml text in a directory; yield its base URL."""


class ScenarioError(PulselineError):
    """A side refused a step of a scenario."""


@asynccontextmanager
async def alertmanager_target(config: str, workdir: Path) -> AsyncIterator[str]:
    """A real Alertmanager with ``config``, on a free port; stopped (SIGKILL after 10 s) on exit."""
    port = free_port()
    path = workdir / f"alertmanager-{port}.yml"
    path.write_text(config)
    process = peers.alertmanager(port, workdir, path)
    await asyncio.to_thread(lambda: process.start().wait_ready(30))
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await asyncio.to_thread(process.stop, 10)


def rfc3339(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class Api:
    """One side's API during a run: where it is, and the ids of the silences made on it."""

    name: str
    base: str
    http: aiohttp.ClientSession
    wall_start: float
    silences: dict[str, str] = field(default_factory=dict)

    async def call(self, method: str, path: str, body: Any = None) -> Any:
        url = f"{self.base}/api/v2/{path}"
        async with self.http.request(method, url, json=body) as response:
            text = await response.text()
            if response.status >= 300:
                raise ScenarioError(
                    f"{self.name}: {method} {url} answered {response.status}: {text.strip()}"
                )
            return await response.json(content_type=None) if text.strip() else None


@dataclass(frozen=True)
class AlertSpec:
    """An alert to post; ``starts``/``ends`` are offsets in the scenario, None to leave out."""

    labels: Mapping[str, str]
    starts: float | None = None
    ends: float | None = None

    def body(self, wall_start: float) -> dict[str, Any]:
        out: dict[str, Any] = {"labels": dict(self.labels), "annotations": {}}
        if self.starts is not None:
            out["startsAt"] = rfc3339(wall_start + self.starts)
        if self.ends is not None:
            out["endsAt"] = rfc3339(wall_start + self.ends)
        return out


def alert(starts: float | None = None, ends: float | None = None, **labels: str) -> AlertSpec:
    return AlertSpec(labels, starts, ends)


@dataclass(frozen=True)
class Post:
    """``POST /api/v2/alerts`` with ``alerts`` at ``at``."""

    at: float
    alerts: tuple[AlertSpec, ...]

    async def apply(self, api: Api) -> None:
        await api.call("POST", "alerts", [a.body(api.wall_start) for a in self.alerts])


@dataclass(frozen=True)
class Matcher:
    name: str
    value: str
    regex: bool = False
    equal: bool = True


@dataclass(frozen=True)
class Silence:
    """``POST /api/v2/silences`` at ``at``, lasting until ``ends``; ``name`` is for :class:`Expire`."""

    at: float
    name: str
    matchers: tuple[Matcher, ...]
    ends: float = 3600.0

    async def apply(self, api: Api) -> None:
        body = {
            "matchers": [
                {"name": m.name, "value": m.value, "isRegex": m.regex, "isEqual": m.equal}
                for m in self.matchers
            ],
            "startsAt": rfc3339(time.time()),
            "endsAt": rfc3339(api.wall_start + self.ends),
            "createdBy": "scenario",
            "comment": self.name,
        }
        answer = await api.call("POST", "silences", body)
        api.silences[self.name] = answer["silenceID"]


@dataclass(frozen=True)
class Expire:
    """``DELETE /api/v2/silence/{id}`` of the silence named ``name``, at ``at``."""

    at: float
    name: str

    async def apply(self, api: Api) -> None:
        await api.call("DELETE", f"silence/{api.silences[self.name]}")


Step = Post | Silence | Expire


@dataclass(frozen=True)
class Scenario:
    """An alertmanager.yml, timed steps, and what its receivers get, worked out by hand.

    Attributes:
        name: a short name, the test id.
        config: the alertmanager.yml; ``$webhook`` stands for the capture's base URL.
        steps: what to do when, in seconds after the start; steps at one moment run in order.
        end: notifications arriving later are not compared; keep it clear of flush ticks.
        expected: the hand-worked outline (see :func:`oracle_normal.outline`).
    """

    name: str
    config: str
    steps: tuple[Step, ...]
    end: float
    expected: Outline

    def config_for(self, webhook: str) -> str:
        return Template(self.config).substitute(webhook=webhook)


@dataclass(frozen=True)
class Side:
    """One server of a run: a target and, to play a variant, a config of its own."""

    name: str
    target: Target
    config: str | None = None


@dataclass
class Run:
    """What one side's receivers got in a run, how late its steps started (``lateness``)
    and how long after their moment the side had answered them (``answered``), in seconds."""

    side: str
    deliveries: list[Delivery]
    start: float
    end: float
    lateness: float
    answered: float

    def normal(self) -> Normal:
        return normalise(self.deliveries, self.start, self.end)


async def play(scenario: Scenario, sides: Sequence[Side], workdir: Path) -> list[Run]:
    """Start a server per side, run the scenario's steps on all at once, return what each got."""
    async with AsyncExitStack() as stack:
        http = await stack.enter_async_context(
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        )
        captures, bases = [], []
        for side in sides:
            capture = await stack.enter_async_context(WebhookCapture())
            config = Template(side.config or scenario.config).substitute(webhook=capture.url)
            directory = workdir / side.name
            directory.mkdir(parents=True, exist_ok=True)
            bases.append(await stack.enter_async_context(side.target(config, directory)))
            captures.append(capture)
        start, wall_start = time.monotonic(), time.time()
        apis = [
            Api(side.name, base, http, wall_start) for side, base in zip(sides, bases, strict=True)
        ]

        async def steps(api: Api) -> tuple[float, float]:
            """One side's steps on the scenario's clock; how late the latest started, and
            the longest from a step's moment to its answer."""
            lateness = answered = 0.0
            for step in sorted(scenario.steps, key=lambda s: s.at):
                await asyncio.sleep(max(0.0, start + step.at - time.monotonic()))
                lateness = max(lateness, time.monotonic() - start - step.at)
                await step.apply(api)
                answered = max(answered, time.monotonic() - start - step.at)
            return lateness, answered

        # Each side on its own: a side slow to answer delays its own later steps only.
        timings = await asyncio.gather(*(steps(api) for api in apis))
        await asyncio.sleep(max(0.0, start + scenario.end - time.monotonic()))
        return [
            Run(side.name, list(capture.deliveries), start, scenario.end, *timing)
            for side, capture, timing in zip(sides, captures, timings, strict=True)
        ]
