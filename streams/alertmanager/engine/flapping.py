"""Flap damping: an alert that keeps changing state is held firing until it calms down.

A route with ``flap_detection`` (``changes: N``, ``window: W``, ``hold: H``) counts, per
alert, the changes between firing and resolved. When more than ``N`` fall within ``W``, the
alert is *flapping*: notifications show it firing (with a ``flapping="true"`` annotation)
whatever it does, so on-call engineers get neither a resolve nor a re-fire for each bounce.
Once it has not changed for ``H``, it is presented as it really is again (a resolve, if it
ended, is then notified once).

This is a pulseline extension; Alertmanager has no such setting.

Example:
    >>> flap = FlapState.start("firing", at=0.0)
    >>> settings = FlapSettings(changes=2, window=60.0, hold=120.0)
    >>> for at, state in [(10.0, "resolved"), (20.0, "firing"), (30.0, "resolved")]:
    ...     flap.observe(state, at, settings)
    >>> flap.flapping
    True
    >>> flap.observe("resolved", 149.0, settings); flap.flapping
    True
    >>> flap.observe("resolved", 150.0, settings); flap.flapping
    False
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from streams.alertmanager.model import Status

FLAPPING_ANNOTATION = "flapping"
"""The annotation set to ``"true"`` on alerts presented firing because they flap."""


class FlapDetection(Protocol):
    """A route's ``flap_detection`` settings (seconds)."""

    @property
    def changes(self) -> int:
        """More state changes than this within ``window`` make an alert flap."""
        ...

    @property
    def window(self) -> float:
        """The span over which changes are counted."""
        ...

    @property
    def hold(self) -> float:
        """How long a flapping alert must keep one state to stop flapping."""
        ...


@dataclass(frozen=True, slots=True)
class FlapSettings:
    """A plain :class:`FlapDetection`: ``changes``, ``window`` and ``hold`` (seconds)."""

    changes: int
    window: float
    hold: float

    @classmethod
    def of(cls, settings: FlapDetection) -> FlapSettings:
        """A copy of any object with the three attributes."""
        return cls(int(settings.changes), float(settings.window), float(settings.hold))


@dataclass(slots=True)
class FlapState:
    """One alert's recent state changes and whether it flaps.

    Attributes:
        state: the state last observed.
        last_change: when the state last changed (or was first seen).
        changes: instants of the recent changes, oldest first (at most ``N + 1`` kept).
        flapping: whether the alert is held firing.
    """

    state: Status
    last_change: float
    changes: list[float] = field(default_factory=list)
    flapping: bool = False

    @classmethod
    def start(cls, state: Status, at: float) -> FlapState:
        """The state of an alert first seen at ``at``."""
        return cls(state=state, last_change=at)

    def observe(self, state: Status, at: float, settings: FlapDetection) -> None:
        """Take in the alert's state at ``at``; update the count and the flapping mark."""
        if state != self.state:
            self.state = state
            self.last_change = at
            horizon = at - settings.window
            recent = [t for t in self.changes if t > horizon]
            self.changes = [*recent[max(0, len(recent) - settings.changes) :], at]
            if len(self.changes) > settings.changes:
                self.flapping = True
        elif self.flapping and at - self.last_change >= settings.hold:
            self.flapping = False

    def forgettable(self, at: float, settings: FlapDetection) -> bool:
        """Whether nothing of this state can matter any more at ``at``."""
        return not self.flapping and at - self.last_change > max(settings.window, settings.hold)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict."""
        return {
            "state": self.state,
            "last_change": self.last_change,
            "changes": list(self.changes),
            "flapping": self.flapping,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FlapState:
        """The state :meth:`to_dict` wrote."""
        state: Status = "resolved" if data["state"] == "resolved" else "firing"
        return cls(state, float(data["last_change"]), list(data["changes"]), data["flapping"])
