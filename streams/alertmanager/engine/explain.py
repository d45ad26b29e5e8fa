"""Why an alert was, or was not, notified: the answer behind ``pulseline alerts why``.

For one alert fingerprint, :func:`explain` gathers from the aggregation groups (live ones, or
ones read back from the changelog tables of every partition) each group it is in, with the
route and receiver, what muted it at the group's last flush (silences, inhibiting alerts,
time intervals), whether it is held firing because it flaps, the notifications pending for
it and the deliveries that carried it. Given the silences and the inhibitor in force, it
also says what mutes it now.

Example:
    >>> from streams.alertmanager.engine.dispatch import Dispatcher
    >>> from streams.alertmanager.engine.simulate import StaticRoute, Timeline, webhook
    >>> t = Timeline(Dispatcher({"team": [webhook("team")]}))
    >>> down = Alert.create({"alertname": "Down"}, starts_at=0.0)
    >>> t.insert(down, StaticRoute("team", group_wait=1.0))
    >>> t.advance(2.0)
    >>> why = explain(down.fingerprint, t.dispatcher.groups.values())
    >>> [(g.receiver, [(d.integration, d.delivered_at, d.carried) for d in g.deliveries])
    ...  for g in why.groups]
    [('team', [('webhook[0]', 1.0, 'firing')])]
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from streams.alertmanager.engine.group import AggregationGroup
from streams.alertmanager.engine.muting import MuteRecord, Muting
from streams.alertmanager.engine.notification import Delivery, Notification
from streams.alertmanager.engine.store import alert_to_dict
from streams.alertmanager.model import Alert, Labels, Status


@dataclass(frozen=True, slots=True)
class Carried:
    """A delivery that carried the alert, and as what."""

    key: str
    integration: str
    reason: str
    decided_at: float
    delivered_at: float
    carried: Status

    @classmethod
    def of(cls, delivery: Delivery, carried: Status) -> Carried:
        """The part of ``delivery`` that concerns one alert."""
        d = delivery
        return cls(d.key, d.integration, d.reason, d.decided_at, d.delivered_at, carried)


@dataclass(frozen=True, slots=True)
class InGroup:
    """The alert in one aggregation group.

    Attributes:
        group_key: the group's key.
        group_labels: the group's labels.
        route_id: the route that formed the group.
        receiver: the receiver it notifies.
        alert: the alert as the group holds it (None: it left the group).
        muted: what muted it at the group's last flush (None: nothing).
        flapping: whether it is held firing because it flaps.
        pending: notifications decided for it and not yet delivered.
        deliveries: the remembered deliveries that carried it, oldest first.
        next_flush: when the group flushes next.
    """

    group_key: str
    group_labels: Labels
    route_id: str
    receiver: str
    alert: Alert | None
    muted: MuteRecord | None
    flapping: bool
    pending: tuple[Notification, ...]
    deliveries: tuple[Carried, ...]
    next_flush: float

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict."""
        return {
            "group_key": self.group_key,
            "group_labels": dict(self.group_labels),
            "route_id": self.route_id,
            "receiver": self.receiver,
            "alert": None if self.alert is None else alert_to_dict(self.alert),
            "muted": None if self.muted is None else self.muted.to_dict(),
            "flapping": self.flapping,
            "pending": [
                {"key": n.key, "integration": n.integration, "decided_at": n.decided_at}
                for n in self.pending
            ],
            "deliveries": [
                {
                    "key": d.key,
                    "integration": d.integration,
                    "reason": d.reason,
                    "decided_at": d.decided_at,
                    "delivered_at": d.delivered_at,
                    "carried": d.carried,
                }
                for d in self.deliveries
            ],
            "next_flush": self.next_flush,
        }


@dataclass(frozen=True, slots=True)
class Explanation:
    """Everything known about why one alert was or was not notified.

    Attributes:
        fingerprint: the alert's fingerprint.
        groups: the groups it is in, or was in while their history remembers it.
        silenced_by: ids of the silences muting it now (when asked with muting).
        inhibited_by: fingerprints of the alerts inhibiting it now (when asked with muting).
    """

    fingerprint: str
    groups: tuple[InGroup, ...]
    silenced_by: tuple[str, ...] = ()
    inhibited_by: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict (what ``pulseline alerts why`` prints)."""
        return {
            "fingerprint": self.fingerprint,
            "silenced_by": list(self.silenced_by),
            "inhibited_by": list(self.inhibited_by),
            "groups": [g.to_dict() for g in self.groups],
        }


def _in_group(group: AggregationGroup, fingerprint: str) -> InGroup | None:
    carried = []
    for d in group.history:
        if fingerprint in d.firing:
            carried.append(Carried.of(d, "firing"))
        elif fingerprint in d.resolved:
            carried.append(Carried.of(d, "resolved"))
    pending = tuple(n for n in group.pending.values() if fingerprint in n.firing | n.resolved)
    alert = group.alerts.get(fingerprint)
    if alert is None and not carried and not pending:
        return None
    return InGroup(
        group.key,
        group.labels,
        group.opts.route_id,
        group.opts.receiver,
        alert,
        group.muted.get(fingerprint),
        group.flapping(fingerprint),
        pending,
        tuple(carried),
        group.next_flush,
    )


def explain(
    fingerprint: str,
    groups: Iterable[AggregationGroup],
    *,
    labels: Mapping[str, str] | None = None,
    muting: Muting | None = None,
    at: float = 0.0,
) -> Explanation:
    """Explain one alert from the groups that may hold it.

    Args:
        fingerprint: the alert's fingerprint.
        groups: aggregation groups (of one dispatcher, or read back from every partition's
            table with :func:`groups_of`).
        labels: the alert's labels, to ask ``muting`` what mutes it now.
        muting: the silences and the inhibitor in force.
        at: the current instant (with ``muting``).
    """
    found = tuple(g for g in (_in_group(group, fingerprint) for group in groups) if g)
    if labels is None:
        held = next((g.alert for g in found if g.alert is not None), None)
        labels = held.label_map() if held is not None else None
    silenced: tuple[str, ...] = ()
    inhibited: tuple[str, ...] = ()
    if muting is not None and labels is not None:
        silenced = tuple(muting.silences.mutes(labels, at))
        inhibited = tuple(muting.inhibitor.mutes(labels, at))
    return Explanation(fingerprint, found, silenced, inhibited)


def groups_of(states: Iterable[Mapping[str, Any] | None]) -> list[AggregationGroup]:
    """The groups in saved dispatcher states (values of ``Dispatcher.state_of``)."""
    return [AggregationGroup.from_dict(g) for s in states if s is not None for g in s["groups"]]
