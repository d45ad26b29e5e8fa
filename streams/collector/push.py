"""The collector's HTTP push endpoints.

``POST /api/v2/write`` and ``POST /write`` take InfluxDB line protocol, the first with the
InfluxDB 2 ``precision`` names (``ns``, ``us``, ``ms``, ``s``), the second with the 1.x ones
(``n``, ``u``, ``ms``, ``s``, ``m``, ``h``); gzip bodies are accepted. ``org``, ``bucket`` and
``db`` are accepted and ignored: every point goes to the raw topic.

A request is all or nothing: when any line is bad the answer is 400 naming the first bad
lines, and nothing of the body is produced (InfluxDB 2 instead writes the good lines; a
partial write is hard to retry without duplicates or gaps, so pulseline refuses the whole
body). The answer is 204 only after Kafka acknowledged every record of the body, and 503 when
it did not; a client that retries a 503 may write some points twice, which the TSDB absorbs
because a point with the same measurement, tags and timestamp overwrites itself.

Errors are JSON as InfluxDB 2 writes them: ``{"code": "invalid", "message": "..."}``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import orjson
from aiohttp import web
from aiohttp.web_protocol import RequestPayloadError
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from streams.codecs.lineprotocol import normalize_precision, parse_lines
from streams.collector.batching import split_by_source
from streams.collector.metrics import CollectorMetrics
from streams.errors import BodyParseError
from streams.kafka import MAX_RECORD_BYTES, ProduceError, RecordProducer
from streams.records import Point, encode_batch
from streams.settings import Settings

log = logging.getLogger(__name__)

PRODUCER_KEY = web.AppKey("producer", RecordProducer)
METRICS_KEY = web.AppKey("metrics", CollectorMetrics)


class RequestError(Exception):
    """Ends a request with an HTTP error status and an InfluxDB-style JSON body."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


def error_response(status: int, code: str, message: str) -> web.Response:
    """An InfluxDB 2 style JSON error."""
    headers = {"Retry-After": "1"} if status == 503 else None
    body = orjson.dumps({"code": code, "message": message})
    return web.Response(status=status, body=body, content_type="application/json", headers=headers)


def encode_records(
    records: list[tuple[bytes, list[Point]]], limit: int = MAX_RECORD_BYTES
) -> list[tuple[bytes, bytes]]:
    """Encode each record, halving any whose value would exceed ``limit`` bytes."""
    out: list[tuple[bytes, bytes]] = []
    stack = list(reversed(records))
    while stack:
        key, points = stack.pop()
        value = encode_batch(points)
        if len(value) > limit and len(points) > 1:
            half = len(points) // 2
            stack.append((key, points[half:]))
            stack.append((key, points[:half]))
            continue
        out.append((key, value))
    return out


async def read_body(request: web.Request, limit: int) -> bytes:
    """The request body; aiohttp inflates ``gzip`` and ``deflate`` and applies ``limit``."""
    encoding = request.headers.get("Content-Encoding", "identity").strip().lower()
    if encoding not in ("identity", "", "gzip", "deflate"):
        raise RequestError(415, "unsupported", f"Content-Encoding {encoding!r}: use gzip or none")
    try:
        return await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise RequestError(
            413, "request too large", f"body is larger than {limit} bytes (after gunzip)"
        ) from None
    except RequestPayloadError as exc:
        raise RequestError(400, "invalid", f"body cannot be read as {encoding}: {exc}") from None


class PushHandler:
    """Handles line-protocol writes for one collector."""

    def __init__(
        self,
        settings: Settings,
        producer: RecordProducer,
        metrics: CollectorMetrics,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._settings = settings
        self._producer = producer
        self._metrics = metrics
        self._clock = clock

    async def write_v2(self, request: web.Request) -> web.Response:
        """``POST /api/v2/write``: precision ``ns`` (default), ``us``, ``ms`` or ``s``."""
        return await self._write(request, "/api/v2/write", allowed=("ns", "us", "ms", "s"))

    async def write_v1(self, request: web.Request) -> web.Response:
        """``POST /write``: precision ``n`` (default), ``u``, ``ms``, ``s``, ``m`` or ``h``."""
        return await self._write(request, "/write", allowed=("n", "u", "ms", "s", "m", "h"))

    async def _write(
        self, request: web.Request, endpoint: str, allowed: tuple[str, ...]
    ) -> web.Response:
        metrics = self._metrics
        started = time.perf_counter()
        try:
            response = await self._accept(request, allowed)
        except RequestError as exc:
            response = error_response(exc.status, exc.code, str(exc))
        metrics.requests.labels(endpoint, str(response.status)).inc()
        metrics.latency.observe(time.perf_counter() - started)
        return response

    async def _accept(self, request: web.Request, allowed: tuple[str, ...]) -> web.Response:
        settings = self._settings
        name = request.query.get("precision", allowed[0])
        if name not in allowed:
            raise RequestError(400, "invalid", f"precision {name!r}: use one of {list(allowed)}")
        body = await read_body(request, settings.collector.max_body_bytes)
        self._metrics.body_bytes.inc(request.content_length or len(body))
        try:
            points = parse_lines(
                body, precision=normalize_precision(name), now_ms=int(self._clock() * 1000)
            )
        except BodyParseError as exc:
            self._metrics.bad_lines.inc(exc.bad_lines)
            raise RequestError(400, "invalid", str(exc)) from None
        if not points:
            return web.Response(status=204)
        records = encode_records(
            split_by_source(
                points,
                settings.collector.source_tags,
                per_record=settings.collector.points_per_record,
            )
        )
        try:
            await self._producer.send_all(settings.topics.raw, records)
        except ProduceError as exc:
            self._metrics.produce_failures.inc()
            log.warning("answering 503: %s", exc)
            raise RequestError(503, "unavailable", f"{exc}; retry later") from None
        self._metrics.points.inc(len(points))
        self._metrics.samples.inc(sum(len(p.fields) for p in points))
        self._metrics.records.inc(len(records))
        return web.Response(status=204)


async def health(request: web.Request) -> web.Response:
    """``GET /health``: 200 when Kafka is connected, 503 otherwise (InfluxDB's shape)."""
    ready = request.app[PRODUCER_KEY].ready
    body: dict[str, Any] = {
        "name": "pulseline-collector",
        "status": "pass" if ready else "fail",
        "checks": [{"name": "kafka", "status": "pass" if ready else "fail"}],
    }
    return web.json_response(body, status=200 if ready else 503, dumps=_dumps)


async def ping(request: web.Request) -> web.Response:
    """``GET /ping``: 204, for InfluxDB 1.x clients that check the server first."""
    return web.Response(status=204)


async def metrics_view(request: web.Request) -> web.Response:
    """``GET /metrics``: the collector's own counters in Prometheus exposition format."""
    data = generate_latest(request.app[METRICS_KEY].registry)
    return web.Response(body=data, headers={"Content-Type": CONTENT_TYPE_LATEST})


def _dumps(obj: Any) -> str:
    return orjson.dumps(obj).decode()


def create_push_app(
    settings: Settings,
    producer: RecordProducer,
    metrics: CollectorMetrics,
    clock: Callable[[], float] = time.time,
) -> web.Application:
    """The collector's aiohttp application; the caller runs it and owns the producer."""
    app = web.Application(client_max_size=settings.collector.max_body_bytes)
    app[PRODUCER_KEY] = producer
    app[METRICS_KEY] = metrics
    handler = PushHandler(settings, producer, metrics, clock)
    app.router.add_post("/api/v2/write", handler.write_v2)
    app.router.add_post("/write", handler.write_v1)
    app.router.add_get("/health", health)
    app.router.add_get("/ping", ping)
    app.router.add_get("/metrics", metrics_view)
    return app
