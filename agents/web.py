"""The worker's web pages: ``/alerts``, ``/rules``, ``/silences`` and ``/graph``.

Thin wiring: each handler asks the rule runtime, the alert manager's API service or the
store for data, builds the page's model (:mod:`streams.web`) and renders it. The silence
form and the expire buttons post to ``/silences`` and ``/silences/{id}/expire``, which create
and expire silences through the alert manager's API service, as ``POST /api/v2/silences``
and ``DELETE /api/v2/silence/{id}`` do, then redirect back to ``/silences``. ``/graph`` reads
each tier with the reader of ``influx.store`` (:data:`READERS`): VictoriaMetrics' export API or
Flux over InfluxDB 2's buckets.

Example::

    register_web(app, settings, rules=runtime, alertmanager=service)
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

import aiohttp
import orjson
from aiohttp import web

from agents.alertmanager_api import AlertmanagerService
from streams.alertmanager.wire import ApiError
from streams.errors import PulselineError
from streams.names import Store
from streams.rules.evaluation.runtime import RuleRuntime
from streams.settings import Settings, TierSettings
from streams.web.alerts import alerts_page
from streams.web.errors import PageError
from streams.web.flux import FluxReader, Post
from streams.web.graphpage import Reader, graph_page
from streams.web.render import render
from streams.web.rules import rules_page
from streams.web.silences import SilenceForm, silence_body, silences_page
from streams.web.store import ExportReader, Get
from streams.web.tiers import TierField

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
READ_TIMEOUT_S = 30.0


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


async def _request(method: str, url: str, **kwargs: Any) -> bytes:
    """``method`` ``url`` with aiohttp; the body of a 2xx answer.

    Raises:
        PulselineError: no answer, or another status (with the URL and the answer's start).
    """
    timeout = aiohttp.ClientTimeout(total=READ_TIMEOUT_S)
    try:
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.request(method, url, **kwargs) as response,
        ):
            body = await response.read()
            if response.status // 100 != 2:
                text = body[:200].decode(errors="replace").strip()
                raise PulselineError(f"{url} answered {response.status}: {text}")
            return body
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise PulselineError(f"{url}: {exc!r}") from None


async def http_get(url: str, params: Sequence[tuple[str, str]]) -> bytes:
    """GET ``url`` with ``params``; the body of a 2xx answer (see :func:`_request`)."""
    return await _request("GET", url, params=list(params))


async def http_post(url: str, headers: Mapping[str, str], body: bytes) -> bytes:
    """POST ``body`` to ``url``; the body of a 2xx answer (see :func:`_request`)."""
    return await _request("POST", url, data=body, headers=dict(headers))


@dataclass(frozen=True)
class StoreIO:
    """How the graph talks to the store (fakes in unit tests)."""

    get: Get = http_get
    post: Post = http_post


def export_reader(settings: Settings, tier: TierSettings, field: TierField, io: StoreIO) -> Reader:
    """VictoriaMetrics: the export API of the tier's URL."""
    url = settings.tier_url(tier)
    return ExportReader(url, io.get, aggregate=field, windowed=tier.window_s is not None)


def flux_reader(settings: Settings, tier: TierSettings, field: TierField, io: StoreIO) -> Reader:
    """InfluxDB 2: Flux over the tier's bucket, with the read token (else the token)."""
    influx = settings.influx
    token = influx.read_token.get_secret_value() or influx.token.get_secret_value()
    windowed = tier.window_s is not None
    url = settings.tier_url(tier)
    return FluxReader(
        url,
        tier.bucket,
        org=influx.org,
        token=token,
        post=io.post,
        aggregate=field,
        windowed=windowed,
    )


READERS: dict[Store, Callable[[Settings, TierSettings, TierField, StoreIO], Reader]] = {
    "victoriametrics": export_reader,
    "influxdb": flux_reader,
}
"""The graph's reader of a tier, by ``influx.store``."""


def _html(text: str, status: int = 200) -> web.Response:
    return web.Response(text=text, status=status, content_type="text/html", charset="utf-8")


def register_web(
    app: Any,
    settings: Settings,
    *,
    rules: RuleRuntime | None,
    alertmanager: AlertmanagerService | None,
    io: StoreIO = StoreIO(),
    clock: Callable[[], int] = _now_ms,
) -> None:
    """Serve the pages on the Faust app's web server.

    Args:
        app: the Faust app.
        settings: the settings (tiers, rule interval).
        rules: the rule runtime, None when no rule file is set.
        alertmanager: the alert manager's API service, None without one.
        io: the HTTP GET and POST the graph reads stores with.
        clock: the wall clock in ms.
    """
    add_pages(cast(Any, app.web).web_app.router, settings, rules, alertmanager, io, clock)


def add_pages(
    router: web.UrlDispatcher,
    settings: Settings,
    rules: RuleRuntime | None,
    alertmanager: AlertmanagerService | None,
    io: StoreIO,
    clock: Callable[[], int],
) -> None:
    """Add the pages' routes to an aiohttp router (see :func:`register_web`)."""

    def status() -> list[Any]:
        return rules.status() if rules is not None else []

    def silences_html(form: SilenceForm | None = None, error: str = "") -> str:
        found = alertmanager.silences([]) if alertmanager is not None else []
        page = silences_page(found, now_ms=clock(), form=form, error=error)
        return render("silences.html", here="/silences", title="Silences", page=page)

    async def get_alerts(request: web.Request) -> web.StreamResponse:
        managed = alertmanager.alerts([], {}, "") if alertmanager is not None else []
        page = alerts_page(status(), managed, now_ms=clock())
        return _html(render("alerts.html", here="/alerts", title="Alerts", page=page))

    async def get_rules(request: web.Request) -> web.StreamResponse:
        page = rules_page(status(), default_interval_s=settings.rules.interval_s, now_ms=clock())
        return _html(render("rules.html", here="/rules", title="Rules", page=page))

    async def get_silences(request: web.Request) -> web.StreamResponse:
        return _html(silences_html(SilenceForm.from_fields(request.query)))

    async def post_silence(request: web.Request) -> web.StreamResponse:
        form = SilenceForm.from_fields({k: str(v) for k, v in (await request.post()).items()})
        if alertmanager is None:
            return _html(silences_html(form, "this worker runs no alert manager"), status=503)
        try:
            body = silence_body(form, now_s=clock() / 1000)
            silence_id = await alertmanager.put_silence(orjson.dumps(body))
        except (PageError, ApiError) as exc:
            return _html(silences_html(form, str(exc)), status=400)
        except PulselineError as exc:  # Kafka away: nothing was created
            log.warning("POST /silences: %s", exc)
            return _html(silences_html(form, str(exc)), status=503)
        raise web.HTTPSeeOther(f"/silences#silence-{silence_id}")

    async def post_expire(request: web.Request) -> web.StreamResponse:
        silence_id = request.match_info["id"]
        if alertmanager is None:
            return _html(silences_html(None, "this worker runs no alert manager"), status=503)
        try:
            await alertmanager.expire_silence(silence_id)
        except ApiError as exc:
            return _html(silences_html(None, f"silence {silence_id}: {exc}"), status=exc.status)
        except PulselineError as exc:
            log.warning("POST /silences/%s/expire: %s", silence_id, exc)
            return _html(silences_html(None, f"silence {silence_id}: {exc}"), status=503)
        raise web.HTTPSeeOther(f"/silences#silence-{silence_id}")

    def reader_for(tier: TierSettings, field: TierField) -> Reader:
        return READERS[settings.influx.store](settings, tier, field, io)

    async def get_graph(request: web.Request) -> web.StreamResponse:
        page = await graph_page(request.query, settings.tiers, reader_for, now_ms=clock())
        return _html(render("graph.html", here="/graph", title="Graph", page=page))

    routes: list[tuple[str, str, Handler]] = [
        ("GET", "/alerts", get_alerts),
        ("GET", "/rules", get_rules),
        ("GET", "/silences", get_silences),
        ("POST", "/silences", post_silence),
        ("POST", "/silences/{id}/expire", post_expire),
        ("GET", "/graph", get_graph),
    ]
    for method, path, handler in routes:
        router.add_route(method, path, handler)
