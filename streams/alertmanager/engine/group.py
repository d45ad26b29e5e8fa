"""An aggregation group: the alerts of one route with the same group labels, and its timer.

The group follows Alertmanager's ``aggrGroup``. Its first flush comes ``group_wait`` after it
was created, or at once when an alert arrives that started more than ``group_wait`` ago and
the group has not flushed yet; later flushes come every ``group_interval``. A flush presents
the group's alerts (firing ones without an end), leaves out those muted, and asks the
notification log, per integration of the route's receiver, whether to notify (see
:func:`streams.alertmanager.engine.nflog.decide`). What it decides stays *pending* until the agent
reports it delivered; a pending notification the next flush would say differently is
replaced (the agent learns it from :attr:`Notification.supersedes`), one it would say the
same is kept with its key. Resolved alerts leave the group once every notification of the
flush that carried them was delivered, unless they were received again since.

Example:
    >>> opts = RouteOpts("0", "{}", "team", group_wait=30.0, group_interval=300.0,
    ...                  repeat_interval=3600.0)
    >>> group = AggregationGroup("{}:{}", (), opts, created_at=0.0)
    >>> _ = group.insert(Alert.create({"alertname": "Down"}, starts_at=0.0), now=0.0)
    >>> group.next_flush
    30.0
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from streams.alertmanager.config.receivers import Integration
from streams.alertmanager.engine.flapping import FLAPPING_ANNOTATION, FlapState
from streams.alertmanager.engine.muting import (
    MuteRecord,
    Muting,
    TimeInterval,
    mute_record,
    time_muted,
)
from streams.alertmanager.engine.nflog import NotificationLog, decide
from streams.alertmanager.engine.notification import Delivery, Notification, idempotency_key
from streams.alertmanager.engine.routeopts import RouteOpts
from streams.alertmanager.engine.store import (
    alert_from_dict,
    alert_to_dict,
    presented,
    put,
    sort_alerts,
)
from streams.alertmanager.model import Alert, Labels

HISTORY = 20
"""Deliveries a group remembers (for ``pulseline alerts why``)."""


@dataclass(frozen=True, slots=True)
class FlushContext:
    """What a flush needs from around the group."""

    integrations: Sequence[Integration]
    nflog: NotificationLog
    muting: Muting
    intervals: Mapping[str, TimeInterval]


class AggregationGroup:
    """The alerts of one route with the same group labels, their timer and what was decided.

    Args:
        key: the group key.
        labels: the group labels.
        opts: the route's options.
        created_at: when the group was created (its incarnation, part of idempotency keys).
    """

    def __init__(self, key: str, labels: Labels, opts: RouteOpts, created_at: float) -> None:
        self.key = key
        self.labels = labels
        self.opts = opts
        self.created_at = created_at
        self.alerts: dict[str, Alert] = {}
        self.next_flush = created_at + opts.group_wait
        self.has_flushed = False
        self.seq = 0
        self.pending: dict[str, Notification] = {}
        self.carried: dict[str, float] = {}
        self.muted: dict[str, MuteRecord] = {}
        self.flaps: dict[str, FlapState] = {}
        self.history: list[Delivery] = []
        self._presented: dict[str, tuple[Alert, Alert]] = {}

    def insert(self, alert: Alert, now: float) -> Alert:
        """Hold ``alert`` (merged with the copy held) and return what is held."""
        held = put(self.alerts.get(alert.fingerprint), alert, now)
        self.alerts[held.fingerprint] = held
        self._observe(held, now)
        if not self.has_flushed and held.starts_at + self.opts.group_wait < now:
            self.next_flush = min(self.next_flush, now)
        return held

    def empty(self) -> bool:
        """Whether the group holds no alert and waits for no delivery."""
        return not self.alerts and not self.pending

    def flapping(self, fingerprint: str) -> bool:
        """Whether the alert is held firing because it flaps."""
        state = self.flaps.get(fingerprint)
        return state is not None and state.flapping

    def _observe(self, alert: Alert, now: float) -> None:
        settings = self.opts.flap
        if settings is None:
            return
        state = self.flaps.get(alert.fingerprint)
        if state is None:
            self.flaps[alert.fingerprint] = FlapState.start(alert.status(now), now)
        else:
            state.observe(alert.status(now), now, settings)

    def _shown(self, alert: Alert, now: float) -> Alert:
        self._observe(alert, now)
        if not self.flapping(alert.fingerprint):
            if alert.resolved(now):
                return alert
            # A firing alert is shown without its end; the copy is kept while it is held.
            held, shown = self._presented.get(alert.fingerprint, (None, alert))
            if held is not alert:
                shown = presented(alert, now)
                self._presented[alert.fingerprint] = (alert, shown)
            return shown
        notes = {**dict(alert.annotations), FLAPPING_ANNOTATION: "true"}
        return Alert(
            alert.labels,
            tuple(sorted(notes.items())),
            alert.starts_at,
            None,
            alert.generator_url,
            alert.updated_at,
            alert.timeout,
        )

    def flush(self, now: float, ctx: FlushContext) -> list[Notification]:
        """Flush at ``now``: re-arm the timer, decide and return the new notifications."""
        following = self.next_flush + self.opts.group_interval
        self.next_flush = following if following > now else now + self.opts.group_interval
        self.has_flushed = True
        if not self.alerts:
            return []
        shown = [self._shown(a, now) for a in sort_alerts(self.alerts.values())]
        route_muted = time_muted(
            self.opts.mute_time_intervals, self.opts.active_time_intervals, ctx.intervals, now
        )
        before = self.muted
        records = {
            a.fingerprint: mute_record(a.label_map(), now, ctx.muting, route_muted) for a in shown
        }
        self.muted = {fp: r for fp, r in records.items() if r.muted}
        unmuted = [a for a in shown if a.fingerprint not in self.muted]
        firing = {a.fingerprint for a in unmuted if not a.resolved(now)}
        resolved = {a.fingerprint for a in unmuted if a.resolved(now)}
        unsilenced = {fp for fp in firing if fp in before and before[fp].silenced_by}
        decided: list[Notification] = []
        kept: dict[str, Notification] = {}
        # With every alert muted, nothing is asked of the log (Alertmanager stops its
        # pipeline there): receivers hear nothing, not even that all is resolved.
        for integration in ctx.integrations if unmuted else ():
            where, send_resolved = integration.where, integration.config.send_resolved
            entry = ctx.nflog.query(self.key, self.opts.receiver, where)
            reason: str | None = decide(
                entry,
                firing,
                resolved,
                send_resolved=send_resolved,
                repeat_interval=self.opts.repeat_interval,
                now=now,
            )
            if reason is None and unsilenced:
                reason = "unsilenced"
            if reason is None:
                continue
            if not send_resolved and not firing:
                # Nothing to send, but the log must learn that all is resolved.
                ctx.nflog.log(self.key, self.opts.receiver, where, (), resolved, at=now)
                continue
            sent = unmuted if send_resolved else [a for a in unmuted if a.fingerprint in firing]
            candidate = self._notification(where, tuple(sent), firing, resolved, now, reason)
            old = self.pending.get(where)
            if old is not None and old.same_content(candidate):
                kept[where] = old
                continue
            self.seq += 1
            key = idempotency_key(
                self.key, self.opts.route_id, self.created_at, self.seq, self.opts.receiver, where
            )
            fresh = replace(candidate, key=key, supersedes=None if old is None else old.key)
            kept[where] = fresh
            decided.append(fresh)
        self.pending = kept
        self.carried = {a.fingerprint: a.updated_at for a in shown if a.resolved(now)}
        if not self.pending:
            self._forget_carried()
        return decided

    def _notification(
        self,
        where: str,
        sent: tuple[Alert, ...],
        firing: set[str],
        resolved: set[str],
        now: float,
        reason: str,
    ) -> Notification:
        return Notification(
            "",
            self.key,
            self.labels,
            self.opts.route_id,
            self.opts.receiver,
            where,
            sent,
            frozenset(firing),
            frozenset(resolved),
            now,
            reason,
        )

    def delivered(self, key: str, now: float, nflog: NotificationLog) -> Notification | None:
        """Record the delivery of a pending notification; None if ``key`` is not pending."""
        where = next((w for w, n in self.pending.items() if n.key == key), None)
        if where is None:
            return None
        n = self.pending.pop(where)
        nflog.log(self.key, n.receiver, where, n.firing, n.resolved, at=now)
        self.history = [*self.history, Delivery.of(n, now)][-HISTORY:]
        if not self.pending:
            self._forget_carried()
        return n

    def _forget_carried(self) -> None:
        for fp, updated_at in self.carried.items():
            held = self.alerts.get(fp)
            if held is not None and held.updated_at == updated_at:
                del self.alerts[fp]
                self.muted.pop(fp, None)
                self._presented.pop(fp, None)
        self.carried = {}

    def prune_flaps(self, now: float) -> None:
        """Forget flap states of alerts gone from the group that no longer matter."""
        settings = self.opts.flap
        for fp in [fp for fp in self.flaps if fp not in self.alerts]:
            if settings is None or self.flaps[fp].forgettable(now, settings):
                del self.flaps[fp]

    def to_dict(self) -> dict[str, Any]:
        """The whole group as a JSON-able dict."""
        return {
            "key": self.key,
            "labels": dict(self.labels),
            "opts": self.opts.to_dict(),
            "created_at": self.created_at,
            "alerts": [alert_to_dict(a) for a in self.alerts.values()],
            "next_flush": self.next_flush,
            "has_flushed": self.has_flushed,
            "seq": self.seq,
            "pending": [n.to_dict() for n in self.pending.values()],
            "carried": self.carried,
            "muted": {fp: r.to_dict() for fp, r in self.muted.items()},
            "flaps": {fp: s.to_dict() for fp, s in self.flaps.items()},
            "history": [d.to_dict() for d in self.history],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AggregationGroup:
        """The group :meth:`to_dict` wrote."""
        labels = tuple(sorted(data["labels"].items()))
        group = cls(data["key"], labels, RouteOpts.from_dict(data["opts"]), data["created_at"])
        group.alerts = {a.fingerprint: a for a in map(alert_from_dict, data["alerts"])}
        group.next_flush = float(data["next_flush"])
        group.has_flushed = bool(data["has_flushed"])
        group.seq = int(data["seq"])
        group.pending = {n.integration: n for n in map(Notification.from_dict, data["pending"])}
        group.carried = {fp: float(t) for fp, t in data["carried"].items()}
        group.muted = {fp: MuteRecord.from_dict(r) for fp, r in data["muted"].items()}
        group.flaps = {fp: FlapState.from_dict(s) for fp, s in data["flaps"].items()}
        group.history = [Delivery.from_dict(d) for d in data["history"]]
        return group
