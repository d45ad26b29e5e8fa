"""Breach to notification: pulseline against Prometheus and Alertmanager tuned for speed.

Both sides load the same rules (``breach > 100`` and ``storm > 100``, no ``for``) and the
same alertmanager.yml (``group_wait: 0s``, one group per breached host, the storm's alerts in
one group sent every 5 s), and deliver to a :class:`~streams.stack.capture.WebhookCapture` in
this process (see ``notify_scenario.py``).

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

pulseline's side is the same breaches and storm pushed to the collector of a private stack
(on Apache Kafka, as users run it; ``--broker tansu`` for Tansu) under the background load
of ``bench/alerts.py`` (:func:`pulseline_side`), with the time each breach spent in each
stage (``notify_stages.py``). Printed: each side's p50, p99 and slowest, its storm
notifications, and a table of both with the ratio of their p99.

    python bench/notify.py [--breaches 300] [--spacing 0.2] [--storm-hosts 100]
                           [--storm-window 10] [--rate 1000] [--noise 20000] [--warm 15]
                           [--only peer|pulseline] [--broker kafka|tansu] [--workers 1]
                           [--split] [--keep DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
import urllib.parse
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack, ExitStack
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from notify_scenario import (
    RULES,
    WARMUP,
    FirstNotified,
    SideResult,
    alertmanager_yml,
    cut,
    measure_breaches,
    measure_storm,
)
from notify_stages import stage_times, stages
from private_stack import LoadProcess, private_stack, rule_file

from streams.stack import peers
from streams.stack.capture import WebhookCapture
from streams.stack.processes import ManagedProcess, ProcessError, free_port


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
    loading :data:`RULES`, that benchmark's 100 rules and :func:`alertmanager_yml`, one
    collector), with that benchmark's background load flowing; :func:`measure_breaches` and
    :func:`measure_storm` then run with ``breach``/``clear``/``fail`` pushing
    ``breach,host=bN value=500`` (``value=0`` to clear) and ``storm,host=sN value=500`` to
    the collector. Afterwards the Kafka timestamps of each breach's records tell where its
    time went (:func:`stage_times`).
    """
    notified = FirstNotified()
    pushed: dict[str, float] = {}  # host -> wall clock (ms) of its breach's push
    (workdir / "notify.yml").write_text(RULES)
    (workdir / "load.yml").write_text(rule_file(breach=None))
    async with AsyncExitStack() as stack:
        capture = await stack.enter_async_context(WebhookCapture(listener=notified))
        (workdir / "alertmanager.yml").write_text(alertmanager_yml(capture.url))
        processes = ExitStack()
        stack.push_async_callback(asyncio.to_thread, processes.close)
        pipeline = await asyncio.to_thread(
            processes.enter_context,
            private_stack(
                workdir,
                [workdir / "notify.yml", workdir / "load.yml"],
                {"PULSELINE_ALERTMANAGER__CONFIG": str(workdir / "alertmanager.yml")},
                args.broker,
                args.workers,
                args.split,
            ),
        )
        http = await stack.enter_async_context(aiohttp.ClientSession())
        url = f"{pipeline.collector}/api/v2/write?precision=ms"

        async def push(line: str) -> None:
            body = f"{line} {time.time_ns() // 1_000_000}".encode()
            async with http.post(url, data=body) as response:
                if response.status != 204:
                    raise ProcessError(f"the collector answered {response.status} to {line}")

        async def breach(host: str) -> None:
            pushed[host] = time.time() * 1000
            await push(f"breach,host={host} value=500")

        async def clear(host: str) -> None:
            await push(f"breach,host={host} value=0")

        async def fail(host: str) -> None:
            await push(f"storm,host={host} value=500")

        with LoadProcess(url, args.rate, args.noise) as load:
            await asyncio.sleep(args.warm)  # every rule group evaluated, the load flowing
            load.check()
            latencies = await measure_breaches(
                capture, notified, breach, clear, args.breaches, args.spacing
            )
            storm, seconds = await measure_storm(
                capture, notified, fail, args.storm_hosts, args.storm_window
            )
            load.check()
        wall = time.time() - time.monotonic()  # the capture's clock to the wall clock
        arrived = {host: (at + wall) * 1000 for (path, host), at in notified.at.items()}
        measured = {f"b{i}" for i in range(WARMUP, WARMUP + args.breaches)}
        splits = await stage_times(
            pipeline, {h: pushed[h] for h in measured}, {h: arrived[h] for h in measured}
        )
    return SideResult(
        f"pulseline{' (store and alert workers)' if args.split else ''} "
        f"(load {args.rate:,} + {args.noise:,} samples/s)",
        latencies,
        storm,
        seconds,
        stages(splits),
    )


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
    if result.stages:
        print(f"notify: {result.name}: by stage: {result.stages}")


def table(peer: SideResult, ours: SideResult) -> str:
    """Both sides side by side, and the p99 ratio."""
    rows = [("", "p50 ms", "p99 ms", "max ms", "storm notifications")]
    for name, side in (("Prometheus + Alertmanager", peer), ("pulseline", ours)):
        ms = [cut(side.latencies, 50), cut(side.latencies, 99), max(side.latencies)]
        rows.append((name, *(f"{v * 1000:.0f}" for v in ms), str(side.storm_notifications)))
    ratio = cut(peer.latencies, 99) / max(cut(ours.latencies, 99), 1e-9)
    rows.append(("p99 ratio (peer / pulseline)", "", f"{ratio:.1f}x", "", ""))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "notify: "
        + "  ".join(
            [row[0].ljust(widths[0])]
            + [c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)]
        )
        for row in rows
    )


async def run(args: argparse.Namespace) -> list[SideResult]:
    sides = {"peer": [peer_side], "pulseline": [pulseline_side]}.get(
        args.only, [peer_side, pulseline_side]
    )
    results = []
    for side in sides:
        if args.keep is not None:  # the processes' logs stay for a look afterwards
            workdir = args.keep / side.__name__
            workdir.mkdir(parents=True, exist_ok=True)
            results.append(await side(args, workdir))
        else:
            with tempfile.TemporaryDirectory(prefix="pulseline-bench-notify-") as tmp:
                results.append(await side(args, Path(tmp)))
        report(results[-1], args)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--breaches", type=int, default=300)
    parser.add_argument("--spacing", type=float, default=0.2, help="mean s between breaches")
    parser.add_argument("--storm-hosts", type=int, default=100)
    parser.add_argument("--storm-window", type=float, default=10.0)
    parser.add_argument("--rate", type=int, default=1_000, help="pulseline: samples/s rules read")
    parser.add_argument("--noise", type=int, default=20_000, help="pulseline: samples/s unread")
    parser.add_argument("--warm", type=float, default=15.0, help="pulseline: s of load first")
    parser.add_argument("--only", choices=["peer", "pulseline"], help="measure one side alone")
    parser.add_argument(
        "--broker", choices=["kafka", "tansu"], default="kafka", help="pulseline: the broker"
    )
    parser.add_argument("--workers", type=int, default=1, help="pulseline: worker processes")
    parser.add_argument(
        "--split",
        action="store_true",
        help="pulseline: --workers alert workers and a store worker (worker.roles)",
    )
    parser.add_argument(
        "--keep", type=Path, help="work in this directory and keep it (the processes' logs)"
    )
    args = parser.parse_args()
    results = asyncio.run(run(args))
    if len(results) == 2:
        print(table(*results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
