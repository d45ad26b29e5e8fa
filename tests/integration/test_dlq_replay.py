"""``pulseline dlq show`` and ``dlq replay`` on real processes: points the database refuses
(422 from a gateway in front of it whose write policy does not allow their measurement) are
dead-lettered, the rest of their record is written; once the policy is fixed, a replay sends
the dead letter back and its points land, every one."""

from __future__ import annotations

import gzip
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from conftest import Pipeline, Tsdb, read_topic, topic_size, wait_for

from streams.records import decode_batch
from streams.stack.processes import free_port

pytestmark = pytest.mark.integration

REFUSED, WRITTEN = 20, 50
"""Points of the refused measurement and of another one, in one pushed body (one record)."""


class Gateway:
    """A reverse proxy in front of the TSDB whose write policy refuses, with 422, any request
    holding a line of the measurement ``refuse`` (None: everything goes through)."""

    def __init__(self, upstream: str, refuse: str | None) -> None:
        self.upstream = upstream
        self.refuse = refuse
        self.refused = 0
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                plain = gzip.decompress(body) if self.headers.get("Content-Encoding") else body
                refuse = gateway.refuse
                if refuse is not None and f"\n{refuse},".encode() in b"\n" + plain:
                    gateway.refused += 1
                    message = f'{{"code":"unprocessable entity","message":"{refuse}: not allowed"}}'
                    self._answer(422, message.encode())
                    return
                request = urllib.request.Request(
                    gateway.upstream + self.path, data=body, method="POST"
                )
                for name in ("Content-Type", "Content-Encoding", "Authorization"):
                    if self.headers.get(name):
                        request.add_header(name, self.headers[name])
                try:
                    with urllib.request.urlopen(request, timeout=30) as response:
                        self._answer(response.status, response.read())
                except urllib.error.HTTPError as exc:
                    self._answer(exc.code, exc.read())

            def _answer(self, status: int, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.port = free_port()
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@pytest.fixture
def gateway(tsdb: Tsdb) -> Iterator[Gateway]:
    proxy = Gateway(tsdb.url, refuse="dlqheld")
    proxy.thread.start()
    yield proxy
    proxy.server.shutdown()
    proxy.server.server_close()


def dlq(pipeline: Pipeline, *args: str) -> subprocess.CompletedProcess[str]:
    """``pulseline dlq ARGS`` with the pipeline's settings."""
    run = subprocess.run(
        [sys.executable, "-m", "streams", "dlq", *args],
        env=pipeline.env,
        cwd=pipeline.workdir,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    return run


def test_refused_points_are_replayed_after_the_fix_and_land(
    pipeline: Pipeline, tsdb: Tsdb, broker: str, gateway: Gateway
) -> None:
    pipeline.env["PULSELINE_INFLUX__URL"] = gateway.url
    pipeline.worker()
    pipeline.collector()
    ts = (int(time.time()) - 120) * 1000
    lines = [f"dlqok,host=mixed,series=s{i} value={i} {ts}" for i in range(WRITTEN)]
    lines += [f"dlqheld,host=mixed,series=s{i} value={i} {ts}" for i in range(REFUSED)]
    assert pipeline.push("\n".join(sorted(lines)).encode())[0] == 204

    # The record's other points are written; the refused ones are one dead letter, with why.
    wait_for(lambda: tsdb.count('{__name__="dlqok"}') == WRITTEN, 90, "the allowed points")
    dead = pipeline.raw_topic + ".dlq"
    [(value, headers)] = read_topic(broker, dead, expect=1)
    held = decode_batch(value)
    assert sorted(p.tags["series"] for p in held) == sorted(f"s{i}" for i in range(REFUSED))
    assert {p.measurement for p in held} == {"dlqheld"}
    assert b"422" in headers["pulseline-reason"]
    assert tsdb.count('{__name__="dlqheld"}') == 0

    shown = dlq(pipeline, "show").stdout.splitlines()
    assert shown[0].startswith(f"{dead}[")
    assert f"from {pipeline.raw_topic}[" in shown[0] and "raw-sink  key=mixed" in shown[0]
    assert shown[1].startswith("    reason: bucket 'metrics': ") and "answered 422" in shown[1]
    assert shown[-1].startswith(f"{dead}: 1 record (")

    # A dry run moves nothing; the cause is fixed; the replay moves the letter back.
    before = topic_size(broker, pipeline.raw_topic)
    dry = dlq(pipeline, "replay", "--dry-run").stdout
    assert "would move 1 record (" in dry
    assert topic_size(broker, pipeline.raw_topic) == before
    gateway.refuse = None
    moved = dlq(pipeline, "replay", "--reason", "422").stdout.splitlines()
    assert moved[0].startswith(f"moving {dead}[")
    assert moved[-2].startswith("moved 1 record (") and moved[-2].endswith(
        f"from {dead} to {pipeline.raw_topic}"
    )
    assert topic_size(broker, pipeline.raw_topic) == before + 1

    wait_for(lambda: tsdb.count('{__name__="dlqheld"}') == REFUSED, 90, "the replayed points")
    exported = tsdb.export('{__name__="dlqheld"}')
    assert sorted(v for series in exported.values() for v in series.values()) == [
        float(i) for i in range(REFUSED)
    ]
    assert tsdb.count('{__name__="dlqok"}') == WRITTEN
    assert topic_size(broker, dead) == 1  # written this time, not dead-lettered again

    # The hint for next time selects nothing: the letter was moved already.
    since = moved[-1].rpartition("--since ")[2]
    again = dlq(pipeline, "replay", "--since", since).stdout
    assert again.strip() == f"moved 0 records from {dead} to {pipeline.raw_topic}"
