"""The options of a route that an aggregation group runs by.

The dispatcher needs a few attributes of a configured route (any object with them will do:
the configuration's ``Route``, or a test's stand-in); a group keeps a copy of them,
:class:`RouteOpts`, so that it can be saved with the group and outlive a reload.

Example:
    >>> opts = RouteOpts("0", "{}", "team", group_wait=30.0, group_interval=300.0,
    ...                  repeat_interval=3600.0)
    >>> RouteOpts.from_dict(opts.to_dict()) == opts
    True
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from streams.alertmanager.engine.flapping import FlapDetection, FlapSettings


class Route(Protocol):
    """What the dispatcher needs of a route of the configuration (durations in seconds)."""

    @property
    def id(self) -> str: ...
    @property
    def key(self) -> str: ...
    @property
    def receiver(self) -> str: ...
    @property
    def group_wait(self) -> float: ...
    @property
    def group_interval(self) -> float: ...
    @property
    def repeat_interval(self) -> float: ...
    @property
    def mute_time_intervals(self) -> Sequence[str]: ...
    @property
    def active_time_intervals(self) -> Sequence[str]: ...
    @property
    def flap_detection(self) -> FlapDetection | None: ...


@dataclass(frozen=True, slots=True)
class RouteOpts:
    """The options of a route a group runs by, copied so that the group can be saved."""

    route_id: str
    route_key: str
    receiver: str
    group_wait: float
    group_interval: float
    repeat_interval: float
    mute_time_intervals: tuple[str, ...] = ()
    active_time_intervals: tuple[str, ...] = ()
    flap: FlapSettings | None = None

    @classmethod
    def of(cls, route: Route) -> RouteOpts:
        """The options of ``route``."""
        flap = route.flap_detection
        return cls(
            str(route.id),
            str(route.key),
            route.receiver,
            float(route.group_wait),
            float(route.group_interval),
            float(route.repeat_interval),
            tuple(route.mute_time_intervals),
            tuple(route.active_time_intervals),
            None if flap is None else FlapSettings.of(flap),
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict."""
        flap = self.flap
        return {
            "route_id": self.route_id,
            "route_key": self.route_key,
            "receiver": self.receiver,
            "timers": [self.group_wait, self.group_interval, self.repeat_interval],
            "mute_time_intervals": list(self.mute_time_intervals),
            "active_time_intervals": list(self.active_time_intervals),
            "flap": None if flap is None else [flap.changes, flap.window, flap.hold],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RouteOpts:
        """The options :meth:`to_dict` wrote."""
        wait, interval, repeat = data["timers"]
        flap = data["flap"]
        return cls(
            data["route_id"],
            data["route_key"],
            data["receiver"],
            wait,
            interval,
            repeat,
            tuple(data["mute_time_intervals"]),
            tuple(data["active_time_intervals"]),
            None if flap is None else FlapSettings(int(flap[0]), flap[1], flap[2]),
        )
