"""``pulseline stack run``: the whole pipeline on this machine, until Ctrl-C.

Starts the broker and one VictoriaMetrics per tier URL that points at this machine, creates
the topics, then a webhook receiver for each webhook of ``alertmanager.config`` on this
machine, a worker, a collector and the demo load, and prints where to look
(:mod:`streams.stack.banner`). Notifications the receivers get are printed as they arrive.
Logs and data go under the stack directory, with a state file that ``pulseline stack
status`` and ``pulseline stack stop`` read (:mod:`streams.stack.state`).

The broker is Apache Kafka by default: its log directory under the stack directory keeps
topics, records, committed offsets and the workers' tables (alert state, window state, the
notification log) from one run to the next, so a restart neither loses a window nor
announces a firing alert again. It costs a JVM: seconds to start and about 200 MB. Tansu
(``--broker tansu``) is ready at once in 11 MB and keeps nothing across its own restart.

SIGINT, SIGTERM and SIGHUP all stop every process the stack started
(:mod:`streams.stack.shutdown`), in the reverse order of their start.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import sys
import time
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit

from streams.errors import PulselineError
from streams.kafka import ensure_topics
from streams.settings import Settings
from streams.stack import components
from streams.stack.banner import Where, banner
from streams.stack.components import BrokerEngine
from streams.stack.kafka_install import default_cache_dir, install_kafka
from streams.stack.processes import LogTail, ManagedProcess
from streams.stack.shutdown import StopRequested, StopSignals
from streams.stack.state import (
    ProcessRecord,
    StackState,
    alive,
    read_state,
    remove_state,
    start_ticks,
    write_state,
)
from streams.stack.webhook import local_webhooks

LOCAL_HOSTS = {"127.0.0.1", "localhost"}
NOTIFICATIONS = "notifications.jsonl"
"""The file in the stack directory where the local webhook receivers append every body."""


def say(line: str) -> None:
    """Print to the terminal, which may be gone (after SIGHUP): then say nothing."""
    with contextlib.suppress(OSError):
        print(line, flush=True)


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


def _shown(path: Path) -> Path:
    """``path`` relative to the working directory when it is under it."""
    try:
        return path.relative_to(Path.cwd())
    except ValueError:
        return path


def pulseline_command() -> str:
    """How the user runs ``pulseline``: its name when on PATH, else its path (``.venv/bin``)."""
    script = Path(sys.executable).parent / "pulseline"
    on_path = shutil.which("pulseline")
    if on_path is not None and Path(on_path).resolve() == script.resolve():
        return "pulseline"
    if script.exists():
        return str(_shown(script))
    return f"{sys.executable} -m streams"


def refuse_a_running_stack(workdir: Path) -> None:
    """Raise if a stack recorded in ``workdir`` still runs, or left processes running."""
    state = read_state(workdir)
    if state is None:
        return
    stop = f"{pulseline_command()} stack stop --dir {_shown(workdir)}"
    if alive(state.runner()):
        raise PulselineError(f"a stack already runs from {workdir} (pid {state.pid}); {stop}")
    left = [f"{p.name} (pid {p.pid})" for p in state.processes if alive(p)]
    if left:
        raise PulselineError(
            f"a stack that ran from {workdir} left {', '.join(left)} running; {stop} ends them"
        )


class _Started:
    """The processes started so far, mirrored in the state file at every start."""

    def __init__(self, workdir: Path, broker: str, signals: StopSignals) -> None:
        self.workdir = workdir
        self.signals = signals
        self.processes: list[ManagedProcess] = []
        self.state = StackState(os.getpid(), start_ticks(os.getpid()), broker)
        write_state(workdir, self.state)

    def launch(self, process: ManagedProcess, timeout: float = 60) -> float:
        """Start ``process``, record it, wait until ready; returns the seconds that took."""
        say(f"starting {process.name} (log: {_shown(process.log_path)})")
        began = time.monotonic()
        with self.signals.deferred():  # a stop signal waits until the process is recorded
            self.processes.append(process.start())
            assert process.pid is not None
            record = ProcessRecord.of(
                process.name, process.pid, ports=process.ports, log=process.log_path
            )
            self.state = StackState(
                self.state.pid,
                self.state.started,
                self.state.broker,
                (*self.state.processes, record),
            )
            write_state(self.workdir, self.state)
        process.wait_ready(timeout)
        return time.monotonic() - began

    def stop_all(self) -> None:
        if self.processes:
            say("\nstopping everything the stack started")
        for process in reversed(self.processes):
            process.stop(deadline=10)
        remove_state(self.workdir)


def run_stack(
    settings: Settings,
    workdir: Path,
    *,
    config: Path | None,
    demo: bool,
    broker: BrokerEngine = "kafka",
) -> int:
    """Run until SIGINT, SIGTERM or SIGHUP; returns the exit code.

    Args:
        settings: the pipeline settings (the broker and TSDB addresses decide what starts).
        workdir: the stack directory: logs, TSDB data, Kafka's log directory, the state file.
        config: the settings file, passed on to the pulseline processes.
        demo: whether to start the demo load.
        broker: the engine of a broker started on this machine (``kafka.broker`` local).
    """
    workdir = workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    refuse_a_running_stack(workdir)
    env = dict(os.environ)
    if config is not None:
        env["PULSELINE_CONFIG"] = str(config.resolve())
    broker_host, _, broker_port = settings.kafka.bootstrap_servers[0].rpartition(":")
    local_broker = broker_host in LOCAL_HOSTS
    if local_broker and broker == "tansu":
        env["PULSELINE_KAFKA__ENABLE_IDEMPOTENCE"] = "false"  # Tansu has no idempotent producer
    am_config = settings.alertmanager.config
    receivers = local_webhooks(am_config) if am_config is not None else []

    needed = [(broker_host, int(broker_port))] if local_broker else []
    needed += [("127.0.0.1", p) for p in _local_tsdbs(settings)]
    collector_host, _, collector_port = settings.collector.listen.rpartition(":")
    needed += [(collector_host, int(collector_port))]
    needed += [(settings.worker.web_host, settings.worker.web_port), *receivers]
    busy = [f"{h}:{p}" for h, p in needed if not _port_free(h, p)]
    if busy:
        raise PulselineError(
            f"ports already in use: {', '.join(busy)}; stop what runs there "
            "(an earlier stack? `pulseline stack status --dir DIR` shows one) "
            "or change the settings"
        )

    signals = StopSignals()
    with signals.installed():
        started = _Started(workdir, broker if local_broker else "none", signals)
        try:
            return _run(settings, started, env, receivers, demo=demo, broker=broker)
        except StopRequested as stop:
            say(f"\n{stop.signal_name} received")
            return 0
        finally:
            started.stop_all()


def _run(
    settings: Settings,
    started: _Started,
    env: dict[str, str],
    receivers: list[tuple[str, int]],
    *,
    demo: bool,
    broker: BrokerEngine,
) -> int:
    workdir = started.workdir
    broker_host, _, broker_port = settings.kafka.bootstrap_servers[0].rpartition(":")
    where = Where(workdir=_shown(workdir), command=pulseline_command(), demo=demo)
    if broker_host in LOCAL_HOSTS:
        if broker == "kafka":
            install_kafka(default_cache_dir(), say=say)  # at once when the jars are there
        process = components.broker(int(broker_port), workdir, broker)
        ready_s = started.launch(process, timeout=180)
        where = replace(where, broker=broker, broker_ready_s=ready_s)
    for port, retention in _local_tsdbs(settings).items():
        started.launch(components.victoria_metrics(port, workdir, retention, dedup=True))
    say("creating topics")
    asyncio.run(
        ensure_topics(
            settings.kafka,
            settings.topics.pipeline(settings.kafka.partitions),
            settings.topics.compacted(),
        )
    )
    notifications = workdir / NOTIFICATIONS
    tails: list[tuple[str, LogTail]] = []
    for host, port in receivers:
        receiver = components.webhook_receiver(host, port, workdir, env, log=notifications)
        tails.append((receiver.name, LogTail(receiver.log_path)))
        started.launch(receiver)
    web = f"http://{settings.worker.web_host}:{settings.worker.web_port}"
    worker_ports = (settings.worker.web_port,)
    # Ready once it holds its partitions and recovered its tables: data flows from then on.
    worker = components.pulseline(
        "worker", workdir, env, ready_url=f"{web}/health", ports=worker_ports
    )
    started.launch(worker, timeout=180)
    collector = f"http://{settings.collector.listen}"
    collector_ports = (int(settings.collector.listen.rpartition(":")[2]),)
    started.launch(
        components.pulseline(
            "collect", workdir, env, ready_url=f"{collector}/health", ports=collector_ports
        )
    )
    if demo:
        started.launch(components.pulseline("demo", workdir, env, args=("--interval", "5")))
    broker_rss = started.processes[0].rss_bytes() if where.broker else None
    where = replace(
        where,
        broker_rss=broker_rss,
        receivers=tuple(f"{h}:{p}" for h, p in receivers),
        notifications=_shown(notifications),
    )
    say(banner(settings, where) + "\n")
    while True:
        for process in started.processes:
            if not process.running():
                say(f"{process.name} exited; see {_shown(process.log_path)}")
                return 1
        for name, tail in tails:
            for line in tail.lines():
                say(f"{name} | {line}")
        time.sleep(0.2)
