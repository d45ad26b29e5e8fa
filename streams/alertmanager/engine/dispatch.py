"""The dispatcher of one partition: its aggregation groups, their timers and notification log.

Alerts reach the dispatcher already routed: the route, the group key and the group labels
come with each (one partition owns every group it is given). A timer asks :meth:`due` what
to send; the agent sends each :class:`~streams.alertmanager.engine.notification.Notification`, then
reports it with :meth:`delivered`, which writes the notification log. A decided notification
is *pending* until then, and is part of the saved state: after a crash :meth:`pending` gives
it again, with the same idempotency key, and no flush decides it a second time.

Groups are told apart by group key *and* route: sibling routes without matchers share a
key, and make two groups, as in Alertmanager. State is saved per group key (its groups with
their pending notifications, and its notification log entries): :meth:`changes` gives what
changed since it was last asked, :meth:`load` puts a saved value back. Nothing reads a
clock: every method that needs the time is given ``now``.

Example:
    >>> from streams.alertmanager.engine.routeopts import RouteOpts
    >>> from streams.alertmanager.config.receivers import Integration, WebhookConfig
    >>> hook = Integration("team", "webhook", 0, WebhookConfig(url="http://127.0.0.1:9/"))
    >>> d = Dispatcher({"team": [hook]})
    >>> opts = RouteOpts("0", "{}", "team", group_wait=30.0, group_interval=300.0,
    ...                  repeat_interval=3600.0)
    >>> d.insert(Alert.create({"alertname": "Down"}, starts_at=0.0), opts, "{}:{}", (), now=0.0)
    True
    >>> d.due(now=29.0)
    []
    >>> [n.integration for n in d.due(now=30.0)]
    ['webhook[0]']
    >>> d.delivered(d.pending()[0].key, now=30.5)
    True
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from streams.alertmanager.config.receivers import Integration
from streams.alertmanager.engine.group import AggregationGroup, FlushContext
from streams.alertmanager.engine.muting import Muting, TimeInterval
from streams.alertmanager.engine.nflog import NotificationLog
from streams.alertmanager.engine.notification import Notification
from streams.alertmanager.engine.routeopts import Route, RouteOpts
from streams.alertmanager.model import Alert, Labels, labels_of

GroupId = tuple[str, str]
"""An aggregation group's identity: its group key and its route's id. Two routes with the
same key (siblings without matchers) make two groups with one key, as in Alertmanager."""

MAINTENANCE_INTERVAL = 30.0
"""Seconds between removals of empty groups (Alertmanager's dispatcher maintenance)."""


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds on what one dispatcher holds; an alert beyond them is refused and counted.

    Attributes:
        max_groups: aggregation groups at most.
        max_alerts_per_group: alerts one group holds at most.
    """

    max_groups: int = 50_000
    max_alerts_per_group: int = 20_000


@dataclass(slots=True)
class DispatchStats:
    """Counters for ``/metrics``; :data:`DISPATCH_HELP` says what each counts."""

    refused: int = 0
    decided: int = 0
    superseded: int = 0
    delivered: int = 0
    groups_removed: int = 0


DISPATCH_HELP = {
    "refused": "Alerts left out of their aggregation group because the partition already held "
    "the most groups, or the group the most alerts, a dispatcher keeps: they are not notified.",
    "decided": "Notifications a group's flush decided to send, one per integration of the "
    "route's receiver; each stays pending, and is sent again after a restart, until delivered.",
    "superseded": "Pending notifications replaced before their delivery was recorded, because "
    "a later flush of their group had other alerts to tell (the new one carries them).",
    "delivered": "Notifications an integration accepted, written to the notification log "
    "(repeat_interval counts from there).",
    "groups_removed": "Aggregation groups forgotten once they held no alert and no pending "
    "notification (checked every 30 s, as Alertmanager's dispatcher does).",
}
"""HELP text of ``pulseline_alertmanager_<field>_total``, by field of :class:`DispatchStats`."""


@dataclass(slots=True)
class _Config:
    receivers: Mapping[str, Sequence[Integration]] = field(default_factory=dict)
    intervals: Mapping[str, TimeInterval] = field(default_factory=dict)


class Dispatcher:
    """Aggregation groups, their timers and the notification log of one partition.

    Args:
        receivers: each receiver's integrations, by receiver name.
        time_intervals: the configuration's named time intervals.
        retention: seconds notification log entries are kept.
        limits: bounds on the state held.
    """

    def __init__(
        self,
        receivers: Mapping[str, Sequence[Integration]] | None = None,
        *,
        time_intervals: Mapping[str, TimeInterval] | None = None,
        retention: float = 432000.0,
        limits: Limits | None = None,
    ) -> None:
        self._config = _Config(receivers or {}, time_intervals or {})
        self.limits = limits or Limits()
        self.nflog = NotificationLog(retention)
        self.groups: dict[GroupId, AggregationGroup] = {}
        self.stats = DispatchStats()
        self.next_maintenance: float | None = None
        self._keys: dict[str, GroupId] = {}
        self._routes: dict[str, set[str]] = {}
        self._dirty: set[str] = set()

    def configure(
        self,
        receivers: Mapping[str, Sequence[Integration]],
        time_intervals: Mapping[str, TimeInterval] | None = None,
    ) -> None:
        """Take a reloaded configuration's receivers and time intervals."""
        self._config = _Config(receivers, time_intervals or {})

    def insert(
        self,
        alert: Alert,
        route: Route | RouteOpts,
        group_key: str,
        group_labels: Labels | Mapping[str, str],
        now: float,
    ) -> bool:
        """Put an alert into its group (created if needed); False if a limit refused it."""
        opts = route if isinstance(route, RouteOpts) else RouteOpts.of(route)
        gid = (group_key, opts.route_id)
        group = self.groups.get(gid)
        if group is None:
            if len(self.groups) >= self.limits.max_groups:
                self.stats.refused += 1
                return False
            labels = labels_of(group_labels) if isinstance(group_labels, Mapping) else group_labels
            group = AggregationGroup(group_key, labels, opts, created_at=now)
            self._add(group)
        elif (
            alert.fingerprint not in group.alerts
            and len(group.alerts) >= self.limits.max_alerts_per_group
        ):
            self.stats.refused += 1
            return False
        group.opts = opts
        group.insert(alert, now)
        self._dirty.add(group_key)
        return True

    def group(self, group_key: str, route_id: str | None = None) -> AggregationGroup | None:
        """The group with this key (and route, when several routes share the key)."""
        found = [g for g in self._with_key(group_key) if route_id in (None, g.opts.route_id)]
        return found[0] if len(found) == 1 else None

    def next_due(self) -> float | None:
        """The earliest instant :meth:`due` has something to do (None: nothing held)."""
        times = [g.next_flush for g in self.groups.values() if g.alerts]
        if self.groups and self.next_maintenance is not None:
            times.append(self.next_maintenance)
        return min(times, default=None)

    def due(self, now: float, muting: Muting | None = None) -> list[Notification]:
        """Flush every group whose time has come; return the notifications decided.

        Args:
            now: the current instant.
            muting: the silences and the inhibitor in force (default: nothing mutes).
        """
        muting = muting or Muting()
        decided: list[Notification] = []
        ripe = [g for g in self.groups.values() if g.next_flush <= now]
        for group in sorted(ripe, key=lambda g: (g.next_flush, g.key)):
            before = {n.key for n in group.pending.values()}
            ctx = FlushContext(
                self._config.receivers.get(group.opts.receiver, ()),
                self.nflog,
                muting,
                self._config.intervals,
            )
            fresh = group.flush(now, ctx)
            after = {n.key for n in group.pending.values()}
            for key in before - after:
                self._keys.pop(key, None)
                self.stats.superseded += 1
            for n in fresh:
                self._keys[n.key] = (group.key, group.opts.route_id)
            self.stats.decided += len(fresh)
            decided.extend(fresh)
            self._dirty.add(group.key)
        self._maintain(now)
        return decided

    def _maintain(self, now: float) -> None:
        if self.next_maintenance is None:
            self.next_maintenance = now + MAINTENANCE_INTERVAL
        if now < self.next_maintenance:
            return
        self.next_maintenance = now + MAINTENANCE_INTERVAL
        for gid, group in list(self.groups.items()):
            group.prune_flaps(now)
            if group.empty() and not group.flaps:
                self._remove(gid)
                self.stats.groups_removed += 1
                self._dirty.add(group.key)
        self._dirty.update(self.nflog.gc(now))

    def delivered(self, key: str, now: float) -> bool:
        """Record that the notification ``key`` reached its receiver at ``now``.

        Returns:
            False when ``key`` is not pending (already recorded, or superseded): nothing
            changes then.
        """
        gid = self._keys.get(key)
        group = self.groups.get(gid) if gid is not None else None
        if group is None or group.delivered(key, now, self.nflog) is None:
            return False
        del self._keys[key]
        self.stats.delivered += 1
        self._dirty.add(group.key)
        return True

    def pending(self) -> list[Notification]:
        """Every notification decided and not yet delivered, oldest first."""
        found = [n for g in self.groups.values() for n in g.pending.values()]
        return sorted(found, key=lambda n: (n.decided_at, n.group_key, n.integration))

    def is_pending(self, key: str) -> bool:
        """Whether ``key`` still waits for delivery (a superseded one does not)."""
        return key in self._keys

    def silences_ended(self, silence_ids: Iterable[str], now: float) -> list[str]:
        """Flush at once the groups where these silences muted alerts receivers had been told
        were firing (a pulseline extension).

        Alertmanager says nothing of such an alert when its silence ends until
        ``repeat_interval`` has passed; pulseline tells at once. Alerts receivers never heard
        of keep Alertmanager's timing: they are new, and the group's next flush tells.
        Returns the group keys flushed.
        """
        ids = set(silence_ids)
        keys = []
        for group in self.groups.values():
            muted = {fp for fp, r in group.muted.items() if ids & set(r.silenced_by)}
            told = {fp for e in self.nflog.entries(group.key) for fp in e.firing}
            if group.has_flushed and muted & told:
                group.next_flush = min(group.next_flush, now)
                keys.append(group.key)
                self._dirty.add(group.key)
        return keys

    def reroute(self, route_of: Callable[[str], Route | None]) -> list[Alert]:
        """After a reload: refresh each group's route options, drop groups whose route is gone.

        Returns:
            The alerts of the dropped groups, to route again.
        """
        orphans: list[Alert] = []
        for gid, group in list(self.groups.items()):
            route = route_of(group.opts.route_id)
            if route is None:
                orphans.extend(group.alerts.values())
                self._remove(gid)
            else:
                group.opts = RouteOpts.of(route)
            self._dirty.add(group.key)
        return orphans

    def _add(self, group: AggregationGroup) -> None:
        gid = (group.key, group.opts.route_id)
        self.groups[gid] = group
        self._routes.setdefault(group.key, set()).add(gid[1])
        self._keys.update({n.key: gid for n in group.pending.values()})

    def _remove(self, gid: GroupId) -> AggregationGroup:
        group = self.groups.pop(gid)
        routes = self._routes[gid[0]]
        routes.discard(gid[1])
        if not routes:
            del self._routes[gid[0]]
        for n in group.pending.values():
            self._keys.pop(n.key, None)
        return group

    def _with_key(self, group_key: str) -> list[AggregationGroup]:
        return [self.groups[(group_key, r)] for r in sorted(self._routes.get(group_key, ()))]

    def state_of(self, group_key: str) -> dict[str, Any] | None:
        """What is saved under a group key (None: nothing, the key can be deleted)."""
        groups = self._with_key(group_key)
        entries = self.nflog.dump(group_key)
        if not groups and not entries:
            return None
        return {"groups": [g.to_dict() for g in groups], "nflog": entries}

    def load(self, group_key: str, state: Mapping[str, Any] | None) -> None:
        """Put back what :meth:`state_of` gave for a group key (None: forget the key)."""
        for old in self._with_key(group_key):
            self._remove((group_key, old.opts.route_id))
        self.nflog.load(group_key, [] if state is None else state["nflog"])
        for data in [] if state is None else state["groups"]:
            self._add(AggregationGroup.from_dict(data))

    def changes(self) -> dict[str, dict[str, Any] | None]:
        """The state of every group key changed since the last call (None: deleted)."""
        dirty, self._dirty = self._dirty, set()
        return {key: self.state_of(key) for key in sorted(dirty)}

    def to_dict(self) -> dict[str, Any]:
        """All state as a JSON-able dict."""
        keys = sorted({*self._routes, *self.nflog.group_keys()})
        return {
            "keys": {key: self.state_of(key) for key in keys},
            "next_maintenance": self.next_maintenance,
        }

    @classmethod
    def from_dict(
        cls,
        data: Mapping[str, Any],
        receivers: Mapping[str, Sequence[Integration]] | None = None,
        **options: Any,
    ) -> Dispatcher:
        """A dispatcher holding what :meth:`to_dict` gave (options as for the constructor)."""
        dispatcher = cls(receivers, **options)
        dispatcher.restore(data)
        return dispatcher

    def restore(self, data: Mapping[str, Any]) -> None:
        """Replace all state by what :meth:`to_dict` gave."""
        for key in {*self._routes, *self.nflog.group_keys()}:
            self.load(key, None)
        for key, state in data["keys"].items():
            self.load(key, state)
        self.next_maintenance = data["next_maintenance"]
        self._dirty.clear()
