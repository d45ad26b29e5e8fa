"""The procedures of docs/operations.md, run on real processes.

- Refilling the raw bucket after a database restore: with the workers stopped, the group's
  offsets are rewound to a time (what ``kafka-consumer-groups.sh --reset-offsets
  --to-datetime`` commits, done here with a plain client); a restarted worker writes the
  records again, and the downsampler skips them as already counted.
- Silences exported with amtool and imported with ``--force`` into a new cluster.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.structs import OffsetAndMetadata
from conftest import Pipeline, Tsdb, wait_for

from streams.kafka import ensure_topics
from streams.settings import KafkaSettings
from streams.status.exposition import Metrics

pytestmark = pytest.mark.integration


def _group_offsets(broker: str, group: str, topic: str) -> tuple[dict[int, int], dict[int, int]]:
    async def read() -> tuple[dict[int, int], dict[int, int]]:
        consumer = AIOKafkaConsumer(bootstrap_servers=broker)
        admin = AIOKafkaAdminClient(bootstrap_servers=broker)
        await consumer.start()
        await admin.start()
        try:
            tps = [TopicPartition(topic, p) for p in range(4)]
            ends = await consumer.end_offsets(tps)
            committed = await admin.list_consumer_group_offsets(group)
            return (
                {tp.partition: ends[tp] for tp in tps},
                {tp.partition: o.offset for tp, o in committed.items() if tp.topic == topic},
            )
        finally:
            await consumer.stop()
            await admin.close()

    return asyncio.run(read())


def _rewind(broker: str, group: str, topic: str, to_ms: int) -> dict[int, int]:
    """Commit, for the (empty) group, each partition's first offset at ``to_ms`` (its end
    when none is): what kafka-consumer-groups.sh --reset-offsets --to-datetime does."""

    async def rewind() -> dict[int, int]:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=broker, group_id=group, enable_auto_commit=False
        )
        await consumer.start()
        try:
            tps = [TopicPartition(topic, p) for p in range(4)]
            consumer.assign(tps)
            found = await consumer.offsets_for_times({tp: to_ms for tp in tps})
            ends = await consumer.end_offsets(tps)
            offsets = {tp: found[tp].offset if found[tp] else ends[tp] for tp in tps}
            await consumer.commit({tp: OffsetAndMetadata(o, "") for tp, o in offsets.items()})
            return {tp.partition: o for tp, o in offsets.items()}
        finally:
            await consumer.stop()

    return asyncio.run(rewind())


def _metric(url: str, name: str) -> float | None:
    with urllib.request.urlopen(f"{url}/metrics", timeout=30) as response:
        return Metrics.parse(response.read().decode()).total(name)


def test_rewinding_the_group_refills_the_raw_bucket_and_the_tiers_skip_the_replay(
    pipeline: Pipeline, tsdb: Tsdb, broker: str
) -> None:
    group, raw = pipeline.env["PULSELINE_WORKER__APP_ID"], pipeline.raw_topic
    worker = pipeline.worker()
    pipeline.collector()
    backup_ms = int(time.time() * 1000) - 1000  # the "backup" is taken before the points
    ts = (int(time.time()) - 120) * 1000
    for i in range(6):
        assert pipeline.push(f"refill,host=r{i} value={i} {ts}".encode())[0] == 204
    wait_for(lambda: tsdb.count('{__name__="refill"}') == 6, 90, "the points")

    def finished() -> bool:
        ends, committed = _group_offsets(broker, group, raw)
        return ends == committed

    wait_for(finished, 120, "every record committed (snapshots covering them)", every=1)
    worker.stop(deadline=30)

    # The database loses them (a restore from a backup older than the points).
    query = urllib.parse.urlencode({"match[]": '{__name__="refill"}'})
    urllib.request.urlopen(f"{tsdb.url}/api/v1/admin/tsdb/delete_series?{query}", timeout=30)
    assert tsdb.count('{__name__="refill"}') == 0

    ends, _ = _group_offsets(broker, group, raw)
    rewound = _rewind(broker, group, raw, backup_ms)
    replayed = sum(ends[p] - rewound[p] for p in range(4))
    assert replayed >= 6  # every pushed body is a record after the backup time

    pipeline.worker("worker-after-restore")
    wait_for(lambda: tsdb.count('{__name__="refill"}') == 6, 90, "the points written again")
    exported = tsdb.export('{__name__="refill"}')
    assert sorted(v for series in exported.values() for v in series.values()) == [
        float(i) for i in range(6)
    ]
    wait_for(
        lambda: (
            _metric(pipeline.worker_web, "pulseline_downsample_replayed_records_total") == replayed
        ),
        60,
        "the downsampler skipping every rewound record as already counted",
    )


def _amtool(url: str, *args: str, stdin: str | None = None) -> str:
    done = subprocess.run(
        ["amtool", f"--alertmanager.url={url}", *args],
        capture_output=True,
        text=True,
        input=stdin,
        timeout=60,
    )
    assert done.returncode == 0, f"amtool {' '.join(args)}: {done.stderr}"
    return done.stdout


def test_silences_exported_with_amtool_are_imported_into_a_new_cluster(
    pipeline: Pipeline, broker: str, workdir: Path
) -> None:
    worker = pipeline.worker()
    url = pipeline.worker_web
    _amtool(url, "silence", "add", "alertname=DiskFull", "host=~web-.*", "-c", "maintenance",
            "-a", "ops", "-d", "3h")  # fmt: skip
    exported = _amtool(url, "silence", "query", "-o", "json")
    [original] = json.loads(exported)
    worker.stop(deadline=30)

    # A new cluster: another worker group and an empty silences topic.
    fresh = f"silences-restored.{pipeline.raw_topic}"
    kafka = KafkaSettings(broker=f"kafka://{broker}", partitions=4)
    asyncio.run(ensure_topics(kafka, {fresh: 1}, compacted={fresh}))
    pipeline.env["PULSELINE_TOPICS__SILENCES"] = fresh
    pipeline.env["PULSELINE_WORKER__APP_ID"] += "-restored"
    pipeline.worker("worker-new-cluster")
    assert json.loads(_amtool(url, "silence", "query", "-o", "json")) == []

    _amtool(url, "silence", "import", "--force", stdin=exported)
    wait_for(
        lambda: len(json.loads(_amtool(url, "silence", "query", "-o", "json"))) == 1,
        30,
        "the imported silence",
    )
    [restored] = json.loads(_amtool(url, "silence", "query", "-o", "json"))
    assert restored["id"] != original["id"]
    for key in ("matchers", "comment", "createdBy", "endsAt"):
        assert restored[key] == original[key], key
