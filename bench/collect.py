"""Collector benchmarks: scraping and Prometheus remote write, on a private stack.

Starts a broker, a VictoriaMetrics, one worker and one collector on free ports of 127.0.0.1,
plus a synthetic exposition server, then measures:

- scrape: the collector scrapes TARGETS pages of SERIES series each every INTERVAL seconds
  for a while; prints the samples scraped per second it kept up with (every scrape on time,
  none failed), and the collector's CPU seconds per million scraped samples, which gives the
  targets x series per second one collector core sustains;
- remote write: pushes 1,000,000 samples as remote-write requests of 2,000 series, 4 in
  flight; prints samples/s acknowledged by the collector (after Kafka) and end to end
  (visible in the TSDB).

    python bench/collect.py [--targets 50] [--series 1000] [--interval 5] [--seconds 30]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import threading
import time
import urllib.parse
import urllib.request
import uuid
from contextlib import ExitStack
from pathlib import Path

import aiohttp
from aiohttp import web

from streams.codecs.remotewrite import encode_write_request
from streams.kafka import ensure_topics
from streams.settings import KafkaSettings, Settings
from streams.stack import components
from streams.stack.processes import free_port


def page(target: int, series: int) -> bytes:
    lines = ["# HELP bench_requests_total Requests.", "# TYPE bench_requests_total counter"]
    lines += [
        f'bench_requests_total{{path="/p{i % 50}",code="{200 + i % 5}",shard="{i}"}} '
        f"{target * 7 + i}"
        for i in range(series)
    ]
    return ("\n".join(lines) + "\n").encode()


def serve_targets(targets: int, series: int) -> int:
    """Serve /t/N/metrics for every target from a thread; return the port."""
    pages = [page(t, series) for t in range(targets)]
    port = free_port()
    ready = threading.Event()

    async def handler(request: web.Request) -> web.Response:
        return web.Response(body=pages[int(request.match_info["n"])], content_type="text/plain")

    def run() -> None:
        loop = asyncio.new_event_loop()
        app = web.Application()
        app.router.add_get("/t/{n}/metrics", handler)
        runner = web.AppRunner(app, access_log=None)
        loop.run_until_complete(runner.setup())
        loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", port).start())
        ready.set()
        loop.run_forever()

    threading.Thread(target=run, daemon=True).start()
    ready.wait(10)
    return port


def metric(url: str, name: str) -> float:
    with urllib.request.urlopen(f"{url}/metrics", timeout=10) as response:
        for line in response.read().decode().splitlines():
            if line.startswith(name + " ") or line.startswith(name + "{"):
                return float(line.rsplit(" ", 1)[1])
    return 0.0


def visible(tsdb: str, query: str) -> int:
    url = f"{tsdb}/api/v1/query?" + urllib.parse.urlencode({"query": query})
    with urllib.request.urlopen(url, timeout=30) as response:
        result = json.load(response)["data"]["result"]
    return int(float(result[0]["value"][1])) if result else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", type=int, default=50)
    parser.add_argument("--series", type=int, default=1000)
    parser.add_argument("--interval", type=float, default=5.0)
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="pulseline-bench-collect-"))
    target_port = serve_targets(args.targets, args.series)
    scrape = workdir / "scrape.yml"
    scrape.write_text(
        f"global: {{scrape_interval: {args.interval:g}s, scrape_timeout: {args.interval:g}s}}\n"
        "scrape_configs:\n"
        + "".join(
            f"  - job_name: t{t}\n    metrics_path: /t/{t}/metrics\n"
            f"    static_configs: [{{targets: ['127.0.0.1:{target_port}']}}]\n"
            for t in range(args.targets)
        )
    )
    broker_port, vm_port, collector_port, web_port = (free_port() for _ in range(4))
    env = {
        **os.environ,
        "PULSELINE_KAFKA__BROKER": f"kafka://127.0.0.1:{broker_port}",
        "PULSELINE_KAFKA__ENABLE_IDEMPOTENCE": "false",  # Tansu has no idempotent producer
        "PULSELINE_INFLUX__URL": f"http://127.0.0.1:{vm_port}",
        "PULSELINE_COLLECTOR__LISTEN": f"127.0.0.1:{collector_port}",
        "PULSELINE_COLLECTOR__SCRAPE_CONFIG": str(scrape),
        "PULSELINE_WORKER__WEB_PORT": str(web_port),
    }
    env.pop("PULSELINE_CONFIG", None)
    collector = f"http://127.0.0.1:{collector_port}"
    tsdb = f"http://127.0.0.1:{vm_port}"
    with ExitStack() as stack:
        for process in (
            components.broker(broker_port, workdir, "tansu"),
            components.victoria_metrics(vm_port, workdir),
        ):
            process.start().wait_ready(30)
            stack.callback(process.stop)
        kafka = KafkaSettings(broker=env["PULSELINE_KAFKA__BROKER"])
        asyncio.run(ensure_topics(kafka, Settings.load(None).topics.pipeline(kafka.partitions)))
        for command, ready in (
            ("worker", f"http://127.0.0.1:{web_port}/metrics"),
            ("collect", f"{collector}/health"),
        ):
            process = components.pulseline(command, workdir, env, ready_url=ready)
            process.start().wait_ready(60)
            stack.callback(process.stop)
        time.sleep(args.interval * 2)  # membership settles, first scrapes happen
        cpu0, scrapes0 = metric(collector, "process_cpu_seconds_total"), _scrapes(collector)
        time.sleep(args.seconds)
        cpu1, scrapes1 = metric(collector, "process_cpu_seconds_total"), _scrapes(collector)
        ok, failed = scrapes1[0] - scrapes0[0], scrapes1[1] - scrapes0[1]
        expected = args.targets * args.seconds / args.interval
        samples = ok * (args.series + 3)
        per_million = (cpu1 - cpu0) / samples * 1e6 if samples else float("nan")
        print(
            f"scrape: {args.targets} targets x {args.series} series every {args.interval:g}s: "
            f"{ok} scrapes ok, {failed} failed, {ok / expected:.0%} of schedule, "
            f"{samples / args.seconds:,.0f} samples/s; collector {per_million:.1f} CPU s per "
            f"million samples = {1e6 / per_million:,.0f} targets x series per second per core"
        )
        _remote_write(collector, tsdb)
    return 0


def _scrapes(collector: str) -> tuple[float, float]:
    """Scrapes so far that succeeded and that failed, from the collector's counters."""
    counts = {"up": 0.0, "down": 0.0}
    with urllib.request.urlopen(f"{collector}/metrics", timeout=10) as response:
        for line in response.read().decode().splitlines():
            if line.startswith("pulseline_collector_scrapes_total{"):
                result = line.split('result="', 1)[1].split('"', 1)[0]
                counts[result] += float(line.rsplit(" ", 1)[1])
    return counts["up"], counts["down"]


def _remote_write(collector: str, tsdb: str) -> None:
    run = uuid.uuid4().hex[:8]
    start = (int(time.time()) - 1800) * 1000
    series_per_request, steps = 2_000, 500
    bodies = [
        encode_write_request(
            [
                (
                    {
                        "__name__": "bench_rw",
                        "run": run,
                        "instance": f"host-{i % 100}",
                        "s": str(i),
                    },
                    [(float(i + step), start + step * 1000)],
                )
                for i in range(series_per_request)
            ]
        )
        for step in range(steps)
    ]
    total = series_per_request * steps

    async def push() -> None:
        queue = list(reversed(bodies))
        headers = {"Content-Encoding": "snappy", "Content-Type": "application/x-protobuf"}

        async def client(session: aiohttp.ClientSession) -> None:
            while queue:
                body = queue.pop()
                async with session.post(
                    f"{collector}/api/v1/write", data=body, headers=headers
                ) as r:
                    if r.status != 204:
                        raise SystemExit(f"remote write failed: {r.status} {await r.text()}")

        async with aiohttp.ClientSession() as session:
            await asyncio.gather(*(client(session) for _ in range(4)))

    started = time.perf_counter()
    asyncio.run(push())
    acked = time.perf_counter() - started
    query = f'sum(count_over_time(bench_rw{{run="{run}"}}[1h]))'
    while visible(tsdb, query) < total:
        if time.perf_counter() - started > 600:
            raise SystemExit("remote-write samples not all visible after 600 s")
        time.sleep(0.2)
    elapsed = time.perf_counter() - started
    print(
        f"remote write: {total} samples: {total / acked:,.0f} samples/s acknowledged by the "
        f"collector, {total / elapsed:,.0f} samples/s end to end"
    )


if __name__ == "__main__":
    raise SystemExit(main())
