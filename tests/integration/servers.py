"""Real servers for tests: a Kafka broker, VictoriaMetrics and pulseline processes.

A pytest plugin (registered by ``tests/conftest.py``), so that every test folder can use
these fixtures, and a module the tests import their helpers from (``from servers import
Pipeline, wait_for``). The broker is Apache Kafka (KRaft, one node), started once for the
session; ``PULSELINE_TEST_BROKER=tansu`` runs the suite on Tansu instead (memory-only, ready at
once). Each test module gets its own TSDB; each pipeline gets its own topics and consumer
group, so tests never see each other's data. A :class:`Receiver` records the notifications
the workers' alert manager sends. Everything started is stopped, with SIGKILL
after a deadline.
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
import time
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from streams.kafka import ensure_topics
from streams.settings import KafkaSettings
from streams.stack import components
from streams.stack.capture import Delivery, WebhookCapture
from streams.stack.processes import ManagedProcess, free_port


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("stack")


BROKER_ENGINE = os.environ.get("PULSELINE_TEST_BROKER", "kafka")
"""The broker engine of the session: ``kafka`` (the default) or ``tansu``."""
IDEMPOTENCE = "true" if BROKER_ENGINE == "kafka" else "false"  # Tansu has no idempotent producer
kafka_only = pytest.mark.skipif(BROKER_ENGINE != "kafka", reason="needs Apache Kafka")


def start_broker(workdir: Path) -> tuple[ManagedProcess, str]:
    """A broker of the session's engine, ready; returns it and its ``host:port``."""
    if BROKER_ENGINE not in components.BROKERS:
        pytest.fail(f"PULSELINE_TEST_BROKER={BROKER_ENGINE}: not one of {list(components.BROKERS)}")
    port = free_port()
    process = components.broker(port, workdir, BROKER_ENGINE)  # type: ignore[arg-type]
    return process.start().wait_ready(120), f"127.0.0.1:{port}"


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The session's broker, shared by every test (each uses its own topics and groups)."""
    process, address = start_broker(tmp_path_factory.mktemp("broker"))
    yield address
    process.stop(deadline=30)


@dataclass
class Tsdb:
    """A VictoriaMetrics server and queries against it."""

    process: ManagedProcess
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def export(self, match: str) -> dict[str, dict[int, float]]:
        """Every raw sample of the series matching ``match``: series -> {ts_ms: value}."""
        query = urllib.parse.urlencode({"match[]": match})
        with urllib.request.urlopen(f"{self.url}/api/v1/export?{query}", timeout=60) as resp:
            text = resp.read().decode()
        out: dict[str, dict[int, float]] = {}
        for line in text.splitlines():
            row = json.loads(line)
            labels = row["metric"]
            key = labels.pop("__name__") + json.dumps(labels, sort_keys=True)
            series = out.setdefault(key, {})
            series.update(zip(row["timestamps"], row["values"], strict=True))
        return out

    def count(self, match: str) -> int:
        return sum(len(s) for s in self.export(match).values())


@pytest.fixture(scope="module")
def tsdb(workdir: Path) -> Iterator[Tsdb]:
    port = free_port()
    # One sample per series and timestamp, as InfluxDB: a replay overwrites, never adds.
    process = components.victoria_metrics(port, workdir, dedup=True).start().wait_ready(30)
    yield Tsdb(process, port)
    process.stop()


@pytest.fixture(scope="module")
def minute_store(workdir: Path) -> Iterator[Tsdb]:
    """A second VictoriaMetrics (dedup on), for a pipeline's 1-minute tier."""
    port = free_port()
    process = components.victoria_metrics(port, workdir, dedup=True).start().wait_ready(30)
    yield Tsdb(process, port)
    process.stop()


@pytest.fixture(scope="module")
def own_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ManagedProcess, str]]:
    """A broker of the module's own, which its tests may stop, kill and start again.

    A module makes its pipelines use it by overriding ``broker`` with ``own_broker[1]``.
    """
    process, address = start_broker(tmp_path_factory.mktemp("own-broker"))
    yield process, address
    process.stop(deadline=30)


@dataclass
class Pipeline:
    """The settings environment of one pipeline, and its pulseline processes."""

    env: dict[str, str]
    workdir: Path
    collector_url: str
    worker_web: str
    raw_topic: str
    processes: list[ManagedProcess] = field(default_factory=list)

    def worker(self, name: str = "worker", web_port: int | None = None) -> ManagedProcess:
        """A worker, once its web server answers; ``web_port`` for a second one on this host."""
        env, web = self.env, self.worker_web
        if web_port is not None:
            env = {**env, "PULSELINE_WORKER__WEB_PORT": str(web_port)}
            web = f"http://127.0.0.1:{web_port}"
        process = components.pulseline(
            "worker", self.workdir, env, name=name, ready_url=f"{web}/metrics"
        )
        self.processes.append(process)
        return process.start().wait_ready(60)

    def collector(self, name: str = "collect", env: dict[str, str] | None = None) -> ManagedProcess:
        env = {**self.env, **(env or {})}
        url = f"http://{env['PULSELINE_COLLECTOR__LISTEN']}"
        process = components.pulseline(
            "collect", self.workdir, env, name=name, ready_url=f"{url}/health"
        )
        self.processes.append(process)
        return process.start().wait_ready(60)

    def push(
        self,
        body: bytes,
        path: str = "/api/v2/write?precision=ms",
        headers: dict[str, str] | None = None,
    ) -> tuple[int, str]:
        """POST ``body`` to the collector: its status and answer."""
        url = self.collector_url + path
        request = urllib.request.Request(url, data=body, method="POST", headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=60) as resp:
                return resp.status, resp.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.stop(deadline=10)


@pytest.fixture
def pipeline(
    broker: str, tsdb: Tsdb, workdir: Path, request: pytest.FixtureRequest
) -> Iterator[Pipeline]:
    """Topics created; start the worker and collector with ``pipeline.worker()`` etc."""
    name = "".join(c if c.isalnum() or c in "._-" else "-" for c in request.node.name[:40])
    run = f"{name}-{uuid.uuid4().hex[:6]}"  # a topic name: no brackets of parameters
    collector_port, web_port = free_port(), free_port()
    env = {
        **os.environ,
        "PULSELINE_KAFKA__BROKER": f"kafka://{broker}",
        "PULSELINE_KAFKA__PARTITIONS": "4",
        "PULSELINE_KAFKA__ENABLE_IDEMPOTENCE": IDEMPOTENCE,
        "PULSELINE_TOPICS__RAW": f"raw.{run}",
        "PULSELINE_TOPICS__MEMBERS": f"members.{run}",
        "PULSELINE_TOPICS__LATE": f"late.{run}",
        "PULSELINE_TOPICS__RULE_SAMPLES": f"rules.{run}",
        "PULSELINE_TOPICS__ALERTS": f"alerts.{run}",
        "PULSELINE_TOPICS__ALERT_GROUPS": f"alert-groups.{run}",
        "PULSELINE_TOPICS__SILENCES": f"silences.{run}",
        "PULSELINE_TOPICS__NOTIFICATIONS": f"notifications.{run}",
        "PULSELINE_INFLUX__URL": tsdb.url,
        "PULSELINE_INFLUX__RETRY_MAX_S": "2",
        "PULSELINE_COLLECTOR__LISTEN": f"127.0.0.1:{collector_port}",
        "PULSELINE_WORKER__APP_ID": f"pulseline-{run}",
        "PULSELINE_WORKER__WEB_PORT": str(web_port),
    }
    env.pop("PULSELINE_CONFIG", None)
    directory = workdir / run
    directory.mkdir()
    kafka = KafkaSettings(broker=f"kafka://{broker}", partitions=4)
    layout = {
        f"raw.{run}": 4,
        f"raw.{run}.dlq": 4,
        f"late.{run}": 4,
        f"rules.{run}": 4,
        f"alerts.{run}": 4,
        f"alert-groups.{run}": 4,
        f"silences.{run}": 1,
        f"notifications.{run}": 4,
        f"members.{run}": 1,
    }
    asyncio.run(ensure_topics(kafka, layout))
    p = Pipeline(
        env,
        directory,
        f"http://127.0.0.1:{collector_port}",
        f"http://127.0.0.1:{web_port}",
        f"raw.{run}",
    )
    yield p
    p.stop()


class Receiver:
    """A recording webhook server in its own thread; ``answer`` picks each reply's status."""

    def __init__(self, answer: Callable[[Delivery], int] | None = None) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._capture = WebhookCapture(answer=answer)

    def _run(self, coroutine: Any, timeout: float) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)

    def start(self) -> Receiver:
        self._thread.start()
        self._run(self._capture.start(), 10)
        return self

    def stop(self) -> None:
        self._run(self._capture.stop(), 10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    @property
    def url(self) -> str:
        return self._capture.url

    @property
    def deliveries(self) -> list[Delivery]:
        """Every request so far (a copy), in arrival order."""
        return list(self._capture.deliveries)

    def accepted(self) -> list[Delivery]:
        """The requests answered 2xx: the notifications delivered."""
        return [d for d in self.deliveries if 200 <= d.status < 300]

    def wait_for(
        self, check: Callable[[Sequence[Delivery]], bool], what: str, timeout: float = 60
    ) -> None:
        """Wait until ``check(deliveries)`` holds; woken by each arrival, never a sleep."""
        self._run(self._capture.wait_for(check, timeout=timeout, what=what), timeout + 10)


def wait_for(check: Callable[[], bool], timeout: float, what: str, every: float = 0.5) -> None:
    """Poll ``check`` until it is true; fail with ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(every)


def topic_size(broker: str, topic: str) -> int:
    """How many records a topic holds in all partitions."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    async def count() -> int:
        consumer = AIOKafkaConsumer(bootstrap_servers=broker)
        await consumer.start()
        try:
            parts = consumer.partitions_for_topic(topic) or set()
            if not parts:
                await consumer._client.force_metadata_update()
                parts = consumer.partitions_for_topic(topic) or set()
            tps = [TopicPartition(topic, p) for p in parts]
            ends = await consumer.end_offsets(tps)
            starts = await consumer.beginning_offsets(tps)
            return sum(ends[tp] - starts[tp] for tp in tps)
        finally:
            await consumer.stop()

    return asyncio.run(count())


def read_topic(
    broker: str, topic: str, expect: int, timeout: float = 60
) -> list[tuple[bytes, dict[str, bytes]]]:
    """The values and headers of a topic's records; stops at ``expect`` or after ``timeout``."""
    from aiokafka import AIOKafkaConsumer

    async def read() -> list[tuple[bytes, dict[str, bytes]]]:
        consumer = AIOKafkaConsumer(
            topic, bootstrap_servers=broker, auto_offset_reset="earliest", group_id=None
        )
        await consumer.start()
        out: list[tuple[bytes, dict[str, bytes]]] = []
        try:
            deadline = time.monotonic() + timeout
            while len(out) < expect and time.monotonic() < deadline:
                batches = await consumer.getmany(timeout_ms=1000)
                for messages in batches.values():
                    out.extend((m.value, dict(m.headers)) for m in messages)
        finally:
            await consumer.stop()
        return out

    return asyncio.run(read())
