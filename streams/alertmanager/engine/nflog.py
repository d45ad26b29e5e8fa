"""The notification log: what each integration of a receiver was last told about a group.

One entry per (group key, receiver, integration) holds the instant of the last delivered
notification and the fingerprints it carried as firing and as resolved. Before a flush sends
anything, :func:`decide` asks the entry whether the receiver needs to hear again, exactly as
Alertmanager's ``DedupStage`` does:

- no entry yet: only if something fires;
- an alert fires that the last notification did not carry as firing: yes;
- nothing fires any more: yes if the last notification carried firing alerts (so receivers
  learn that all is resolved, even those without ``send_resolved``), otherwise no;
- with ``send_resolved``, an alert is resolved that the last notification did not carry as
  resolved: yes;
- otherwise only once ``repeat_interval`` has passed since the last notification (strictly:
  a flush exactly ``repeat_interval`` after it does not repeat; the next one does).

Entries expire ``retention`` after they were written.

Example:
    >>> log = NotificationLog(retention=3600.0)
    >>> decide(None, {"a1"}, set(), send_resolved=True, repeat_interval=60.0, now=0.0)
    'first'
    >>> _ = log.log("g", "team", "webhook[0]", {"a1"}, set(), at=0.0)
    >>> entry = log.query("g", "team", "webhook[0]")
    >>> decide(entry, {"a1"}, set(), send_resolved=True, repeat_interval=60.0, now=60.0) is None
    True
    >>> decide(entry, {"a1"}, set(), send_resolved=True, repeat_interval=60.0, now=61.0)
    'repeat'
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

Reason = Literal["first", "new-firing", "all-resolved", "resolved", "repeat"]
"""Why a receiver needs to hear about a group again."""


@dataclass(frozen=True, slots=True)
class Entry:
    """The last notification delivered to one integration about one group.

    Attributes:
        group_key: the aggregation group.
        receiver: the receiver's name.
        integration: the integration, as ``kind[index]`` (``webhook[0]``).
        timestamp: when it was delivered.
        firing: fingerprints it carried as firing.
        resolved: fingerprints it carried as resolved.
        expires_at: when the entry is forgotten.
    """

    group_key: str
    receiver: str
    integration: str
    timestamp: float
    firing: frozenset[str]
    resolved: frozenset[str]
    expires_at: float

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict."""
        return {
            "group_key": self.group_key,
            "receiver": self.receiver,
            "integration": self.integration,
            "timestamp": self.timestamp,
            "firing": sorted(self.firing),
            "resolved": sorted(self.resolved),
            "expires_at": self.expires_at,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Entry:
        """The entry :meth:`to_dict` wrote."""
        return cls(
            group_key=data["group_key"],
            receiver=data["receiver"],
            integration=data["integration"],
            timestamp=float(data["timestamp"]),
            firing=frozenset(data["firing"]),
            resolved=frozenset(data["resolved"]),
            expires_at=float(data["expires_at"]),
        )


def decide(
    entry: Entry | None,
    firing: set[str] | frozenset[str],
    resolved: set[str] | frozenset[str],
    *,
    send_resolved: bool,
    repeat_interval: float,
    now: float,
) -> Reason | None:
    """Why the integration needs a notification now, or None when it does not.

    Args:
        entry: the integration's last entry for the group, if any.
        firing: fingerprints of the group's alerts firing now (muted ones left out).
        resolved: fingerprints of the group's alerts resolved now (muted ones left out).
        send_resolved: the integration's ``send_resolved``.
        repeat_interval: the route's ``repeat_interval``, in seconds.
        now: the instant of the flush.
    """
    if entry is None:
        return "first" if firing else None
    if not firing <= entry.firing:
        return "new-firing"
    if not firing:
        return "all-resolved" if entry.firing else None
    if send_resolved and not resolved <= entry.resolved:
        return "resolved"
    if entry.timestamp < now - repeat_interval:
        return "repeat"
    return None


class NotificationLog:
    """Entries by group key, then by receiver and integration; bounded by ``retention``.

    Args:
        retention: seconds an entry is kept after it was written (Alertmanager's
            ``--data.retention``, 120 hours by default).
    """

    def __init__(self, retention: float = 432000.0) -> None:
        self.retention = retention
        self._groups: dict[str, dict[tuple[str, str], Entry]] = {}

    def query(self, group_key: str, receiver: str, integration: str) -> Entry | None:
        """The entry for one integration and group, if any."""
        return self._groups.get(group_key, {}).get((receiver, integration))

    def log(
        self,
        group_key: str,
        receiver: str,
        integration: str,
        firing: Iterable[str],
        resolved: Iterable[str],
        at: float,
    ) -> Entry:
        """Record a delivered notification; an entry written later than ``at`` is kept."""
        entries = self._groups.setdefault(group_key, {})
        previous = entries.get((receiver, integration))
        if previous is not None and previous.timestamp > at:
            return previous
        entry = Entry(
            group_key,
            receiver,
            integration,
            at,
            frozenset(firing),
            frozenset(resolved),
            at + self.retention,
        )
        entries[(receiver, integration)] = entry
        return entry

    def entries(self, group_key: str) -> list[Entry]:
        """Every entry of a group."""
        return list(self._groups.get(group_key, {}).values())

    def group_keys(self) -> list[str]:
        """Groups that have entries."""
        return list(self._groups)

    def gc(self, now: float) -> list[str]:
        """Forget entries expired at ``now``; return the group keys that changed."""
        changed = []
        for group_key, entries in list(self._groups.items()):
            live = {k: e for k, e in entries.items() if e.expires_at > now}
            if len(live) != len(entries):
                changed.append(group_key)
                if live:
                    self._groups[group_key] = live
                else:
                    del self._groups[group_key]
        return changed

    def dump(self, group_key: str) -> list[dict[str, Any]]:
        """A group's entries as JSON-able dicts."""
        return [e.to_dict() for e in self._groups.get(group_key, {}).values()]

    def load(self, group_key: str, entries: Iterable[Mapping[str, Any]]) -> None:
        """Replace a group's entries by those :meth:`dump` wrote."""
        loaded = {(e.receiver, e.integration): e for e in map(Entry.from_dict, entries)}
        if loaded:
            self._groups[group_key] = loaded
        else:
            self._groups.pop(group_key, None)
