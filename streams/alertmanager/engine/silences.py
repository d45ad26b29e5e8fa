"""Silences: matchers and a time range during which matching alerts are not notified.

A silence is *pending* before ``starts_at``, *active* from ``starts_at`` to ``ends_at``
(both included, as in Alertmanager) and *expired* after. :class:`Silences` applies
Alertmanager 0.25's rules for changes: a new silence starting in the past starts now; an
update keeps the silence's id only when it does not rewrite history (same matchers, and for
an active silence the same start, to the second, and an end not in the past; for a pending
one a start not in the past); otherwise the old silence is expired (if it is not already)
and a new one is made with a new id. Expiring an active silence ends it now; a pending one
starts and ends now; an expired one is left as it is.

Beyond Alertmanager, a silence may be made with ``expire_on_resolve``: it expires by itself
once every alert it muted has resolved (see :meth:`Silences.expire_resolved`).

Every change returns the silences it wrote, for the agent to put on the silences topic;
:meth:`Silences.apply` takes them back from there (in every worker).

Example:
    >>> store = Silences(new_id=iter(["s1", "s2"]).__next__)
    >>> draft = Silence("", (Matcher("job", "=", "db"),), starts_at=0.0, ends_at=3600.0,
    ...                 created_by="ops", comment="upgrade")
    >>> [s.id for s in store.set(draft, now=100.0)]
    ['s1']
    >>> store.get("s1").starts_at, store.get("s1").state(100.0)
    (100.0, 'active')
    >>> store.mutes({"job": "db"}, at=200.0), store.mutes({"job": "web"}, at=200.0)
    (['s1'], [])
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal

from streams.alertmanager.config.matchers import LABEL_NAME, Matcher
from streams.alertmanager.model import Alert
from streams.alertmanager.wire import ApiError
from streams.promql.gofmt import go_quote

SilenceState = Literal["pending", "active", "expired"]
"""Where a silence stands at an instant."""


class SilenceError(ApiError):
    """A silence cannot be made or changed; the message is Alertmanager's."""


class SilenceNotFoundError(SilenceError):
    """No silence has the id asked for."""

    def __init__(self, silence_id: str) -> None:
        super().__init__("silence not found", status=404)
        self.silence_id = silence_id


@dataclass(frozen=True, slots=True)
class Silence:
    """One silence.

    Attributes:
        id: a UUID; empty in a draft not yet set.
        matchers: what an alert's labels must all satisfy to be muted.
        starts_at: when it starts muting.
        ends_at: when it stops (still muting at that very instant).
        created_by: who made it.
        comment: why.
        updated_at: when it was last written.
        expire_on_resolve: expire once every alert it muted has resolved (pulseline).
    """

    id: str
    matchers: tuple[Matcher, ...]
    starts_at: float
    ends_at: float
    created_by: str = ""
    comment: str = ""
    updated_at: float = 0.0
    expire_on_resolve: bool = False

    def state(self, at: float) -> SilenceState:
        """``pending``, ``active`` or ``expired`` at ``at``."""
        if at < self.starts_at:
            return "pending"
        if at > self.ends_at:
            return "expired"
        return "active"

    def matches(self, labels: Mapping[str, str]) -> bool:
        """Whether every matcher is satisfied by ``labels``."""
        return all(m.matches(labels) for m in self.matchers)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict (the value of a silences topic record)."""
        return {
            "id": self.id,
            "matchers": [[m.name, m.op, m.value] for m in self.matchers],
            "starts_at": self.starts_at,
            "ends_at": self.ends_at,
            "created_by": self.created_by,
            "comment": self.comment,
            "updated_at": self.updated_at,
            "expire_on_resolve": self.expire_on_resolve,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Silence:
        """The silence :meth:`to_dict` wrote."""
        return cls(
            id=data["id"],
            matchers=tuple(Matcher(n, op, v) for n, op, v in data["matchers"]),
            starts_at=float(data["starts_at"]),
            ends_at=float(data["ends_at"]),
            created_by=data["created_by"],
            comment=data["comment"],
            updated_at=float(data["updated_at"]),
            expire_on_resolve=bool(data.get("expire_on_resolve", False)),
        )


def _matches_empty(m: Matcher) -> bool:
    """Alertmanager's ``matchesEmpty``: only ``=`` and ``=~`` matchers are considered."""
    return m.op in ("=", "=~") and m.matches_value("")


def validate(silence: Silence) -> None:
    """Refuse a silence Alertmanager's ``validateSilence`` refuses.

    Raises:
        SilenceError: with Alertmanager's message.
    """
    if not silence.matchers:
        raise SilenceError("silence invalid: at least one matcher required")
    for index, m in enumerate(silence.matchers):
        if not LABEL_NAME.match(m.name):
            name = go_quote(m.name)
            raise SilenceError(
                f"silence invalid: invalid label matcher {index}: invalid label name {name}"
            )
    if all(_matches_empty(m) for m in silence.matchers):
        raise SilenceError("silence invalid: at least one matcher must not match the empty string")
    if silence.ends_at < silence.starts_at:
        raise SilenceError("silence invalid: end time must not be before start time")


def _can_update(old: Silence, new: Silence, now: float) -> bool:
    """Whether ``old`` may become ``new`` without rewriting what it muted."""
    if old.matchers != new.matchers:
        return False
    state = old.state(now)
    if state == "active":
        return math.floor(old.starts_at) == math.floor(new.starts_at) and new.ends_at >= now
    if state == "pending":
        return new.starts_at >= now
    return False


class Silences:
    """Every silence, by id, with Alertmanager's rules for changing them.

    Args:
        retention: seconds an expired silence is kept after its end.
        new_id: makes the id of a new silence (a random UUID by default).
    """

    def __init__(
        self,
        *,
        retention: float = 432000.0,
        new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
    ) -> None:
        self.retention = retention
        self.new_id = new_id
        self._by_id: dict[str, Silence] = {}

    def apply(self, silence_id: str, silence: Silence | None) -> None:
        """Take in a silence read from the topic (None: it was deleted)."""
        if silence is None:
            self._by_id.pop(silence_id, None)
        else:
            self._by_id[silence_id] = silence

    def get(self, silence_id: str) -> Silence:
        """The silence with this id.

        Raises:
            SilenceNotFoundError: there is none.
        """
        try:
            return self._by_id[silence_id]
        except KeyError:
            raise SilenceNotFoundError(silence_id) from None

    def all(self) -> list[Silence]:
        """Every silence kept, in no particular order."""
        return list(self._by_id.values())

    def set(self, draft: Silence, now: float) -> list[Silence]:
        """Make or update a silence; return what was written (the new or updated one last).

        Raises:
            SilenceNotFoundError: the draft has an id that no silence has.
            SilenceError: the silence is invalid (nothing is changed then).
        """
        previous = self.get(draft.id) if draft.id else None
        if previous is not None and _can_update(previous, draft, now):
            updated = replace(draft, updated_at=now)
            validate(updated)
            return [self._write(updated)]
        fresh = replace(draft, id=self.new_id(), updated_at=now)
        if fresh.starts_at < now:
            fresh = replace(fresh, starts_at=now)
        validate(fresh)
        written = []
        if previous is not None and previous.state(now) != "expired":
            written = self.expire(previous.id, now)
        return [*written, self._write(fresh)]

    def expire(self, silence_id: str, now: float) -> list[Silence]:
        """End a silence now; return what was written (nothing if it had expired already).

        Raises:
            SilenceNotFoundError: there is no such silence.
        """
        silence = self.get(silence_id)
        state = silence.state(now)
        if state == "expired":
            return []
        starts_at = now if state == "pending" else silence.starts_at
        return [self._write(replace(silence, starts_at=starts_at, ends_at=now, updated_at=now))]

    def _write(self, silence: Silence) -> Silence:
        self._by_id[silence.id] = silence
        return silence

    def mutes(self, labels: Mapping[str, str], at: float) -> list[str]:
        """Ids of the silences active at ``at`` that match ``labels`` (sorted)."""
        return sorted(
            s.id for s in self._by_id.values() if s.state(at) == "active" and s.matches(labels)
        )

    def ended_between(self, since: float, until: float) -> list[str]:
        """Ids of the silences whose end fell in ``(since, until]`` (for the dispatcher's
        :meth:`~streams.alertmanager.engine.dispatch.Dispatcher.silences_ended`)."""
        return sorted(s.id for s in self._by_id.values() if since < s.ends_at <= until)

    def expire_resolved(self, alerts: Iterable[Alert], now: float) -> list[Silence]:
        """Expire the ``expire_on_resolve`` silences all of whose muted alerts resolved.

        Args:
            alerts: every alert known, the resolved ones still kept included.
            now: the current instant.

        Returns:
            What was written. A silence counts as having muted an alert that matches it and
            was firing at some instant while the silence was active; one that muted nothing
            yet stays.
        """
        candidates = [
            s for s in self._by_id.values() if s.expire_on_resolve and s.state(now) == "active"
        ]
        if not candidates:
            return []  # the usual case, checked at every tick: the alerts are not looked at
        known = [(a, a.label_map()) for a in alerts]
        written: list[Silence] = []
        for s in candidates:
            muted = [
                a
                for a, labels in known
                if a.starts_at <= now
                and (a.ends_at is None or a.ends_at >= s.starts_at)
                and s.matches(labels)
            ]
            if muted and all(a.resolved(now) for a in muted):
                written.extend(self.expire(s.id, now))
        return written

    def gc(self, now: float) -> list[str]:
        """Forget silences expired more than ``retention`` ago; return their ids."""
        gone = [s.id for s in self._by_id.values() if s.ends_at + self.retention < now]
        for silence_id in gone:
            del self._by_id[silence_id]
        return gone
