"""The routing tree: which routes, receivers and groups an alert goes to.

Routes are resolved when the configuration loads: each :class:`Route` carries the settings
it inherits from its parents (receiver, ``group_by``, timers, ``flap_detection``), so
matching needs no walk back up the tree. Matching is Alertmanager's: depth first, children
left to right; the first matching child wins unless it has ``continue``; a route none of whose
children match is itself the match.

Alerts are grouped per matched route by the values of the route's ``group_by`` labels (every
label with ``group_by: ['...']``). :func:`group_key` names a group as Alertmanager does, and
webhook payloads carry it as ``groupKey``.

Example:
    >>> from streams.alertmanager.config.matchers import parse_matchers
    >>> leaf = Route(receiver="db", matchers=parse_matchers("team=db"),
    ...              group_by=frozenset({"alertname"}), key='{}/{team="db"}', id='{}/{team="db"}/0')
    >>> root = Route(receiver="default", routes=(leaf,))
    >>> [r.receiver for r in root.match({"team": "db", "alertname": "Down"})]
    ['db']
    >>> [r.receiver for r in root.match({"team": "web"})]
    ['default']
    >>> group_key(leaf, leaf.group_labels({"team": "db", "alertname": "Down"}))
    '{}/{team="db"}:{alertname="Down"}'
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from streams.alertmanager.config.matchers import Matcher, all_match
from streams.promql.gofmt import go_quote

DEFAULT_GROUP_WAIT = 30.0
DEFAULT_GROUP_INTERVAL = 300.0
DEFAULT_REPEAT_INTERVAL = 4 * 3600.0

GroupLabels = tuple[tuple[str, str], ...]
"""The labels an alert is grouped by, as sorted ``(name, value)`` pairs."""


@dataclass(frozen=True, slots=True)
class FlapDetection:
    """Flap damping of a route (pulseline's own setting, inherited by child routes).

    An alert that changes state more than ``changes`` times within ``window`` seconds stays
    firing, marked flapping, until it has been stable for ``hold`` seconds.

    Attributes:
        changes: state changes allowed within the window.
        window: seconds over which changes are counted.
        hold: seconds of stability that end flapping.
    """

    changes: int
    window: float
    hold: float


@dataclass(frozen=True, slots=True, eq=False)
class Route:
    """One node of the routing tree, with its inherited settings resolved.

    Attributes:
        receiver: the receiver notified for alerts this route matches.
        matchers: what an alert's labels must satisfy, in Alertmanager's order.
        group_by: label names alerts are grouped by.
        group_by_all: group by every label (``group_by: ['...']``).
        group_wait: seconds to wait before a new group's first notification.
        group_interval: seconds between notifications of a group that changed.
        repeat_interval: seconds before an unchanged group is notified again.
        continue_: whether matching goes on to the next sibling after this route matched.
        mute_time_intervals: names of intervals in which notifications are muted.
        active_time_intervals: names of intervals outside which notifications are muted
            (empty: always active).
        routes: the child routes.
        flap_detection: flap damping, or None.
        key: Alertmanager's ``Route.Key()``: the matchers of the path from the root.
        id: Alertmanager's ``Route.ID()``: the key and the route's position among siblings.
    """

    receiver: str
    matchers: tuple[Matcher, ...] = ()
    group_by: frozenset[str] = frozenset()
    group_by_all: bool = False
    group_wait: float = DEFAULT_GROUP_WAIT
    group_interval: float = DEFAULT_GROUP_INTERVAL
    repeat_interval: float = DEFAULT_REPEAT_INTERVAL
    continue_: bool = False
    mute_time_intervals: tuple[str, ...] = ()
    active_time_intervals: tuple[str, ...] = ()
    routes: tuple[Route, ...] = ()
    flap_detection: FlapDetection | None = None
    key: str = "{}"
    id: str = "{}"

    def match(self, labels: Mapping[str, str]) -> list[Route]:
        """The routes an alert with these labels goes to, in Alertmanager's order.

        Empty when this route's own matchers do not match (never for the root, which has
        none).
        """
        if not all_match(self.matchers, labels):
            return []
        found: list[Route] = []
        for child in self.routes:
            matched = child.match(labels)
            found.extend(matched)
            if matched and not child.continue_:
                break
        return found or [self]

    def group_labels(self, labels: Mapping[str, str]) -> GroupLabels:
        """The labels an alert is grouped by on this route: those of ``group_by`` it has,
        or all of them with ``group_by: ['...']``."""
        if self.group_by_all:
            return tuple(sorted(labels.items()))
        return tuple(sorted((k, v) for k, v in labels.items() if k in self.group_by))

    def walk(self) -> Iterator[Route]:
        """This route and all below it, depth first."""
        yield self
        for child in self.routes:
            yield from child.walk()


def group_key(route: Route, group_labels: GroupLabels) -> str:
    """An aggregation group's key as Alertmanager forms it: route key, ``:``, label set.

    The label set is printed as Go's ``model.LabelSet.String()``: ``name="value"`` pairs with
    Go's quoting, sorted as strings (so ``a0="..."`` comes before ``a="..."``).

    >>> group_key(Route(receiver="r"), (("a", "x"), ("a0", "y\\n")))
    '{}:{a0="y\\\\n", a="x"}'
    """
    pairs = sorted(f"{name}={go_quote(value)}" for name, value in group_labels)
    return f"{route.key}:{{{', '.join(pairs)}}}"
