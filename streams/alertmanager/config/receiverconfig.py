"""Reading ``global`` and ``receivers`` through the receiver models, with positions.

The models of :mod:`streams.alertmanager.config.receivers` validate the integrations; this module
feeds them the YAML nodes' values and turns a :class:`pydantic.ValidationError` into problems
at the line and column of the offending key or value. Receiver kinds and ``global`` keys
that Alertmanager has and pulseline does not (PagerDuty, Opsgenie...) are refused by name.

A receiver whose URL is, or resolves to, a link-local or cloud metadata address is refused
at its integration's line unless its ``http_config`` has ``allow_link_local: true`` (see
:mod:`streams.alertmanager.config.destinations`; a name that does not resolve yet is let
through and checked again when sending).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import yaml
from pydantic import ValidationError

from streams.alertmanager.config.destinations import ResolveSync, check_receiver, resolve_sync
from streams.alertmanager.config.nodes import NodeReader
from streams.alertmanager.config.receivers import KINDS, GlobalDefaults, Receiver, with_globals
from streams.errors import ConfigError
from streams.rules.yamlpos import MappingNode, Node, ScalarNode, SequenceNode

RECEIVER_KEYS = ("name", *(f"{kind}_configs" for kind in KINDS))
_SUPPORTED = ", ".join(RECEIVER_KEYS[1:])
REFUSED_RECEIVER_KEYS: Mapping[str, str] = {
    f"{kind}_configs": f" (receivers may have {_SUPPORTED})"
    for kind in (
        *("pagerduty", "opsgenie", "pushover", "victorops", "wechat", "sns", "telegram"),
        *("webex", "discord", "msteams"),
    )
}
GLOBAL_KEYS = ("resolve_timeout", *GlobalDefaults.model_fields)
_GLOBAL_REFUSED = (
    *("smtp_auth_password_file", "slack_api_url_file", "pagerduty_url"),
    *("opsgenie_api_url", "opsgenie_api_key", "opsgenie_api_key_file"),
    *("wechat_api_url", "wechat_api_secret", "wechat_api_corp_id"),
    *("victorops_api_url", "victorops_api_key", "victorops_api_key_file"),
    *("telegram_api_url", "webex_api_url"),
)
REFUSED_GLOBAL_KEYS: Mapping[str, str] = {
    key: " (it sets defaults of receiver kinds or files pulseline does not support)"
    for key in _GLOBAL_REFUSED
}


def plain(node: Node) -> Any:
    """A node's value as Python data; null values inside mappings count as not given."""
    return _drop_nulls(yaml.SafeLoader("").construct_document(node))


def _drop_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_nulls(v) for v in value]
    return value


class GlobalConfig(GlobalDefaults):
    """The ``global`` section: ``resolve_timeout`` and the receivers' defaults.

    Attributes:
        resolve_timeout: seconds after which an alert posted without an end resolves, when
            it is not posted again (Alertmanager's default: 5 minutes).
    """

    resolve_timeout: float = 300.0


def read_global(reader: NodeReader, node: Node) -> GlobalConfig:
    """The ``global`` section; its defaults when absent or invalid."""
    fields = reader.fields(node, "global", GLOBAL_KEYS, REFUSED_GLOBAL_KEYS) or {}
    resolve = fields.get("resolve_timeout")
    timeout = 300.0 if resolve is None else reader.duration(resolve, "global: resolve_timeout")
    given = {k: v for k, v in fields.items() if k != "resolve_timeout"}
    data = {k: plain(v) for k, v in given.items()}
    data = {k: v for k, v in data.items() if v is not None}
    try:
        # A null resolve_timeout is zero, as Alertmanager reads it.
        return GlobalConfig.model_validate({**data, "resolve_timeout": timeout or 0.0})
    except ValidationError as exc:
        _report(reader, exc, given, "global")
        return GlobalConfig(resolve_timeout=timeout or 0.0)


def read_receiver(
    reader: NodeReader,
    node: Node,
    what: str,
    defaults: GlobalDefaults,
    resolve: ResolveSync = resolve_sync,
) -> tuple[str | None, Receiver | None]:
    """One receiver's name and the receiver, validated, with defaults taken from ``global``.

    The name is returned even when the rest is invalid, so that routes using it are not
    reported as using an undefined receiver. ``resolve`` looks up the hosts of its URLs
    (see :func:`~streams.alertmanager.config.destinations.check_receiver`).
    """
    fields = reader.fields(node, what, RECEIVER_KEYS, REFUSED_RECEIVER_KEYS)
    if fields is None:
        return None, None
    name = reader.text(fields["name"], f"{what}: name") if "name" in fields else ""
    if not name:
        if name is not None:
            reader.problem(fields.get("name", node), f"{what}: a receiver needs a name")
        return None, None
    what = f"receiver {name!r}"
    given = {k: v for k, v in fields.items() if k != "name"}
    data = {k: plain(v) for k, v in given.items()}
    try:
        receiver = Receiver.model_validate(
            {"name": name, **{k: v for k, v in data.items() if v is not None}}
        )
    except ValidationError as exc:
        _report(reader, exc, given, what)
        return name, None
    try:
        receiver = with_globals(receiver, defaults)
        check_receiver(receiver, resolve)
        return name, receiver
    except ConfigError as exc:
        message = str(exc).removeprefix(f"{what}: ")
        reader.problem(_integration_node(fields, message) or node, f"{what}: {message}")
        return name, None


def _integration_node(fields: dict[str, Node], message: str) -> Node | None:
    """The node of ``kind_configs[i]`` named at the start of a defaults error, if any."""
    head = message.split(":", 1)[0]
    key, _, index = head.partition("[")
    configs = fields.get(key)
    if isinstance(configs, SequenceNode) and index.rstrip("]").isdigit():
        i = int(index.rstrip("]"))
        if i < len(configs.value):
            return configs.value[i]  # type: ignore[no-any-return]
    return None


def _report(reader: NodeReader, exc: ValidationError, given: dict[str, Node], what: str) -> None:
    """One problem per validation error, at the node its location leads to."""
    for error in exc.errors():
        loc = error["loc"]
        node, found = given.get(str(loc[0])), 1
        key_node: Node | None = None
        for step in loc[1:]:
            nxt, key_node = _step(node, step)
            if nxt is None:
                break
            node, found = nxt, found + 1
        path = "".join(f"[{s}]" if isinstance(s, int) else f".{s}" for s in loc).lstrip(".")
        kind = error["type"]
        if kind == "extra_forbidden":
            message = f"{path}: unknown or unsupported key {loc[-1]!r}"
            node = key_node if key_node is not None and found == len(loc) else node
        elif kind == "missing":
            message = f"{path}: is required"
        else:
            message = f"{path}: {error['msg'].removeprefix('Value error, ')}"
        reader.problem(node, f"{what}: {message}")


def _step(node: Node | None, step: str | int) -> tuple[Node | None, Node | None]:
    """The child of a node for one location step, and the key node that leads to it."""
    if isinstance(node, MappingNode) and isinstance(step, str):
        for key, value in node.value:
            if isinstance(key, ScalarNode) and key.value == step:
                return value, key
    if isinstance(node, SequenceNode) and isinstance(step, int) and step < len(node.value):
        return node.value[step], None
    return None, None
