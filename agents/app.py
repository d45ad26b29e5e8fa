"""The Faust application of a pulseline worker.

Example:
    >>> app = create_app(Settings.load(None))  # doctest: +SKIP
    >>> run_worker(app, settings)  # doctest: +SKIP
"""

from __future__ import annotations

import gc
import socket
from collections.abc import Mapping
from typing import Any

import faust
from faust.transport.drivers.aiokafka import Producer as AIOKafkaProducer
from prometheus_client import generate_latest

from agents.alertmanager import register_alertmanager
from agents.broker_watch import BrokerWatch, KafkaProbe, committed_offsets, halt_commits
from agents.consumer import LedgerCollector, consumer_class
from agents.downsample import register_downsampler
from agents.health import worker_health
from agents.lag import LagCollector
from agents.raw_sink import register_raw_sink
from agents.recovery_watch import EVERY_S, RecoveryWatch
from agents.reload import Reloads
from agents.restart import Restart
from agents.rules import register_rules
from agents.timers import every
from agents.web import register_web
from streams.offsets import OffsetLedger
from streams.settings import Settings
from streams.sinks.influx import LineWriter
from streams.sinks.metrics import SinkCollector, worker_registry

GC_THRESHOLDS = (10_000, 20, 100)
"""The cycle collector's thresholds in a worker (Python's defaults: 700, 10, 10)."""

RESTART = Restart()
"""The worker process's restart in place (see :mod:`agents.restart`)."""


def create_app(
    settings: Settings,
    *,
    raw_writer: LineWriter | None = None,
    tier_writers: Mapping[str, LineWriter] | None = None,
) -> faust.App:
    """A Faust app with the agents of the worker's roles registered (``worker.roles``):
    the raw sink and the downsampler to store, the rule agents and the alert manager to
    alert.

    Args:
        settings: the pipeline settings.
        raw_writer: the raw bucket's writer (tests inject a fake); default from settings.
        tier_writers: the windowed tiers' writers by tier name; default from settings.
    """
    kafka, worker = settings.kafka, settings.worker
    datadir = worker.data_dir / worker.group_id
    datadir.mkdir(parents=True, exist_ok=True)
    app = faust.App(
        worker.group_id,
        broker=kafka.broker,
        broker_session_timeout=kafka.session_timeout_s,
        broker_heartbeat_interval=kafka.heartbeat_interval_s,
        # A restarted worker rejoins under its old identity and gets its partitions back at
        # once, instead of waiting for the session of its dead self to expire.
        consumer_group_instance_id=worker.group_instance_id(socket.gethostname()),
        broker_request_timeout=max(kafka.request_timeout_s, kafka.session_timeout_s + 5),
        topic_partitions=kafka.partitions,
        # No standby copies of tables: Faust counts a standby against a worker's share, so
        # with standbys a third worker on four partitions would get standbys only, and sit
        # idle. A new owner rebuilds a table partition from its changelog instead.
        table_standby_replicas=0,
        topic_replication_factor=kafka.replication_factor,
        topic_allow_declare=True,
        producer_acks=-1,
        consumer_auto_offset_reset="earliest",
        key_serializer="raw",
        value_serializer="raw",
        stream_buffer_maxsize=max(64, worker.take_records * 4),
        web_host=worker.web_host,
        web_bind=worker.web_host,
        web_port=worker.web_port,
        datadir=str(datadir),
        store="memory://",
        # At-least-once: Faust's exactly-once mode has open crash and duplicate bugs.
        processing_guarantee="at_least_once",
        # A rebalance or stop must not wait for every consumed record to be acknowledged:
        # the downsampler holds records until a snapshot covers them, and the new owner of
        # a partition consumes the unacknowledged ones again.
        stream_wait_empty=False,
    )
    # The offsets committed are those every agent of a topic finished (see agents.takes).
    ledger = OffsetLedger()
    app.transport.Consumer = consumer_class(ledger, kafka)  # type: ignore[misc]  # this app's only
    if kafka.enable_idempotence:
        app.transport.Producer = _IdempotentProducer  # type: ignore[misc]
    registry = worker_registry()
    sinks = SinkCollector()
    registry.register(sinks)
    registry.register(LagCollector(lambda: app._consumer))  # never creates it
    registry.register(LedgerCollector(ledger))
    if "store" in worker.roles:
        register_raw_sink(app, settings, ledger, sinks, raw_writer)
        register_downsampler(app, settings, ledger, registry, sinks, tier_writers)
    service = runtime = None
    if "alert" in worker.roles:
        reloads = Reloads()
        service = register_alertmanager(app, settings, ledger, registry, reloads)
        runtime = register_rules(app, settings, ledger, registry, reloads, service.take_in)
        app.task(reloads.run)
    register_web(app, settings, rules=runtime, alertmanager=service)
    topics = frozenset(settings.topics.pipeline(kafka.partitions))
    watch = BrokerWatch(
        settings,
        KafkaProbe(kafka),
        lambda: committed_offsets(app._consumer, topics),  # never creates the consumer
        RESTART.request,
        halt_commits=lambda: halt_commits(app._consumer),
    )
    every(app, kafka.loss_check_s, name="broker-watch")(watch.check)
    recovery = RecoveryWatch(app)
    registry.register(recovery)
    every(app, EVERY_S, name="recovery-watch", from_start=True)(recovery.check)

    @app.page("/metrics")
    async def metrics(web: Any, request: Any) -> Any:
        return web.bytes(generate_latest(registry), content_type="text/plain; version=0.0.4")

    @app.page("/health")
    async def health(web: Any, request: Any) -> Any:
        status, body = worker_health(app)
        return web.json(body, status=status)

    return app


def run_worker(app: faust.App, settings: Settings) -> None:
    """Run the worker in this process until SIGTERM or SIGINT, or start it again in place
    when it asked to (a broker that came back empty)."""
    worker = faust.Worker(app, loglevel=settings.worker.log_level)
    quiet_garbage_collector()
    try:
        worker.execute_from_commandline()
    finally:
        RESTART.exec_if_requested()


def quiet_garbage_collector() -> None:
    """Keep the cycle collector's pauses short and rare: they stall every agent at once.

    A full collection walks every tracked object (the records a stage holds, the series rules
    read): tens of milliseconds each, every few seconds with the default thresholds. The
    objects that exist now (modules, classes, the app) live as long as the process, so they
    are frozen out of collections, and older generations are collected less often. Garbage
    without cycles is freed at once by reference counting, as always.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


class _IdempotentProducer(AIOKafkaProducer):
    """Faust's producer with Kafka's idempotence, which Faust turns on only in transactions.

    A send retried after a lost acknowledgement (a broker restart, a timeout) is then written
    once: table changelogs, forwarded samples and alert events carry no duplicates from it.
    """

    def _settings_extra(self) -> Mapping[str, Any]:
        return {**super()._settings_extra(), "enable_idempotence": True}
