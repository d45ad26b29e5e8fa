"""``pulseline status --once`` against real processes: owners while the worker runs, the real
lag once it is stopped and records keep coming, a firing alert, the collector's rates, and
the groups of both kinds of worker once a store worker joins.

The expected lag is not the tool's own reading: it comes from a plain consumer's end offsets
and the group's committed offsets read here with the admin client directly."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from conftest import Pipeline, Tsdb, wait_for

from streams.alertmanager.api.client import AlertmanagerClient
from streams.stack import components
from streams.stack.processes import free_port

pytestmark = pytest.mark.integration


def status(pipeline: Pipeline, *args: str) -> subprocess.CompletedProcess[str]:
    """``pulseline status --once ARGS`` with the pipeline's settings (environment only)."""
    return subprocess.run(
        [sys.executable, "-m", "streams", "status", "--once", *args],
        env=pipeline.env,
        cwd=pipeline.workdir,
        capture_output=True,
        text=True,
        timeout=120,
    )


def status_json(pipeline: Pipeline, interval: str = "0") -> dict[str, Any]:
    run = status(pipeline, "--interval", interval, "-o", "json")
    assert run.returncode in (0, 1), run.stderr
    document: dict[str, Any] = json.loads(run.stdout)
    return document


def offsets(broker: str, group: str, topic: str) -> tuple[dict[int, int], dict[int, int]]:
    """The end offsets of ``topic`` and ``group``'s committed offsets, by partition."""

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


def raw_rows(document: dict[str, Any], topic: str) -> dict[int, dict[str, Any]]:
    return {row["partition"]: row for row in document["partitions"] if row["topic"] == topic}


def test_status_shows_owners_then_the_real_lag_after_the_worker_stopped(
    pipeline: Pipeline, tsdb: Tsdb, broker: str
) -> None:
    group = pipeline.env["PULSELINE_WORKER__APP_ID"]
    raw = pipeline.raw_topic
    worker = pipeline.worker()
    pipeline.collector()
    ts = (int(time.time()) - 60) * 1000
    warm = "\n".join(f"statuswarm,host=w{i} value={i} {ts}" for i in range(8))
    assert pipeline.push(warm.encode())[0] == 204
    wait_for(lambda: tsdb.count('{__name__="statuswarm"}') == 8, 90, "the first points")

    # While the worker runs: every raw partition is owned by it (its web address) and done.
    def settled() -> bool:
        rows = raw_rows(status_json(pipeline), raw)
        return len(rows) == 4 and all(
            r["owner"] == pipeline.worker_web and r["lag"] == 0 for r in rows.values()
        )

    wait_for(settled, 90, "every raw partition owned by the worker with no lag", every=2)
    asyncio.run(
        AlertmanagerClient(pipeline.worker_web).post_alerts(
            [{"labels": {"alertname": "StatusCheck", "severity": "page"}}]
        )
    )
    wait_for(
        lambda: [a["name"] for a in status_json(pipeline)["alerts"]] == ["StatusCheck"],
        30,
        "the posted alert in the status",
    )
    shown = status_json(pipeline)
    assert shown["alerts"][0]["state"] == "active"
    assert [w["url"] for w in shown["workers"]] == [pipeline.worker_web]
    assert shown["workers"][0]["partitions"] == 4
    assert shown["group_state"] == "Stable"

    worker.stop(deadline=30)
    ends_before, committed = offsets(broker, group, raw)
    assert committed == ends_before, "the worker finished everything before it stopped"

    bodies = 12
    for i in range(bodies):
        line = f"statuslag,host=lag{i} value={i} {ts}"
        assert pipeline.push(line.encode())[0] == 204
    ends, committed = offsets(broker, group, raw)
    expected = {p: ends[p] - committed[p] for p in range(4)}
    assert sum(expected.values()) == bodies  # one record per pushed body (one host each)

    wait_for(lambda: status_json(pipeline)["members"] == [], 60, "the worker gone from the group")
    document = status_json(pipeline, interval="1")
    rows = raw_rows(document, raw)
    assert {p: r["lag"] for p, r in rows.items()} == expected
    assert {p: r["committed"] for p, r in rows.items()} == committed
    assert all(r["owner"] is None for r in rows.values())
    [raw_total] = [t for t in document["topics"] if t["topic"] == raw]
    assert (raw_total["lag"], raw_total["unowned"]) == (bodies, 4)
    [collector] = document["collectors"]
    assert (collector["url"], collector["up"]) == (pipeline.collector_url, True)
    assert document["workers"][0]["up"] is False  # the settings' worker, stopped
    assert any("alert API" in p for p in document["problems"])

    # The same snapshot as a person reads it.
    text = status(pipeline, "--interval", "0")
    assert text.returncode == 1  # a problem is listed: no worker answers
    table = {
        int(cells[0]): cells
        for line in text.stdout.splitlines()
        if line.startswith("│")
        and (cells := [c.strip() for c in line.split("│")[1:-1]])[0].isdigit()
        and len(cells) == 6
    }
    for partition, lag in expected.items():
        assert table[partition][3] == f"{lag:,}"
        assert table[partition][4] == "unassigned"

    # A store worker joins a group of its own; status, its settings unchanged, shows both
    # groups: the stopped one with its lag, the store group's partitions owned and done.
    store_port = free_port()
    store_web = f"http://127.0.0.1:{store_port}"
    store_env = {
        **pipeline.env,
        "PULSELINE_WORKER__ROLES": '["store"]',
        "PULSELINE_WORKER__WEB_PORT": str(store_port),
    }
    store = components.pulseline(
        "worker", pipeline.workdir, store_env, name="store-worker", ready_url=f"{store_web}/metrics"
    )
    pipeline.processes.append(store)
    store.start().wait_ready(60)
    store_group = f"{group}-store"

    def split_settled() -> bool:
        rows = [
            r
            for r in status_json(pipeline)["partitions"]
            if (r["group"], r["topic"]) == (store_group, raw)
        ]
        return len(rows) == 4 and all(r["owner"] == store_web and r["lag"] == 0 for r in rows)

    wait_for(split_settled, 90, "the store group's partitions owned and done", every=2)
    document = status_json(pipeline)
    assert [(g["group"], g["state"], g["members"]) for g in document["groups"]] == [
        (group, "Empty", []),
        (store_group, "Stable", [store_web]),
    ]
    stopped = {
        r["partition"]: r
        for r in document["partitions"]
        if r["group"] == group and r["topic"] == raw
    }
    assert {p: r["lag"] for p, r in stopped.items()} == expected
    assert document["warnings"] == []


def test_status_finds_scraping_collectors_by_the_settings_and_by_their_heartbeats(
    pipeline: Pipeline, tmp_path: Path
) -> None:
    # Collector A listens where the settings say; B only announces itself in the members
    # topic, with an id that is its address. Three targets: both collectors and a dead port.
    other = free_port()
    config = tmp_path / "scrape.yml"
    a = pipeline.env["PULSELINE_COLLECTOR__LISTEN"]
    b = f"127.0.0.1:{other}"
    config.write_text(
        "global: {scrape_interval: 1s, scrape_timeout: 1s}\n"
        "scrape_configs:\n"
        f"  - job_name: collectors\n    static_configs: [{{targets: ['{a}', '{b}', '127.0.0.1:1']}}]\n"
    )
    scraping = {"PULSELINE_COLLECTOR__SCRAPE_CONFIG": str(config)}
    pipeline.collector("collector-a", env={**scraping, "PULSELINE_COLLECTOR__MEMBER_ID": "a"})
    pipeline.collector(
        "collector-b",
        env={**scraping, "PULSELINE_COLLECTOR__LISTEN": b, "PULSELINE_COLLECTOR__MEMBER_ID": b},
    )

    def collectors() -> dict[str, dict[str, Any]]:
        return {c["name"]: c for c in status_json(pipeline, interval="2")["collectors"]}

    def settled(rows: dict[str, dict[str, Any]]) -> bool:
        return (
            set(rows) == {"a", b}
            and sum(r["targets"] or 0 for r in rows.values()) == 3
            and sum(r["targets_down"] or 0 for r in rows.values()) == 1
            # The ring may give every target to one of them: both rates known, some scraping.
            and all(r["scrapes_per_s"] is not None for r in rows.values())
            and sum(r["scrapes_per_s"] for r in rows.values()) > 0
        )

    deadline = time.monotonic() + 90
    while not settled(rows := collectors()):
        assert time.monotonic() < deadline, f"collectors not as expected: {rows}"
        time.sleep(1)
    assert rows["a"]["url"] == pipeline.collector_url  # from the settings
    assert rows[b]["url"] == f"http://{b}"  # from its heartbeats
    assert all(r["up"] for r in rows.values())
