"""End-to-end ingest benchmark: push a fixed workload, time until all of it is visible.

Starts a private stack on free ports (the broker, one VictoriaMetrics per tier) and runs
the same workload twice, each time through a fresh worker and collector on fresh topics:
once with the downsampling agent off (raw only), once with it on (1-minute rows to their
own TSDB, 1-hour windows open). The workload: 1,000,000 samples (2,000 series x 5 fields x
100 timestamps a second apart, 200,000 lines in bodies of 5,000 gzipped lines, 4 requests
in flight). Each phase prints: samples per second from the first push to the last sample
visible in the raw TSDB, when the raw sink had written everything, when the downsampling
agent had counted every sample (its samples per second), and the worker's CPU seconds per
million samples (from its process_cpu_seconds_total). Timing starts after a warm-up point
went through, so a worker's group join is not counted.

    python bench/ingest.py
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import os
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
from streams.stack.processes import free_port

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


def downsampled(web: str) -> float:
    return worker_metric(web, "pulseline_downsample_samples_total")


class Stack:
    """A broker and TSDBs on free ports; workers and collectors started per phase."""

    def __init__(self, stack: ExitStack) -> None:
        self.stack = stack
        self.workdir = Path(tempfile.mkdtemp(prefix="pulseline-bench-"))
        self.broker_port = free_port()
        self.tsdbs = {tier: free_port() for tier in ("raw", "1m", "1h")}
        processes = [components.broker(self.broker_port, self.workdir, "tansu")]
        processes += [components.victoria_metrics(p, self.workdir) for p in self.tsdbs.values()]
        for process in processes:
            process.start().wait_ready(30)
            stack.callback(process.stop)

    def tsdb(self, tier: str) -> str:
        return f"http://127.0.0.1:{self.tsdbs[tier]}"

    def phase(self, name: str, *, downsample: bool) -> tuple[str, str]:
        """Fresh topics, one worker and one collector; return the collector and worker URLs."""
        collector_port, web_port = free_port(), free_port()
        tiers = [{"name": "raw", "retention_s": "7d", "bucket": "metrics"}] + [
            {"name": t, "window_s": w, "retention_s": r, "bucket": b, "url": self.tsdb(t)}
            for t, w, r, b in (("1m", 60, "30d", "metrics_1m"), ("1h", 3600, "365d", "metrics_1h"))
        ]
        env = {
            **os.environ,
            "PULSELINE_KAFKA__BROKER": f"kafka://127.0.0.1:{self.broker_port}",
            "PULSELINE_KAFKA__ENABLE_IDEMPOTENCE": "false",  # Tansu has no idempotent producer
            "PULSELINE_INFLUX__URL": self.tsdb("raw"),
            "PULSELINE_TIERS": json.dumps(tiers),
            "PULSELINE_DOWNSAMPLE__ENABLED": "true" if downsample else "false",
            "PULSELINE_TOPICS__RAW": f"raw.{name}",
            "PULSELINE_TOPICS__LATE": f"late.{name}",
            "PULSELINE_WORKER__APP_ID": f"bench-{name}",
            "PULSELINE_COLLECTOR__LISTEN": f"127.0.0.1:{collector_port}",
            "PULSELINE_WORKER__WEB_PORT": str(web_port),
        }
        env.pop("PULSELINE_CONFIG", None)
        settings = Settings.load(None)
        kafka = KafkaSettings(broker=env["PULSELINE_KAFKA__BROKER"])
        layout = {
            f"raw.{name}": kafka.partitions,
            f"raw.{name}.dlq": kafka.partitions,
            f"late.{name}": kafka.partitions,
            settings.topics.members: 1,
        }
        asyncio.run(ensure_topics(kafka, layout))
        web, collector = f"http://127.0.0.1:{web_port}", f"http://127.0.0.1:{collector_port}"
        for command, ready in (("worker", f"{web}/metrics"), ("collect", f"{collector}/health")):
            process = components.pulseline(
                command, self.workdir, env, name=f"{command}-{name}", ready_url=ready
            )
            process.start().wait_ready(60)
            self.stack.callback(process.stop)
        return collector, web


def measure(stack: Stack, name: str, *, downsample: bool) -> str:
    """Push the workload through a fresh worker; one line of figures."""
    tsdb = stack.tsdb("raw")
    collector, web = stack.phase(name, downsample=downsample)
    warm_up(collector, tsdb)
    run = uuid.uuid4().hex[:8]
    payloads = bodies(run)
    cpu_before, lines_before = worker_cpu(web), worker_lines(web)
    offered_before = downsampled(web) if downsample else 0.0
    started = time.perf_counter()
    asyncio.run(push_all(f"{collector}/api/v2/write?precision=ms", payloads))
    pushed = time.perf_counter() - started
    deadline = started + 600
    query = f'sum(count_over_time({{__name__=~"bench_f.*",run="{run}"}}[1h]))'
    written = aggregated = None
    while (count := visible(tsdb, query)) < TOTAL or (downsample and aggregated is None):
        now = time.perf_counter()
        if now > deadline:
            raise SystemExit(f"{name}: only {count} of {TOTAL} samples visible after 600 s")
        if written is None and worker_lines(web) - lines_before >= TOTAL // FIELDS:
            written = now - started
        if downsample and aggregated is None and downsampled(web) - offered_before >= TOTAL:
            aggregated = now - started
        time.sleep(0.2)
    elapsed = time.perf_counter() - started
    cpu = worker_cpu(web) - cpu_before
    line = (
        f"{name}: {TOTAL} samples in {elapsed:.1f} s: {TOTAL / elapsed:,.0f} samples/s end to end"
        f" (pushed after {pushed:.1f} s, raw written after {written or elapsed:.1f} s"
    )
    if aggregated is not None:
        line += f", downsampled after {aggregated:.1f} s: {TOTAL / aggregated:,.0f} samples/s"
    return line + f"), worker {cpu / TOTAL * 1e6:.2f} CPU s per million samples"


def main() -> int:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args()
    with ExitStack() as stack:
        private = Stack(stack)
        lines = [
            measure(private, "raw-only", downsample=False),
            measure(private, "with-downsampling", downsample=True),
        ]
    for line in lines:
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
