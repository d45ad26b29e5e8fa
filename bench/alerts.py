"""Alert latency and evaluation cost with 100 rules.

Starts a private stack on free ports of 127.0.0.1 (the broker, a VictoriaMetrics, one worker
with 100 alert rules in 10 groups, one collector) and keeps a background load flowing
through the collector: ``--rate`` samples per second that rules read (200 hosts x 10 fields;
each field read by 10 rules, over all 200 hosts; the hosts push in 20 groups spread over the
period, as the collector spreads scrapes, or all at once with ``--lockstep``) and ``--noise``
samples per second of a measurement no rule reads. Then, ``--breaches`` times, it pushes
one sample that breaches a rule and times how long until the firing event is on
``alerts.events``, as a consumer of that topic sees it. Prints p50, p99 and the slowest,
and the time each stage took (from the Kafka timestamps of the breach's ``metrics.raw`` and
``rules.samples`` records and of its event).

Then it measures the evaluation alone, in this process, without Kafka: the cost per sample
of routing samples to the rule groups and evaluating the 100 rules on arrival, in batches as
the worker takes them: one host's samples per take, and all hosts' at once.

    python bench/alerts.py [--rate 1000] [--noise 20000] [--breaches 500] [--lockstep]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from aiokafka import AIOKafkaConsumer, TopicPartition
from private_stack import (
    FIELDS,
    GROUPS,
    HOSTS,
    RULES_PER_GROUP,
    SLICES,
    background,
    private_stack,
    rule_file,
)

from streams.records import Point
from streams.rules import load_rule_files
from streams.rules.evaluation.routing import Router, decode_forward, encode_forward, partition_of
from streams.rules.evaluation.runtime import RuleRuntime
from streams.settings import KafkaSettings, TopicSettings


@dataclass
class Stamps:
    """When a breach passed each stage (wall clock, ms)."""

    seen: float
    event: int
    sources: list[dict[str, Any]]
    pushed: float = 0.0
    raw: int = 0
    forwarded: int = 0


async def measure(
    collector: str,
    broker: str,
    topics: TopicSettings,
    args: argparse.Namespace,
) -> tuple[list[float], dict[str, Stamps]]:
    url = f"{collector}/api/v2/write?precision=ms"
    # A reader of alerts.events tuned for latency, as an alert router would be.
    consumer = AIOKafkaConsumer(
        topics.alerts, bootstrap_servers=broker, auto_offset_reset="latest", fetch_max_wait_ms=10
    )
    await consumer.start()
    seen: dict[str, float] = {}
    stamps: dict[str, Stamps] = {}
    pushed: dict[str, float] = {}

    async def read() -> None:
        async for message in consumer:
            event = json.loads(message.value)
            if event["state"] == "firing" and event["rule"] == "A0_0":
                host = event["labels"]["host"]
                if host not in seen:
                    seen[host] = time.perf_counter()
                    stamps[host] = Stamps(time.time() * 1000, message.timestamp, event["sources"])

    reader = asyncio.create_task(read())
    latencies: list[float] = []
    async with aiohttp.ClientSession() as session:
        loads = [
            asyncio.create_task(
                background(session, url, "load", args.rate, 1 if args.lockstep else SLICES)
            ),
            asyncio.create_task(background(session, url, "noise", args.noise, 1)),
        ]
        await asyncio.sleep(15)  # warm: every group evaluated, the load flowing
        for i in range(-5, args.breaches):  # five unmeasured first
            host = f"b{i + 5}"
            sent = time.perf_counter()
            pushed[host] = time.time() * 1000
            body = f"breach,host={host} value=500 {time.time_ns() // 1_000_000}".encode()
            async with session.post(url, data=body) as response:
                assert response.status == 204
            deadline = sent + 10
            while host not in seen and time.perf_counter() < deadline:
                await asyncio.sleep(0.001)
            if host not in seen:
                raise SystemExit(f"no firing event for {host} within 10 s")
            if i >= 0:
                latencies.append(seen[host] - sent)
            await asyncio.sleep(0.05)
        for load in loads:
            load.cancel()
    reader.cancel()
    await consumer.stop()
    measured = {f"b{i + 5}" for i in range(args.breaches)}
    stamps = {host: stamp for host, stamp in stamps.items() if host in measured}
    for host, stamp in stamps.items():
        stamp.pushed = pushed[host]
    await stage_times(broker, topics, stamps)
    return latencies, stamps


async def stage_times(broker: str, topics: TopicSettings, stamps: dict[str, Stamps]) -> None:
    """Fill in when each breach's ``metrics.raw`` and ``rules.samples`` records were made."""
    consumer = AIOKafkaConsumer(bootstrap_servers=broker, enable_auto_commit=False)
    await consumer.start()
    try:
        for stamp in stamps.values():
            source = stamp.sources[0]
            tp = TopicPartition(source["topic"], source["partition"])
            consumer.assign([tp])
            consumer.seek(tp, source["offset"])
            message = await consumer.getone()
            stamp.raw = message.timestamp
        tp = TopicPartition(topics.rule_samples, partition_of("g0", KafkaSettings().partitions))
        consumer.assign([tp])
        await consumer.seek_to_beginning(tp)
        end = (await consumer.end_offsets([tp]))[tp]
        while (await consumer.position(tp)) < end:
            for message in (await consumer.getmany(tp, timeout_ms=1000)).get(tp, []):
                forwarded = decode_forward(message.value or b"")
                for labels, *_ in forwarded.samples:
                    host = dict(labels).get("host", "")
                    if host in stamps and host.startswith("b") and not stamps[host].forwarded:
                        stamps[host].forwarded = message.timestamp
    finally:
        await consumer.stop()


STAGES = ("collector", "rules-route", "rules-eval", "alerts.events reader")


def stage_split(s: Stamps) -> tuple[float, ...]:
    """The time (ms) one breach spent in each of :data:`STAGES`."""
    return (s.raw - s.pushed, s.forwarded - s.raw, s.event - s.forwarded, s.seen - s.event)


def stages(stamps: dict[str, Stamps]) -> str:
    """p50 and p99 of the time each stage took, and where the slowest breach spent it."""
    splits = [stage_split(s) for s in stamps.values()]
    by_stage = ", ".join(
        f"{name} p50 {cuts[49]:.1f} ms p99 {cuts[98]:.1f} ms"
        for name, values in zip(STAGES, zip(*splits, strict=True), strict=True)
        for cuts in [statistics.quantiles(values, n=100)]
    )
    slowest = max(splits, key=sum)
    where = ", ".join(f"{n} {v:.1f}" for n, v in zip(STAGES, slowest, strict=True))
    return f"{by_stage}; the slowest: {where} ms"


def evaluation_cost(rules: Path, hosts_per_take: int, samples: int = 200_000) -> float:
    """Seconds per sample to route, forward and evaluate, each take holding every field of
    ``hosts_per_take`` hosts at one timestamp."""
    router = Router(load_rule_files([rules]))
    runtime = RuleRuntime(router, 1, {})
    start = time.time_ns() // 1_000_000
    takes = []
    for step in range(samples // (HOSTS * FIELDS)):
        for first in range(0, HOSTS, hosts_per_take):
            ts = start + step * 1000 + first
            takes.append(
                [
                    Point(
                        "load",
                        {"host": f"h{h}", "rack": f"r{h % 10}"},
                        {f"f{f}": float((h + f + step) % 100) for f in range(FIELDS)},
                        ts,
                    )
                    for h in range(first, min(first + hosts_per_take, HOSTS))
                ]
            )
    elapsed = 0.0
    for offset, points in enumerate(takes):
        began = time.perf_counter()
        routed = router.route(points)
        records = [
            decode_forward(encode_forward(g, [("raw", 0, offset)], [(0, x) for x in samples]))
            for g, samples in routed.items()
        ]
        runtime.on_records(0, records)
        elapsed += time.perf_counter() - began
    return elapsed / (len(takes) * hosts_per_take * FIELDS)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=int, default=1_000, help="samples/s read by rules")
    parser.add_argument("--noise", type=int, default=20_000, help="samples/s no rule reads")
    parser.add_argument("--breaches", type=int, default=500)
    parser.add_argument(
        "--lockstep",
        action="store_true",
        help="every host of the rule-read load pushes at the same instant (default: in "
        f"{SLICES} groups spread over the period, as scrapes and agents are spread)",
    )
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="pulseline-bench-alerts-"))
    rules = workdir / "rules.yml"
    rules.write_text(rule_file())
    with private_stack(workdir, [rules]) as stack:
        latencies, stamps = asyncio.run(
            measure(stack.collector, stack.broker, stack.settings.topics, args)
        )
    cuts = statistics.quantiles(latencies, n=100)
    shape = "all at once" if args.lockstep else f"in {SLICES} pushes spread over each period"
    print(
        f"alerts: push to firing event on alerts.events, {len(latencies)} breaches, "
        f"{GROUPS * RULES_PER_GROUP} rules, background {args.rate:,} samples/s read by rules "
        f"({HOSTS} hosts x {FIELDS} fields, {shape}) and {args.noise:,} not: "
        f"p50 {cuts[49] * 1000:.1f} ms, p99 {cuts[98] * 1000:.1f} ms, "
        f"max {max(latencies) * 1000:.1f} ms"
    )
    print(f"alerts: by stage: {stages(stamps)}")
    for hosts in (1, HOSTS):
        cost = evaluation_cost(rules, hosts)
        print(
            f"alerts: routing and evaluating {GROUPS * RULES_PER_GROUP} rules on arrival, "
            f"{hosts * FIELDS} samples per take: {cost * 1e6:.2f} µs per sample "
            f"({1 / cost:,.0f} samples/s per core)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
