"""What Apache Kafka enforces and Tansu does not: topic configuration, no automatic topic
creation, the idempotent producer, and a broker restart that keeps its data.

The restart test runs its own broker (the session's is shared); the pipeline's worker and
collector stay up while the broker is killed and started again on the same log directory.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import UnknownTopicOrPartitionError
from conftest import Pipeline, Tsdb, kafka_only, topic_size, wait_for

from streams.kafka import RecordProducer
from streams.settings import KafkaSettings
from streams.stack.processes import ManagedProcess

pytestmark = [pytest.mark.integration, kafka_only]

TOPIC_CONFIG_SOURCE = 1  # DescribeConfigs' DYNAMIC_TOPIC_CONFIG: set on the topic itself


async def _configs(broker: str, topics: list[str]) -> dict[str, dict[str, tuple[str, int]]]:
    """Topic -> config name -> (value, source) as the broker describes them."""
    admin = AIOKafkaAdminClient(bootstrap_servers=broker)
    await admin.start()
    try:
        responses = await admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, t) for t in topics]
        )
    finally:
        await admin.close()
    out: dict[str, dict[str, tuple[str, int]]] = {}
    for response in responses:
        for error, message, _, name, entries in response.resources:
            assert error == 0, f"{name}: {message}"
            out[name] = {e[0]: (e[1], e[3]) for e in entries}
    return out


async def _group_offsets(broker: str, group: str) -> dict[TopicPartition, int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=broker)
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(group)
    finally:
        await admin.close()
    return {tp: meta.offset for tp, meta in offsets.items()}


def test_topics_are_created_as_production_wants(pipeline: Pipeline, broker: str) -> None:
    pipeline.worker()  # declares its table's changelog as it starts
    app_id = pipeline.env["PULSELINE_WORKER__APP_ID"]
    changelog = f"{app_id}-downsample-state-changelog"
    wait_for(lambda: changelog in asyncio.run(_list_topics(broker)), 60, "the changelog topic")
    raw = pipeline.raw_topic
    configs = asyncio.run(_configs(broker, [raw, raw + ".dlq", changelog]))

    assert configs[changelog]["cleanup.policy"] == ("compact", TOPIC_CONFIG_SOURCE)
    assert configs[raw]["cleanup.policy"][0] == "delete"
    for topic in (raw, raw + ".dlq", changelog):
        assert configs[topic]["min.insync.replicas"] == ("1", TOPIC_CONFIG_SOURCE), topic


def test_a_missing_topic_is_not_created_by_producing_to_it(broker: str) -> None:
    async def produce() -> None:
        producer = AIOKafkaProducer(bootstrap_servers=broker, request_timeout_ms=3000)
        await producer.start()
        try:
            await producer.send_and_wait("nowhere.at.all", b"x")
        finally:
            await producer.stop()

    with pytest.raises(UnknownTopicOrPartitionError):
        asyncio.run(produce())
    assert "nowhere.at.all" not in asyncio.run(_list_topics(broker))


async def _list_topics(broker: str) -> list[str]:
    admin = AIOKafkaAdminClient(bootstrap_servers=broker)
    await admin.start()
    try:
        return list(await admin.list_topics())
    finally:
        await admin.close()


def test_the_collectors_producer_is_idempotent(pipeline: Pipeline, broker: str) -> None:
    async def send() -> int:
        producer = RecordProducer(KafkaSettings(broker=f"kafka://{broker}"))
        try:
            await producer.send_all(pipeline.raw_topic, [(b"k", b"v")])
            # The broker handed out a producer id: idempotence was negotiated, not just asked.
            return int(producer._producer._txn_manager.producer_id)  # type: ignore[union-attr]
        finally:
            await producer.stop()

    assert asyncio.run(send()) >= 0
    assert topic_size(broker, pipeline.raw_topic) == 1


@pytest.fixture(scope="module")
def broker(own_broker: tuple[ManagedProcess, str]) -> str:
    """This module's pipelines use its own broker, which the restart test kills."""
    return own_broker[1]


def _push_samples(pipeline: Pipeline, host: str, first_s: int) -> bool:
    """Push 10 samples of ``host`` from ``first_s``; whether the collector accepted them."""
    lines = "\n".join(f"krestart,host={host} value={i} {(first_s + i) * 1000}" for i in range(10))
    return pipeline.push(lines.encode())[0] == 204


def test_a_broker_restart_keeps_records_offsets_and_state(
    pipeline: Pipeline, tsdb: Tsdb, own_broker: tuple[ManagedProcess, str], tmp_path: Path
) -> None:
    process, broker = own_broker
    pipeline.collector()
    worker = pipeline.worker()
    start_s = int(time.time()) - 600
    for k in range(20):
        assert _push_samples(pipeline, f"h{k % 4}", start_s + 10 * k)
    wait_for(lambda: tsdb.count('{__name__="krestart"}') == 200, 90, "the first 200 samples")
    app_id = pipeline.env["PULSELINE_WORKER__APP_ID"]
    changelog = f"{app_id}-downsample-state-changelog"
    raw_ends = {pipeline.raw_topic: topic_size(broker, pipeline.raw_topic)}
    wait_for(
        lambda: (
            sum(asyncio.run(_group_offsets(broker, app_id)).values())
            >= raw_ends[pipeline.raw_topic]
        ),
        60,
        "the worker's commits of every raw record",
    )
    committed = asyncio.run(_group_offsets(broker, app_id))
    changelog_size = topic_size(broker, changelog)

    process.kill()  # a crash: nothing flushed on the way out
    process.start().wait_ready(120)

    assert topic_size(broker, pipeline.raw_topic) == raw_ends[pipeline.raw_topic]
    assert topic_size(broker, changelog) == changelog_size
    after = asyncio.run(_group_offsets(broker, app_id))
    assert {tp: after.get(tp) for tp in committed} == committed

    # The collector and the worker reconnect by themselves; new samples flow end to end.
    for k in range(20, 30):
        wait_for(lambda k=k: _push_samples(pipeline, f"h{k % 4}", start_s + 10 * k), 60, "a push")
    wait_for(lambda: tsdb.count('{__name__="krestart"}') == 300, 120, "all 300 samples")
    assert worker.running()


def test_topics_create_compacts_the_silences_topic(broker: str, tmp_path: Path) -> None:
    run = f"tc{time.time_ns()}"
    env = {
        "PULSELINE_KAFKA__BROKER": f"kafka://{broker}",
        **{f"PULSELINE_TOPICS__{k.upper()}": f"{k}.{run}" for k in TOPIC_NAMES},
    }
    result = subprocess.run(
        [sys.executable, "-m", "streams", "topics", "create"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    configs = asyncio.run(_configs(broker, [f"silences.{run}", f"alert_groups.{run}"]))
    assert configs[f"silences.{run}"]["cleanup.policy"] == ("compact", TOPIC_CONFIG_SOURCE)
    assert configs[f"alert_groups.{run}"]["cleanup.policy"][0] == "delete"


TOPIC_NAMES = (
    "raw",
    "members",
    "late",
    "rule_samples",
    "alerts",
    "alert_groups",
    "silences",
    "notifications",
)
