"""A single-node Apache Kafka in KRaft mode: one JVM that is both broker and controller.

:func:`kafka_server` lays out a server directory (``server.properties``, a log4j
configuration, the log directory), formats the storage once, and returns a
:class:`~streams.stack.processes.ManagedProcess` running ``kafka.Kafka``. Stopping and
starting that process again restarts the broker on the same log directory: topics,
committed offsets and every acknowledged record are still there.

The settings are a production broker's where they change what a client sees (no automatic
topic creation, ``acks=all`` meaning every in-sync replica, an idempotent producer accepted,
transactions and consumer groups on their internal topics), scaled down where they only cost
memory or start-up time on one machine (a small heap, fewer internal partitions, no
rebalance delay, a small log-cleaner buffer).

Example:
    >>> server = kafka_server(free_port(), Path(".stack"))  # doctest: +SKIP
    >>> server.start().wait_ready(60)  # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import shutil
import subprocess
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path

from streams.stack.kafka_install import default_cache_dir, install_kafka
from streams.stack.processes import ManagedProcess, ProcessError, free_port, tcp_ready

NODE_ID = 1
HEAP = "-Xmx512m"
JVM_OPTIONS = (
    "-Xms64m",
    "-XX:TieredStopAtLevel=1",
    "-XX:+UseG1GC",
    "-XX:MaxGCPauseMillis=20",
    "-XX:+ExplicitGCInvokesConcurrent",
    "-Djava.awt.headless=true",
)
"""Kafka's own start script's JVM options, less its 1 GiB fixed heap, and only the quick
compiler: ready in about half the time (4-5 s instead of 8-9 s here), for a broker that
lives as long as a test run or a local stack."""

LOG4J = """\
log4j.rootLogger=INFO, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka=INFO
log4j.logger.org.apache.kafka=INFO
log4j.logger.state.change.logger=WARN
log4j.logger.kafka.log.LogLoader$=WARN
log4j.logger.kafka.cluster.Partition=WARN
log4j.logger.kafka.log.UnifiedLog$=WARN
log4j.logger.org.apache.kafka.storage.internals.log=WARN
log4j.logger.kafka.server.ReplicaFetcherManager=WARN
log4j.logger.kafka.server.ReplicaAlterLogDirsManager=WARN
log4j.logger.org.apache.kafka.controller=WARN
log4j.logger.org.apache.kafka.image.loader=WARN
log4j.logger.kafka.coordinator=WARN
log4j.logger.org.apache.kafka.coordinator=WARN
"""
"""Start, stop and warnings; per-partition chatter (dozens of lines per topic) left out."""


def server_properties(port: int, controller_port: int, log_dir: Path) -> dict[str, str]:
    """The ``server.properties`` of a combined broker and controller on 127.0.0.1.

    >>> props = server_properties(9092, 9093, Path("/data"))
    >>> props["listeners"]
    'PLAINTEXT://127.0.0.1:9092,CONTROLLER://127.0.0.1:9093'
    >>> props["controller.quorum.voters"], props["auto.create.topics.enable"]
    ('1@127.0.0.1:9093', 'false')
    """
    return {
        "process.roles": "broker,controller",
        "node.id": str(NODE_ID),
        "controller.quorum.voters": f"{NODE_ID}@127.0.0.1:{controller_port}",
        "listeners": f"PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller_port}",
        "advertised.listeners": f"PLAINTEXT://127.0.0.1:{port}",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
        "log.dirs": str(log_dir),
        # Topics exist only when created on purpose, with their partition count.
        "auto.create.topics.enable": "false",
        "num.partitions": "1",
        "default.replication.factor": "1",
        "min.insync.replicas": "1",
        "offsets.topic.replication.factor": "1",
        "offsets.topic.num.partitions": "8",
        "transaction.state.log.replication.factor": "1",
        "transaction.state.log.min.isr": "1",
        "transaction.state.log.num.partitions": "4",
        "group.initial.rebalance.delay.ms": "0",
        "num.network.threads": "2",
        "num.io.threads": "4",
        "num.recovery.threads.per.data.dir": "2",
        "log.cleaner.dedupe.buffer.size": str(16 * 1024 * 1024),
    }


def render_properties(props: Mapping[str, str]) -> str:
    r"""A Java properties file (values here need no escaping: paths, hosts, numbers).

    >>> render_properties({"a.b": "1", "c": "x"})
    'a.b=1\nc=x\n'
    """
    return "".join(f"{key}={value}\n" for key, value in props.items())


def new_cluster_id(random: Callable[[], uuid.UUID] = uuid.uuid4) -> str:
    """A KRaft cluster id: a random UUID in Kafka's URL-safe base64 form (22 characters),
    never starting with ``-`` (the format command would take it for an option; Kafka's own
    ``Uuid.randomUuid`` draws again in that case too).

    >>> len(new_cluster_id())
    22
    >>> draws = iter([uuid.UUID(int=0xF8 << 120), uuid.UUID(int=1)])
    >>> new_cluster_id(lambda: next(draws))
    'AAAAAAAAAAAAAAAAAAAAAQ'
    """
    while True:
        cluster_id = base64.urlsafe_b64encode(random().bytes).decode().rstrip("=")
        if not cluster_id.startswith("-"):
            return cluster_id


def kafka_ready(port: int) -> Callable[[], bool]:
    """A readiness check: the broker answers a metadata request and lists itself.

    A listening socket is not enough: Kafka accepts connections before it has caught up
    with its metadata log and serves requests.
    """
    accepting = tcp_ready(port)

    async def probe() -> bool:
        from aiokafka import AIOKafkaClient
        from aiokafka.errors import KafkaError

        client = AIOKafkaClient(bootstrap_servers=f"127.0.0.1:{port}", request_timeout_ms=3000)
        try:
            await client.bootstrap()
            return any(b.nodeId == NODE_ID for b in client.cluster.brokers())
        except (KafkaError, OSError):
            return False
        finally:
            await client.close()

    def check() -> bool:
        return accepting() and asyncio.run(probe())

    return check


def java_binary() -> str:
    """The ``java`` command, or :class:`ProcessError` saying how to install one."""
    java = shutil.which("java")
    if java is None:
        raise ProcessError(
            "Apache Kafka needs a Java runtime: apt-get install -y default-jre-headless "
            "(make test installs it as root)"
        )
    return java


def format_storage(java: str, lib: Path, home: Path, log_path: Path) -> None:
    """Format the log directory of ``home/server.properties`` for a new cluster.

    This is Kafka's ``kafka-storage.sh format``, run once before the first start.

    Raises:
        ProcessError: the tool failed; its output is in the message.
    """
    config = home / "server.properties"
    argv = [java, "-Xmx256m", "-XX:TieredStopAtLevel=1", "-cp", f"{lib}/*"]
    argv += [f"-Dlog4j.configuration=file:{home / 'log4j.properties'}"]
    argv += ["kafka.tools.StorageTool", "format", "-t", new_cluster_id(), "-c", str(config)]
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    with log_path.open("a") as log:
        log.write(done.stdout + done.stderr)
    if done.returncode != 0:
        raise ProcessError(
            f"formatting Kafka's storage for {config} failed (exit {done.returncode}): "
            f"{(done.stdout + done.stderr).strip()[-2000:]}"
        )


def kafka_server(
    port: int,
    workdir: Path,
    *,
    controller_port: int | None = None,
    lib: Path | None = None,
    heap: str = HEAP,
) -> ManagedProcess:
    """A single-node Kafka on 127.0.0.1:``port``, its data under ``workdir/kafka-<port>``.

    The jars are resolved first if the cache has none (see
    :func:`~streams.stack.kafka_install.install_kafka`); the storage is formatted the first
    time, and an existing log directory is reused as it is (a restart keeps its data). The
    configuration is written again at every call, with the controller port of the last run
    unless that port is taken now.

    Args:
        port: the client listener's port.
        workdir: the parent of the server directory and of its log file.
        controller_port: the KRaft controller listener's port (default: the last run's if
            free, else a free one).
        lib: the directory of Kafka's jars (default: the cache's pinned release).
        heap: the JVM's heap limit option.
    """
    java = java_binary()
    lib = lib or install_kafka(default_cache_dir())
    home = workdir / f"kafka-{port}"
    config = home / "server.properties"
    log_path = workdir / f"kafka-{port}.log"
    data = home / "data"
    home.mkdir(parents=True, exist_ok=True)
    controller_port = controller_port or _controller_port(config)
    config.write_text(render_properties(server_properties(port, controller_port, data)))
    (home / "log4j.properties").write_text(LOG4J)
    if not (data / "meta.properties").is_file():
        with contextlib.suppress(FileNotFoundError):
            shutil.rmtree(data)
        format_storage(java, lib, home, log_path)
    argv = [java, heap, *JVM_OPTIONS, f"-Dlog4j.configuration=file:{home / 'log4j.properties'}"]
    argv += ["-cp", f"{lib}/*", "kafka.Kafka", str(config)]
    return ManagedProcess(
        f"kafka:{port}",
        argv,
        log_path=log_path,
        ready=kafka_ready(port),
        ports=(port, controller_port),
    )


def _controller_port(config: Path) -> int:
    """The controller port ``config`` names if it is free now, else a new free port.

    A single-node cluster whose voters are listed in the configuration finds its controller
    by that address alone, so a restart may move it: a port taken since the last run by
    something else does not keep the broker from starting.
    """
    with contextlib.suppress(OSError, KeyError, ValueError):
        voters = dict(
            line.split("=", 1) for line in config.read_text().splitlines() if "=" in line
        )["controller.quorum.voters"]
        port = int(voters.rpartition(":")[2])
        if not tcp_ready(port)():
            return port
    return free_port()
