"""The rule agents: samples to rule groups, rule groups to ``alerts.events``.

Two stages, so that a group sees every series it selects, from every source:

- ``rules-route`` reads ``metrics.raw`` and forwards the samples some rule selects to
  ``rules.samples``, on the partition of their rule group (:mod:`streams.rules.evaluation.routing`).
- ``rules-eval`` reads ``rules.samples`` and evaluates the groups of its partitions
  (:class:`~streams.rules.evaluation.runtime.RuleRuntime`): on arrival, and on a timer. Alert state
  changes go to ``alerts.events`` (keyed by fingerprint) and, when they fire or resolve, into
  the alert manager's aggregation groups at once (``take_in``, see :mod:`agents.alertmanager`;
  the events are marked so that ``am-intake`` skips them), recording rules' samples back to
  ``metrics.raw``, and the state of a group whose alerts changed to the ``alert-state``
  table (co-partitioned with ``rules.samples``; in chunks below the broker's message
  limit, :mod:`streams.chunks`), before the input is acknowledged: a crash can repeat an
  event, never lose one. A worker evaluates the records it forwards to partitions it owns
  as soon as Kafka holds them, one hop earlier than it reads them back (``rules-eval`` then
  skips them), when they are next in their partition's order.

After a restart, before evaluating a partition, the worker reads the last horizon of it
again (the longest range of any rule plus the 5-minute lookback) so ``rate`` and ``for``
see the same samples as before: every assigned partition at once, outside the evaluation
lock (:mod:`agents.history`). The timer (:mod:`agents.timers`) waits for the lock rather
than skipping its turn. Rule files are read again on SIGHUP and when they change; a bad
file is logged and the rules in force stay.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, fields
from typing import Any

import faust
import orjson
from faust.types import TP
from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from agents.history import Histories, read_history
from agents.raw_sink import in_record
from agents.reload import Reloads, WatchedFiles
from agents.tables import TableKeyValue
from agents.takes import Takes
from agents.timers import every
from streams.alertmanager.engine.intake import TAKEN_IN, rule_alert
from streams.alertmanager.model import Alert
from streams.arrivals import Arrivals
from streams.chunks import ChunkedValues
from streams.collector.batching import source_key
from streams.errors import PulselineError, RecordDecodeError
from streams.offsets import OffsetLedger
from streams.records import Point, decode_batch, encode_batch
from streams.retry import retry
from streams.rules import load_rule_files
from streams.rules.evaluation.routing import (
    Forwarded,
    Router,
    SampleTuple,
    decode_forward,
    encode_forward,
    partition_of,
)
from streams.rules.evaluation.runtime import Outcome, RuleRuntime, state_key
from streams.settings import Settings

log = logging.getLogger(__name__)

TABLE = "alert-state"

Send = tuple[Any, bytes | None, bytes, int | None, list[tuple[str, bytes]] | None]
"""A record to produce: topic, key, value, partition (None: by key), headers."""


@dataclass(slots=True)
class RuleStats:
    """Counters of the rule agents."""

    forwarded: int = 0
    evaluated_here: int = 0
    evaluations: int = 0
    events: int = 0
    recorded: int = 0
    errors: int = 0
    failed_records: int = 0
    history_samples: int = 0
    reloads: int = 0
    reload_failures: int = 0


RULE_HELP = {
    "forwarded": "Samples of metrics.raw that some rule selects, forwarded to rules.samples "
    "on the partition of their rule group.",
    "evaluated_here": "rules.samples records this worker forwarded to a partition it owns and "
    "evaluated as soon as Kafka held them, without waiting to read them back.",
    "evaluations": "Evaluation steps: one per batch of forwarded samples of a partition, one "
    "per rule group its interval made due.",
    "events": "Alert state changes (pending, firing, resolved) produced to alerts.events.",
    "recorded": "Samples of recording rules produced back to metrics.raw.",
    "errors": "Rule evaluations that failed: a PromQL error, a limit exceeded, or a result "
    "that could not be stored (logged with the group and rule); the rest of the group ran.",
    "failed_records": "Records given up after an unexpected error while routing or evaluating "
    "them (the log has the error): their samples were not evaluated.",
    "history_samples": "Samples read back from rules.samples when a partition came to this "
    "worker, so that rate() and for see the same past as before.",
    "reloads": "Times the rule files were read again (changed, or SIGHUP) and put in force.",
    "reload_failures": "Times the rule files changed but could not be loaded (the log says "
    "where); the rules in force stayed.",
}
"""HELP text of ``pulseline_rules_<field>_total``, by field of :class:`RuleStats`."""


class RuleCollector(Collector):
    """Exposes the rule agents' counters (:data:`RULE_HELP` says what each counts)."""

    def __init__(self, stats: RuleStats, runtime: RuleRuntime) -> None:
        self._stats = stats
        self._runtime = runtime

    def collect(self) -> Iterator[Metric]:
        for f in fields(self._stats):
            family = CounterMetricFamily(f"pulseline_rules_{f.name}", RULE_HELP[f.name])
            family.add_metric([], getattr(self._stats, f.name))
            yield family
        yield GaugeMetricFamily(
            "pulseline_rules_series",
            "Series whose recent samples this worker keeps for the rule groups of its "
            "partitions (the longest range of a rule plus the 5-minute lookback).",
            value=self._runtime.series_count(),
        )
        yield GaugeMetricFamily(
            "pulseline_rules_groups",
            "Rule groups loaded from rules.files, whichever partition owns them.",
            value=len(self._runtime.router.groups),
        )


def register_rules(
    app: faust.App,
    settings: Settings,
    ledger: OffsetLedger,
    registry: CollectorRegistry,
    reloads: Reloads,
    take_in: Callable[[list[Alert]], Awaitable[None]] | None = None,
) -> RuleRuntime | None:
    """Register the rule agents, their timers and table; nothing when no rule file is set.

    ``take_in`` routes the alerts of the events into the alert manager's groups (and returns
    once Kafka holds them); None: ``am-intake`` routes them from ``alerts.events``.

    Returns:
        The rule runtime (the web pages read its state), None without rule files.

    Raises:
        PulselineError: the rule files cannot be loaded (the worker does not start).
    """
    conf = settings.rules
    if not conf.files:
        return None
    files = WatchedFiles(conf.files)
    partitions = settings.kafka.partitions
    table = app.Table(
        TABLE,
        partitions=partitions,
        key_type=bytes,
        value_type=bytes,
        extra_topic_configs=settings.kafka.topic_configs,
        help="Alert state of each rule group, co-partitioned with rules.samples.",
    )
    # A group's state (every alert it holds) can outgrow one Kafka message: in chunks.
    states = ChunkedValues(
        TableKeyValue(table), chunk_bytes=settings.kafka.max_record_bytes // 2, whole_if_fits=True
    )
    worker = settings.worker
    runtime = RuleRuntime(
        Router(load_rule_files(conf.files)),
        partitions,
        states,
        interval_s=conf.interval_s,
        external_url=conf.external_url or f"http://{worker.web_host}:{worker.web_port}",
    )
    stats = RuleStats()
    registry.register(RuleCollector(stats, runtime))
    raw_topic = app.topic(settings.topics.raw, partitions=partitions)
    samples_name = settings.topics.rule_samples
    samples_topic = app.topic(samples_name, partitions=partitions)
    alerts_topic = app.topic(settings.topics.alerts, partitions=partitions)
    source_tags = settings.collector.source_tags
    take, within = settings.worker.take_records, conf.take_within_s
    route_takes = Takes(
        ledger, "rules-route", settings.topics.raw, max_records=take, within_s=within
    )
    eval_takes = Takes(ledger, "rules-eval", samples_name, max_records=take, within_s=within)
    lock = asyncio.Lock()  # one evaluation step at a time: arrivals, timer, reload
    revoked: set[int] = set()
    arrivals: Arrivals[bool] = Arrivals()  # rules.samples records evaluated on their way in
    evaluating: set[asyncio.Future[None]] = set()  # evaluate_here tasks under way
    router = [runtime.router]  # the rules stage 1 routes by; swapped on reload

    async def send_all(sends: list[Send]) -> list[Any]:
        """Produce every record and wait for Kafka's acks; retry while Kafka is away (the
        input stays unacknowledged until this succeeds). Returns the records' metadata
        (partition, offset), in order."""

        async def send() -> list[Any]:
            futures = [
                await topic.send(
                    key=key, value=value, partition=partition, headers=headers, force=True
                )
                for topic, key, value, partition, headers in sends
            ]
            return [await future for future in futures]

        return await retry(send, what=f"producing {len(sends)} records", max_s=10.0, logger=log)

    @app.agent(raw_topic, name="rules-route", concurrency=1)
    async def rules_route(stream: Any) -> None:
        async for events in route_takes.batches(stream):
            # One forwarded record per group for the whole take: few, large records.
            sources: list[tuple[str, int, int]] = []
            routed: dict[str, list[tuple[int, SampleTuple]]] = defaultdict(list)
            for e in events:
                ref = in_record(e).ref
                try:
                    points = decode_batch(e.message.value or b"")
                    matched = router[0].route(points)
                except RecordDecodeError:
                    continue  # the raw sink sends it to the DLQ
                except Exception:  # never crash-loop on a record
                    log.exception("routing %s to the rules failed", ref)
                    stats.failed_records += 1
                    continue
                if matched:
                    index = len(sources)
                    sources.append((ref.topic, ref.partition, ref.offset))
                    for group, samples in matched.items():
                        routed[group] += [(index, sample) for sample in samples]
                        stats.forwarded += len(samples)
            values = [encode_forward(group, sources, samples) for group, samples in routed.items()]
            written = await send_all(
                [
                    (samples_topic, group.encode(), value, partition_of(group, partitions), None)
                    for group, value in zip(routed, values, strict=True)
                ]
            )
            route_takes.ack(events)
            if written:
                task = asyncio.ensure_future(evaluate_here(list(zip(written, values, strict=True))))
                evaluating.add(task)
                task.add_done_callback(evaluating.discard)

    async def evaluate_here(written: list[tuple[Any, bytes]]) -> None:
        """Evaluate the records just forwarded to partitions this worker owns as soon as
        Kafka holds them: one Kafka hop less between a sample and its alert.

        Only a record right after those the partition's evaluations hold goes in here
        (:class:`~streams.arrivals.Arrivals`): one behind records still unread (another
        worker's, forwarded just before) waits for ``rules-eval``, so samples are evaluated
        in the order Kafka holds them. ``rules-eval`` skips the records evaluated here when
        it reads them.
        """
        async with lock:
            taken: dict[int, list[tuple[int, Forwarded]]] = defaultdict(list)
            try:
                for metadata, value in sorted(written, key=lambda w: (w[0].partition, w[0].offset)):
                    p, offset = metadata.partition, metadata.offset
                    mine = p not in revoked and p in histories.loaded
                    if not (mine and arrivals.may_take(p, offset)):
                        continue
                    record = decode_forward(value)
                    arrivals.took(p, offset, True)
                    taken[p].append((offset, record))
                for p in list(taken):
                    records = [record for _, record in taken[p]]
                    try:
                        outcome = runtime.on_records(p, records)
                        stats.evaluations += 1
                        await publish(p, outcome)
                        stats.evaluated_here += len(records)
                    except Exception:  # as in rules-eval: log, count, go on
                        log.exception("rule evaluation on partition %d failed", p)
                        stats.failed_records += len(records)
                    del taken[p]
            except BaseException:  # cancelled: rules-eval evaluates what was not published
                for p, pairs in taken.items():
                    for offset, _ in pairs:
                        arrivals.untake(p, offset, True)
                raise

    async def read(partition: int) -> list[Forwarded]:
        since = time.time_ns() // 1_000_000 - runtime.horizon_ms
        return await retry(
            functools.partial(read_history, settings, samples_name, partition, since),
            what=f"reading the history of {samples_name}[{partition}]",
            max_s=10.0,
            logger=log,
        )

    def apply(partition: int, history: list[Forwarded]) -> None:
        stats.history_samples += runtime.add_history(partition, history)
        log.info(
            "rules: partition %d resumed with %d records of history and groups %s",
            partition,
            len(history),
            runtime.groups_of(partition),
        )

    histories = Histories(read, apply, lock)

    async def publish(partition: int, outcome: Outcome) -> None:
        marked = None if take_in is None else [(TAKEN_IN, b"1")]
        sends: list[Send] = [
            (alerts_topic, e["fingerprint"].encode(), orjson.dumps(e), None, marked)
            for e in outcome.events
        ]
        by_key: dict[str, list[Point]] = defaultdict(list)
        for point in outcome.recorded:
            by_key[source_key(point, source_tags)].append(point)
        sends += [(raw_topic, k.encode(), encode_batch(p), None, None) for k, p in by_key.items()]
        alerts = [a for e in outcome.events if (a := rule_alert(e)) is not None]
        if take_in is not None and alerts:
            # Both before the state is saved: a crash in between evaluates again.
            await asyncio.gather(send_all(sends), take_in(alerts))
        else:
            await send_all(sends)
        for group, state in outcome.states.items():
            await retry(
                functools.partial(states.save, partition, state_key(group), state),
                what=f"saving the alert state of group {group!r}",
                max_s=10.0,
                logger=log,
            )
        for error in outcome.errors:
            log.warning("rule evaluation failed: %s", error)
        stats.events += len(outcome.events)
        stats.recorded += len(outcome.recorded)
        stats.errors += len(outcome.errors)

    @app.agent(samples_topic, name="rules-eval", concurrency=1)
    async def rules_eval(stream: Any) -> None:
        async for events in eval_takes.batches(stream):
            # Histories are read outside the lock: evaluations of other partitions go on.
            wanted = {e.message.partition for e in events} - revoked
            await asyncio.gather(*(histories.ensure(p) for p in sorted(wanted)))
            async with lock:
                by_partition: dict[int, list[Forwarded]] = defaultdict(list)
                done: list[Any] = []  # what was evaluated, or cannot ever be
                for e in events:
                    p = e.message.partition
                    if p in revoked or p not in histories.loaded:
                        continue  # its new owner reads it again
                    done.append(e)
                    if arrivals.read(p, e.message.offset) is not None:
                        continue  # evaluated on its way in (evaluate_here)
                    try:
                        by_partition[p].append(decode_forward(e.message.value or b""))
                    except RecordDecodeError as exc:
                        log.error("%s: %s", in_record(e).ref, exc)
                        stats.failed_records += 1
                for p, records in by_partition.items():
                    if p not in histories.loaded:
                        continue  # revoked while its history was read: not acknowledged
                    try:
                        outcome = runtime.on_records(p, records)
                        stats.evaluations += 1
                        await publish(p, outcome)
                    except Exception:  # never crash-loop: log, count, go on
                        log.exception("rule evaluation on partition %d failed", p)
                        stats.failed_records += len(records)
            eval_takes.ack(done)

    @every(app, conf.tick_s, name="rules-tick")
    async def tick() -> None:
        if app.rebalancing or app.in_recovery:
            return
        mine = {tp.partition for tp in app.assignor.assigned_actives() if tp.topic == samples_name}
        for p in sorted(mine):
            if not await histories.ensure(p):  # outside the lock
                continue
            # One group per turn of the lock: arrivals wait for one group, not for all.
            for group in runtime.due(p):
                async with lock:  # waits for the batch being evaluated: the turn is not lost
                    if p in revoked or p not in histories.loaded:
                        break
                    try:
                        outcome = runtime.tick(p, [group])
                        stats.evaluations += 1
                        await publish(p, outcome)
                    except Exception:
                        log.exception("timed rule evaluation on partition %d failed", p)

    async def reload(reason: str) -> None:
        async with lock:
            try:
                fresh = Router(load_rule_files(conf.files))
            except (PulselineError, OSError) as exc:
                stats.reload_failures += 1
                log.error("rule files not reloaded (%s); the previous rules stay: %s", reason, exc)
                return
            runtime.reload(fresh)
            router[0] = fresh
            stats.reloads += 1
            log.info("rule files reloaded (%s): %d groups", reason, len(fresh.groups))

    reloads.add(files, reload, conf.reload_s)

    @app.on_partitions_revoked.connect  # type: ignore[arg-type]
    async def on_revoked(app: faust.App, tps: set[TP], **kwargs: Any) -> None:
        async with lock:
            lost = {tp.partition for tp in tps if tp.topic == samples_name}
            revoked.update(lost)
            arrivals.forget(lost)
            histories.drop(lost)
            runtime.drop(lost)

    @app.on_partitions_assigned.connect  # type: ignore[arg-type]
    async def on_assigned(app: faust.App, tps: set[TP], **kwargs: Any) -> None:
        mine = {tp.partition for tp in tps if tp.topic == samples_name}
        revoked.difference_update(mine)
        histories.prefetch(mine)

    return runtime
