"""A decided notification: what one integration of a receiver is to be told about a group.

A flush decides notifications; each stays *pending* until the agent reports it delivered.
Its idempotency key is derived from the group key and route, the group's incarnation (when
the group was created), the flush's sequence number in the group, the receiver and the
integration:
the same after a restart, different for every decision. A receiver that dedupes by the key
sees a notification once, however often a crash makes pulseline send it.

Example:
    >>> first = idempotency_key("{}:{}", "{}", 100.0, 1, "team", "webhook[0]")
    >>> first == idempotency_key("{}:{}", "{}", 100.0, 1, "team", "webhook[0]"), len(first)
    (True, 32)
    >>> first == idempotency_key("{}:{}", "{}", 100.0, 2, "team", "webhook[0]")
    False
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from streams.alertmanager.engine.store import alert_from_dict, alert_to_dict
from streams.alertmanager.model import Alert, Labels, Status


def _told(alert: Alert) -> tuple[Any, ...]:
    """What a receiver can be told of ``alert``: all but when pulseline last received it."""
    a = alert
    return (a.labels, a.annotations, a.starts_at, a.ends_at, a.generator_url, a.timeout)


def idempotency_key(
    group_key: str, route_id: str, incarnation: float, seq: int, receiver: str, integration: str
) -> str:
    """The key of the ``seq``-th notification decided in a group (32 hex digits)."""
    text = "\x00".join((group_key, route_id, repr(incarnation), str(seq), receiver, integration))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class Notification:
    """One notification to send to one integration.

    Attributes:
        key: the idempotency key.
        group_key: the aggregation group's key (``groupKey`` in webhook payloads).
        group_labels: the group's labels (``groupLabels``).
        route_id: the route the group belongs to.
        receiver: the receiver's name.
        integration: the integration, as ``kind[index]``.
        alerts: the alerts to send, in Alertmanager's order; firing ones have no end.
        firing: fingerprints the notification log records as notified firing.
        resolved: fingerprints the notification log records as notified resolved (with
            ``send_resolved: false`` they are recorded but not sent).
        decided_at: the instant of the flush that decided it.
        reason: why it was decided (see :data:`streams.alertmanager.engine.nflog.Reason`, or
            ``unsilenced`` when a silence stopped muting a firing alert).
        supersedes: the key of the pending notification it replaces, if any.
    """

    key: str
    group_key: str
    group_labels: Labels
    route_id: str
    receiver: str
    integration: str
    alerts: tuple[Alert, ...]
    firing: frozenset[str]
    resolved: frozenset[str]
    decided_at: float
    reason: str
    supersedes: str | None = None

    @property
    def status(self) -> Status:
        """``firing`` if any alert sent fires, else ``resolved`` (the payload's ``status``)."""
        firing = any(not a.resolved(self.decided_at) for a in self.alerts)
        return "firing" if firing else "resolved"

    def same_content(self, other: Notification) -> bool:
        """Whether ``other`` would tell the receiver exactly what this one tells: not when
        pulseline last received an alert (a rule's repeat after a crash, a re-post)."""
        return (
            self.firing == other.firing
            and self.resolved == other.resolved
            and self.group_labels == other.group_labels
            and list(map(_told, self.alerts)) == list(map(_told, other.alerts))
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict."""
        return {
            "key": self.key,
            "group_key": self.group_key,
            "group_labels": dict(self.group_labels),
            "route_id": self.route_id,
            "receiver": self.receiver,
            "integration": self.integration,
            "alerts": [alert_to_dict(a) for a in self.alerts],
            "firing": sorted(self.firing),
            "resolved": sorted(self.resolved),
            "decided_at": self.decided_at,
            "reason": self.reason,
            "supersedes": self.supersedes,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Notification:
        """The notification :meth:`to_dict` wrote."""
        return cls(
            key=data["key"],
            group_key=data["group_key"],
            group_labels=tuple(sorted(data["group_labels"].items())),
            route_id=data["route_id"],
            receiver=data["receiver"],
            integration=data["integration"],
            alerts=tuple(alert_from_dict(a) for a in data["alerts"]),
            firing=frozenset(data["firing"]),
            resolved=frozenset(data["resolved"]),
            decided_at=float(data["decided_at"]),
            reason=data["reason"],
            supersedes=data["supersedes"],
        )


@dataclass(frozen=True, slots=True)
class Delivery:
    """A delivered notification, as a group remembers it.

    Attributes:
        key: the notification's idempotency key.
        receiver: the receiver's name.
        integration: the integration, as ``kind[index]``.
        reason: why it was decided.
        decided_at: when it was decided.
        delivered_at: when the receiver took it.
        firing: fingerprints it carried as firing.
        resolved: fingerprints it carried as resolved.
    """

    key: str
    receiver: str
    integration: str
    reason: str
    decided_at: float
    delivered_at: float
    firing: tuple[str, ...]
    resolved: tuple[str, ...]

    @classmethod
    def of(cls, notification: Notification, delivered_at: float) -> Delivery:
        """The record of ``notification`` delivered at ``delivered_at``."""
        n = notification
        return cls(
            n.key,
            n.receiver,
            n.integration,
            n.reason,
            n.decided_at,
            delivered_at,
            tuple(sorted(n.firing)),
            tuple(sorted(n.resolved)),
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict."""
        return {
            "key": self.key,
            "receiver": self.receiver,
            "integration": self.integration,
            "reason": self.reason,
            "decided_at": self.decided_at,
            "delivered_at": self.delivered_at,
            "firing": list(self.firing),
            "resolved": list(self.resolved),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Delivery:
        """The record :meth:`to_dict` wrote."""
        return cls(
            data["key"],
            data["receiver"],
            data["integration"],
            data["reason"],
            float(data["decided_at"]),
            float(data["delivered_at"]),
            tuple(data["firing"]),
            tuple(data["resolved"]),
        )
