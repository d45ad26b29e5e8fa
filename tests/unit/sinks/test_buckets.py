"""``pulseline buckets ensure`` against a stand-in for InfluxDB 2's HTTP API.

The stand-in answers with the shapes the InfluxDB 2 API documents (orgs, buckets with
retentionRules) and records every request, so the test checks the exchange itself.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from streams.errors import SinkError
from streams.settings import Settings
from streams.sinks.buckets import ensure_buckets

ORG = {"id": "0a1b2c3d4e5f6a7b", "name": "pulseline"}


class FakeInflux:
    def __init__(self) -> None:
        self.buckets: dict[str, dict[str, Any]] = {}
        self.requests: list[tuple[str, str, Any]] = []
        self.token_ok = True


def _handler(state: FakeInflux) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def _reply(self, status: int, body: Any) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _body(self) -> Any:
            length = int(self.headers.get("Content-Length", 0))
            return json.loads(self.rfile.read(length)) if length else None

        def _route(self, method: str) -> None:
            url = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            body = self._body()
            state.requests.append((method, url.path, body if body is not None else query))
            if self.headers.get("Authorization") != "Token t0ken":
                return self._reply(401, {"code": "unauthorized", "message": "unauthorized access"})
            if method == "GET" and url.path == "/api/v2/orgs":
                orgs = [ORG] if query.get("org") == ORG["name"] else []
                return self._reply(200, {"orgs": orgs})
            if method == "GET" and url.path == "/api/v2/buckets":
                found = [b for b in state.buckets.values() if b["name"] == query.get("name")]
                return self._reply(200, {"buckets": found})
            if method == "POST" and url.path == "/api/v2/buckets":
                bucket = {
                    "id": f"b{len(state.buckets):015d}",
                    "orgID": body["orgID"],
                    "type": "user",
                    "name": body["name"],
                    "retentionRules": body["retentionRules"],
                }
                state.buckets[bucket["id"]] = bucket
                return self._reply(201, bucket)
            if method == "PATCH" and url.path.startswith("/api/v2/buckets/"):
                bucket = state.buckets[url.path.rsplit("/", 1)[1]]
                bucket["retentionRules"] = body["retentionRules"]
                return self._reply(200, bucket)
            return self._reply(404, {"code": "not found", "message": url.path})

        def do_GET(self) -> None:
            self._route("GET")

        def do_POST(self) -> None:
            self._route("POST")

        def do_PATCH(self) -> None:
            self._route("PATCH")

    return Handler


@pytest.fixture
def influx(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeInflux]:
    state = FakeInflux()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("PULSELINE_INFLUX__URL", f"http://127.0.0.1:{server.server_port}")
    monkeypatch.setenv("PULSELINE_INFLUX__TOKEN", "t0ken")
    yield state
    server.shutdown()


def test_missing_buckets_are_created_with_each_tier_retention(influx: FakeInflux) -> None:
    report = ensure_buckets(Settings.load(None))
    assert [line.split(":")[0] for line in report] == ["metrics", "metrics_1m", "metrics_1h"]
    assert all("created" in line for line in report)
    posts = [body for method, _, body in influx.requests if method == "POST"]
    assert [(p["name"], p["orgID"], p["retentionRules"]) for p in posts] == [
        ("metrics", ORG["id"], [{"type": "expire", "everySeconds": 7 * 86400}]),
        ("metrics_1m", ORG["id"], [{"type": "expire", "everySeconds": 30 * 86400}]),
        ("metrics_1h", ORG["id"], [{"type": "expire", "everySeconds": 365 * 86400}]),
    ]


def test_existing_buckets_are_kept_or_get_the_configured_retention(influx: FakeInflux) -> None:
    ensure_buckets(Settings.load(None))
    influx.buckets["b000000000000001"]["retentionRules"] = [
        {"type": "expire", "everySeconds": 3600}
    ]
    influx.requests.clear()
    report = ensure_buckets(Settings.load(None))
    assert report[0].startswith("metrics: exists")
    assert report[1].startswith("metrics_1m: retention 30d set") and "was 1h" in report[1]
    assert [m for m, _, _ in influx.requests].count("POST") == 0
    (patch,) = [body for method, _, body in influx.requests if method == "PATCH"]
    assert patch["retentionRules"] == [{"type": "expire", "everySeconds": 30 * 86400}]


def test_a_wrong_token_is_an_error_naming_the_bucket(
    influx: FakeInflux, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PULSELINE_INFLUX__TOKEN", "wrong")
    with pytest.raises(SinkError) as err:
        ensure_buckets(Settings.load(None))
    assert err.value.status == 401 and "bucket 'metrics'" in str(err.value)


def test_unknown_org_and_unreachable_server(
    influx: FakeInflux, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PULSELINE_INFLUX__ORG", "nope")
    with pytest.raises(SinkError, match="no organization 'nope'"):
        ensure_buckets(Settings.load(None))
    monkeypatch.setenv("PULSELINE_INFLUX__URL", "http://127.0.0.1:1")
    monkeypatch.setenv("PULSELINE_INFLUX__TIMEOUT_S", "2")
    with pytest.raises(SinkError) as err:
        ensure_buckets(Settings.load(None))
    assert err.value.status is None
