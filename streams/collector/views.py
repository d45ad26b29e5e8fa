"""The collector's small HTTP views, its JSON errors and its answer to unknown paths.

Errors are JSON as InfluxDB 2 writes them: ``{"code": "invalid", "message": "..."}``, so
InfluxDB clients show the message. A path the collector does not serve answers 404 with the
write endpoints listed, and is counted in ``pulseline_collector_not_found_requests_total``: a
client configured with a wrong URL is otherwise hard to spot.

Example:
    >>> error_response(404, "not found", "no such path").text
    '{"code":"not found","message":"no such path"}'
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from streams.collector.metrics import CollectorMetrics
from streams.kafka import RecordProducer

PRODUCER_KEY = web.AppKey("producer", RecordProducer)
METRICS_KEY = web.AppKey("metrics", CollectorMetrics)
WRITE_ENDPOINTS = {
    "POST /api/v2/write": "InfluxDB 2 line protocol (query: precision ns|us|ms|s, org, bucket)",
    "POST /write": "InfluxDB 1.x line protocol (query: precision n|u|ms|s|m|h, db, rp)",
    "POST /api/v1/write": "Prometheus remote write 1.0 (protobuf, snappy)",
}
"""The write endpoints, as a 404 lists them."""


class RequestError(Exception):
    """Ends a request with an HTTP error status and an InfluxDB-style JSON body."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


def error_response(status: int, code: str, message: str, **extra: Any) -> web.Response:
    """An InfluxDB 2 style JSON error, with any ``extra`` keys; a 503 says when to retry."""
    headers = {"Retry-After": "1"} if status == 503 else None
    body = orjson.dumps({"code": code, "message": message, **extra})
    return web.Response(status=status, body=body, content_type="application/json", headers=headers)


@web.middleware
async def not_found(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Answer a path the collector does not serve with a JSON 404 listing the write endpoints."""
    try:
        return await handler(request)
    except web.HTTPNotFound:
        request.app[METRICS_KEY].not_found.inc()
        return error_response(
            404,
            "not found",
            f"path {request.path!r} not found; write to one of: {', '.join(WRITE_ENDPOINTS)}",
            write_endpoints=WRITE_ENDPOINTS,
        )


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
