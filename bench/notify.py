"""Breach to notification: pulseline against Prometheus and Alertmanager tuned for speed.

Both sides load the same rules (:data:`RULES`: ``breach > 100`` and ``storm > 100``, no
``for``) and the same alertmanager.yml (:func:`alertmanager_yml`: ``group_wait: 0s``, one
group per breached host, the storm's alerts in one group sent every 5 s), and deliver to a
:class:`~streams.stack.capture.WebhookCapture` in this process.

The peer is Debian's Prometheus scraping a local HTTP target every second and evaluating
every second, sending to Debian's Alertmanager. A breach is the moment the target starts
exposing ``breach{host="bN"} 500``; its latency is the time until the webhook receives the
notification of host bN. Breaches start one every ``--spacing`` seconds on average (jittered,
so that they fall at every phase of the scrape and evaluation cycles), each on a host of its
own, which returns to normal once notified; the first five are not measured. Then a storm:
``--storm-hosts`` hosts fail evenly over ``--storm-window`` seconds, and the notifications
the storm receiver gets until every failed host was in one are counted. The peer's latency
is the wait for the next scrape plus the lag from that scrape to the next evaluation, whose
phases Prometheus picks at start: from one run to the next, p50 lies anywhere from 0.5 to 1.5 s.

pulseline's side is the same breaches and storm pushed to a collector of a private stack:
:func:`pulseline_side`.

    python bench/notify.py [--breaches 300] [--spacing 0.2] [--storm-hosts 100]
                           [--storm-window 10] [--peer-only]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
import urllib.parse
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from string import Template
from typing import Any

import aiohttp
from aiohttp import web

from streams.stack import peers
from streams.stack.capture import Delivery, WebhookCapture
from streams.stack.processes import ManagedProcess, ProcessError, free_port

WARMUP = 5  # unmeasured breaches first

RULES = """groups:
  - name: notify-bench
    interval: 1s
    rules:
      - alert: Breach
        expr: breach > 100
      - alert: HostDown
        expr: storm > 100
"""

ALERTMANAGER_YML = """route:
  receiver: breach
  group_by: [host]
  group_wait: 0s
  group_interval: 1s
  repeat_interval: 1h
  routes:
    - matchers: ['alertname="HostDown"']
      receiver: storm
      group_by: [alertname]
      group_interval: 5s
receivers:
  - name: breach
    webhook_configs: [{url: '$webhook/breach', send_resolved: false}]
  - name: storm
    webhook_configs: [{url: '$webhook/storm', send_resolved: false}]
"""


def alertmanager_yml(webhook: str) -> str:
    """The alertmanager.yml of both sides, delivering to ``webhook``."""
    return Template(ALERTMANAGER_YML).substitute(webhook=webhook)


@dataclass
class SideResult:
    """What one side measured.

    Attributes:
        name: how the side is printed.
        latencies: seconds from each measured breach to its notification.
        storm_notifications: notifications of the storm until every failed host was in one.
        storm_seconds: from the first failure until the last host was notified.
    """

    name: str
    latencies: list[float]
    storm_notifications: int
    storm_seconds: float


class FirstNotified:
    """When each host was first in a firing notification to a path, on the capture's clock."""

    def __init__(self) -> None:
        self.at: dict[tuple[str, str], float] = {}

    def __call__(self, delivery: Delivery) -> None:
        for alert in delivery.body.get("alerts", []):
            host = alert.get("labels", {}).get("host")
            if alert.get("status") == "firing" and host is not None:
                self.at.setdefault((delivery.path, host), delivery.at)


async def measure_breaches(
    capture: WebhookCapture,
    notified: FirstNotified,
    breach: Callable[[str], Awaitable[None]],
    clear: Callable[[str], Awaitable[None]],
    count: int,
    spacing: float,
    seed: int = 1,
) -> list[float]:
    """Start ``count`` breaches (after :data:`WARMUP` more), one host each, and time each
    until its notification reaches ``/breach``; ``clear`` ends a breach once notified."""
    rng = random.Random(seed)

    async def one(host: str) -> float:
        began = time.monotonic()
        await breach(host)
        await capture.wait_for(
            lambda _: ("/breach", host) in notified.at,
            timeout=30,
            what=f"the notification of {host}",
        )
        await clear(host)
        return notified.at[("/breach", host)] - began

    async with asyncio.TaskGroup() as group:  # a breach that times out cancels the others
        runs = []
        for i in range(WARMUP + count):
            runs.append(group.create_task(one(f"b{i}")))
            await asyncio.sleep(spacing * rng.uniform(0.5, 1.5))  # the breaches' schedule
    return [run.result() for run in runs[WARMUP:]]


async def measure_storm(
    capture: WebhookCapture,
    notified: FirstNotified,
    fail: Callable[[str], Awaitable[None]],
    hosts: int,
    window: float,
) -> tuple[int, float]:
    """Fail ``hosts`` hosts evenly over ``window`` seconds; count the ``/storm``
    notifications until every host was in one, and the seconds that took."""
    names = [f"s{i}" for i in range(hosts)]
    start = time.monotonic()
    for i, host in enumerate(names):
        await asyncio.sleep(max(0.0, start + i * window / hosts - time.monotonic()))  # schedule
        await fail(host)
    await capture.wait_for(
        lambda _: all(("/storm", h) in notified.at for h in names),
        timeout=window + 120,
        what=f"notifications naming all {hosts} storm hosts",
    )
    last = max(notified.at[("/storm", h)] for h in names)
    return len([d for d in capture.on("/storm") if d.at <= last]), last - start


class FlipTarget:
    """A scrape target exposing ``breach`` and ``storm`` samples of the hosts set to fail."""

    def __init__(self) -> None:
        self.failing: dict[str, str] = {}  # host -> metric name
        self._runner: web.AppRunner | None = None
        self.port = free_port()

    async def metrics(self, _: web.Request) -> web.Response:
        lines = ['breach{host="idle"} 0', 'storm{host="idle"} 0']
        lines += [f'{metric}{{host="{host}"}} 500' for host, metric in self.failing.items()]
        return web.Response(text="\n".join(lines) + "\n", content_type="text/plain")

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/metrics", self.metrics)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


def prometheus_yml(target_port: int, alertmanager_port: int, rules: Path) -> str:
    return f"""global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files: ['{rules}']
alerting:
  alertmanagers:
    - static_configs: [{{targets: ['127.0.0.1:{alertmanager_port}']}}]
scrape_configs:
  - job_name: flip
    static_configs: [{{targets: ['127.0.0.1:{target_port}']}}]
"""


async def started(process: ManagedProcess, stack: AsyncExitStack) -> ManagedProcess:
    await asyncio.to_thread(lambda: process.start().wait_ready(60))
    stack.push_async_callback(asyncio.to_thread, process.stop, 10)
    return process


async def poll(check: Callable[[], Awaitable[bool]], timeout: float, what: str) -> None:
    """Check until true; raise after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise ProcessError(f"timed out after {timeout:g}s waiting for {what}")
        await asyncio.sleep(0.2)


async def peer_side(args: argparse.Namespace, workdir: Path) -> SideResult:
    """Prometheus and Alertmanager tuned for speed: the breaches, then the storm."""
    notified = FirstNotified()
    async with AsyncExitStack() as stack:
        capture = await stack.enter_async_context(WebhookCapture(listener=notified))
        target = FlipTarget()
        await target.start()
        stack.push_async_callback(target.stop)
        am_port, prom_port = free_port(), free_port()
        (workdir / "alertmanager.yml").write_text(alertmanager_yml(capture.url))
        (workdir / "rules.yml").write_text(RULES)
        (workdir / "prometheus.yml").write_text(
            prometheus_yml(target.port, am_port, workdir / "rules.yml")
        )
        await started(peers.alertmanager(am_port, workdir, workdir / "alertmanager.yml"), stack)
        await started(peers.prometheus(prom_port, workdir, workdir / "prometheus.yml"), stack)
        http = await stack.enter_async_context(aiohttp.ClientSession())
        query = urllib.parse.urlencode({"query": 'up{job="flip"} == 1'})

        async def scraped() -> bool:
            url = f"http://127.0.0.1:{prom_port}/api/v1/query?{query}"
            async with http.get(url) as response:
                body: dict[str, Any] = await response.json()
            return bool(body["data"]["result"])

        await poll(scraped, 30, "Prometheus to scrape the target")

        async def breach(host: str) -> None:
            target.failing[host] = "breach"

        async def clear(host: str) -> None:
            target.failing.pop(host, None)

        async def fail(host: str) -> None:
            target.failing[host] = "storm"

        latencies = await measure_breaches(
            capture, notified, breach, clear, args.breaches, args.spacing
        )
        storm, seconds = await measure_storm(
            capture, notified, fail, args.storm_hosts, args.storm_window
        )
    return SideResult(
        "Prometheus 2.42 + Alertmanager 0.25 (1 s scrape and evaluation, group_wait 0s)",
        latencies,
        storm,
        seconds,
    )


async def pulseline_side(args: argparse.Namespace, workdir: Path) -> SideResult:
    """The same breaches and storm through pulseline: collector push, worker, webhook.

    A private stack as ``bench/alerts.py`` starts it (broker, VictoriaMetrics, one worker
    loading :data:`RULES` and :func:`alertmanager_yml`, one collector), with that benchmark's
    background load flowing; :func:`measure_breaches` and :func:`measure_storm` then run with
    ``breach``/``clear``/``fail`` pushing ``breach,host=bN value=500`` (``value=0`` to clear)
    and ``storm,host=sN value=500`` to the collector.
    """
    raise NotImplementedError("pulseline's side needs the worker's webhook notifications")


def cut(latencies: list[float], percent: int) -> float:
    """A percentile, within the measured range."""
    return statistics.quantiles(latencies, n=100, method="inclusive")[percent - 1]


def percentiles(latencies: list[float]) -> str:
    return (
        f"p50 {cut(latencies, 50) * 1000:.0f} ms, p99 {cut(latencies, 99) * 1000:.0f} ms, "
        f"max {max(latencies) * 1000:.0f} ms"
    )


def report(result: SideResult, args: argparse.Namespace) -> None:
    print(
        f"notify: {result.name}: breach to webhook, {len(result.latencies)} breaches: "
        f"{percentiles(result.latencies)}"
    )
    print(
        f"notify: {result.name}: storm of {args.storm_hosts} hosts failing within "
        f"{args.storm_window:g} s: {result.storm_notifications} notifications until every "
        f"host was in one, {result.storm_seconds:.1f} s after the first failure"
    )


async def run(args: argparse.Namespace) -> list[SideResult]:
    sides = [peer_side] if args.peer_only else [peer_side, pulseline_side]
    results = []
    for side in sides:
        with tempfile.TemporaryDirectory(prefix="pulseline-bench-notify-") as workdir:
            results.append(await side(args, Path(workdir)))
        report(results[-1], args)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--breaches", type=int, default=300)
    parser.add_argument("--spacing", type=float, default=0.2, help="mean s between breaches")
    parser.add_argument("--storm-hosts", type=int, default=100)
    parser.add_argument("--storm-window", type=float, default=10.0)
    parser.add_argument("--peer-only", action="store_true", help="measure the peer alone")
    args = parser.parse_args()
    results = asyncio.run(run(args))
    if len(results) == 2:
        peer, ours = results
        ratio = cut(peer.latencies, 99) / max(cut(ours.latencies, 99), 1e-9)
        print(
            f"notify: pulseline is {ratio:.1f} times faster at p99; storm notifications: "
            f"pulseline {ours.storm_notifications}, peer {peer.storm_notifications}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
