"""What a worker commits after a restart: never an offset its agents did not process.

The production trace this reproduces: after a worker was killed and restarted with a
backlog, ``metrics.raw[3]`` had the committed offset 31; the record at 31 never reached the
agents (the fetcher dropped it around a rebalance), the agents processed 32..91, and the
worker committed 92. Offset 31 was lost.

Here the worker's real consumer class and raw-sink agent run in Faust's test context, with
Kafka replaced at the consumer's edges (committed offsets, assignment, seeks): records are
put into the agent's channel as the fetcher would deliver them, and the offsets the consumer
would commit are read from the same method Faust's commit timer calls.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from faust.types import TP
from faust.types.tuples import ConsumerMessage

from agents.app import create_app
from streams.records import Point, encode_batch
from streams.settings import Settings
from streams.stack.processes import free_port
from streams.testing import CollectingWriter

TOPIC = "metrics.raw"


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("PULSELINE_WORKER__DATA_DIR", str(tmp_path))
    monkeypatch.setenv("PULSELINE_WORKER__TAKE_WITHIN_S", "0.02")
    monkeypatch.setenv("PULSELINE_DOWNSAMPLE__ENABLED", "false")  # the raw sink reads alone
    monkeypatch.setenv("PULSELINE_KAFKA__BROKER", f"kafka://127.0.0.1:{free_port()}")  # none
    return Settings.load(None)


class Edges:
    """The consumer's Kafka side: committed offsets, assignment, seeks asked for."""

    def __init__(self, consumer: Any, committed: dict[TP, int], monkeypatch: Any) -> None:
        self.seeks: list[tuple[TP, int]] = []

        async def seek_to_committed() -> dict[TP, int]:
            return dict(committed)

        async def seek(tp: TP, offset: int) -> None:
            self.seeks.append((tp, offset))

        async def highwaters(*tps: TP) -> dict[TP, int]:
            return {tp: 1_000_000 for tp in tps}  # every log is longer than what was committed

        monkeypatch.setattr(consumer, "seek_to_committed", seek_to_committed)
        monkeypatch.setattr(consumer, "highwaters", highwaters)
        monkeypatch.setattr(consumer, "_seek", seek)
        monkeypatch.setattr(consumer, "assignment", lambda: set(committed))
        # As once the worker subscribed: the conductor tracks acknowledgements of the topics.
        consumer.app.topics._acking_topics.update(tp.topic for tp in committed)


def record(app: Any, tp: TP, offset: int) -> ConsumerMessage:
    value = encode_batch([Point("cpu", {"host": f"h{offset}"}, {"user": 1.0}, 1_000 + offset)])
    return ConsumerMessage(
        tp.topic,
        tp.partition,
        offset,
        0.0,
        0,
        [],
        b"h",
        value,
        None,
        0,
        len(value),
        tp,
        generation_id=app.consumer_generation_id,
    )


async def deliver(ctx: Any, app: Any, tp: TP, offsets: range) -> None:
    channel = ctx.stream().channel
    for offset in offsets:
        await channel.put(await channel.decode(record(app, tp, offset)))


async def until(check: Any, ctx: Any) -> None:
    for _ in range(200):
        if check():
            return
        await ctx.sleep(0.02)
    raise AssertionError("timed out")


def hosts(writer: CollectingWriter) -> set[int]:
    return {int(line.split(",")[1].split()[0].removeprefix("host=h")) for line in writer.lines}


async def test_a_record_never_handed_to_the_agent_is_never_committed_past(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    writer = CollectingWriter()
    app = create_app(settings, raw_writer=writer)
    app.finalize()
    consumer = app.consumer
    tp = TP(TOPIC, 3)
    edges = Edges(consumer, {tp: 31}, monkeypatch)
    await consumer.perform_seek()  # the restart: consumption resumes at the committed 31
    agent = app.agents["raw-sink"]
    async with agent.test_context() as ctx:
        await deliver(ctx, app, tp, range(32, 92))  # 31 never comes
        await ctx.sleep(0.3)
        commits = consumer._filter_committable_offsets([tp])
        assert commits.get(tp, 31) <= 31, f"committed {commits[tp]} though 31 was never processed"
        await deliver(ctx, app, tp, range(31, 92))  # what the seek to 31 brings
        await until(lambda: 31 in hosts(writer), ctx)
        await until(lambda: consumer._filter_committable_offsets([tp]).get(tp) == 92, ctx)
        # a hole later on: 95 is lost on the way; what follows is not committed past it
        await deliver(ctx, app, tp, range(92, 95))
        await deliver(ctx, app, tp, range(96, 120))
        await until(lambda: (tp, 95) in edges.seeks, ctx)  # it is read again
        assert consumer._filter_committable_offsets([tp]).get(tp, 95) <= 95
        await deliver(ctx, app, tp, range(95, 120))
        await until(lambda: consumer._filter_committable_offsets([tp]).get(tp) == 120, ctx)
    assert hosts(writer) == set(range(31, 120))


async def test_the_partitions_a_seek_held_back_stay_paused_while_the_tables_are_read_back(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = create_app(settings, raw_writer=CollectingWriter())
    app.finalize()
    consumer = app.consumer
    tp = TP(TOPIC, 1)
    Edges(consumer, {tp: 7}, monkeypatch)
    await consumer.perform_seek()  # during a rebalance: the partition is held back
    assert tp in consumer._paused_partitions
    app.in_recovery = True
    consumer.resume_flow()  # Faust's recovery, to read the changelogs
    assert tp in consumer._paused_partitions
    app.in_recovery = False
    consumer.resume_flow()  # the recovery is over
    assert tp not in consumer._paused_partitions
