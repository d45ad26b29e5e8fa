"""Alertmanager's HTTP API v2 on the worker's web port, so Prometheus, vmalert, amtool and
scripts talk to pulseline as they would to Alertmanager.

=======================================  ==============================================
``POST /api/v2/alerts``                  alerts in; answered once Kafka holds them
``GET /api/v2/alerts``                   active alerts of the whole cluster (filters as
                                         Alertmanager's: ``filter``, ``silenced``,
                                         ``inhibited``, ``active``, ``receiver``)
``GET /api/v2/alerts/groups``            the aggregation groups and their alerts
``GET /api/v2/alerts/{fingerprint}/why`` pulseline: route, mutes, notifications of one
``GET|POST /api/v2/silences``            list and create (or update) silences
``GET|DELETE /api/v2/silence/{id}``      one silence; DELETE expires it
``GET /api/v2/status``                   configuration (secrets masked), version, uptime
``GET /api/v2/receivers``                the receivers' names
=======================================  ==============================================

The handlers only translate HTTP; the :class:`AlertmanagerService` they are given decides.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol

import orjson
from aiohttp import web

from streams.alertmanager.model import Alert
from streams.alertmanager.wire import ApiError
from streams.errors import PulselineError

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class AlertmanagerService(Protocol):
    """What the API asks of the alert manager (see :mod:`agents.alertmanager`)."""

    async def post_alerts(self, body: bytes) -> list[str]:
        """Take a POST body; returns the errors of refused alerts (the others were kept)."""

    async def take_in(self, alerts: Sequence[Alert]) -> None:
        """Route the alerts of rule events into their groups (the rule agents ask)."""

    def alerts(self, filters: list[str], flags: dict[str, bool], receiver: str) -> list[Any]:
        """Gettable alerts."""

    def groups(self, filters: list[str], flags: dict[str, bool], receiver: str) -> list[Any]:
        """Alert groups."""

    def why(self, fingerprint: str) -> dict[str, Any] | None:
        """The explanation of one alert, None when unknown."""

    def silences(self, filters: list[str]) -> list[Any]:
        """Gettable silences."""

    def silence(self, silence_id: str) -> Any | None:
        """One gettable silence, None when unknown."""

    async def put_silence(self, body: bytes) -> str:
        """Create or update a silence from a POST body; returns its id."""

    async def expire_silence(self, silence_id: str) -> None:
        """Expire a silence; raises ApiError(404) when unknown."""

    def status(self) -> dict[str, Any]:
        """``/api/v2/status``."""

    def receivers(self) -> list[str]:
        """Receiver names."""


def _json(data: Any, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(data), status=status, content_type="application/json")


_BOOL = re.compile(r"true|false")


def _flags(request: web.Request) -> dict[str, bool]:
    flags: dict[str, bool] = {}
    for name in ("active", "silenced", "inhibited", "unprocessed"):
        value = request.query.get(name)
        if value is None:
            continue
        if not _BOOL.fullmatch(value):
            raise ApiError(f"{name} must be true or false, got {value!r}")
        flags[name] = value == "true"
    return flags


def _errors(handler: Handler) -> Handler:
    """Answer an ApiError with its status and message as Alertmanager does (a JSON string)."""

    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except ApiError as exc:
            return _json(str(exc), status=exc.status)
        except PulselineError as exc:  # a broker that is away: try again later
            log.warning("%s %s: %s", request.method, request.path, exc)
            return _json(str(exc), status=503)

    return wrapped


def add_routes(router: web.UrlDispatcher, service: AlertmanagerService) -> None:
    """Serve the API from ``service`` under ``/api/v2/``."""

    async def post_alerts(request: web.Request) -> web.StreamResponse:
        errors = await service.post_alerts(await request.read())
        if errors:
            raise ApiError("; ".join(errors))
        return web.Response(status=200)

    async def get_alerts(request: web.Request) -> web.StreamResponse:
        filters = request.query.getall("filter", [])
        receiver = request.query.get("receiver", "")
        return _json(service.alerts(filters, _flags(request), receiver))

    async def get_groups(request: web.Request) -> web.StreamResponse:
        filters = request.query.getall("filter", [])
        receiver = request.query.get("receiver", "")
        return _json(service.groups(filters, _flags(request), receiver))

    async def get_why(request: web.Request) -> web.StreamResponse:
        found = service.why(request.match_info["fingerprint"])
        if found is None:
            raise ApiError("alert not found", status=404)
        return _json(found)

    async def get_silences(request: web.Request) -> web.StreamResponse:
        return _json(service.silences(request.query.getall("filter", [])))

    async def post_silences(request: web.Request) -> web.StreamResponse:
        return _json({"silenceID": await service.put_silence(await request.read())})

    async def get_silence(request: web.Request) -> web.StreamResponse:
        found = service.silence(request.match_info["id"])
        if found is None:
            return web.Response(status=404)
        return _json(found)

    async def delete_silence(request: web.Request) -> web.StreamResponse:
        await service.expire_silence(request.match_info["id"])
        return _json(None)

    async def get_status(request: web.Request) -> web.StreamResponse:
        return _json(service.status())

    async def get_receivers(request: web.Request) -> web.StreamResponse:
        return _json([{"name": name} for name in service.receivers()])

    routes: list[tuple[str, str, Handler]] = [
        ("POST", "/api/v2/alerts", post_alerts),
        ("GET", "/api/v2/alerts", get_alerts),
        ("GET", "/api/v2/alerts/groups", get_groups),
        ("GET", "/api/v2/alerts/{fingerprint}/why", get_why),
        ("GET", "/api/v2/silences", get_silences),
        ("POST", "/api/v2/silences", post_silences),
        ("GET", "/api/v2/silence/{id}", get_silence),
        ("DELETE", "/api/v2/silence/{id}", delete_silence),
        ("GET", "/api/v2/status", get_status),
        ("GET", "/api/v2/receivers", get_receivers),
    ]
    for method, path, handler in routes:
        router.add_route(method, path, _errors(handler))
