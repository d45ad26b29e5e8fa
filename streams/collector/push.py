"""The collector's HTTP push endpoints.

``POST /api/v1/write`` takes Prometheus remote write 1.0 (protobuf, snappy), so Prometheus,
vmagent, Grafana Agent or Alloy push unchanged; samples keep their metric type from the
request metadata. Limits: ``collector.max_body_bytes`` (413),
``collector.max_labels_per_series`` and ``collector.max_series_per_request`` (400, naming the
series). With ``collector.tokens`` set, every write needs ``Authorization: Bearer <token>``
(or InfluxDB's ``Token <token>``), else 401.

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
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import orjson
from aiohttp import web
from aiohttp.web_protocol import RequestPayloadError
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from streams.codecs.lineprotocol import normalize_precision, parse_lines
from streams.codecs.remotewrite import RemoteWriteError, SeriesCache, decode_write_request
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
    records: list[tuple[bytes, list[Point]]],
    limit: int = MAX_RECORD_BYTES,
    types: Mapping[str, str] | None = None,
) -> list[tuple[bytes, bytes]]:
    """Encode each record, halving any whose value would exceed ``limit`` bytes.

    ``types`` (measurement to metric type) goes with each record that has such points.
    """
    out: list[tuple[bytes, bytes]] = []
    stack = list(reversed(records))
    while stack:
        key, points = stack.pop()
        known = (
            {p.measurement: types[p.measurement] for p in points if p.measurement in types}
            if types
            else None
        )
        value = encode_batch(points, known)
        if len(value) > limit and len(points) > 1:
            half = len(points) // 2
            stack.append((key, points[half:]))
            stack.append((key, points[:half]))
            continue
        out.append((key, value))
    return out


LINE_PROTOCOL_ENCODINGS = ("identity", "gzip", "deflate")
"""Content encodings of line-protocol bodies; aiohttp inflates gzip and deflate itself."""
REMOTE_WRITE_ENCODINGS = ("snappy",)
"""Remote write bodies are snappy blocks, decompressed by the decoder."""


async def read_body(request: web.Request, limit: int, encodings: tuple[str, ...]) -> bytes:
    """The request body, refused unless its Content-Encoding is one of ``encodings``.

    A missing header means the first of ``encodings``. aiohttp applies ``limit`` (after
    inflating gzip and deflate).
    """
    encoding = request.headers.get("Content-Encoding", "").strip().lower() or encodings[0]
    if encoding not in encodings:
        raise RequestError(
            415, "unsupported", f"Content-Encoding {encoding!r}: use one of {list(encodings)}"
        )
    try:
        return await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise RequestError(
            413, "request too large", f"body is larger than {limit} bytes (after gunzip)"
        ) from None
    except RequestPayloadError as exc:
        raise RequestError(400, "invalid", f"body cannot be read as {encoding}: {exc}") from None


Decoded = tuple[list[Point], Mapping[str, str]]


class PushHandler:
    """Handles the write endpoints of one collector."""

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
        self._tokens = {t.get_secret_value() for t in settings.collector.tokens.values()}
        self._series = SeriesCache()
        self._types: dict[str, str] = {}

    async def write_v2(self, request: web.Request) -> web.Response:
        """``POST /api/v2/write``: precision ``ns`` (default), ``us``, ``ms`` or ``s``."""
        return await self._write(
            request, "/api/v2/write", self._line_protocol("ns", "us", "ms", "s")
        )

    async def write_v1(self, request: web.Request) -> web.Response:
        """``POST /write``: precision ``n`` (default), ``u``, ``ms``, ``s``, ``m`` or ``h``."""
        return await self._write(
            request, "/write", self._line_protocol("n", "u", "ms", "s", "m", "h")
        )

    async def remote_write(self, request: web.Request) -> web.Response:
        """``POST /api/v1/write``: Prometheus remote write 1.0 (protobuf, snappy)."""
        return await self._write(request, "/api/v1/write", self._remote_write)

    async def _write(
        self,
        request: web.Request,
        endpoint: str,
        decode: Callable[[web.Request], Awaitable[Decoded]],
    ) -> web.Response:
        metrics = self._metrics
        started = time.perf_counter()
        try:
            self._authorize(request)
            points, types = await decode(request)
            response = await self._produce(points, types)
        except RequestError as exc:
            response = error_response(exc.status, exc.code, str(exc))
        metrics.requests.labels(endpoint, str(response.status)).inc()
        metrics.latency.observe(time.perf_counter() - started)
        return response

    def _authorize(self, request: web.Request) -> None:
        if not self._tokens:
            return
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() not in ("bearer", "token") or token.strip() not in self._tokens:
            raise RequestError(
                401, "unauthorized", "a valid 'Authorization: Bearer <token>' header is required"
            )

    def _line_protocol(self, *allowed: str) -> Callable[[web.Request], Awaitable[Decoded]]:
        async def decode(request: web.Request) -> Decoded:
            name = request.query.get("precision", allowed[0])
            if name not in allowed:
                raise RequestError(
                    400, "invalid", f"precision {name!r}: use one of {list(allowed)}"
                )
            body = await self._read(request, LINE_PROTOCOL_ENCODINGS)
            try:
                points = parse_lines(
                    body, precision=normalize_precision(name), now_ms=int(self._clock() * 1000)
                )
            except BodyParseError as exc:
                self._metrics.bad_lines.inc(exc.bad_lines)
                raise RequestError(400, "invalid", str(exc)) from None
            return points, {}

        return decode

    async def _read(self, request: web.Request, encodings: tuple[str, ...]) -> bytes:
        body = await read_body(request, self._settings.collector.max_body_bytes, encodings)
        self._metrics.body_bytes.inc(request.content_length or len(body))
        return body

    async def _remote_write(self, request: web.Request) -> Decoded:
        c = self._settings.collector
        body = await self._read(request, REMOTE_WRITE_ENCODINGS)
        try:
            decoded = decode_write_request(
                body,
                max_labels=c.max_labels_per_series,
                max_series=c.max_series_per_request,
                cache=self._series,
            )
        except RemoteWriteError as exc:
            raise RequestError(400, "invalid", str(exc)) from None
        for reason, count in decoded.dropped.items():
            self._metrics.dropped.labels(reason).inc(count)
        if decoded.types:
            if len(self._types) > 100_000:
                self._types.clear()
            self._types.update(decoded.types)
        return decoded.points, self._types

    async def _produce(self, points: list[Point], types: Mapping[str, str]) -> web.Response:
        if not points:
            return web.Response(status=204)
        settings = self._settings
        try:
            # Keys of one partition share records: fewer, larger records for the workers.
            partition_of = await self._producer.partition_of(settings.topics.raw)
            records = encode_records(
                split_by_source(
                    points,
                    settings.collector.source_tags,
                    per_record=settings.collector.points_per_record,
                    partition_of=partition_of,
                ),
                types=types,
            )
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
    app.router.add_post("/api/v1/write", handler.remote_write)
    app.router.add_get("/health", health)
    app.router.add_get("/ping", ping)
    app.router.add_get("/metrics", metrics_view)
    return app
