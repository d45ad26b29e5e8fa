"""A private pulseline stack under the background load of ``bench/alerts.py``.

:func:`private_stack` starts, on free ports of 127.0.0.1, a broker, a VictoriaMetrics, one
worker and one collector, and stops them all on exit. :func:`background` is the load the
alert benchmarks measure under: samples that :func:`rule_file`'s 100 rules read (``HOSTS``
hosts x ``FIELDS`` fields, pushed in ``SLICES`` groups spread over the period, as the
collector spreads scrapes), and samples of a measurement no rule reads.

    with private_stack(workdir, [rules]) as stack:
        asyncio.run(measure(stack.collector, stack.broker))
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from streams.kafka import ensure_topics
from streams.settings import KafkaSettings, Settings
from streams.stack import components
from streams.stack.components import BrokerEngine
from streams.stack.processes import free_port

GROUPS, RULES_PER_GROUP, HOSTS, FIELDS = 10, 10, 200, 10
SLICES = 20  # the rule-read load's hosts push in this many groups, spread over the period
BREACH_RULE = "breach > 100"


def rule_file(breach: str | None = BREACH_RULE) -> str:
    """10 groups of 10 rules over the load's metrics; the first is ``breach`` unless None
    (then it reads the load like the others)."""
    kinds = [
        "load_f{f} > 1000",
        "avg_over_time(load_f{f}[1m]) > 1000",
        "max by (rack) (load_f{f}) > 1000",
        "rate(load_f{f}[1m]) > 1000",
        'load_f{f}{{host=~"h1.*"}} > 1000',
    ]
    lines = ["groups:"]
    for g in range(GROUPS):
        lines.append(f"  - name: g{g}\n    rules:")
        for r in range(RULES_PER_GROUP):
            if g == 0 and r == 0 and breach is not None:
                expr = breach
            else:
                expr = kinds[r % len(kinds)].format(f=(g + r) % FIELDS)
            lines.append(f"      - alert: A{g}_{r}\n        expr: {expr}")
    return "\n".join(lines) + "\n"


def load_body(measurement: str, ts: int, hosts: range) -> bytes:
    """One sample of every field of ``hosts``: ``len(hosts) * FIELDS`` samples."""
    return "\n".join(
        f"{measurement},host=h{h},rack=r{h % 10} "
        + ",".join(f"f{f}={(h + f + ts // 1000) % 100}" for f in range(FIELDS))
        + f" {ts}"
        for h in hosts
    ).encode()


async def background(
    session: aiohttp.ClientSession, url: str, measurement: str, rate: int, slices: int
) -> None:
    """Push ``rate`` samples/s of ``measurement`` (``load`` is read by rules, ``noise`` not):
    every host once per period, the hosts in ``slices`` pushes spread evenly over it."""
    if rate <= 0:
        return
    period = HOSTS * FIELDS / rate
    size = -(-HOSTS // slices)
    parts = [range(start, min(start + size, HOSTS)) for start in range(0, HOSTS, size)]
    next_at = time.monotonic()
    while True:
        for hosts in parts:
            body = load_body(measurement, time.time_ns() // 1_000_000, hosts)
            async with session.post(url, data=body) as response:
                if response.status != 204:
                    raise SystemExit(f"background push failed: {response.status}")
            next_at += period / len(parts)
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))


def _push_load(url: str, rate: int, noise: int, slices: int) -> None:
    async def both() -> None:
        async with aiohttp.ClientSession() as session:
            await asyncio.gather(
                background(session, url, "load", rate, slices),
                background(session, url, "noise", noise, 1),
            )

    asyncio.run(both())


class LoadProcess:
    """:func:`background`'s two loads pushed to ``url`` by a process of its own, so that
    building them does not delay what this process times.

    Example:
        with LoadProcess(f"{stack.collector}/api/v2/write?precision=ms", 1000, 20000) as load:
            ...
            load.check()  # raise if the load stopped (the collector refused it)
    """

    def __init__(self, url: str, rate: int, noise: int, slices: int = SLICES) -> None:
        self._process = multiprocessing.get_context("spawn").Process(
            target=_push_load, args=(url, rate, noise, slices), daemon=True
        )

    def __enter__(self) -> LoadProcess:
        self._process.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._process.terminate()
        self._process.join(10)

    def check(self) -> None:
        """Raise if the load is no longer pushed."""
        if not self._process.is_alive():
            raise SystemExit(f"the background load stopped (exit {self._process.exitcode})")


@dataclass(frozen=True)
class Stack:
    """Where the private stack listens.

    Attributes:
        broker: the broker's ``host:port``.
        collector: the collector's base URL.
        web: the worker's web server's base URL.
        settings: the settings the stack's processes load.
    """

    broker: str
    collector: str
    web: str
    settings: Settings


@contextmanager
def private_stack(
    workdir: Path,
    rules: Sequence[Path],
    env: Mapping[str, str] | None = None,
    engine: BrokerEngine = "kafka",
    workers: int = 1,
    split: bool = False,
) -> Iterator[Stack]:
    """Start the broker (Apache Kafka, what users run, unless ``engine`` says Tansu),
    VictoriaMetrics, ``workers`` workers loading ``rules`` (``split``: ``workers`` alert
    workers and one store worker) and a collector, with the ``PULSELINE_*`` variables of
    ``env`` on top; stop them all on exit. The stack's ``web`` is the first worker's."""
    broker_port, vm_port, collector_port = (free_port() for _ in range(3))
    roles = ["alert"] * workers + ["store"] if split else [None] * workers
    web_ports = [free_port() for _ in roles]
    broker = f"127.0.0.1:{broker_port}"
    environ = {
        **os.environ,
        "PULSELINE_KAFKA__BROKER": f"kafka://{broker}",
        # Tansu has no idempotent producer; Kafka's is on by default.
        "PULSELINE_KAFKA__ENABLE_IDEMPOTENCE": str(engine != "tansu").lower(),
        "PULSELINE_INFLUX__URL": f"http://127.0.0.1:{vm_port}",
        "PULSELINE_INFLUX__GZIP": "false",  # loopback, as the local stack (make run) writes
        "PULSELINE_COLLECTOR__LISTEN": f"127.0.0.1:{collector_port}",
        "PULSELINE_RULES__FILES": json.dumps([str(r) for r in rules]),
        **(env or {}),
    }
    environ.pop("PULSELINE_CONFIG", None)
    settings = Settings.load(None)
    with ExitStack() as stack:
        for process in (
            components.broker(broker_port, workdir, engine),
            components.victoria_metrics(vm_port, workdir),
        ):
            process.start().wait_ready(30)
            stack.callback(process.stop)
        kafka = KafkaSettings(broker=f"kafka://{broker}")
        asyncio.run(ensure_topics(kafka, settings.topics.pipeline(kafka.partitions)))
        webs = [f"http://127.0.0.1:{port}" for port in web_ports]
        collector = f"http://127.0.0.1:{collector_port}"
        starts = [
            components.pulseline(
                "worker",
                workdir,
                {
                    **environ,
                    "PULSELINE_WORKER__WEB_PORT": str(port),
                    **({"PULSELINE_WORKER__ROLES": json.dumps([role])} if role else {}),
                },
                name=f"worker-{i}" if len(roles) > 1 else "worker",
                ready_url=f"{web}/metrics",
            )
            for i, (port, web, role) in enumerate(zip(web_ports, webs, roles, strict=True))
        ]
        starts.append(
            components.pulseline("collect", workdir, environ, ready_url=f"{collector}/health")
        )
        for process in starts:
            process.start()
            stack.callback(process.stop)
        for process in starts:
            process.wait_ready(60)
        yield Stack(broker, collector, webs[0], settings)
