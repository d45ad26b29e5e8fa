"""The collector's HTTP push endpoints.

``POST /api/v1/write`` takes Prometheus remote write 1.0 (protobuf, snappy), so Prometheus,
vmagent, Grafana Agent or Alloy push unchanged; samples keep their metric type from the
request metadata. ``collector.max_series_per_request`` limits a request (400).

``POST /api/v2/write`` and ``POST /write`` take InfluxDB line protocol, the first with the
InfluxDB 2 ``precision`` names (``ns``, ``us``, ``ms``, ``s``), the second with the 1.x ones
(``n``, ``u``, ``ms``, ``s``, ``m``, ``h``); gzip and deflate bodies are accepted. A body
without a single line is a 400 ("writing requires points"), as in InfluxDB. Every point goes
to the raw tier's bucket: a write naming another ``bucket`` (or ``db`` and ``rp``), or another
``org`` than ``influx.org``, is refused with 404 as InfluxDB refuses an unknown bucket; the
other tiers' buckets are written by the downsampler only.

Every point of every endpoint passes the :class:`~streams.collector.door.Door`: timestamps the
store would drop, too many or too long labels and names line protocol cannot carry are refused
with 400 naming the line (or the series), so a 204 means "storable". A point larger than
``kafka.max_record_bytes`` encoded is refused with 413 naming its series. With
``collector.tokens`` set, every write needs ``Authorization: Bearer <token>`` (or InfluxDB's
``Token <token>``), else 401; without tokens writes are not authenticated, which the
collector logs when it starts. Any other path is a 404 whose body lists the write endpoints.

A request is all or nothing: when any line or point is bad the answer is 400 naming the first
ones, and nothing of the body is produced (InfluxDB 2 instead writes the good lines; a
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
from typing import NamedTuple

from aiohttp import web

from streams.codecs.lineprotocol import normalize_precision, parse_lines, point_lines
from streams.codecs.remotewrite import RemoteWriteError, SeriesCache, decode_write_request
from streams.collector.batching import (
    PointTooLargeError,
    describe,
    encode_records,
    split_by_source,
)
from streams.collector.bodies import (
    LINE_PROTOCOL_ENCODINGS,
    REMOTE_WRITE_ENCODINGS,
    BodyError,
    read_body,
)
from streams.collector.destination import check_v1, check_v2
from streams.collector.door import Door
from streams.collector.metrics import CollectorMetrics
from streams.collector.views import (
    METRICS_KEY,
    PRODUCER_KEY,
    RequestError,
    error_response,
    health,
    metrics_view,
    not_found,
    ping,
)
from streams.errors import BodyParseError
from streams.kafka import ProduceError, RecordProducer, RecordTooLargeError
from streams.names import without_created
from streams.records import Point, encode_batch
from streams.settings import Settings

log = logging.getLogger(__name__)

REPORTED_REFUSALS = 10
"""How many refused points a 400 names."""


class Decoded(NamedTuple):
    """The points of a body, their metric types, and where each point is in the body."""

    points: list[Point]
    types: Mapping[str, str]
    lines: Callable[[], list[int]] | None = None


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
        self._door = Door(settings, clock)
        self._bucket = settings.tiers[0].bucket
        self._tokens = {t.get_secret_value() for t in settings.collector.tokens.values()}
        self._series = SeriesCache()
        self._types: dict[str, str] = {}

    async def write_v2(self, request: web.Request) -> web.Response:
        """``POST /api/v2/write``: precision ``ns`` (default), ``us``, ``ms`` or ``s``."""
        return await self._write(
            request, "/api/v2/write", self._line_protocol(self._check_bucket, "ns", "us", "ms", "s")
        )

    async def write_v1(self, request: web.Request) -> web.Response:
        """``POST /write``: precision ``n`` (default), ``u``, ``ms``, ``s``, ``m`` or ``h``."""
        return await self._write(
            request, "/write", self._line_protocol(self._check_db, "n", "u", "ms", "s", "m", "h")
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
            decoded = await decode(request)
            self._admit(decoded)
            response = await self._produce(decoded.points, decoded.types)
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

    def _check_bucket(self, request: web.Request) -> None:
        check_v2(request.query, bucket=self._bucket, org=self._settings.influx.org)

    def _check_db(self, request: web.Request) -> None:
        check_v1(request.query, bucket=self._bucket)

    def _line_protocol(
        self, check: Callable[[web.Request], None], *allowed: str
    ) -> Callable[[web.Request], Awaitable[Decoded]]:
        async def decode(request: web.Request) -> Decoded:
            check(request)
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
            if not points:
                raise RequestError(
                    400, "invalid", "writing requires points: the body holds no line-protocol line"
                )
            return Decoded(points, {}, lambda: point_lines(body))

        return decode

    async def _read(self, request: web.Request, encodings: tuple[str, ...]) -> bytes:
        try:
            body = await read_body(request, self._settings.collector.max_body_bytes, encodings)
        except BodyError as exc:
            code = {413: "request too large", 415: "unsupported"}.get(exc.status, "invalid")
            raise RequestError(exc.status, code, str(exc)) from None
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
        points = decoded.points
        if not c.keep_created:
            points = without_created(points, self._types)
        return Decoded(points, self._types)

    def _admit(self, decoded: Decoded) -> None:
        """Refuse the request (400) when the door refuses any of its points."""
        refused = self._door.refusals(decoded.points)
        if not refused:
            return
        for refusal in refused:
            self._metrics.refused.labels(refusal.reason).inc()
        lines = decoded.lines() if decoded.lines is not None else None
        shown = "; ".join(
            f"line {lines[r.position]}: {r.message}" if lines else r.message
            for r in refused[:REPORTED_REFUSALS]
        )
        more = len(refused) - REPORTED_REFUSALS
        suffix = f"; and {more} more" if more > 0 else ""
        raise RequestError(400, "invalid", f"{len(refused)} point(s) refused: {shown}{suffix}")

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
                settings.kafka.max_record_bytes,
                types=types,
            )
            await self._producer.send_all(settings.topics.raw, records)
        except PointTooLargeError as exc:
            raise RequestError(413, "request too large", str(exc)) from None
        except RecordTooLargeError as exc:
            largest = max(points, key=lambda p: len(encode_batch([p])))
            raise RequestError(
                413, "request too large", f"{exc}; the largest point is of {describe(largest)}"
            ) from None
        except ProduceError as exc:
            self._metrics.produce_failures.inc()
            log.warning("answering 503: %s", exc)
            raise RequestError(503, "unavailable", f"{exc}; retry later") from None
        self._metrics.points.inc(len(points))
        self._metrics.samples.inc(sum(len(p.fields) for p in points))
        self._metrics.records.inc(len(records))
        return web.Response(status=204)


def create_push_app(
    settings: Settings,
    producer: RecordProducer,
    metrics: CollectorMetrics,
    clock: Callable[[], float] = time.time,
) -> web.Application:
    """The collector's aiohttp application; the caller runs it and owns the producer.

    Bodies are inflated by the handlers (see :mod:`streams.collector.bodies`), not by the
    server.
    """
    app = web.Application(
        client_max_size=settings.collector.max_body_bytes,
        middlewares=[not_found],
        handler_args={"auto_decompress": False},
    )
    app[PRODUCER_KEY] = producer
    app[METRICS_KEY] = metrics
    handler = PushHandler(settings, producer, metrics, clock)
    app.router.add_post("/api/v2/write", handler.write_v2)
    app.router.add_post("/write", handler.write_v1)
    app.router.add_post("/api/v1/write", handler.remote_write)
    app.router.add_get("/health", health)
    app.router.add_get("/ping", ping)
    app.router.add_get("/metrics", metrics_view)
    if not settings.collector.tokens:
        log.warning(
            "collector.tokens is empty: writes are not authenticated, and anyone who reaches "
            "http://%s can write; set collector.tokens to require a token",
            settings.collector.listen,
        )
    return app
