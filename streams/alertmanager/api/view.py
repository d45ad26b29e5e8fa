"""The alerts and silences of the whole cluster, as every worker sees them, for the API.

Each aggregation group is owned by one worker, but any worker answers ``GET /api/v2/alerts``
for all of them. Every worker therefore follows two compacted topics whole and gives their
records to a :class:`ClusterView`:

- the changelog of the dispatch table: one record per group key, whose value is what
  :meth:`~streams.alertmanager.engine.dispatch.Dispatcher.state_of` saved (the groups of that key,
  their notification log entries), a tombstone once they are gone
  (:meth:`ClusterView.apply_group_state`);
- ``alerts.silences``: one record per silence id (:meth:`ClusterView.apply_silence`, see
  :mod:`streams.alertmanager.api.silenceview`).

From them the view keeps an index of the cluster's alerts (an alert may sit in several
groups, one per route it matched; the most recently received copy stands for it) and an
inhibitor fed with those alerts, so that :meth:`ClusterView.muting` gives the dispatchers'
flushes the silences and inhibitions of the whole cluster. The API's queries are answered as
Alertmanager 0.25 answers them. Nothing reads a clock: every query is given ``now``.

Example:
    >>> from streams.alertmanager.config.loader import parse_config
    >>> from streams.alertmanager.engine.dispatch import Dispatcher
    >>> config = parse_config("route: {receiver: ops}\\nreceivers: [{name: ops}]\\n", "am.yml")
    >>> view = ClusterView(config, new_id=iter(["s1"]).__next__)
    >>> owner = Dispatcher()  # the worker that owns the group, anywhere in the cluster
    >>> down = Alert.create({"alertname": "Down"}, starts_at=0.0)
    >>> owner.insert(down, config.route, "{}:{}", (), now=0.0)
    True
    >>> for key, state in owner.changes().items():
    ...     view.apply_group_state(key, state)
    >>> [(a["labels"], a["status"]["state"]) for a in view.alerts([], {}, "", now=10.0)]
    [({'alertname': 'Down'}, 'active')]
    >>> body = b'''{"matchers": [{"name": "alertname", "value": "Down", "isRegex": false}],
    ...   "startsAt": "1970-01-01T00:00:00Z", "endsAt": "1970-01-01T01:00:00Z",
    ...   "createdBy": "ops", "comment": "known"}'''
    >>> for key, value in view.prepare_silence(body, now=10.0):
    ...     view.apply_silence(key.encode(), value)
    >>> [a["status"]["silencedBy"] for a in view.alerts([], {}, "", now=20.0)]
    [['s1']]
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import cmp_to_key
from typing import Any

from streams.alertmanager.api.groupindex import GroupIndex
from streams.alertmanager.api.query import AlertQuery, AlertStatus
from streams.alertmanager.api.silenceview import Record, SilenceBook
from streams.alertmanager.api.status import api_status
from streams.alertmanager.config.loader import AlertmanagerConfig
from streams.alertmanager.config.route import group_key
from streams.alertmanager.engine.explain import explain
from streams.alertmanager.engine.group import AggregationGroup
from streams.alertmanager.engine.muting import Muting
from streams.alertmanager.engine.store import labels_before, sort_alerts
from streams.alertmanager.model import Alert
from streams.alertmanager.wire import gettable

__all__ = ["ClusterView", "SavedState"]

SavedState = tuple[str, Mapping[str, Any]]
"""A group key and the state saved under it."""


class ClusterView:
    """The cluster's aggregation groups, alerts and silences, and the API's answers.

    Args:
        config: the configuration in force (routes, receivers, inhibit rules).
        new_id: makes the id of a new silence (a random UUID by default).
    """

    def __init__(
        self,
        config: AlertmanagerConfig,
        *,
        new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
    ) -> None:
        self.config = config
        self.index = GroupIndex(config.inhibit_rules)
        self.silence_book = SilenceBook(new_id=new_id)

    def configure(self, config: AlertmanagerConfig) -> None:
        """Take a reloaded configuration: its routes, receivers and inhibit rules."""
        self.config = config
        self.index.reconfigure(config.inhibit_rules)

    # -- following the topics ------------------------------------------------------------

    def apply_group_state(self, group_key: str, state: Mapping[str, Any] | None) -> None:
        """Take a dispatch changelog record (None: the group key was deleted).

        Raises:
            RecordDecodeError: the value is not a saved dispatch state (nothing changes).
        """
        self.index.apply(group_key, state)

    def take_over(self, owns: Callable[[str], bool], states: Iterable[SavedState]) -> None:
        """Take the saved states of the group keys ``owns`` selects, as a new owner reads them.

        A worker that takes over a partition applies its own writes to the view as it makes
        them, and no longer follows the changelog records of that partition; the view is
        first made to hold exactly the partition's table: each key's state is put back, and
        the keys held and absent from the table are forgotten (their tombstones may not
        have been followed yet).
        """
        taken = dict(states)
        for key in sorted(k for k in self.index.group_keys() if owns(k) and k not in taken):
            self.index.apply(key, None)
        for key, state in taken.items():
            self.index.apply(key, state)

    def apply_silence(self, key: bytes | None, value: bytes | None) -> None:
        """Take an ``alerts.silences`` record (value None: the silence was deleted).

        Raises:
            RecordDecodeError: the value is not a silence, or not the one its key names.
        """
        self.silence_book.apply(key, value)

    # -- reading -------------------------------------------------------------------------

    def muting(self) -> Muting:
        """The silences and the inhibitor of the cluster, for the dispatchers' flushes."""
        return Muting(silences=self.silence_book.store, inhibitor=self.index.inhibitor)

    def receivers(self) -> list[str]:
        """The configured receivers' names, in file order (``GET /api/v2/receivers``)."""
        return list(self.config.receivers)

    def status(self, config_text: str, now: float, started_at: float) -> dict[str, Any]:
        """``GET /api/v2/status`` (see :mod:`streams.alertmanager.api.status`); ``now`` is not
        part of the answer, whose ``uptime`` is the start instant, as Alertmanager's is."""
        return api_status(config_text, started_at)

    # -- alerts ----------------------------------------------------------------------------

    def alerts(
        self, filters: Sequence[str], flags: Mapping[str, bool], receiver: str, now: float
    ) -> list[dict[str, Any]]:
        """``GET /api/v2/alerts``: the cluster's alerts the query lists, by fingerprint.

        Each alert's receivers are those its labels route to in the configuration in force,
        in route order, as Alertmanager lists them.

        Raises:
            ApiError: a filter or the receiver expression is invalid.
        """
        query = AlertQuery.parse(filters, flags, receiver)
        muting = self.muting()
        out = []
        for alert in sorted(self.index.alerts(), key=lambda a: a.fingerprint):
            receivers = [r.receiver for r in self.config.route.match(alert.label_map())]
            if not query.any_receiver(receivers):
                continue
            status = query.status(alert, now, muting)
            if status is not None:
                out.append(_gettable(alert, receivers, status))
        return out

    def groups(
        self, filters: Sequence[str], flags: Mapping[str, bool], receiver: str, now: float
    ) -> list[dict[str, Any]]:
        """``GET /api/v2/alerts/groups``: the groups with alerts the query lists.

        Groups come by labels (fewer first), then receiver; their alerts in notification
        order. An alert's receivers are those of the listed groups holding it, sorted.

        Raises:
            ApiError: a filter or the receiver expression is invalid.
        """
        query = AlertQuery.parse(filters, flags, receiver)
        muting = self.muting()
        statuses: dict[str, AlertStatus | None] = {}
        found: list[tuple[AggregationGroup, list[Alert]]] = []
        receivers: dict[str, list[str]] = {}
        for group in self.index.groups.values():
            if not query.receiver_matches(group.opts.receiver):
                continue
            listed = []
            for fp, alert in group.alerts.items():
                if fp not in statuses:
                    statuses[fp] = query.status(alert, now, muting)
                if statuses[fp] is not None:
                    listed.append(alert)
                    receivers.setdefault(fp, []).append(group.opts.receiver)
            if listed:
                found.append((group, listed))
        found.sort(key=cmp_to_key(_group_order))
        return [
            {
                "alerts": [
                    _gettable(a, sorted(receivers[a.fingerprint]), statuses[a.fingerprint])
                    for a in sort_alerts(alerts)
                ],
                "labels": dict(group.labels),
                "receiver": {"name": group.opts.receiver},
            }
            for group, alerts in found
        ]

    def why(self, fingerprint: str, now: float) -> dict[str, Any] | None:
        """What ``pulseline alerts why`` prints; None when no group knows the alert.

        The engine's explanation (each group the alert is in or was carried by: what muted
        it at the last flush, pending notifications, the deliveries that carried it; what
        mutes it now) with the alert as the API shows it, the routes its labels match now
        (id, key, receiver and the group key they give), the silences muting it and the
        alerts inhibiting it.
        """
        entry = self.index.get(fingerprint)
        labels = None if entry is None else entry.alert.label_map()
        muting = self.muting()
        found = explain(
            fingerprint, self.index.groups.values(), labels=labels, muting=muting, at=now
        )
        if entry is None and not found.groups:
            return None
        out = found.to_dict()
        if entry is None or labels is None:
            return {**out, "alert": None, "routes": [], "silences": [], "inhibiting": []}
        routes = self.config.route.match(labels)
        status = AlertStatus(tuple(sorted(found.silenced_by)), tuple(sorted(found.inhibited_by)))
        book = self.silence_book
        inhibiting = [self.index.get(fp) for fp in status.inhibited_by]
        return {
            **out,
            "alert": _gettable(entry.alert, [r.receiver for r in routes], status),
            "routes": [
                {
                    "id": r.id,
                    "key": r.key,
                    "receiver": r.receiver,
                    "group_key": group_key(r, r.group_labels(labels)),
                }
                for r in routes
            ],
            "silences": [book.silence(sid, now) for sid in status.silenced_by],
            "inhibiting": [
                {"fingerprint": i.alert.fingerprint, "labels": i.alert.label_map()}
                for i in inhibiting
                if i is not None
            ],
        }

    # -- silences (see streams.alertmanager.api.silenceview) -------------------------------------

    def silences(self, filters: Sequence[str], now: float) -> list[dict[str, Any]]:
        """``GET /api/v2/silences`` (see :meth:`SilenceBook.silences`)."""
        return self.silence_book.silences(filters, now)

    def silence(self, silence_id: str, now: float) -> dict[str, Any] | None:
        """``GET /api/v2/silence/{id}``; None when there is no such silence."""
        return self.silence_book.silence(silence_id, now)

    def prepare_silence(self, body: bytes, now: float) -> list[Record]:
        """The records a ``POST /api/v2/silences`` body makes (see
        :meth:`SilenceBook.prepare_silence`); the last is the silence to answer with."""
        return self.silence_book.prepare_silence(body, now)

    def prepare_expire(self, silence_id: str, now: float) -> list[Record]:
        """The records that expire a silence (see :meth:`SilenceBook.prepare_expire`)."""
        return self.silence_book.prepare_expire(silence_id, now)

    def prepare_expire_resolved(self, now: float) -> list[Record]:
        """The records that expire the ``expireOnResolve`` silences whose muted alerts have
        all resolved, judged on the cluster's alerts."""
        return self.silence_book.prepare_expire_resolved(self.index.alerts(), now)


def _gettable(alert: Alert, receivers: Sequence[str], status: AlertStatus | None) -> dict[str, Any]:
    status = status or AlertStatus()
    return gettable(alert, receivers, status.silenced_by, status.inhibited_by)


def _group_order(
    a: tuple[AggregationGroup, list[Alert]], b: tuple[AggregationGroup, list[Alert]]
) -> int:
    """Alertmanager's order of alert groups: by labels, then by receiver."""
    left, right = a[0], b[0]
    if left.labels == right.labels:
        x, y = left.opts.receiver, right.opts.receiver
        return (x > y) - (x < y)
    if labels_before(left.labels, right.labels):
        return -1
    return 1 if labels_before(right.labels, left.labels) else 0
