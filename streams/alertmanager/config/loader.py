"""Load ``alertmanager.yml``: Alertmanager 0.25's file, checked as a whole, with positions.

The file is the one operators already have: ``global``, ``route``, ``receivers``,
``inhibit_rules``, ``time_intervals`` (and the older ``mute_time_intervals``) and
``templates``. Alertmanager's rules hold (a root route with a receiver and no matchers,
unique receiver and interval names, routes using only defined ones...). Whatever pulseline
does not support, such as PagerDuty receivers, is refused, never ignored, and so are
unknown keys. Every problem of the file is reported at once, each as
``file:line:column: where: what``.

Beyond Alertmanager: routes take ``flap_detection`` (see :mod:`.routeconfig`) and receivers
take ``alertmanager_configs`` (see :mod:`.receivers`).

Example:
    >>> config = parse_config('''
    ... route:
    ...   receiver: ops
    ...   group_by: [alertname]
    ...   routes:
    ...     - matchers: ['severity="critical"']
    ...       receiver: pager
    ...       group_wait: 0s
    ... receivers:
    ...   - name: ops
    ...   - name: pager
    ...     webhook_configs: [{url: "http://127.0.0.1:9095/"}]
    ... ''', "am.yml")
    >>> [(r.receiver, r.group_wait) for r in config.route.match({"severity": "critical"})]
    [('pager', 0.0)]
    >>> try:
    ...     parse_config("route: {receiver: nobody}\\n", "am.yml")
    ... except AlertmanagerConfigError as exc:
    ...     print(exc)
    am.yml:1:19: route: undefined receiver 'nobody'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

import yaml

from streams.alertmanager.config.destinations import ResolveSync, resolve_sync
from streams.alertmanager.config.nodes import (
    AlertmanagerConfigError,
    ConfigProblem,
    NodeReader,
)
from streams.alertmanager.config.receiverconfig import GlobalConfig, read_global, read_receiver
from streams.alertmanager.config.receivers import Receiver
from streams.alertmanager.config.route import Route
from streams.alertmanager.config.routeconfig import RouteReader
from streams.alertmanager.config.sections import (
    InhibitRule,
    read_inhibit_rule,
    read_templates,
    read_time_interval,
)
from streams.alertmanager.config.timeintervals import TimeInterval
from streams.alertmanager.templating.templates import Templates
from streams.rules.yamlpos import Node, ScalarNode, compose, is_null

__all__ = [
    "AlertmanagerConfig",
    "AlertmanagerConfigError",
    "GlobalConfig",
    "InhibitRule",
    "check_file",
    "load_config",
    "parse_config",
]

TOP_KEYS = (
    *("global", "route", "receivers", "inhibit_rules"),
    *("time_intervals", "mute_time_intervals", "templates"),
)


@dataclass(frozen=True, slots=True)
class AlertmanagerConfig:
    """A loaded ``alertmanager.yml``.

    Attributes:
        global_: ``resolve_timeout`` and the receivers' defaults.
        route: the root of the routing tree, inherited settings resolved.
        receivers: receivers by name, in file order, ``global`` defaults applied.
        inhibit_rules: the inhibition rules, in file order.
        time_intervals: named time intervals (from both ``time_intervals`` and
            ``mute_time_intervals``), by name.
        templates: the template files the ``templates`` globs match, in order.
        source: where the configuration was read from, as given.
    """

    global_: GlobalConfig
    route: Route
    receivers: Mapping[str, Receiver]
    inhibit_rules: tuple[InhibitRule, ...]
    time_intervals: Mapping[str, TimeInterval]
    templates: tuple[Path, ...]
    source: str


def load_config(path: Path, *, resolve: ResolveSync = resolve_sync) -> AlertmanagerConfig:
    """Load an ``alertmanager.yml``; template globs are relative to its directory.

    ``resolve`` is as for :func:`parse_config`.

    Raises:
        AlertmanagerConfigError: the file cannot be read or has problems (all of them).
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        problem = ConfigProblem(str(path), None, None, f"cannot read: {exc.strerror or exc}")
        raise AlertmanagerConfigError([problem]) from None
    except UnicodeDecodeError as exc:
        problem = ConfigProblem(str(path), None, None, f"not UTF-8 text at byte {exc.start}")
        raise AlertmanagerConfigError([problem]) from None
    return parse_config(text, str(path), base_dir=path.parent, resolve=resolve)


def parse_config(
    text: str,
    source: str,
    *,
    base_dir: Path | None = None,
    resolve: ResolveSync = resolve_sync,
) -> AlertmanagerConfig:
    """Parse the text of an ``alertmanager.yml``.

    Args:
        text: the YAML text.
        source: where it comes from, for messages (a path, or a name).
        base_dir: the directory template globs are relative to; ``source``'s by default.
        resolve: looks up the hosts of receiver URLs, to refuse those on a link-local or
            cloud metadata address (the system resolver by default; a name it cannot
            resolve is not a problem: it is checked again when sending).

    Raises:
        AlertmanagerConfigError: with every problem found, in file order.
    """
    reader = NodeReader(source)
    root = _compose(reader, text)
    reader.fail_if_problems()
    if root is not None:
        reader.refuse_repeated_keys(root)
    fields = reader.fields(root, "the file", TOP_KEYS) if root is not None else {}
    if fields is None:
        reader.fail_if_problems()
    top = fields or {}
    global_ = read_global(reader, top.get("global", _null()))
    receivers, receiver_names = _receivers(reader, top.get("receivers"), global_, resolve)
    intervals = _time_intervals(reader, top)
    routes = RouteReader(reader)
    route = None
    if "route" not in top or is_null(top["route"]):
        reader.problem(top.get("route"), "route: no route given (the root route is required)")
    else:
        route = routes.root(top["route"])
    defined = {"receiver": receiver_names, "time interval": set(intervals)}
    for ref in routes.references:
        if ref.name not in defined[ref.kind]:
            reader.problem(ref.node, f"{ref.what}: undefined {ref.kind} {ref.name!r}")
    rules = [
        read_inhibit_rule(reader, item, f"inhibit_rules[{i}]")
        for i, item in enumerate(reader.items(top.get("inhibit_rules", _null()), "inhibit_rules"))
    ]
    base = Path(source).parent if base_dir is None else base_dir
    templates = read_templates(reader, top["templates"], base) if "templates" in top else ()
    reader.fail_if_problems()
    assert route is not None
    return AlertmanagerConfig(
        global_=global_,
        route=route,
        receivers=MappingProxyType(receivers),
        inhibit_rules=tuple(r for r in rules if r is not None),
        time_intervals=MappingProxyType(intervals),
        templates=templates,
        source=source,
    )


def check_file(path: Path | str) -> str:
    """Check an ``alertmanager.yml`` and its template files; summarize them as ``amtool
    check-config`` does.

    Raises:
        AlertmanagerConfigError: the file has problems; its message lists them all.
        TemplateError: a template file does not parse (the message names it, with the line).
        ConfigError: a template file cannot be read.

    Example:
        >>> print(check_file("deploy/alertmanager.yml"))  # doctest: +ELLIPSIS
        Checking 'deploy/alertmanager.yml'  SUCCESS
        Found:
         - global config
         - route (... routes)
        ...
    """
    config = load_config(Path(path))
    Templates.load(config.templates)
    routes = sum(1 for _ in config.route.walk())
    return "\n".join(
        (
            f"Checking '{path}'  SUCCESS",
            "Found:",
            " - global config",
            f" - route ({routes} routes)",
            f" - {len(config.inhibit_rules)} inhibit rules",
            f" - {len(config.receivers)} receivers",
            f" - {len(config.time_intervals)} time intervals",
            f" - {len(config.templates)} templates",
        )
    )


def _compose(reader: NodeReader, text: str) -> Node | None:
    try:
        return compose(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        context = f"{exc.context}: " if exc.context else ""
        reader.problems.append(
            ConfigProblem(
                reader.source,
                None if mark is None else mark.line + 1,
                None if mark is None else mark.column + 1,
                f"YAML syntax error: {context}{exc.problem}",
            )
        )
    except yaml.YAMLError as exc:
        reader.problem(None, f"YAML syntax error: {exc}")
    return None


def _receivers(
    reader: NodeReader, node: Node | None, global_: GlobalConfig, resolve: ResolveSync
) -> tuple[dict[str, Receiver], set[str]]:
    receivers: dict[str, Receiver] = {}
    names: set[str] = set()
    for i, item in enumerate(reader.items(node or _null(), "receivers")):
        name, receiver = read_receiver(reader, item, f"receivers[{i}]", global_, resolve)
        if name is not None and name in names:
            reader.problem(item, f"receivers[{i}]: receiver name {name!r} is not unique")
        elif name is not None:
            names.add(name)
            if receiver is not None:
                receivers[name] = receiver
    return receivers, names


def _time_intervals(reader: NodeReader, top: dict[str, Node]) -> dict[str, TimeInterval]:
    intervals: dict[str, TimeInterval] = {}
    for key in ("mute_time_intervals", "time_intervals"):
        for i, item in enumerate(reader.items(top.get(key, _null()), key)):
            interval = read_time_interval(reader, item, f"{key}[{i}]")
            if interval is not None and interval.name in intervals:
                reader.problem(item, f"{key}[{i}]: time interval {interval.name!r} is not unique")
            elif interval is not None:
                intervals[interval.name] = interval
    return intervals


def _null() -> Node:
    return ScalarNode("tag:yaml.org,2002:null", "")
