"""Reading the ``route`` tree of ``alertmanager.yml`` into resolved :class:`Route` objects.

Alertmanager's rules apply: the root route names a receiver and has no matchers, no
``continue`` and no time intervals; ``group_by`` names valid labels once each, or is
``['...']`` alone; ``group_interval`` and ``repeat_interval`` are not zero. A child takes
from its parent what it does not set: the receiver, ``group_by`` (an empty list counts as
not set, as in Alertmanager), the three timers and ``flap_detection``; time intervals are
not inherited. The names of receivers and time intervals a route uses are returned as
:class:`Reference` values, checked once the whole file is read.

``flap_detection`` is pulseline's own: ``{changes: N, window: DURATION, hold: DURATION}``
(``hold`` defaults to ``window``); ``changes: 0`` turns it off below that route.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal

from streams.alertmanager.config.matchers import (
    LABEL_NAME,
    Matcher,
    MatcherError,
    from_match_maps,
    matchers_string,
    parse_matchers,
    sort_matchers,
)
from streams.alertmanager.config.nodes import NodeReader
from streams.alertmanager.config.route import FlapDetection, Route
from streams.rules.yamlpos import Node, is_null

ROUTE_KEYS = (
    *("receiver", "group_by", "match", "match_re", "matchers", "continue", "routes"),
    *("group_wait", "group_interval", "repeat_interval"),
    *("mute_time_intervals", "active_time_intervals", "flap_detection"),
)
FLAP_KEYS = ("changes", "window", "hold")


@dataclass(frozen=True, slots=True)
class Reference:
    """A name a route uses, to be checked against what the file defines.

    Attributes:
        kind: what the name refers to.
        name: the name as written.
        node: where it is written.
        what: the route's place, for messages (``route.routes[1]``).
    """

    kind: Literal["receiver", "time interval"]
    name: str
    node: Node
    what: str


@dataclass
class RouteReader:
    """Builds the routing tree, recording problems and references in ``reader``."""

    reader: NodeReader
    references: list[Reference] = field(default_factory=list)

    def root(self, node: Node) -> Route | None:
        """The root route from the ``route`` node, with Alertmanager's root checks."""
        what = "route"
        r = self.reader
        fields = r.fields(node, what, ROUTE_KEYS)
        if fields is None:
            return None
        root = self.route(fields, what, Route(receiver=""), None, 0)
        if not root.receiver:
            r.problem(fields.get("receiver", node), f"{what}: the root route must name a receiver")
        if root.matchers:
            at = next(fields[k] for k in ("match", "match_re", "matchers") if k in fields)
            r.problem(at, f"{what}: the root route must not have matchers (it matches all)")
        if root.continue_:
            r.problem(fields["continue"], f"{what}: the root route cannot have continue")
        for key in ("mute_time_intervals", "active_time_intervals"):
            if getattr(root, key):
                r.problem(fields[key], f"{what}: the root route must not have {key}")
        return replace(root, continue_=False)

    def route(
        self, fields: dict[str, Node], what: str, parent: Route, parent_key: str | None, index: int
    ) -> Route:
        """A route from its fields, inheriting from ``parent`` (the defaults for the root)."""
        r = self.reader
        receiver = r.text(fields["receiver"], f"{what}: receiver") if "receiver" in fields else ""
        if receiver:
            self.references.append(Reference("receiver", receiver, fields["receiver"], what))
        matchers = sort_matchers(self.matchers(fields, what))
        key = matchers_string(matchers)
        if parent_key is not None:
            key = f"{parent_key}/{key}"
        mute = self.interval_names(fields, "mute_time_intervals", what)
        active = self.interval_names(fields, "active_time_intervals", what)
        resolved = replace(
            parent,
            receiver=receiver or parent.receiver,
            matchers=matchers,
            continue_=bool(r.boolean(fields["continue"], what)) if "continue" in fields else False,
            mute_time_intervals=mute,
            active_time_intervals=active,
            key=key,
            id=key if parent_key is None else f"{key}/{index}",
            routes=(),
        )
        resolved = replace(
            self.grouping(fields, what, resolved),
            group_wait=self.timer(fields, "group_wait", what, parent.group_wait),
            group_interval=self.timer(fields, "group_interval", what, parent.group_interval),
            repeat_interval=self.timer(fields, "repeat_interval", what, parent.repeat_interval),
        )
        if "flap_detection" in fields:
            flap = self.flap_detection(fields["flap_detection"], f"{what}: flap_detection")
            resolved = replace(resolved, flap_detection=flap)
        children = []
        children_nodes = r.items(fields["routes"], f"{what}: routes") if "routes" in fields else []
        for i, item in enumerate(children_nodes):
            child_what = f"{what}.routes[{i}]"
            if is_null(item):
                r.problem(item, f"{child_what}: empty route (write {{}} for a catch-all)")
                continue
            child_fields = r.fields(item, child_what, ROUTE_KEYS)
            if child_fields is not None:
                children.append(self.route(child_fields, child_what, resolved, key, i))
        return replace(resolved, routes=tuple(children))

    def timer(self, fields: dict[str, Node], name: str, what: str, inherited: float) -> float:
        """A timer of the route, or the inherited value when it does not set it."""
        value = self.reader.duration(fields[name], f"{what}: {name}") if name in fields else None
        if value == 0 and name != "group_wait":
            self.reader.problem(fields[name], f"{what}: {name} cannot be zero")
            return inherited
        return inherited if value is None else value

    def matchers(self, fields: dict[str, Node], what: str) -> list[Matcher]:
        """The route's ``match``, ``match_re`` and ``matchers``, each checked where written."""
        r = self.reader
        out: list[Matcher] = []
        for key in ("match", "match_re"):
            entries = r.text_map(fields[key], f"{what}: {key}") if key in fields else None
            for name, value, at in entries or ():
                if key == "match_re" and is_null(at):
                    r.problem(at, f"{what}: {key}: no regular expression for {name!r}")
                    continue
                try:
                    pair = {name: value}
                    out += from_match_maps(pair) if key == "match" else from_match_maps(None, pair)
                except MatcherError as exc:
                    r.problem(at, f"{what}: {key}: {exc.reason}")
        lines = r.texts(fields["matchers"], f"{what}: matchers") if "matchers" in fields else None
        for line, at in lines or ():
            try:
                out += parse_matchers(line)
            except MatcherError as exc:
                r.problem(at, f"{what}: matchers: {exc.reason}")
        return out

    def grouping(self, fields: dict[str, Node], what: str, route: Route) -> Route:
        """``route`` with the ``group_by`` of ``fields`` applied, if it sets one."""
        r = self.reader
        entries = r.texts(fields["group_by"], f"{what}: group_by") if "group_by" in fields else None
        names: set[str] = set()
        everything = False
        for name, at in entries or ():
            if name == "...":
                everything = True
            elif not LABEL_NAME.match(name):
                r.problem(at, f"{what}: group_by: invalid label name {name!r}")
            elif name in names:
                r.problem(at, f"{what}: group_by: label {name!r} is listed twice")
            else:
                names.add(name)
        if everything and names:
            r.problem(fields["group_by"], f"{what}: group_by: '...' cannot go with other labels")
        if names:
            return replace(route, group_by=frozenset(names), group_by_all=False)
        if everything:
            return replace(route, group_by=frozenset(), group_by_all=True)
        return route

    def interval_names(self, fields: dict[str, Node], key: str, what: str) -> tuple[str, ...]:
        entries = self.reader.texts(fields[key], f"{what}: {key}") if key in fields else None
        for name, at in entries or ():
            self.references.append(Reference("time interval", name, at, what))
        return tuple(name for name, _ in entries or ())

    def flap_detection(self, node: Node, what: str) -> FlapDetection | None:
        r = self.reader
        fields = r.fields(node, what, FLAP_KEYS)
        if not fields:
            if fields is not None:
                r.problem(node, f"{what}: needs changes and window")
            return None
        changes = r.integer(fields["changes"], f"{what}: changes") if "changes" in fields else None
        if changes is None:
            if "changes" not in fields:
                r.problem(node, f"{what}: changes is required (0 turns flap detection off)")
            return None
        if changes < 0:
            r.problem(fields["changes"], f"{what}: changes cannot be negative")
            return None
        if changes == 0:
            return None
        window = r.duration(fields["window"], f"{what}: window") if "window" in fields else None
        if not window:
            r.problem(fields.get("window", node), f"{what}: window must be a duration above 0")
            return None
        hold = r.duration(fields["hold"], f"{what}: hold") if "hold" in fields else None
        return FlapDetection(changes, window, window if hold is None else hold)
