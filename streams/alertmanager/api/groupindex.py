"""The aggregation groups of the whole cluster, and an index of their alerts.

Every worker reads the changelog of the dispatch table whole: one record per group key,
whose value is what :meth:`~streams.alertmanager.engine.dispatch.Dispatcher.state_of` saved (the
groups of that key, one per route that gives it, and their notification log entries), a
tombstone once they are gone. A :class:`GroupIndex` keeps those groups, an index from
fingerprint to alert (an alert sits in one group per route it matched; the most recently
received copy stands for it) and an :class:`~streams.alertmanager.engine.inhibit.Inhibitor` fed
with the cluster's alerts as they come and go, so that inhibition is decided on all of them,
whichever worker owns their groups.

Example:
    >>> from streams.alertmanager.engine.dispatch import Dispatcher
    >>> from streams.alertmanager.engine.simulate import StaticRoute
    >>> owner = Dispatcher()
    >>> down = Alert.create({"alertname": "Down"}, starts_at=0.0)
    >>> for n, receiver in enumerate(["ops", "pager"]):
    ...     route = StaticRoute(receiver, key=f"{{}}/{n}", id=f"{{}}/{n}")
    ...     _ = owner.insert(down, route, route.group_key({}), {}, now=0.0)
    >>> index = GroupIndex(inhibit_rules=[])
    >>> for key, state in owner.changes().items():
    ...     index.apply(key, state)
    >>> found = index.get(down.fingerprint)
    >>> found.groups, found.receivers
    ((('{}/0:{}', '{}/0'), ('{}/1:{}', '{}/1')), ('ops', 'pager'))
    >>> index.apply("{}/0:{}", None)
    >>> index.get(down.fingerprint).receivers
    ('pager',)
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from streams.alertmanager.engine.explain import groups_of
from streams.alertmanager.engine.group import AggregationGroup
from streams.alertmanager.engine.inhibit import Inhibitor, InhibitRule
from streams.alertmanager.engine.nflog import Entry
from streams.alertmanager.model import Alert
from streams.errors import RecordDecodeError

GroupId = tuple[str, str]
"""An aggregation group: its key and its route's id (two routes may give one key)."""


@dataclass(frozen=True, slots=True)
class Indexed:
    """One alert of the cluster.

    Attributes:
        alert: the most recently received copy among the groups holding it.
        groups: the groups holding it, sorted.
        receivers: the receivers of those groups, one per group, sorted.
    """

    alert: Alert
    groups: tuple[GroupId, ...]
    receivers: tuple[str, ...]


def _decode(group_key: str, state: Mapping[str, Any]) -> tuple[list[AggregationGroup], list[Entry]]:
    try:
        return groups_of([state]), [Entry.from_dict(e) for e in state["nflog"]]
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise RecordDecodeError(f"dispatch state of group key {group_key}: {exc!r}") from None


class GroupIndex:
    """The cluster's groups by key and route, their alerts by fingerprint, and an inhibitor.

    Args:
        inhibit_rules: the configuration's inhibit rules.
    """

    def __init__(self, inhibit_rules: Sequence[InhibitRule]) -> None:
        self.groups: dict[GroupId, AggregationGroup] = {}
        self._nflog: dict[str, list[Entry]] = {}
        self._holders: dict[str, set[GroupId]] = {}
        self._index: dict[str, Indexed] = {}
        self.inhibitor = Inhibitor(inhibit_rules)

    def reconfigure(self, inhibit_rules: Sequence[InhibitRule]) -> None:
        """Take a reloaded configuration's inhibit rules (fed with the alerts held)."""
        self.inhibitor = Inhibitor(inhibit_rules)
        self.inhibitor.put_all(self.alerts())

    def apply(self, group_key: str, state: Mapping[str, Any] | None) -> None:
        """Take a dispatch changelog record (None: the group key was deleted).

        Raises:
            RecordDecodeError: the value is not a saved dispatch state (nothing changes).
        """
        groups, entries = ([], []) if state is None else _decode(group_key, state)
        touched: set[str] = set()
        for gid in [gid for gid in self.groups if gid[0] == group_key]:
            gone = self.groups.pop(gid)
            touched.update(gone.alerts)
            for fp in gone.alerts:
                self._holders[fp].discard(gid)
        self._nflog.pop(group_key, None)
        if entries:
            self._nflog[group_key] = entries
        for group in groups:
            gid = (group_key, group.opts.route_id)
            self.groups[gid] = group
            touched.update(group.alerts)
            for fp in group.alerts:
                self._holders.setdefault(fp, set()).add(gid)
        for fp in touched:
            self._reindex(fp)

    def _reindex(self, fp: str) -> None:
        gids = sorted(self._holders.get(fp, ()))
        if not gids:
            self._holders.pop(fp, None)
            self._index.pop(fp, None)
            self.inhibitor.remove(fp)
            return
        groups = [self.groups[gid] for gid in gids]
        latest = max((g.alerts[fp] for g in groups), key=lambda a: a.updated_at)
        receivers = tuple(sorted(g.opts.receiver for g in groups))
        self._index[fp] = Indexed(latest, tuple(gids), receivers)
        self.inhibitor.put(latest)

    def group_keys(self) -> set[str]:
        """The group keys held: those with groups, and those with notification log entries."""
        return {key for key, _ in self.groups} | set(self._nflog)

    def get(self, fingerprint: str) -> Indexed | None:
        """One alert; None when no group holds it."""
        return self._index.get(fingerprint)

    def alerts(self) -> Iterator[Alert]:
        """Every alert some group holds (resolved ones not yet notified included)."""
        return (entry.alert for entry in self._index.values())

    def nflog(self, group_key: str) -> list[Entry]:
        """What each integration was last told about the groups of a key."""
        return list(self._nflog.get(group_key, ()))
