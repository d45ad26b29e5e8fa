"""``pulseline stack run``: the whole pipeline on this machine, stopped by Ctrl-C.

Starts the broker and one VictoriaMetrics per tier URL that points at this machine, creates
the topics, then a worker, a collector and the demo load, and prints where to look. Logs
and data go under the stack directory. Every process it started is stopped on the way out.

The broker is Tansu by default (ready at once, memory-only: a stack restart starts empty) or
Apache Kafka (``--broker kafka``: about 5 s to start and 200 MB, and its log directory under
the stack directory keeps topics, records and committed offsets from one run to the next).
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import time
from pathlib import Path
from urllib.parse import urlsplit

from streams.errors import PulselineError
from streams.kafka import ensure_topics
from streams.settings import Settings
from streams.stack import components
from streams.stack.components import BrokerEngine
from streams.stack.processes import ManagedProcess

LOCAL_HOSTS = {"127.0.0.1", "localhost"}


def _port_free(host: str, port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex((host, port)) != 0


def _local_tsdbs(settings: Settings) -> dict[int, float]:
    """Port -> longest retention of the tiers stored there, for local TSDB URLs."""
    ports: dict[int, float] = {}
    for tier in settings.tiers:
        url = urlsplit(settings.tier_url(tier))
        if url.hostname in LOCAL_HOSTS and url.port:
            ports[url.port] = max(ports.get(url.port, 0.0), tier.retention_s)
    return ports


def run_stack(
    settings: Settings,
    workdir: Path,
    *,
    config: Path | None,
    demo: bool,
    broker: BrokerEngine = "tansu",
) -> int:
    """Run until SIGINT/SIGTERM; returns the exit code.

    Args:
        settings: the pipeline settings (the broker and TSDB addresses decide what starts).
        workdir: the stack directory: logs, TSDB data, Kafka's log directory.
        config: the settings file, passed on to the pulseline processes.
        demo: whether to start the demo load.
        broker: the engine of a broker started on this machine (``kafka.broker`` local).
    """
    workdir = workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    if config is not None:
        env["PULSELINE_CONFIG"] = str(config.resolve())
    broker_host, _, broker_port = settings.kafka.bootstrap_servers[0].rpartition(":")
    if broker_host in LOCAL_HOSTS and broker == "tansu":
        env["PULSELINE_KAFKA__ENABLE_IDEMPOTENCE"] = "false"  # Tansu has no idempotent producer
    started: list[ManagedProcess] = []
    stop = False

    def on_signal(signum: int, frame: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    def launch(process: ManagedProcess, timeout: float = 60) -> None:
        print(f"starting {process.name} (log: {process.log_path})", flush=True)
        started.append(process.start())
        process.wait_ready(timeout)

    try:
        needed = [(broker_host, int(broker_port))] if broker_host in LOCAL_HOSTS else []
        needed += [("127.0.0.1", p) for p in _local_tsdbs(settings)]
        collector_host, _, collector_port = settings.collector.listen.rpartition(":")
        needed += [(collector_host, int(collector_port))]
        needed += [(settings.worker.web_host, settings.worker.web_port)]
        busy = [f"{h}:{p}" for h, p in needed if not _port_free(h, p)]
        if busy:
            raise PulselineError(
                f"ports already in use: {', '.join(busy)}; stop what runs there "
                "(an earlier stack?) or change the settings"
            )
        if broker_host in LOCAL_HOSTS:
            launch(components.broker(int(broker_port), workdir, broker), timeout=180)
        for port, retention in _local_tsdbs(settings).items():
            launch(components.victoria_metrics(port, workdir, retention))
        print("creating topics", flush=True)
        asyncio.run(
            ensure_topics(
                settings.kafka,
                settings.topics.pipeline(settings.kafka.partitions),
                settings.topics.compacted(),
            )
        )
        web = f"http://{settings.worker.web_host}:{settings.worker.web_port}"
        launch(components.pulseline("worker", workdir, env, ready_url=f"{web}/metrics"))
        collector = f"http://{settings.collector.listen}"
        launch(components.pulseline("collect", workdir, env, ready_url=f"{collector}/health"))
        if demo:
            launch(components.pulseline("demo", workdir, env, args=("--interval", "5")))
        _print_where(settings, collector, web, workdir)
        while not stop:
            for process in started:
                if not process.running():
                    print(f"{process.name} exited; see {process.log_path}", flush=True)
                    return 1
            time.sleep(0.5)
        return 0
    finally:
        if started:
            print("\nstopping everything the stack started", flush=True)
        for process in reversed(started):
            process.stop(deadline=10)


def _print_where(settings: Settings, collector: str, web: str, workdir: Path) -> None:
    raw = settings.tier_url(settings.tiers[0])
    print(
        f"""
pulseline is running.
  graph UI (raw tier):   {raw}/vmui   try the query: cpu_usage_user
  push line protocol:    curl -XPOST '{collector}/api/v2/write?precision=s' \\
                              --data-binary 'room,host=lab temp=21.5'
  collector metrics:     {collector}/metrics
  worker metrics:        {web}/metrics
  logs and data:         {workdir}
Press Ctrl-C to stop.
""",
        flush=True,
    )
