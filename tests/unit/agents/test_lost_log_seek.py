"""A committed offset beyond the end of its partition (the broker lost the log and the topic
was recreated) is not where consumption restarts: the worker reads the new log from its start.

The worker's real consumer class and raw-sink agent run in Faust's test context, with Kafka
replaced at the consumer's edges (as in ``test_commits``).
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


async def deliver(ctx: Any, app: Any, tp: TP, offsets: range) -> None:
    """Put records of host ``h<offset>`` into the agent's channel, as the fetcher would."""
    channel = ctx.stream().channel
    for offset in offsets:
        value = encode_batch([Point("cpu", {"host": f"h{offset}"}, {"user": 1.0}, 1_000 + offset)])
        message = ConsumerMessage(
            tp.topic, tp.partition, offset, 0.0, 0, [], b"h", value, None, 0, len(value), tp,
            generation_id=app.consumer_generation_id,
        )  # fmt: skip
        await channel.put(await channel.decode(message))


async def until(check: Any, ctx: Any) -> None:
    for _ in range(200):
        if check():
            return
        await ctx.sleep(0.02)
    raise AssertionError("timed out")


def hosts(writer: CollectingWriter) -> set[int]:
    return {int(line.split(",")[1].split()[0].removeprefix("host=h")) for line in writer.lines}


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("PULSELINE_WORKER__DATA_DIR", str(tmp_path))
    monkeypatch.setenv("PULSELINE_WORKER__TAKE_WITHIN_S", "0.02")
    monkeypatch.setenv("PULSELINE_DOWNSAMPLE__ENABLED", "false")
    monkeypatch.setenv("PULSELINE_KAFKA__BROKER", f"kafka://127.0.0.1:{free_port()}")  # none
    return Settings.load(None)


class LostLog:
    """Kafka's side after the loss: the group committed 5000, the new log holds 0..11."""

    def __init__(self, consumer: Any, tp: TP, monkeypatch: Any) -> None:
        self.seeks: list[tuple[TP, int]] = []

        async def seek_to_committed() -> dict[TP, int]:
            return {tp: 5000}

        async def highwaters(*tps: TP) -> dict[TP, int]:
            return {t: 12 for t in tps}

        async def earliest_offsets(*tps: TP) -> dict[TP, int]:
            return {t: 0 for t in tps}

        async def seek(t: TP, offset: int) -> None:
            self.seeks.append((t, offset))

        monkeypatch.setattr(consumer, "seek_to_committed", seek_to_committed)
        monkeypatch.setattr(consumer, "highwaters", highwaters)
        monkeypatch.setattr(consumer, "earliest_offsets", earliest_offsets)
        monkeypatch.setattr(consumer, "_seek", seek)
        monkeypatch.setattr(consumer, "assignment", lambda: {tp})
        consumer.app.topics._acking_topics.add(tp.topic)


async def test_a_committed_offset_beyond_the_log_end_restarts_the_partition_from_its_start(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    writer = CollectingWriter()
    app = create_app(settings, raw_writer=writer)
    app.finalize()
    consumer = app.consumer
    tp = TP(TOPIC, 1)
    consumer._committed_offset[tp] = 5000  # what the worker committed before the loss
    kafka = LostLog(consumer, tp, monkeypatch)
    await consumer.perform_seek()
    assert (tp, 0) in kafka.seeks
    assert [r.getMessage() for r in caplog.records if "log was lost" in r.getMessage()]
    async with app.agents["raw-sink"].test_context() as ctx:
        await deliver(ctx, app, tp, range(0, 12))
        await until(lambda: consumer._filter_committable_offsets([tp]).get(tp) == 12, ctx)
    assert hosts(writer) == set(range(12))
