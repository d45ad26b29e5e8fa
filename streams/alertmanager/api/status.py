"""``GET /api/v2/status``: the configuration with its secrets masked, the version, the uptime.

The answer has Alertmanager 0.25's shape, with every field its API schema requires: a
``cluster`` whose status is ``disabled`` (pulseline's workers share their state through
Kafka, not through Alertmanager's gossip), ``config.original``, ``uptime`` (the instant the
worker started, as Alertmanager gives it) and ``versionInfo`` (pulseline's version: amtool
warns that it differs from its own, and works).

``config.original`` is the file as the operator wrote it, comments and order kept, with the
value of every secret replaced by ``<secret>``, as Alertmanager prints secrets. What is a
secret is read from the receiver models themselves: every field they hold as a
:class:`~pydantic.SecretStr` (passwords, tokens, Slack and webhook URLs), wherever the file
puts it (``global``, a receiver's integrations, their ``http_config``).

Example:
    >>> print(masked_config('''global:
    ...   smtp_auth_password: hunter2  # the mail relay's
    ... receivers:
    ...   - name: ops
    ...     webhook_configs: [{url: "http://hooks.example/T0/x", send_resolved: false}]
    ... '''))
    global:
      smtp_auth_password: <secret>  # the mail relay's
    receivers:
      - name: ops
        webhook_configs: [{url: <secret>, send_resolved: false}]
    <BLANKLINE>
"""

from __future__ import annotations

import platform
import types
import typing
from collections.abc import Iterator
from typing import Any

import yaml
from pydantic import BaseModel, SecretStr

from streams import __version__
from streams.alertmanager.config.receiverconfig import GlobalConfig
from streams.alertmanager.config.receivers import Receiver
from streams.alertmanager.wire import format_time
from streams.rules.yamlpos import MappingNode, Node, ScalarNode, SequenceNode, compose, is_null

SECRET = "<secret>"
"""What a secret's value is replaced by, as Alertmanager writes it."""

SecretTree = dict[str, "SecretTree | None"]
"""Keys holding secrets (None) or mappings with secrets below (a subtree)."""


def _types(annotation: Any) -> Iterator[Any]:
    """The types a field may hold: unions unpacked, a sequence's items."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            yield from _types(arg)
    elif origin in (tuple, list):
        for arg in typing.get_args(annotation):
            if arg is not Ellipsis:
                yield from _types(arg)
    else:
        yield annotation


def secret_tree(model: type[BaseModel]) -> SecretTree:
    """Where a model's secrets are, by the keys the file uses.

    >>> from streams.alertmanager.config.httpconfig import HTTPConfig
    >>> secret_tree(HTTPConfig)
    {'authorization': {'credentials': None}, 'basic_auth': {'password': None}, 'bearer_token': None}
    """
    tree: SecretTree = {}
    for name, field in model.model_fields.items():
        key = field.alias or name
        found = list(_types(field.annotation))
        if SecretStr in found:
            tree[key] = None
            continue
        for kind in found:
            if isinstance(kind, type) and issubclass(kind, BaseModel):
                below = secret_tree(kind)
                if below:
                    tree[key] = below
    return tree


def config_secrets() -> SecretTree:
    """Where the secrets of an ``alertmanager.yml`` are."""
    return {"global": secret_tree(GlobalConfig), "receivers": secret_tree(Receiver)}


def _secret_nodes(node: Node, tree: SecretTree) -> Iterator[ScalarNode]:
    if isinstance(node, SequenceNode):
        for item in node.value:
            yield from _secret_nodes(item, tree)
        return
    if not isinstance(node, MappingNode):
        return
    for key, value in node.value:
        name = key.value if isinstance(key, ScalarNode) else None
        if name == "<<":  # a merge: the merged mappings' keys are this mapping's
            yield from _secret_nodes(value, tree)
        elif name in tree:
            below = tree[name]
            if below is not None:
                yield from _secret_nodes(value, below)
            elif isinstance(value, ScalarNode) and not is_null(value):
                yield value


def masked_config(text: str) -> str:
    """The text of an ``alertmanager.yml`` with every secret's value replaced by
    :data:`SECRET` (anchors and line structure kept). A text that is not YAML is masked
    whole: it cannot have been loaded, and nothing in it can be known not to be secret."""
    try:
        root = compose(text)
    except yaml.YAMLError:
        return SECRET + "\n"
    spans = {
        (n.start_mark.index, n.end_mark.index)
        for n in ([] if root is None else _secret_nodes(root, config_secrets()))
    }
    out = text
    for start, end in sorted(spans, reverse=True):
        value = out[start:end]
        anchor = ""
        if value.startswith("&"):  # the anchor stays, so that aliases to it still resolve
            anchor = value.split(None, 1)[0] + " "
        kept_newlines = value[len(value.rstrip("\n")) :]  # a block scalar's line ends
        out = out[:start] + anchor + SECRET + kept_newlines + out[end:]
    return out


def version_info() -> dict[str, str]:
    """``versionInfo``: pulseline's version; the build fields Alertmanager fills from its
    Go build are empty, and ``goVersion`` names the Python runtime instead."""
    return {
        "branch": "",
        "buildDate": "",
        "buildUser": "",
        "goVersion": f"python{platform.python_version()}",
        "revision": "",
        "version": __version__,
    }


def api_status(config_text: str, started_at: float) -> dict[str, Any]:
    """The ``GET /api/v2/status`` answer.

    Args:
        config_text: the configuration file in force, as read.
        started_at: when the worker started (Unix seconds).

    >>> status = api_status("route: {receiver: ops}\\n", started_at=0.0)
    >>> status["cluster"], status["uptime"], status["config"]
    ({'peers': [], 'status': 'disabled'}, '1970-01-01T00:00:00.000Z', {'original': 'route: {receiver: ops}\\n'})
    """  # noqa: E501
    return {
        "cluster": {"peers": [], "status": "disabled"},
        "config": {"original": masked_config(config_text)},
        "uptime": format_time(started_at),
        "versionInfo": version_info(),
    }
