"""pulseline as a target of the differential tests: a real ``pulseline worker`` on a broker.

Each start gets its own topics (created as ``pulseline topics create`` does) and consumer
group, as a ``pipeline`` fixture's, the scenario's alertmanager.yml as
``alertmanager.config``, and a web port of its own. The base URL is yielded once the worker
holds its partitions, its tables are recovered, and its API accepts alerts: what a scenario
posts at its first instant is then owned and timed at once. When the worker has stopped, the
run's topics (those created here and the worker's own: table changelogs, the assignor's)
are deleted: the session's broker would otherwise grow by a dozen topics a scenario, and
every Kafka client of every later worker reads the metadata of them all when it starts.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
from aiokafka.admin import AIOKafkaAdminClient
from conftest import IDEMPOTENCE
from oracle import Target

from streams.kafka import ensure_topics
from streams.settings import KafkaSettings, TopicSettings
from streams.stack import components
from streams.stack.processes import ProcessError, free_port

PARTITIONS = 4
READY_S = 90.0
"""How long a worker may take to hold its partitions and answer its API."""


TOPICS = {
    "raw": "raw",
    "members": "members",
    "late": "late",
    "rule_samples": "rules",
    "alerts": "alerts",
    "alert_groups": "alert-groups",
    "silences": "silences",
    "notifications": "notifications",
}
"""Each topic setting and the prefix of its name; a run's topics end with the run."""


def _topics(run: str) -> TopicSettings:
    return TopicSettings(**{field: f"{prefix}.{run}" for field, prefix in TOPICS.items()})


def _env(
    broker: str, topics: TopicSettings, run: str, web_port: int, config: Path
) -> dict[str, str]:
    env = {
        **os.environ,
        "PULSELINE_KAFKA__BROKER": f"kafka://{broker}",
        "PULSELINE_KAFKA__PARTITIONS": str(PARTITIONS),
        "PULSELINE_KAFKA__ENABLE_IDEMPOTENCE": IDEMPOTENCE,
        **{f"PULSELINE_TOPICS__{field.upper()}": getattr(topics, field) for field in TOPICS},
        "PULSELINE_WORKER__APP_ID": f"pulseline-{run}",
        "PULSELINE_WORKER__WEB_PORT": str(web_port),
        "PULSELINE_ALERTMANAGER__CONFIG": str(config),
    }
    env.pop("PULSELINE_CONFIG", None)
    return env


async def _answers(base: str, deadline: float) -> None:
    """Wait until the worker accepts alerts (an empty list) and answers its status."""
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as http:
        while True:
            try:
                async with (
                    http.post(f"{base}/api/v2/alerts", json=[]) as posted,
                    http.get(f"{base}/api/v2/status") as status,
                ):
                    if posted.status == 200 and status.status == 200:
                        return
            except (aiohttp.ClientError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                raise ProcessError(f"the worker at {base} did not answer its API in time")
            await asyncio.sleep(0.2)


async def _delete_topics(broker: str, run: str) -> None:
    """Delete every topic of a run: its name holds the run's id."""
    admin = AIOKafkaAdminClient(bootstrap_servers=broker)
    await admin.start()
    try:
        names = [t for t in await admin.list_topics() if run in t]
        if names:
            await admin.delete_topics(names)
    finally:
        await admin.close()


def pulseline_target(broker: str) -> Target:
    """A :data:`oracle.Target` starting ``pulseline worker`` on ``broker`` (``host:port``)."""

    @asynccontextmanager
    async def start(config: str, workdir: Path) -> AsyncIterator[str]:
        run = f"am-{workdir.parent.name}-{uuid.uuid4().hex[:6]}"
        path = workdir / "alertmanager.yml"
        path.write_text(config)
        topics = _topics(run)
        kafka = KafkaSettings(broker=f"kafka://{broker}", partitions=PARTITIONS)
        await ensure_topics(kafka, topics.pipeline(PARTITIONS), topics.compacted())
        web_port = free_port()
        base = f"http://127.0.0.1:{web_port}"
        process = components.pulseline(
            "worker", workdir, _env(broker, topics, run, web_port, path), ready_url=f"{base}/health"
        )
        deadline = time.monotonic() + READY_S
        try:
            await asyncio.to_thread(lambda: process.start().wait_ready(READY_S))
            await _answers(base, deadline)
            yield base
        finally:
            await asyncio.to_thread(process.stop, 10)
            await _delete_topics(broker, run)

    return start
