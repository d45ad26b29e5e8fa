"""Why an alert is kept out of a notification: inhibition, time intervals, silences.

A flush passes its alerts through Alertmanager's muting stages, in its order: inhibition,
the route's ``active_time_intervals`` (outside all of them the whole group is muted), its
``mute_time_intervals`` (inside any of them the whole group is muted), then silences. A
:class:`MuteRecord` says which of them muted an alert at a flush; the dispatcher keeps the
records of the last flush so that ``pulseline alerts why`` can tell, and so that an alert a
silence stops muting can be notified at once.

Example:
    >>> class Weekend:
    ...     def contains(self, at): return True
    >>> time_muted(["weekend"], [], {"weekend": Weekend()}, at=0.0)
    ('mute_time_intervals: weekend',)
    >>> time_muted([], ["office"], {"office": Weekend()}, at=0.0)
    ()
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol


class Muter(Protocol):
    """Silences or an inhibitor: what mutes a label set at an instant."""

    def mutes(self, labels: Mapping[str, str], at: float) -> list[str]:
        """Ids of the silences (or fingerprints of the inhibiting alerts) muting ``labels``."""
        ...


class TimeInterval(Protocol):
    """A named ``time_intervals`` entry of the configuration."""

    def contains(self, at: float) -> bool:
        """Whether the instant ``at`` (Unix seconds) falls inside the interval."""
        ...


class NoMuter:
    """A :class:`Muter` that mutes nothing (no silences, no inhibit rules)."""

    def mutes(self, labels: Mapping[str, str], at: float) -> list[str]:
        """Nothing mutes."""
        return []


@dataclass(frozen=True, slots=True)
class Muting:
    """What a flush asks about muting: the silences and the inhibitor in force."""

    silences: Muter = field(default_factory=NoMuter)
    inhibitor: Muter = field(default_factory=NoMuter)


def time_muted(
    mute: Sequence[str],
    active: Sequence[str],
    intervals: Mapping[str, TimeInterval],
    at: float,
) -> tuple[str, ...]:
    """Why a route's notifications are muted at ``at`` by its time intervals (empty: not).

    A name missing from ``intervals`` is skipped: the configuration refuses such names when
    it loads.
    """
    reasons: list[str] = []
    if active and not any(n in intervals and intervals[n].contains(at) for n in active):
        reasons.append("outside active_time_intervals: " + ", ".join(active))
    inside = [n for n in mute if n in intervals and intervals[n].contains(at)]
    if inside:
        reasons.append("mute_time_intervals: " + ", ".join(inside))
    return tuple(reasons)


@dataclass(frozen=True, slots=True)
class MuteRecord:
    """What muted an alert at a flush.

    Attributes:
        at: the instant of the flush.
        inhibited_by: fingerprints of the firing alerts that inhibited it.
        time_muted: reasons the route's time intervals muted the whole group.
        silenced_by: ids of the silences that muted it.
    """

    at: float
    inhibited_by: tuple[str, ...] = ()
    time_muted: tuple[str, ...] = ()
    silenced_by: tuple[str, ...] = ()

    @property
    def muted(self) -> bool:
        """Whether anything muted the alert."""
        return bool(self.inhibited_by or self.time_muted or self.silenced_by)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict."""
        return {
            "at": self.at,
            "inhibited_by": list(self.inhibited_by),
            "time_muted": list(self.time_muted),
            "silenced_by": list(self.silenced_by),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MuteRecord:
        """The record :meth:`to_dict` wrote."""
        return cls(
            float(data["at"]),
            tuple(data["inhibited_by"]),
            tuple(data["time_muted"]),
            tuple(data["silenced_by"]),
        )


def mute_record(
    labels: Mapping[str, str], at: float, muting: Muting, route_muted: tuple[str, ...]
) -> MuteRecord:
    """What mutes one alert at a flush, given what mutes its route's notifications."""
    return MuteRecord(
        at=at,
        inhibited_by=tuple(muting.inhibitor.mutes(labels, at)),
        time_muted=route_muted,
        silenced_by=tuple(muting.silences.mutes(labels, at)),
    )
