"""How long the pipeline stands still after a worker is SIGKILLed mid-stream.

A feeder produces a sample per host every 200 ms, with hosts on every partition of the raw
topic. The time to resume is measured from the kill to the moment every host has a sample
stored whose timestamp is at or after the kill: a record produced after the kill can only
have been written by a live worker, so that moment is when every partition is processed
again. Two cases: the one worker is killed and started again (a supervisor restarting a
crashed process), and one of two workers is killed (the other takes its partitions over).
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator

import pytest
from conftest import Pipeline, Tsdb, wait_for

from streams.kafka import RecordProducer, key_hash
from streams.records import Point, encode_batch
from streams.settings import KafkaSettings
from streams.stack import components
from streams.stack.processes import ManagedProcess, free_port

pytestmark = pytest.mark.integration

RESUME_LIMIT_S = 10.0
PARTITIONS = 4


def hosts_on_every_partition(per_partition: int = 2) -> list[str]:
    """Host names that the producer's partitioner spreads over every partition."""
    chosen: dict[int, list[str]] = {p: [] for p in range(PARTITIONS)}
    n = 0
    while any(len(h) < per_partition for h in chosen.values()):
        host = f"r{n:03d}"
        hosts = chosen[key_hash(host) % PARTITIONS]
        if len(hosts) < per_partition:
            hosts.append(host)
        n += 1
    return sorted(h for hosts in chosen.values() for h in hosts)


class Feeder:
    """Produces one sample per host every ``every_s`` until stopped (value = its timestamp)."""

    def __init__(self, broker: str, topic: str, hosts: list[str], every_s: float = 0.2) -> None:
        self._broker, self._topic, self._hosts, self._every = broker, topic, hosts, every_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)
        self.sent = 0

    async def _run(self) -> None:
        producer = RecordProducer(
            KafkaSettings(broker=f"kafka://{self._broker}", enable_idempotence=False)
        )
        await producer.start()
        try:
            while not self._stop.is_set():
                now = int(time.time() * 1000)
                await producer.send_all(
                    self._topic,
                    [
                        (
                            h.encode(),
                            encode_batch([Point("resume", {"host": h}, {"value": 1.0}, now)]),
                        )
                        for h in self._hosts
                    ],
                )
                self.sent += 1
                await asyncio.sleep(self._every)
        finally:
            await producer.stop()

    def __enter__(self) -> Feeder:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(30)


def hosts_written_since(tsdb: Tsdb, since_ms: int) -> set[str]:
    """Hosts with a stored sample at or after ``since_ms``."""
    query = urllib.parse.urlencode(
        {"match[]": '{__name__="resume"}', "start": f"{since_ms / 1000:.3f}"}
    )
    with urllib.request.urlopen(f"{tsdb.url}/api/v1/export?{query}", timeout=30) as resp:
        rows = [json.loads(line) for line in resp.read().decode().splitlines()]
    return {row["metric"]["host"] for row in rows if any(t >= since_ms for t in row["timestamps"])}


def start_worker(pipeline: Pipeline, name: str) -> tuple[ManagedProcess, str]:
    """A worker with its own web port and state directory, named ``name``; and its web URL."""
    port = free_port()
    env = {
        **pipeline.env,
        "PULSELINE_WORKER__WEB_PORT": str(port),
        "PULSELINE_WORKER__DATA_DIR": str(pipeline.workdir / f"state-{name}"),
    }
    process = components.pulseline(
        "worker", pipeline.workdir, env, name=name, ready_url=f"http://127.0.0.1:{port}/metrics"
    )
    pipeline.processes.append(process)
    return process.start().wait_ready(60), f"http://127.0.0.1:{port}"


def records_consumed(web: str) -> float:
    """The worker's ``pulseline_sink_records_total`` (records its raw sink consumed)."""
    with urllib.request.urlopen(f"{web}/metrics", timeout=10) as resp:
        text = resp.read().decode()
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("pulseline_sink_records_total")
    )


def resume_time(tsdb: Tsdb, hosts: list[str], killed_at_ms: int, began: float) -> float:
    """Seconds from the kill (``began``, monotonic) until every host is written again."""
    wait_for(
        lambda: hosts_written_since(tsdb, killed_at_ms) == set(hosts),
        60,
        "every host written again after the kill",
        every=0.1,
    )
    return time.monotonic() - began


@pytest.fixture
def hosts(pipeline: Pipeline, tsdb: Tsdb, broker: str) -> Iterator[list[str]]:
    """The feeder runs for the test; every host is written once before it returns."""
    names = hosts_on_every_partition()
    with Feeder(broker, pipeline.raw_topic, names):
        yield names


def kill(worker: ManagedProcess) -> tuple[int, float]:
    """SIGKILL ``worker``; returns the wall-clock ms and monotonic time of the kill."""
    worker.kill()
    return int(time.time() * 1000), time.monotonic()


def test_a_restarted_worker_resumes_within_the_limit(
    pipeline: Pipeline, tsdb: Tsdb, hosts: list[str]
) -> None:
    worker, _ = start_worker(pipeline, "worker-a")
    since = int(time.time() * 1000)
    wait_for(lambda: hosts_written_since(tsdb, since) == set(hosts), 60, "the first writes")
    killed_at, began = kill(worker)
    start_worker(pipeline, "worker-a")
    took = resume_time(tsdb, hosts, killed_at, began)
    print(f"resume after SIGKILL and restart of the only worker: {took:.1f}s")
    assert took <= RESUME_LIMIT_S


def test_a_surviving_worker_takes_over_within_the_limit(
    pipeline: Pipeline, tsdb: Tsdb, hosts: list[str]
) -> None:
    first, web_a = start_worker(pipeline, "worker-a")
    _, web_b = start_worker(pipeline, "worker-b")
    wait_for(lambda: records_consumed(web_b) > 0, 60, "the second worker consuming")
    since, consumed_a = int(time.time() * 1000), records_consumed(web_a)
    wait_for(lambda: hosts_written_since(tsdb, since) == set(hosts), 60, "the first writes")
    assert records_consumed(web_a) > consumed_a, "the worker to kill owns no partition"
    killed_at, began = kill(first)
    took = resume_time(tsdb, hosts, killed_at, began)
    print(f"resume after SIGKILL of one of two workers: {took:.1f}s")
    assert took <= RESUME_LIMIT_S
