"""The alert manager agents: alerts to aggregation groups, groups to notifications.

- alerts are routed into their aggregation groups: one ``alerts.groups`` record per group,
  keyed by the group key, so one partition (and one worker) owns each group. The rule agents
  route the firing and resolved alerts of their events themselves (:meth:`Service.take_in`)
  as they produce them to ``alerts.events``; ``am-intake`` routes the events not marked so
  (:data:`~streams.alertmanager.engine.intake.TAKEN_IN`). ``POST /api/v2/alerts`` routes
  the same way and answers once Kafka holds the records. Records of groups this
  worker owns go into their groups at once, without waiting to be read back (am-dispatch
  skips them): one Kafka hop less between an alert and its notification.
- ``am-dispatch`` reads ``alerts.groups`` into the partition's
  :class:`~streams.alertmanager.engine.dispatch.Dispatcher`; its state (groups, pending
  notifications, notification log) goes to the ``alertmanager-groups`` table, co-partitioned
  with ``alerts.groups``, before the input is acknowledged. An alert enters its group at the
  instant it was received, and a partition's flushes wait (``alertmanager.catch_up_s`` at
  most) until am-dispatch has read the alerts received before them, so that the way through
  Kafka changes neither when a group is notified nor what it carries.
- a timer (``alertmanager.tick_s``) flushes the groups that are due; every decided
  notification is saved as pending, sent in a task of its own with retries, and recorded
  as delivered afterwards. After a restart the new owner sends the pending ones again,
  with the same idempotency key: a crash can repeat a notification, never lose one. Each
  delivered notification is logged to ``alerts.notifications`` (an audit trail).
- every worker follows the table's changelog and ``alerts.silences`` whole, so any of them
  answers the API for the cluster and inhibition sees every group's alerts. The owner of a
  partition puts its own changes in the view as it makes them (it skips their records), so
  its flushes never wait for the follower to see what it just wrote.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections import defaultdict
from collections.abc import Awaitable, Iterable, Sequence
from typing import Any, cast

import faust
import orjson
from faust.types import TP
from prometheus_client import CollectorRegistry

from agents.alertmanager_api import AlertmanagerService, add_routes
from agents.alertmanager_metrics import AlertmanagerCollector
from agents.follow import TopicFollower
from agents.reload import Reloads, WatchedFiles
from agents.tables import TableKeyValue
from agents.takes import Takes
from agents.timers import every
from streams.alertmanager.api.view import ClusterView
from streams.alertmanager.engine.catchup import CatchUp
from streams.alertmanager.engine.intake import Grouped, from_rule_event, taken_in
from streams.alertmanager.engine.notification import Notification
from streams.alertmanager.engine.runtime import AlertManager, SavedGroup, delivery, load
from streams.alertmanager.model import Alert
from streams.alertmanager.notify import NotifyCollector, NotifyStats, Services, deliver
from streams.alertmanager.wire import parse_postable
from streams.arrivals import Arrivals
from streams.errors import PulselineError, RecordDecodeError
from streams.kafka import key_hash
from streams.offsets import OffsetLedger
from streams.retry import Failure, retry
from streams.settings import Settings

log = logging.getLogger(__name__)

TABLE = "alertmanager-groups"

Decided = dict[int, list[Notification]]
"""The notifications a flush decided, by partition."""


def register_alertmanager(
    app: faust.App,
    settings: Settings,
    ledger: OffsetLedger,
    registry: CollectorRegistry,
    reloads: Reloads,
) -> AlertmanagerService:
    """Register the alert manager's agents, timer, table, followers and HTTP API.

    Returns:
        The service that answers the API (the web pages ask it too).

    Raises:
        PulselineError: ``alertmanager.config`` cannot be loaded (the worker does not start).
    """
    conf = settings.alertmanager
    topics = settings.topics
    partitions = settings.kafka.partitions
    worker = settings.worker
    external_url = conf.external_url or f"http://{worker.web_host}:{worker.web_port}"
    services = Services(key_in_body=conf.key_in_body)
    am = AlertManager(load(conf.config), services, retention=conf.retention_s)
    view = ClusterView(am.loaded.config)
    started_at = time.time()
    stats = NotifyStats()
    failures: dict[str, int] = defaultdict(int)
    registry.register(NotifyCollector(stats, lambda: am.loaded.integrations))
    registry.register(AlertmanagerCollector(am, failures, view.muting))

    table = app.Table(
        TABLE,
        partitions=partitions,
        key_type=bytes,
        value_type=bytes,
        extra_topic_configs=settings.kafka.topic_configs,
        help="Aggregation groups, pending notifications and notification log, by group key.",
    )
    states = TableKeyValue(table)
    changelog = f"{worker.group_id}-{TABLE}-changelog"
    events_topic = app.topic(topics.alerts, partitions=partitions)
    groups_topic = app.topic(topics.alert_groups, partitions=partitions)
    silences_topic = app.topic(topics.silences, partitions=1)
    notifications_topic = app.topic(topics.notifications, partitions=partitions)
    lock = asyncio.Lock()  # one change of the dispatchers at a time
    sending: dict[str, asyncio.Task[None]] = {}
    owned: set[int] = set()
    arrivals: Arrivals[asyncio.Future[None]] = Arrivals()  # token: the changes are held
    inserting: set[asyncio.Future[None]] = set()  # insert_here tasks under way
    catch_up = CatchUp(conf.catch_up_s)
    intake_takes = Takes(
        ledger, "am-intake", topics.alerts, max_records=worker.take_records, within_s=0.01
    )
    dispatch_takes = Takes(
        ledger, "am-dispatch", topics.alert_groups, max_records=worker.take_records, within_s=0.01
    )
    next_gc = [0.0]  # when the silences are next checked for retention

    def partition_of(group_key: str) -> int:
        return key_hash(group_key) % partitions

    async def produce(sends: Sequence[tuple[Any, bytes, bytes | None, int | None]]) -> list[Any]:
        """Produce every record and wait for Kafka's acks; their metadata (partition, offset).

        Straight to the worker's producer: Faust's topic machinery (a future, a buffer and
        sensors per record, and a task switch each) made a POST of 40 alerts take a tenth
        of a second on a busy worker, and a burst of posts fall behind.
        """
        producer = app.producer
        futures = [
            await producer.send(topic.get_topic_name(), key, value, partition, None, None)
            for topic, key, value, partition in sends
        ]
        return list(await asyncio.gather(*futures))

    async def route(alerts: Iterable[Alert], here: bool = True) -> None:
        """Route ``alerts`` to their groups' ``alerts.groups`` records and wait for Kafka to
        hold them; ``here``: then insert meanwhile those whose groups this worker owns
        (:func:`insert_here`, which takes the lock)."""
        grouped = am.route_all(alerts)  # one record per group, with its alerts in order
        written = await produce(
            [
                (groups_topic, g.group_key.encode(), g.encode(), partition_of(g.group_key))
                for g in grouped
            ]
        )
        if here:
            task = asyncio.ensure_future(insert_here(grouped, written))
            inserting.add(task)
            task.add_done_callback(inserted_here)

    async def insert_here(grouped: Sequence[Grouped], written: Sequence[Any]) -> None:
        """Insert the alerts of the groups this worker owns as soon as Kafka holds their
        records, and flush: one Kafka hop less between an alert and its notification.

        Only a record right after those the dispatcher holds goes in here: one behind
        records still unread (another worker's, written just before) waits for am-dispatch,
        so a group's alerts go in in the order Kafka holds them (an older firing copy of an
        alert never replaces a newer resolved one). ``am-dispatch`` skips the records
        inserted here when it reads them, and acknowledges them once the changes they made
        are held; one it read first is not inserted again. For the catch-up of flushes, a
        record inserted here counts as read (:meth:`Arrivals.caught_up`).
        """
        async with lock:
            if app.rebalancing or app.in_recovery:
                return
            touched: dict[int, list[int]] = defaultdict(list)
            held: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            now = time.time()
            for record, g in sorted(zip(written, grouped, strict=True), key=by_offset):
                p = record.partition
                if p not in owned or not arrivals.may_take(p, record.offset):
                    continue  # records before it are still to be read: it goes in after them
                ensure(p)
                if am.insert(p, g, now):  # else am-dispatch routes it again
                    touched[p].append(record.offset)
                    arrivals.took(p, record.offset, held)
            decided = {p: flush(p, now) for p in sorted(touched)}
            acks = [ack for p in sorted(touched) for ack in stage(p)]
        try:
            await settle(acks, decided)
        except BaseException:
            for p, offsets in touched.items():  # not read yet: am-dispatch inserts them
                for offset in offsets:
                    arrivals.untake(p, offset, held)
            held.cancel()  # read already: their batch fails, as a failed changelog write does
            raise
        held.set_result(None)

    def by_offset(written: tuple[Any, Grouped]) -> tuple[int, int]:
        return written[0].partition, written[0].offset

    def inserted_here(task: asyncio.Future[None]) -> None:
        inserting.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            log.error("alerts inserted on their way in were not held by Kafka: %s", exc)

    @app.agent(events_topic, name="am-intake", concurrency=1)
    async def intake(stream: Any) -> None:
        async for events in intake_takes.batches(stream):
            alerts = []
            for e in events:
                if taken_in(e.message.headers):
                    continue  # its rule agent routed it
                try:
                    alert = from_rule_event(e.message.value or b"")
                except RecordDecodeError as exc:
                    log.error(
                        "%s[%d]@%d: %s", e.message.topic, e.message.partition, e.message.offset, exc
                    )
                    continue
                if alert is not None:
                    alerts.append(alert)
            await take_in(alerts)
            intake_takes.ack(events)

    async def take_in(alerts: Sequence[Alert]) -> None:
        """Route ``alerts`` (:func:`route`), retrying while Kafka is away."""
        if alerts:
            await retry(
                functools.partial(route, alerts),
                what=f"routing {len(alerts)} alerts to {topics.alert_groups}",
                min_s=conf.retry_min_s,
                max_s=conf.retry_max_s,
            )

    def saved(partition: int) -> list[SavedGroup]:
        return [
            (key.decode(), orjson.loads(value))
            for key, value in list(table.data.items())
            if value is not None and partition_of(key.decode()) == partition
        ]

    def stage(partition: int) -> list[Awaitable[Any]]:
        """Write the partition's changed group keys to the table and the view; the changelog
        acks (the owner does not wait for its own changelog to see its groups)."""
        dispatcher = am.dispatchers.get(partition)
        if dispatcher is None:
            return []
        acks = []
        for key, state in dispatcher.changes().items():
            view.apply_group_state(key, state)
            value = None if state is None else orjson.dumps(state)
            acks.append(states.put_soon(partition, key.encode(), value))
        return acks

    async def save(partition: int) -> None:
        """Write the partition's changes and wait for Kafka to hold them (one round trip)."""
        await asyncio.gather(*stage(partition))

    def start_sending(partition: int, notifications: Iterable[Notification]) -> None:
        for n in notifications:
            if n.supersedes is not None and n.supersedes in sending:
                sending.pop(n.supersedes).cancel()
            if n.key not in sending:
                sending[n.key] = asyncio.ensure_future(send(partition, n))

    def flush(partition: int, now: float) -> list[Notification]:
        """Flush the partition's due groups (under the lock); the notifications decided."""
        dispatcher = am.dispatchers.get(partition)
        if dispatcher is None:
            return []
        due = dispatcher.next_due()
        if due is None or due > now:
            return []
        if not catch_up.ready(partition, now, arrivals.caught_up(partition), end_of(partition)):
            return []  # alerts received before now are still on their way: wait for them
        return dispatcher.due(now, view.muting())

    def end_of(partition: int) -> int | None:
        """The end offset of a partition of alerts.groups, as the consumer last saw it."""
        try:
            end: int | None = app.consumer.highwater(TP(topics.alert_groups, partition))
        except Exception:  # not started, stopping, mid-rebalance: not known
            return None
        return end

    async def settle(acks: Sequence[Awaitable[Any]], decided: Decided) -> None:
        """Wait until Kafka holds the changes, then send what was decided.

        Called outside the lock: a Kafka round trip must not hold up the other partitions'
        inserts, flushes and deliveries. A notification superseded meanwhile is not sent
        (see ``send``).
        """
        await asyncio.gather(*acks)
        for partition, notifications in decided.items():
            start_sending(partition, notifications)

    def on_failure(receiver: str) -> Any:
        def count(failure: Failure) -> None:
            failures[receiver] += 1

        return count

    def still_pending(partition: int, key: str) -> bool:
        dispatcher = am.dispatchers.get(partition)
        return dispatcher is not None and dispatcher.is_pending(key)

    async def send(partition: int, n: Notification) -> None:
        """Deliver ``n`` until it is sent (or superseded), then record it delivered."""
        notifier = am.notifier(n)
        what = f"receiver {n.receiver!r} {n.integration}"

        async def attempt() -> bool:
            if notifier is None or not still_pending(partition, n.key):
                return False  # the receiver went with a reload, or a newer flush replaced it
            return await deliver(notifier, delivery(n, external_url), stats)

        try:
            if notifier is None:
                log.error("%s is no longer configured; notification %s dropped", what, n.key)
            await retry(
                attempt,
                what=what,
                min_s=conf.retry_min_s,
                max_s=conf.retry_max_s,
                on_failure=on_failure(n.receiver),
                logger=log,
            )
        except PulselineError as exc:  # not retryable: the receiver refused it for good
            log.error("%s refused notification %s: %s", what, n.key, exc)
        finally:
            if sending.get(n.key) is asyncio.current_task():
                del sending[n.key]
        async with lock:
            dispatcher = am.dispatchers.get(partition)
            now = time.time()
            if dispatcher is None or not dispatcher.delivered(n.key, now):
                return
            acks = stage(partition)
        await asyncio.gather(*acks)  # outside the lock: other deliveries are recorded meanwhile
        record = {**n.to_dict(), "deliveredAt": now}
        await retry(
            lambda: produce(
                [(notifications_topic, n.group_key.encode(), orjson.dumps(record), None)]
            ),
            what=f"logging notification {n.key} to {topics.notifications}",
        )

    def ensure(partition: int) -> None:
        """The partition's dispatcher, restored, with its pending notifications on their way."""
        if partition in am.dispatchers:
            return
        restored = saved(partition)
        dispatcher = am.dispatcher(partition, lambda: restored)
        view.take_over(lambda key: partition_of(key) == partition, restored)
        start_sending(partition, dispatcher.pending())

    async def settled(
        previous: asyncio.Future[None] | None,
        acks: Sequence[Awaitable[Any]],
        decided: Decided,
        events: Sequence[Any],
    ) -> None:
        """Settle a batch of inserts, then acknowledge its input (after the batch before)."""
        if previous is not None:
            await previous
        await settle(acks, decided)
        dispatch_takes.ack(events)

    @app.agent(groups_topic, name="am-dispatch", concurrency=1)
    async def dispatch(stream: Any) -> None:
        # A batch's changes settle (Kafka's acks, then the input's) while the next batch is
        # read: a broker round trip per batch would bound how fast a burst of alerts gets in.
        settling: asyncio.Future[None] | None = None
        try:
            async for events in dispatch_takes.batches(stream):
                if settling is not None and settling.done():
                    settling.result()  # a batch that could not settle stops the agent
                acks, decided = await take(events)
                settling = asyncio.ensure_future(settled(settling, acks, decided, events))
        finally:
            if settling is not None and not settling.done():
                settling.cancel()  # not acknowledged: read again by the next owner

    async def take(events: Sequence[Any]) -> tuple[list[Awaitable[Any]], Decided]:
        """Insert a batch's alerts into their groups and flush what is due (under the lock);
        the changelog acks and the notifications decided."""
        async with lock:
            touched: set[int] = set()
            held: list[Awaitable[Any]] = []  # changes of records inserted on their way in
            now = time.time()
            for e in events:
                p = e.message.partition
                if p not in owned:
                    continue
                if (done := arrivals.read(p, e.message.offset)) is not None:
                    held.append(done)  # taken on its way in: wait until its changes are held
                    continue
                try:
                    grouped = Grouped.decode(e.message.value or b"")
                except RecordDecodeError as exc:
                    log.error("%s[%d]@%d: %s", e.message.topic, p, e.message.offset, exc)
                    continue
                ensure(p)
                if not am.insert(p, grouped, now):  # formed under an older configuration
                    await route_again(list(grouped.alerts))
                    continue
                touched.add(p)
            # Flushed at once: group_wait 0s, or alerts read after their group's wait.
            decided = {p: flush(p, now) for p in sorted(touched)}
            return [*held, *(ack for p in sorted(touched) for ack in stage(p))], decided

    async def route_again(alerts: list[Alert]) -> None:
        if alerts:
            await retry(
                lambda: route(alerts, here=False), what="routing alerts again after a reload"
            )

    async def publish_silences(records: list[tuple[str, bytes]]) -> None:
        """Produce silence records, apply them here at once, flush what they stopped muting."""
        await produce([(silences_topic, k.encode(), v, 0) for k, v in records])
        for key, value in records:  # read your own writes before the follower does
            view.apply_silence(key.encode(), value)
        async with lock:
            now = time.time()
            ended = [k for k, _ in records]
            ending = [p for p, d in am.dispatchers.items() if d.silences_ended(ended, now)]
            decided = {p: flush(p, now) for p in ending}
            acks = [ack for p in ending for ack in stage(p)]
        await settle(acks, decided)

    @every(app, conf.tick_s, name="am-flush")  # a run outlasting the tick just ends later
    async def tick() -> None:
        if app.rebalancing or app.in_recovery:
            return
        async with lock:
            now = time.time()
            decided = {}
            for p in sorted(owned):
                ensure(p)
                decided[p] = flush(p, now)
            acks = [ack for p in sorted(owned) for ack in stage(p)]
        await settle(acks, decided)
        if 0 in owned:  # one worker of the cluster maintains the silences
            expired = view.prepare_expire_resolved(now)
            if expired:
                await publish_silences(expired)
            if now >= next_gc[0]:  # tombstones for silences past retention, once a minute
                next_gc[0] = now + 60.0
                gone = view.silence_book.prepare_gc(now, conf.retention_s)
                await produce([(silences_topic, k.encode(), None, 0) for k, _ in gone])

    def apply_group(key: bytes | None, value: bytes | None) -> None:
        if key is None or partition_of(group := key.decode()) in am.dispatchers:
            return  # a partition this worker owns: its writes are in the view already
        view.apply_group_state(group, None if value is None else orjson.loads(value))

    group_follower = TopicFollower(settings, changelog, apply_group)
    silence_follower = TopicFollower(settings, topics.silences, view.apply_silence)
    app.task(group_follower.run)
    app.task(silence_follower.run)

    async def reload(reason: str) -> None:
        try:
            fresh = await asyncio.to_thread(load, conf.config)  # it may resolve names
        except (PulselineError, OSError) as exc:
            log.error("alertmanager config not reloaded (%s); the previous stays: %s", reason, exc)
            return
        async with lock:
            orphans = am.configure(fresh)
            view.configure(fresh.config)
            for p in list(am.dispatchers):
                await save(p)
        await route_again(orphans)
        log.info("alertmanager config reloaded (%s)", reason)

    if conf.config is not None:
        reloads.add(WatchedFiles([conf.config, *am.loaded.config.templates]), reload, conf.reload_s)

    @app.on_partitions_revoked.connect  # type: ignore[arg-type]
    async def on_revoked(app: faust.App, tps: set[TP], **kwargs: Any) -> None:
        async with lock:
            lost = [tp.partition for tp in tps if tp.topic == topics.alert_groups]
            owned.difference_update(lost)
            catch_up.forget(lost)
            arrivals.forget(lost)
            for p in lost:
                for n in am.dispatchers[p].pending() if p in am.dispatchers else ():
                    task = sending.pop(n.key, None)
                    if task is not None:
                        task.cancel()
            am.drop(lost)

    @app.on_partitions_assigned.connect  # type: ignore[arg-type]
    async def on_assigned(app: faust.App, tps: set[TP], **kwargs: Any) -> None:
        owned.update(tp.partition for tp in tps if tp.topic == topics.alert_groups)

    class Service:
        """The API's answers (see :mod:`agents.alertmanager_api`)."""

        async def post_alerts(self, body: bytes) -> list[str]:
            resolve_timeout = am.loaded.config.global_.resolve_timeout
            alerts, errors = parse_postable(body, time.time(), resolve_timeout)
            await route(alerts)
            return errors

        async def take_in(self, alerts: Sequence[Alert]) -> None:
            """Route alerts of rule events into their groups; returns once Kafka holds
            their ``alerts.groups`` records."""
            await take_in(alerts)

        def alerts(self, filters: list[str], flags: dict[str, bool], receiver: str) -> list[Any]:
            return view.alerts(filters, flags, receiver, time.time())

        def groups(self, filters: list[str], flags: dict[str, bool], receiver: str) -> list[Any]:
            return view.groups(filters, flags, receiver, time.time())

        def why(self, fingerprint: str) -> dict[str, Any] | None:
            return view.why(fingerprint, time.time())

        def silences(self, filters: list[str]) -> list[Any]:
            return view.silences(filters, time.time())

        def silence(self, silence_id: str) -> Any | None:
            return view.silence(silence_id, time.time())

        async def put_silence(self, body: bytes) -> str:
            records = view.prepare_silence(body, time.time())
            await publish_silences(records)
            return records[-1][0]

        async def expire_silence(self, silence_id: str) -> None:
            await publish_silences(view.prepare_expire(silence_id, time.time()))

        def status(self) -> dict[str, Any]:
            return view.status(am.loaded.text, time.time(), started_at)

        def receivers(self) -> list[str]:
            return view.receivers()

    service = Service()
    add_routes(cast(Any, app.web).web_app.router, service)
    return service
