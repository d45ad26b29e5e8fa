"""The query of ``GET /api/v2/alerts`` and ``/alerts/groups``: filters, flags and receiver.

The parameters mean what they mean to Alertmanager 0.25:

- each ``filter`` is *one* matcher (``a=b,c`` is ``a="b,c"``), which the alert's labels
  must satisfy (a missing label is the empty string);
- ``active``, ``silenced`` and ``inhibited`` (true by default) let through, or not, alerts
  that nothing mutes, that a silence mutes, that an inhibition mutes; ``unprocessed`` is
  accepted and changes nothing (every alert the view holds went through the dispatcher);
- ``receiver`` is a regular expression, anchored as a matcher's is, on receiver names;
- alerts that ended before the instant of the query are never listed.

Invalid parameters raise :class:`~streams.alertmanager.wire.ApiError` (400) with
Alertmanager's message where pulseline can give the same one.

Example:
    >>> q = AlertQuery.parse(['severity=~"crit.*"'], {"silenced": False}, receiver="pag.*")
    >>> q.receiver_matches("pager"), q.receiver_matches("ops")
    (True, False)
    >>> alert = Alert.create({"alertname": "Down", "severity": "critical"}, starts_at=0.0)
    >>> q.status(alert, now=10.0, muting=Muting())
    AlertStatus(silenced_by=(), inhibited_by=())
    >>> AlertQuery.parse(["foo"], {}, "")
    Traceback (most recent call last):
    ...
    streams.alertmanager.wire.ApiError: bad matcher format: foo
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from streams.alertmanager.config.matchers import Matcher, MatcherError, compile_regex, parse_matcher
from streams.alertmanager.engine.muting import Muting
from streams.alertmanager.model import Alert
from streams.alertmanager.wire import ApiError

FLAGS = ("active", "silenced", "inhibited", "unprocessed")
"""The boolean parameters of the alert queries (all true when not given)."""


def parse_filter(text: str) -> Matcher:
    """One ``filter`` parameter as a matcher.

    Raises:
        ApiError: it is not a matcher; the message is Alertmanager's for a malformed one.
    """
    try:
        return parse_matcher(text)
    except MatcherError as exc:
        # Alertmanager names the text as given; a regex or quoting problem keeps its reason.
        if exc.reason.startswith("bad matcher format"):
            raise ApiError(f"bad matcher format: {text}") from None
        raise ApiError(exc.reason) from None


@dataclass(frozen=True, slots=True)
class AlertStatus:
    """What mutes an alert at the instant of a query.

    Attributes:
        silenced_by: ids of the active silences that match it, sorted.
        inhibited_by: fingerprints of the firing alerts that inhibit it, sorted.
    """

    silenced_by: tuple[str, ...] = ()
    inhibited_by: tuple[str, ...] = ()

    @property
    def state(self) -> str:
        """``suppressed`` when anything mutes the alert, else ``active``."""
        return "suppressed" if self.silenced_by or self.inhibited_by else "active"


@dataclass(frozen=True, slots=True)
class AlertQuery:
    """The parsed parameters of an alert query.

    Attributes:
        matchers: the filters; an alert must satisfy all of them.
        active: list alerts that nothing mutes.
        silenced: list alerts a silence mutes.
        inhibited: list alerts an inhibition mutes.
        receiver: the compiled receiver expression, or None for every receiver.
    """

    matchers: tuple[Matcher, ...] = ()
    active: bool = True
    silenced: bool = True
    inhibited: bool = True
    receiver: Any = None

    @classmethod
    def parse(cls, filters: Sequence[str], flags: Mapping[str, bool], receiver: str) -> AlertQuery:
        """The query of the API's parameters (an empty ``receiver``: every receiver).

        Raises:
            ApiError: a filter or the receiver expression is invalid.
        """
        matchers = tuple(parse_filter(text) for text in filters)
        regex = None
        if receiver:
            try:
                regex = compile_regex(receiver)
            except MatcherError as exc:
                raise ApiError(f"failed to parse receiver param: {exc.reason}") from None
        return cls(
            matchers,
            active=flags.get("active", True),
            silenced=flags.get("silenced", True),
            inhibited=flags.get("inhibited", True),
            receiver=regex,
        )

    def receiver_matches(self, name: str) -> bool:
        """Whether a receiver name passes the ``receiver`` parameter."""
        return self.receiver is None or self.receiver.match(name) is not None

    def any_receiver(self, names: Iterable[str]) -> bool:
        """Whether one of an alert's receivers passes (Alertmanager's ``/alerts`` rule)."""
        return self.receiver is None or any(self.receiver_matches(n) for n in names)

    def status(self, alert: Alert, now: float, muting: Muting) -> AlertStatus | None:
        """The alert's status at ``now`` if the query lists it, else None.

        An alert that ended before ``now`` is not listed (one ending at ``now`` still is, as
        in Alertmanager).
        """
        if alert.ends_at is not None and alert.ends_at < now:
            return None
        labels = alert.label_map()
        if not all(m.matches(labels) for m in self.matchers):
            return None
        status = AlertStatus(
            tuple(sorted(muting.silences.mutes(labels, now))),
            tuple(sorted(muting.inhibitor.mutes(labels, now))),
        )
        if not self.active and status.state == "active":
            return None
        if not self.silenced and status.silenced_by:
            return None
        if not self.inhibited and status.inhibited_by:
            return None
        return status
