"""Destinations come from the configuration only, and never from a cloud's metadata service.

A receiver URL whose host is, or resolves to, a link-local IPv4 address (169.254.0.0/16) or
the EC2 IPv6 metadata address (``fd00:ec2::254``) is refused unless its ``http_config`` says
``allow_link_local: true``. The check runs twice:

- when the configuration loads (:func:`check_receiver`, called by the config loader): a
  literal address or a name resolving to one is a config error naming the receiver;
  a name that does not resolve yet is let through (DNS may be down at load);
- at send time, for every request and redirect hop (:class:`GuardedResolver` inside the
  HTTP transport), so a name that starts resolving to such an address later, or a redirect
  to one, is refused before a connection is made.

Name resolution is injected (:data:`Resolve`), so tests map names to any address.

Example:
    >>> from streams.alertmanager.config.receivers import Receiver
    >>> r = Receiver.model_validate({"name": "ops",
    ...     "webhook_configs": [{"url": "http://metadata.internal/x"}]})
    >>> try:
    ...     check_receiver(r, resolve=lambda host: ["169.254.169.254"])
    ... except ConfigError as e:
    ...     print(e)  # doctest: +ELLIPSIS
    receiver 'ops': webhook_configs[0]: http://metadata.internal/... resolves to 169.254.169.254...
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable, Sequence

from aiohttp.abc import AbstractResolver, ResolveResult

from streams.alertmanager.config.httpconfig import HTTPConfig, is_link_local, redacted, url_host
from streams.alertmanager.config.receivers import Integration, Receiver
from streams.errors import ConfigError, PulselineError

Resolve = Callable[[str], Awaitable[Sequence[str]]]
"""Resolves a host name to its IP addresses (as text), asynchronously."""

ResolveSync = Callable[[str], Sequence[str]]
"""Resolves a host name to its IP addresses (as text), blocking: for config loading."""


class DestinationRefused(PulselineError):
    """A request would have gone to a link-local or cloud metadata address."""


def _addresses(infos: Sequence[tuple[object, ...]]) -> list[str]:
    return list(dict.fromkeys(str(info[4][0]) for info in infos))  # type: ignore[index]


def resolve_sync(host: str) -> list[str]:
    """The system resolver's addresses for ``host``."""
    return _addresses(socket.getaddrinfo(host, None, type=socket.SOCK_STREAM))


async def resolve_system(host: str) -> list[str]:
    """The system resolver's addresses for ``host``, without blocking the loop."""
    loop = asyncio.get_running_loop()
    return _addresses(await loop.getaddrinfo(host, None, type=socket.SOCK_STREAM))


def destination(integration: Integration) -> tuple[str, HTTPConfig] | None:
    """The URL an integration sends to and its http_config; None for email (SMTP)."""
    config = integration.config
    http = getattr(config, "http_config", None) or HTTPConfig()
    url = getattr(config, "url", None) or getattr(config, "api_url", None)
    if url is None:
        return None
    text = url if isinstance(url, str) else url.get_secret_value()
    return text, http


_ADVICE = "set http_config.allow_link_local: true to allow it"


def refusal(url: str, addresses: Sequence[str]) -> str | None:
    """Why ``url`` (whose host resolves to ``addresses``) is refused, or None when it is not.

    >>> refusal("http://169.254.169.254/x", []) is not None, refusal("http://10.1.2.3/", [])
    (True, None)
    """
    host = url_host(url)
    if is_link_local(host):
        return f"{redacted(url)} is a link-local or cloud metadata address; {_ADVICE}"
    for address in addresses:
        if is_link_local(address):
            return (
                f"{redacted(url)} resolves to {address}, a link-local or cloud metadata "
                f"address; {_ADVICE}"
            )
    return None


def check_receiver(receiver: Receiver, resolve: ResolveSync = resolve_sync) -> None:
    """Refuse a receiver with a destination on a link-local or metadata address.

    Raises:
        ConfigError: naming the receiver and the integration (``webhook_configs[0]``), as
            :func:`~streams.alertmanager.config.receivers.with_globals` does.
    """
    for integration in receiver.integrations():
        target = destination(integration)
        if target is None or target[1].allow_link_local:
            continue
        url, _ = target
        try:
            addresses = resolve(url_host(url))
        except OSError:
            addresses = []  # checked again at send time
        reason = refusal(url, addresses)
        if reason is not None:
            place = f"{integration.kind}_configs[{integration.index}]"
            raise ConfigError(f"receiver {receiver.name!r}: {place}: {reason}")


class GuardedResolver(AbstractResolver):
    """An aiohttp resolver on an injected lookup, refusing link-local and metadata addresses.

    The transport's connections use it, so the address checked is the address connected to
    (no second lookup that could answer differently). With ``allow_link_local`` it refuses
    nothing.
    """

    def __init__(self, resolve: Resolve, *, allow_link_local: bool = False) -> None:
        self._resolve = resolve
        self._allow = allow_link_local

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        addresses = await self._resolve(host)
        bad = [a for a in addresses if is_link_local(a)]
        if bad and not self._allow:
            raise DestinationRefused(
                f"{host} resolves to {bad[0]}, a link-local or cloud metadata address; " + _ADVICE
            )
        results = [
            ResolveResult(hostname=host, host=a, port=port, family=f, proto=0, flags=0)
            for a in addresses
            for f in [socket.AF_INET6 if ":" in a else socket.AF_INET]
            if family in (socket.AF_UNSPEC, f)
        ]
        if not results:
            raise OSError(f"{host}: no address")
        return results

    async def close(self) -> None:
        return None
