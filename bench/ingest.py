"""End-to-end ingest benchmark: push a fixed workload, time until all of it is visible.

Pushes 1,000,000 samples (2,000 series x 5 fields x 100 timestamps, 200,000 lines in bodies
of 5,000 gzipped lines, 4 requests in flight) to the collector of the running local stack
(`make run`), then polls the raw TSDB until every sample is there. Prints one line: samples
per second from the first push to the last sample visible, and the worker's CPU seconds per
million samples (from the worker's process_cpu_seconds_total).

When no stack answers at the configured collector address, the benchmark starts a private
one on free ports (broker, VictoriaMetrics, one worker, one collector) and stops it after.
Timing starts after a warm-up point went through, so a worker's group join is not counted.

    python bench/ingest.py [--config deploy/local/pulseline.yaml]
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import os
import sys
import tempfile
import time
import urllib.parse
import urllib.request
import uuid
from contextlib import ExitStack
from pathlib import Path

import aiohttp

from streams.kafka import ensure_topics
from streams.settings import KafkaSettings, Settings
from streams.stack import components
from streams.stack.processes import free_port, http_ready

HOSTS, DEVICES, FIELDS, STEPS = 200, 10, 5, 100
LINES_PER_BODY, IN_FLIGHT = 5_000, 4
TOTAL = HOSTS * DEVICES * FIELDS * STEPS


def bodies(run: str) -> list[bytes]:
    start = (int(time.time()) - 1800) * 1000
    lines = [
        f"bench,run={run},host=h{h:03d},dev=d{d} "
        + ",".join(f"f{f}={(h * 31 + d * 7 + f + s) % 1000 / 8}" for f in range(FIELDS))
        + f" {start + s * 1000}"
        for s in range(STEPS)
        for h in range(HOSTS)
        for d in range(DEVICES)
    ]
    return [
        gzip.compress("\n".join(lines[i : i + LINES_PER_BODY]).encode(), compresslevel=1)
        for i in range(0, len(lines), LINES_PER_BODY)
    ]


async def push_all(url: str, payloads: list[bytes]) -> None:
    queue = list(reversed(payloads))

    async def client(session: aiohttp.ClientSession) -> None:
        while queue:
            body = queue.pop()
            while True:
                async with session.post(
                    url, data=body, headers={"Content-Encoding": "gzip"}
                ) as response:
                    if response.status == 204:
                        break
                    if response.status != 503:
                        raise SystemExit(f"push failed: {response.status} {await response.text()}")
                await asyncio.sleep(0.5)

    async with aiohttp.ClientSession() as session:
        await asyncio.gather(*(client(session) for _ in range(IN_FLIGHT)))


def visible(tsdb: str, query: str) -> int:
    url = f"{tsdb}/api/v1/query?" + urllib.parse.urlencode({"query": query})
    with urllib.request.urlopen(url, timeout=30) as response:
        result = json.load(response)["data"]["result"]
    return int(float(result[0]["value"][1])) if result else 0


def warm_up(collector: str, tsdb: str) -> None:
    """Push one point and wait until it is stored: the worker has joined and is writing."""
    run = uuid.uuid4().hex[:8]
    body = f"bench_warmup,run={run} v=1".encode()
    request = urllib.request.Request(f"{collector}/api/v2/write", data=body, method="POST")
    urllib.request.urlopen(request, timeout=30).close()
    query = f'count_over_time(bench_warmup_v{{run="{run}"}}[1h])'
    deadline = time.monotonic() + 120
    while visible(tsdb, query) < 1:
        if time.monotonic() > deadline:
            raise SystemExit("the warm-up point did not arrive in 120 s: is a worker running?")
        time.sleep(0.2)


def worker_metric(web: str, prefix: str) -> float:
    with urllib.request.urlopen(f"{web}/metrics", timeout=10) as response:
        for line in response.read().decode().splitlines():
            if line.startswith(prefix):
                return float(line.rsplit(" ", 1)[1])
    raise SystemExit(f"worker /metrics has no {prefix}")


def worker_cpu(web: str) -> float:
    return worker_metric(web, "process_cpu_seconds_total")


def worker_lines(web: str) -> float:
    return worker_metric(web, 'pulseline_sink_lines_written_total{tier="raw"}')


def private_stack(stack: ExitStack) -> tuple[str, str, str]:
    """Start broker, TSDB, worker and collector on free ports; return their URLs."""
    workdir = Path(tempfile.mkdtemp(prefix="pulseline-bench-"))
    broker_port, vm_port, collector_port, web_port = (free_port() for _ in range(4))
    for process in (
        components.broker(broker_port, workdir),
        components.victoria_metrics(vm_port, workdir),
    ):
        process.start().wait_ready(30)
        stack.callback(process.stop)
    env = {
        **os.environ,
        "PULSELINE_KAFKA__BROKER": f"kafka://127.0.0.1:{broker_port}",
        "PULSELINE_INFLUX__URL": f"http://127.0.0.1:{vm_port}",
        "PULSELINE_COLLECTOR__LISTEN": f"127.0.0.1:{collector_port}",
        "PULSELINE_WORKER__WEB_PORT": str(web_port),
    }
    env.pop("PULSELINE_CONFIG", None)
    kafka = KafkaSettings(broker=f"kafka://127.0.0.1:{broker_port}")
    asyncio.run(ensure_topics(kafka, Settings.load(None).topics.pipeline(kafka.partitions)))
    web, collector = f"http://127.0.0.1:{web_port}", f"http://127.0.0.1:{collector_port}"
    for command, ready in (("worker", f"{web}/metrics"), ("collect", f"{collector}/health")):
        process = components.pulseline(command, workdir, env, ready_url=ready)
        process.start().wait_ready(60)
        stack.callback(process.stop)
    return collector, f"http://127.0.0.1:{vm_port}", web


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, default=os.environ.get("PULSELINE_CONFIG"))
    args = parser.parse_args()
    settings = Settings.load(args.config)
    collector = f"http://{settings.collector.listen}"
    tsdb = settings.tier_url(settings.tiers[0])
    web = f"http://{settings.worker.web_host}:{settings.worker.web_port}"
    with ExitStack() as stack:
        if not http_ready(f"{collector}/health")():
            print("no running stack found; starting a private one", file=sys.stderr)
            collector, tsdb, web = private_stack(stack)
        warm_up(collector, tsdb)
        run = uuid.uuid4().hex[:8]
        payloads = bodies(run)
        cpu_before, lines_before = worker_cpu(web), worker_lines(web)
        started = time.perf_counter()
        asyncio.run(push_all(f"{collector}/api/v2/write?precision=ms", payloads))
        pushed = time.perf_counter() - started
        deadline = started + 600
        query = f'sum(count_over_time({{__name__=~"bench_f.*",run="{run}"}}[1h]))'
        written = None
        while (count := visible(tsdb, query)) < TOTAL:
            if time.perf_counter() > deadline:
                raise SystemExit(f"only {count} of {TOTAL} samples visible after 600 s")
            if written is None and worker_lines(web) - lines_before >= TOTAL // FIELDS:
                written = time.perf_counter() - started
            time.sleep(0.2)
        elapsed = time.perf_counter() - started
        cpu = worker_cpu(web) - cpu_before
    print(
        f"ingest: {TOTAL} samples in {elapsed:.1f} s: {TOTAL / elapsed:,.0f} samples/s end to end"
        f" (pushed after {pushed:.1f} s, written by the worker after "
        f"{written or elapsed:.1f} s), worker {cpu / TOTAL * 1e6:.2f} CPU s per million samples"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
