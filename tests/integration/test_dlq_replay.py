"""``pulseline dlq show`` and ``dlq replay`` on real processes: a record the database refuses
(413 from a gateway in front of it whose body limit is too small) is dead-lettered; once the
limit is raised, a replay sends it back and it lands, every sample of it."""

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

from streams.stack.processes import free_port

pytestmark = pytest.mark.integration

BIG_LINES = 300
"""Lines of the body that is too large for the gateway until it is fixed."""


class Gateway:
    """A reverse proxy in front of the TSDB that answers 413 to bodies over ``limit`` bytes
    (after gunzip), as nginx's ``client_max_body_size`` does; None: no limit."""

    def __init__(self, upstream: str, limit: int | None) -> None:
        self.upstream = upstream
        self.limit = limit
        self.refused = 0
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                plain = gzip.decompress(body) if self.headers.get("Content-Encoding") else body
                if gateway.limit is not None and len(plain) > gateway.limit:
                    gateway.refused += 1
                    self._answer(413, b'{"code":"too large","message":"request body too large"}')
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
    proxy = Gateway(tsdb.url, limit=8_000)
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


def test_a_refused_record_is_replayed_after_the_fix_and_lands(
    pipeline: Pipeline, tsdb: Tsdb, broker: str, gateway: Gateway
) -> None:
    pipeline.env["PULSELINE_INFLUX__URL"] = gateway.url
    pipeline.env["PULSELINE_INFLUX__GZIP"] = "false"
    pipeline.worker()
    pipeline.collector()
    ts = (int(time.time()) - 120) * 1000
    big = "\n".join(
        f"dlqbig,host=big,series=s{i:04d},padding=xxxxxxxxxxxxxxxxxxxx value={i} {ts}"
        for i in range(BIG_LINES)
    )
    assert len(big) > gateway.limit  # type: ignore[operator]
    assert pipeline.push(big.encode())[0] == 204
    assert pipeline.push(f"dlqsmall,host=small value=1 {ts}".encode())[0] == 204

    # The small record is written; the big one is isolated and dead-lettered with the reason.
    wait_for(lambda: tsdb.count('{__name__="dlqsmall_value"}') == 1, 90, "the small record")
    dead = pipeline.raw_topic + ".dlq"
    [(value, headers)] = read_topic(broker, dead, expect=1)
    assert value.decode().count("dlqbig") == BIG_LINES
    assert b"413" in headers["pulseline-reason"]
    assert tsdb.count('{__name__="dlqbig_value"}') == 0

    shown = dlq(pipeline, "show").stdout.splitlines()
    assert shown[0].startswith(f"{dead}[")
    assert f"from {pipeline.raw_topic}[" in shown[0] and "raw-sink  key=big" in shown[0]
    assert shown[1].startswith("    reason: bucket 'metrics': ") and "answered 413" in shown[1]
    assert shown[-1].startswith(f"{dead}: 1 record (")

    # A dry run moves nothing; the cause is fixed; the replay moves the record back.
    before = topic_size(broker, pipeline.raw_topic)
    dry = dlq(pipeline, "replay", "--dry-run").stdout
    assert "would move 1 record (" in dry
    assert topic_size(broker, pipeline.raw_topic) == before
    gateway.limit = None
    moved = dlq(pipeline, "replay", "--reason", "413").stdout.splitlines()
    assert moved[0].startswith(f"moving {dead}[")
    assert moved[-2].startswith("moved 1 record (") and moved[-2].endswith(
        f"from {dead} to {pipeline.raw_topic}"
    )
    assert topic_size(broker, pipeline.raw_topic) == before + 1

    wait_for(
        lambda: tsdb.count('{__name__="dlqbig_value"}') == BIG_LINES, 90, "the replayed record"
    )
    exported = tsdb.export('{__name__="dlqbig_value"}')
    assert sorted(v for series in exported.values() for v in series.values()) == [
        float(i) for i in range(BIG_LINES)
    ]
    assert topic_size(broker, dead) == 1  # written this time, not dead-lettered again

    # The hint for next time selects nothing: the record was moved already.
    since = moved[-1].rpartition("--since ")[2]
    again = dlq(pipeline, "replay", "--since", since).stdout
    assert again.strip() == f"moved 0 records from {dead} to {pipeline.raw_topic}"
