"""A test kit for the alert manager: a dispatcher driven on a simulated clock.

:class:`Timeline` feeds alerts to a :class:`~streams.alertmanager.engine.dispatch.Dispatcher` at
chosen instants, asks it what is due at every tick, delivers what it decides (or not, to
play a receiver that is down) and keeps what was sent. :class:`StaticRoute` stands in for a
configured route, :func:`webhook` for a receiver's integration. Timelines written with it
read like the hand-worked ones of Alertmanager's behaviour.

Example:
    >>> route = StaticRoute("team", group_wait=1.0, group_interval=2.0, repeat_interval=4.0)
    >>> t = Timeline(Dispatcher({"team": [webhook("team")]}))
    >>> t.insert(Alert.create({"alertname": "Down"}, starts_at=0.0, ends_at=None), route)
    >>> t.advance(14.0)
    >>> [(s.at, s.status, s.reason) for s in t.sent]
    [(1.0, 'firing', 'first'), (7.0, 'firing', 'repeat'), (13.0, 'firing', 'repeat')]
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from streams.alertmanager.config.receivers import Integration, WebhookConfig
from streams.alertmanager.engine.dispatch import Dispatcher
from streams.alertmanager.engine.flapping import FlapSettings
from streams.alertmanager.engine.muting import Muting
from streams.alertmanager.engine.notification import Notification
from streams.alertmanager.model import Alert, Status


def webhook(receiver: str, *, send_resolved: bool = True, index: int = 0) -> Integration:
    """A webhook integration of ``receiver`` (its URL is never called)."""
    config = WebhookConfig(
        url=f"http://127.0.0.1:9/{receiver}/{index}", send_resolved=send_resolved
    )
    return Integration(receiver, "webhook", index, config)


@dataclass(frozen=True, slots=True)
class StaticRoute:
    """A route with fixed options: what the dispatcher reads of a configured route."""

    receiver: str
    group_wait: float = 30.0
    group_interval: float = 300.0
    repeat_interval: float = 14400.0
    group_by: tuple[str, ...] = ("alertname",)
    mute_time_intervals: tuple[str, ...] = ()
    active_time_intervals: tuple[str, ...] = ()
    flap_detection: FlapSettings | None = None
    key: str = "{}"
    id: str = "{}"

    def group_labels(self, labels: Mapping[str, str]) -> dict[str, str]:
        """The alert's values of ``group_by``."""
        return {n: labels[n] for n in self.group_by if labels.get(n, "")}

    def group_key(self, labels: Mapping[str, str]) -> str:
        """The group key, written as Alertmanager writes it."""
        pairs = ", ".join(sorted(f'{n}="{v}"' for n, v in self.group_labels(labels).items()))
        return f"{self.key}:{{{pairs}}}"


@dataclass(frozen=True, slots=True)
class Sent:
    """A notification as the simulated receiver got it."""

    at: float
    receiver: str
    integration: str
    group_key: str
    status: Status
    reason: str
    key: str
    alerts: tuple[tuple[str, Status], ...]
    notification: Notification

    @classmethod
    def of(cls, n: Notification, at: float) -> Sent:
        """What the receiver of ``n`` sees at ``at`` (alerts by fingerprint and status)."""
        alerts = tuple((a.fingerprint, a.status(n.decided_at)) for a in n.alerts)
        return cls(at, n.receiver, n.integration, n.group_key, n.status, n.reason, n.key, alerts, n)


@dataclass
class Timeline:
    """A dispatcher on a simulated clock that starts at 0.

    Attributes:
        dispatcher: the dispatcher driven.
        tick: seconds between two questions to :meth:`Dispatcher.due`.
        muting: the silences and inhibitor in force.
        deliver: whether decided notifications reach their receiver (at once).
        now: the simulated instant.
        sent: every notification delivered, in order.
    """

    dispatcher: Dispatcher
    tick: float = 0.5
    muting: Muting = field(default_factory=Muting)
    deliver: bool = True
    now: float = 0.0
    sent: list[Sent] = field(default_factory=list)

    def insert(self, alert: Alert, route: StaticRoute) -> None:
        """Give the dispatcher ``alert`` now, in the group ``route`` puts it in."""
        labels = alert.label_map()
        self.dispatcher.insert(
            alert, route, route.group_key(labels), route.group_labels(labels), self.now
        )

    def advance(self, to: float) -> None:
        """Tick until ``to``, flushing what is due and delivering it if :attr:`deliver`."""
        start, steps = self.now, round((to - self.now) / self.tick)
        for step in range(1, steps + 1):
            self.now = start + step * self.tick
            self.run_due()

    def run_due(self) -> list[Notification]:
        """Ask what is due now; deliver it if :attr:`deliver`; return it."""
        decided = self.dispatcher.due(self.now, self.muting)
        if self.deliver:
            self.deliver_pending()
        return decided

    def deliver_pending(self) -> None:
        """Deliver every pending notification now."""
        for n in self.dispatcher.pending():
            self.dispatcher.delivered(n.key, self.now)
            self.sent.append(Sent.of(n, self.now))
