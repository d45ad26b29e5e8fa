"""The alert manager of one worker, free of Faust: the configuration in force, the way alerts
are routed into groups, the dispatchers of the partitions the worker owns, and the notifiers.

The agents (:mod:`agents.alertmanager`) move records; this module decides:

- :meth:`AlertManager.route` turns an alert into one
  :class:`~streams.alertmanager.engine.intake.Grouped` per aggregation group it belongs to,
  each for the ``alerts.groups`` partition that owns the group;
- :meth:`AlertManager.dispatcher` holds the groups of one partition
  (:class:`~streams.alertmanager.engine.dispatch.Dispatcher`), restored from the table;
- :meth:`AlertManager.notifier` is the notifier of a decided notification's integration,
  and :func:`delivery` the notification as the notifiers take it.

A configuration is loaded whole (:func:`load`) or not at all: a bad file on reload leaves
the one in force.

Example:
    >>> am = AlertManager(load(None))
    >>> [g.group_key for g in am.route(Alert.create({"alertname": "Down"}))]
    ['{}:{}']
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from streams.alertmanager.config.loader import AlertmanagerConfig, load_config, parse_config
from streams.alertmanager.config.receivers import Integration
from streams.alertmanager.config.route import GroupLabels, Route, group_key
from streams.alertmanager.engine.dispatch import Dispatcher
from streams.alertmanager.engine.intake import Grouped
from streams.alertmanager.engine.notification import Notification
from streams.alertmanager.model import Alert
from streams.alertmanager.notify import Notification as Delivery
from streams.alertmanager.notify import Notifier, Services, notifiers_for
from streams.alertmanager.notify.templating import Templating
from streams.alertmanager.templating.templates import Templates, template_data

SavedGroup = tuple[str, Mapping[str, Any]]
"""A group key and what the dispatcher saved under it."""

DEFAULT_CONFIG = "route:\n  receiver: none\nreceivers:\n  - name: none\n"
"""The configuration without a file: every alert is kept and served, nobody is notified."""


@dataclass(frozen=True)
class Loaded:
    """A configuration and everything built from it.

    Attributes:
        config: the parsed file.
        text: the file as read (for ``/api/v2/status``, masked there).
        routes: every route by id.
        integrations: each receiver's integrations, by receiver name.
        templating: the templates of the file (and the defaults).
    """

    config: AlertmanagerConfig
    text: str
    routes: Mapping[str, Route]
    integrations: Mapping[str, tuple[Integration, ...]]
    templating: Templating


def load(path: Path | None) -> Loaded:
    """Load an alertmanager.yml (None: :data:`DEFAULT_CONFIG`) with its templates.

    Raises:
        ConfigError: the file or a template is invalid; the message says where.
    """
    if path is None:
        text, config = DEFAULT_CONFIG, parse_config(DEFAULT_CONFIG, "<default>")
    else:
        config = load_config(path)
        text = path.read_text(encoding="utf-8")
    templates = Templates.load(config.templates)
    return Loaded(
        config=config,
        text=text,
        routes={r.id: r for r in config.route.walk()},
        integrations={name: r.integrations() for name, r in config.receivers.items()},
        templating=Templating(templates, template_data),
    )


def delivery(n: Notification, external_url: str) -> Delivery:
    """A decided notification as the notifiers take it."""
    return Delivery(
        receiver=n.receiver,
        group_key=n.group_key,
        group_labels=n.group_labels,
        alerts=n.alerts,
        idempotency_key=n.key,
        at=n.decided_at,
        external_url=external_url,
    )


class AlertManager:
    """The configuration in force, the partitions' dispatchers, and the notifiers.

    Args:
        loaded: the configuration.
        services: what notifiers talk to the outside with (tests inject fakes); its
            templating is replaced by the configuration's.
        retention: seconds notification log entries are kept.
    """

    def __init__(
        self, loaded: Loaded, services: Services | None = None, retention: float = 432000.0
    ) -> None:
        self._services = services or Services()
        self._retention = retention
        self.dispatchers: dict[int, Dispatcher] = {}
        self.loaded = loaded
        self._notifiers: dict[tuple[str, str], Notifier] = {}
        self.configure(loaded)

    def configure(self, loaded: Loaded) -> list[Alert]:
        """Put a (re)loaded configuration in force.

        Returns:
            The alerts of groups whose route is gone: the caller routes them again.
        """
        self.loaded = loaded
        services = dataclasses.replace(self._services, templating=loaded.templating)
        self._notifiers = {
            (name, n.integration.where): n
            for name, receiver in loaded.config.receivers.items()
            for n in notifiers_for(receiver, services)
        }
        orphans: list[Alert] = []
        for dispatcher in self.dispatchers.values():
            dispatcher.configure(loaded.integrations, loaded.config.time_intervals)
            orphans += dispatcher.reroute(loaded.routes.get)
        return orphans

    def route(self, alert: Alert) -> list[Grouped]:
        """One record per aggregation group ``alert`` belongs to."""
        return self.route_all([alert])

    def route_all(self, alerts: Iterable[Alert]) -> list[Grouped]:
        """One record per aggregation group some of ``alerts`` belong to, with those alerts
        in the order given; groups in the order their first alert came."""
        found: dict[tuple[str, str], tuple[GroupLabels, list[Alert]]] = {}
        for alert in alerts:
            labels = alert.label_map()
            for route in self.loaded.config.route.match(labels):
                group_labels = route.group_labels(labels)
                key = group_key(route, group_labels)
                found.setdefault((key, route.id), (group_labels, []))[1].append(alert)
        return [
            Grouped(key, route_id, group_labels, tuple(members))
            for (key, route_id), (group_labels, members) in found.items()
        ]

    def insert(self, partition: int, grouped: Grouped, now: float) -> bool:
        """Give routed alerts to the dispatcher of ``partition`` (which must exist).

        Each alert goes in at the instant it was received (its ``updated_at``: when the API
        took it, or when the rule was evaluated), not when the owner reads it from Kafka:
        Alertmanager creates a group, and starts its ``group_wait``, as the alert arrives, and
        the way through Kafka must not delay notifications. A receipt later than ``now`` (a
        clock ahead of this one) counts as ``now``.

        Returns:
            False when the group's route is gone with a reload: the caller routes the alerts
            again.
        """
        route = self.loaded.routes.get(grouped.route_id)
        if route is None:
            return False
        dispatcher = self.dispatchers[partition]
        for alert in grouped.alerts:
            received = min(now, alert.updated_at)
            dispatcher.insert(alert, route, grouped.group_key, grouped.group_labels, received)
        return True

    def dispatcher(self, partition: int, saved: Callable[[], Iterable[SavedGroup]]) -> Dispatcher:
        """The dispatcher of ``partition``, restored from ``saved()`` when first asked for."""
        found = self.dispatchers.get(partition)
        if found is None:
            found = Dispatcher(
                self.loaded.integrations,
                time_intervals=self.loaded.config.time_intervals,
                retention=self._retention,
            )
            for key, state in saved():
                found.load(key, state)
            found.changes()  # restored state is not a change
            self.dispatchers[partition] = found
        return found

    def drop(self, partitions: Sequence[int]) -> None:
        """Forget the dispatchers of partitions this worker no longer owns."""
        for p in partitions:
            self.dispatchers.pop(p, None)

    def notifier(self, n: Notification) -> Notifier | None:
        """The notifier of ``n``'s integration (None: the receiver went with a reload)."""
        return self._notifiers.get((n.receiver, n.integration))
