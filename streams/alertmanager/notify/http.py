"""HTTP for notifiers: one POST, with a receiver's ``http_config``, behind an injectable transport.

Notifiers build a :class:`HttpRequest` and hand it to a :class:`Transport`; tests pass a
fake transport, workers an :class:`AiohttpTransport`. :func:`post` turns what happened
into a :class:`~streams.alertmanager.notify.errors.NotifyError` that names the receiver and
says whether to retry.

The aiohttp transport applies ``http_config``: the ``Authorization`` header (``authorization``,
``bearer_token`` or ``basic_auth``), TLS (CA, client certificate, server name, minimum
version, ``insecure_skip_verify``) and ``follow_redirects``, following at most 10 redirects
as Go's client does (301, 302 and 303 continue as a GET without body; credentials are not
sent to another host). Every hop is checked by the destination guard (see
:mod:`~streams.alertmanager.config.destinations`).
"""

from __future__ import annotations

import asyncio
import base64
import ssl
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

import aiohttp

from streams.alertmanager.config.destinations import (
    DestinationRefused,
    GuardedResolver,
    Resolve,
    refusal,
    resolve_system,
)
from streams.alertmanager.config.httpconfig import HTTPConfig, TLSConfig, is_link_local, url_host
from streams.alertmanager.config.receivers import Integration
from streams.alertmanager.notify.errors import NotifyError

USER_AGENT = "Alertmanager/0.25.0 (pulseline 0.1.0)"
"""Alertmanager's ``User-Agent`` product token, then pulseline's."""

MAX_REDIRECTS = 10
_KEPT_BODY = 512


@dataclass(frozen=True, slots=True)
class HttpRequest:
    """A POST to send.

    Attributes:
        url: where to; from the configuration only.
        body: the request body.
        headers: headers besides authentication and ``User-Agent``.
        http: the receiver's ``http_config``.
    """

    url: str
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)
    http: HTTPConfig = field(default_factory=HTTPConfig)


@dataclass(frozen=True, slots=True)
class HttpAnswer:
    """What the server answered: the status, and the start of the body (for messages)."""

    status: int
    body: bytes = b""


class Transport(Protocol):
    """Sends one request and returns the final answer (after redirects).

    Raises:
        DestinationRefused: the URL, or a redirect, points at a refused address.
        OSError, aiohttp.ClientError, TimeoutError: no answer came.
    """

    async def send(self, request: HttpRequest) -> HttpAnswer: ...


def auth_headers(http: HTTPConfig) -> dict[str, str]:
    """The ``Authorization`` header an http_config asks for (empty without authentication).

    >>> auth_headers(HTTPConfig.model_validate({"basic_auth": {"username": "u", "password": "p"}}))
    {'Authorization': 'Basic dTpw'}
    """
    if http.authorization is not None:
        credentials = http.authorization.credentials
        secret = credentials.get_secret_value() if credentials else ""
        return {"Authorization": f"{http.authorization.type} {secret}".rstrip()}
    if http.bearer_token is not None:
        return {"Authorization": f"Bearer {http.bearer_token.get_secret_value()}"}
    if http.basic_auth is not None:
        password = http.basic_auth.password
        pair = f"{http.basic_auth.username}:{password.get_secret_value() if password else ''}"
        return {"Authorization": "Basic " + base64.b64encode(pair.encode()).decode()}
    return {}


_TLS_VERSIONS = {
    "TLS10": ssl.TLSVersion.TLSv1,
    "TLS11": ssl.TLSVersion.TLSv1_1,
    "TLS12": ssl.TLSVersion.TLSv1_2,
    "TLS13": ssl.TLSVersion.TLSv1_3,
}


SYSTEM_TLS = ssl.create_default_context()
"""The client TLS context of receivers without ``tls_config``: the system's CAs, read once at
import, not on the event loop when a first notification goes out (reading them takes tenths
of a second). Shared, so never changed."""


def ssl_context(tls: TLSConfig | None) -> ssl.SSLContext:
    """A client TLS context for a ``tls_config`` (:data:`SYSTEM_TLS` without one)."""
    if tls is None:
        return SYSTEM_TLS
    context = ssl.create_default_context(cafile=tls.ca_file)
    if tls.cert_file and tls.key_file:
        context.load_cert_chain(tls.cert_file, tls.key_file)
    if tls.min_version:
        context.minimum_version = _TLS_VERSIONS[tls.min_version]
    if tls.insecure_skip_verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


class AiohttpTransport:
    """A :class:`Transport` on aiohttp, one connection pool per TLS setting and guard mode.

    Args:
        resolve: name lookups (the system resolver by default; tests inject their own).
        timeout_s: the most one request (redirects included) may take.
    """

    def __init__(self, resolve: Resolve = resolve_system, timeout_s: float = 30.0) -> None:
        self._resolve = resolve
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._sessions: dict[tuple[str, bool], aiohttp.ClientSession] = {}

    def _session(self, http: HTTPConfig) -> aiohttp.ClientSession:
        key = (http.tls_config.model_dump_json() if http.tls_config else "", http.allow_link_local)
        session = self._sessions.get(key)
        if session is None or session.closed:
            connector = aiohttp.TCPConnector(
                resolver=GuardedResolver(self._resolve, allow_link_local=http.allow_link_local),
                ssl=ssl_context(http.tls_config),
            )
            session = aiohttp.ClientSession(connector=connector, timeout=self._timeout)
            self._sessions[key] = session
        return session

    async def send(self, request: HttpRequest) -> HttpAnswer:
        http = request.http
        session = self._session(http)
        url, method, body = request.url, "POST", request.body
        headers = {"User-Agent": USER_AGENT, **request.headers, **auth_headers(http)}
        server_name = http.tls_config.server_name if http.tls_config else None
        for _hop in range(MAX_REDIRECTS + 1):
            if not http.allow_link_local and is_link_local(url_host(url)):
                raise DestinationRefused(refusal(url, []) or "refused destination")
            async with session.request(
                method,
                url,
                data=body if method == "POST" else None,
                headers=headers,
                allow_redirects=False,
                server_hostname=server_name,
            ) as answer:
                kept = await answer.content.read(_KEPT_BODY)
                location = answer.headers.get("Location")
                if not (http.follow_redirects and answer.status in _REDIRECTS and location):
                    return HttpAnswer(answer.status, kept)
            target = urllib.parse.urljoin(url, location)
            if urllib.parse.urlsplit(target).netloc != urllib.parse.urlsplit(url).netloc:
                headers.pop("Authorization", None)
            if answer.status in (301, 302, 303):
                method, body = "GET", b""
                headers.pop("Content-Type", None)
            url = target
        raise aiohttp.ClientError(f"stopped after {MAX_REDIRECTS} redirects")

    async def close(self) -> None:
        """Close every connection pool."""
        sessions, self._sessions = list(self._sessions.values()), {}
        await asyncio.gather(*(s.close() for s in sessions))


_REDIRECTS = frozenset({301, 302, 303, 307, 308})


async def post(transport: Transport, request: HttpRequest, integration: Integration) -> HttpAnswer:
    """Send ``request``; a 2xx answer is returned, anything else raised as NotifyError.

    Raises:
        NotifyError: no answer (retryable), a refused destination (not retryable), or a
            status outside 2xx (retryable for 429 and 5xx). The message holds the status
            and the start of the answer's body, never the URL's path or credentials.
    """

    def error(reason: str, status: int | None = None, retryable: bool | None = None) -> NotifyError:
        return NotifyError(
            reason,
            receiver=integration.receiver,
            integration=integration.where,
            status=status,
            retryable=retryable,
        )

    try:
        answer = await transport.send(request)
    except DestinationRefused as exc:
        raise error(str(exc), retryable=False) from None
    except (OSError, aiohttp.ClientError, TimeoutError) as exc:
        host = url_host(request.url)
        raise error(f"no answer from {host}: {_without_url(exc, request.url)}") from None
    if 200 <= answer.status <= 299:
        return answer
    text = answer.body.decode(errors="replace").strip()
    raise error(
        f"unexpected status code {answer.status}" + (f": {text}" if text else ""),
        status=answer.status,
    )


def _without_url(exc: BaseException, url: str) -> str:
    """An exception's text with the URL (which may hold a token) cut out."""
    text = str(exc) or type(exc).__name__
    parts = urllib.parse.urlsplit(url)
    for secret in (url, parts.path, parts.query):
        if secret and secret != "/":
            text = text.replace(secret, "...")
    return text
