"""What a receiver is told: one aggregation group's alerts at one moment.

A :class:`Notification` is decided by the dispatcher (group wait, group interval, repeat,
the notification log) and handed to each integration of the group's receiver. Notifiers
read only this: they do not know about routes, timers or tables.

Example:
    >>> from streams.alertmanager.model import Alert
    >>> n = Notification(
    ...     receiver="ops",
    ...     group_key='{}:{alertname="Down"}',
    ...     group_labels=(("alertname", "Down"),),
    ...     alerts=(
    ...         Alert.create({"alertname": "Down", "host": "a"}, starts_at=10.0),
    ...         Alert.create({"alertname": "Down", "host": "b"}, starts_at=10.0, ends_at=50.0),
    ...     ),
    ...     idempotency_key="ops/5f1c/3",
    ...     at=60.0,
    ...     external_url="http://pulseline:6066",
    ... )
    >>> n.status, len(n.firing), len(n.resolved)
    ('firing', 1, 1)
    >>> n.common_labels()
    {'alertname': 'Down'}
    >>> n.only_firing().status, n.only_firing().alerts == n.firing
    ('firing', True)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from streams.alertmanager.model import Alert, Labels, Status


def common_pairs(label_sets: Sequence[Labels]) -> dict[str, str]:
    """The pairs every set has, by name (sorted), as Alertmanager's ``CommonLabels``.

    >>> common_pairs([(("a", "1"), ("b", "2")), (("a", "1"), ("b", "3"))])
    {'a': '1'}
    """
    if not label_sets:
        return {}
    common = dict(label_sets[0])
    for labels in label_sets[1:]:
        other = dict(labels)
        common = {k: v for k, v in common.items() if other.get(k) == v}
    return dict(sorted(common.items()))


@dataclass(frozen=True, slots=True)
class Notification:
    """One notification of one aggregation group, before any integration shapes it.

    Attributes:
        receiver: the receiver's name, as in the configuration.
        group_key: the aggregation group's key, as Alertmanager writes it
            (``{}/{team="ops"}:{alertname="Down"}``: route matchers, then group labels).
        group_labels: the values of the route's ``group_by`` labels for this group.
        alerts: the group's alerts, firing and resolved, in the order they are to be shown.
        idempotency_key: the same for every attempt to deliver this notification, different
            for the next one of the group; receivers dedupe on it.
        at: the moment the notification was decided (Unix seconds): it says which alerts
            are resolved, and is the time templates see.
        external_url: the URL users reach pulseline at, for links.
    """

    receiver: str
    group_key: str
    group_labels: Labels
    alerts: tuple[Alert, ...]
    idempotency_key: str
    at: float
    external_url: str = ""

    @property
    def firing(self) -> tuple[Alert, ...]:
        """The alerts still firing at :attr:`at`."""
        return tuple(a for a in self.alerts if not a.resolved(self.at))

    @property
    def resolved(self) -> tuple[Alert, ...]:
        """The alerts resolved at :attr:`at`."""
        return tuple(a for a in self.alerts if a.resolved(self.at))

    @property
    def status(self) -> Status:
        """``firing`` while any alert fires, ``resolved`` when all are resolved."""
        return "firing" if any(not a.resolved(self.at) for a in self.alerts) else "resolved"

    def common_labels(self) -> dict[str, str]:
        """Labels every alert has with the same value."""
        return common_pairs([a.labels for a in self.alerts])

    def common_annotations(self) -> dict[str, str]:
        """Annotations every alert has with the same value."""
        return common_pairs([a.annotations for a in self.alerts])

    def with_alerts(self, alerts: Sequence[Alert]) -> Notification:
        """A copy carrying other alerts (a subset: truncation, filtering)."""
        return replace(self, alerts=tuple(alerts))

    def only_firing(self) -> Notification:
        """A copy without its resolved alerts: what an integration without
        ``send_resolved`` is told."""
        return self.with_alerts(self.firing)
