"""The downsampling agent in Faust's test context: no broker, fake writers."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from agents.app import create_app
from streams.records import Point, encode_batch
from streams.settings import Settings
from streams.testing import CollectingWriter


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("PULSELINE_WORKER__DATA_DIR", str(tmp_path))
    monkeypatch.setenv("PULSELINE_WORKER__TAKE_WITHIN_S", "0.05")
    monkeypatch.setenv("PULSELINE_DOWNSAMPLE__LATENESS_S", "0")
    return Settings.load(None)


async def test_agent_writes_minute_rows_through_the_tier_writers(settings: Settings) -> None:
    writers = {"1m": CollectingWriter(bucket="metrics_1m"), "1h": CollectingWriter()}
    app = create_app(settings, raw_writer=CollectingWriter(), tier_writers=writers)
    app.finalize()
    agent = app.agents["downsample"]
    minute = time.time_ns() // 1_000_000 // 60_000 * 60_000 - 600_000
    points = [
        Point("cpu", {"host": "a"}, {"user": 0.5}, minute + 10_000),
        Point("cpu", {"host": "a"}, {"user": 0.25}, minute + 20_000),
        Point("cpu", {"host": "a"}, {"user": 1.0}, minute + 70_000),
    ]
    async with agent.test_context() as ctx:
        for point in points:
            await ctx.put(encode_batch([point]), key=b"a")
        for _ in range(100):
            if writers["1m"].lines:
                break
            await ctx.sleep(0.05)
    # Each field under its series' name (the default store, VictoriaMetrics: streams.names).
    assert writers["1m"].lines == [
        f"cpu,host=a cpu_user_min=0.25,cpu_user_max=0.5,cpu_user_sum=0.75,cpu_user_count=2i,"
        f"cpu_user_mean=0.375,cpu_user_last=0.25 {minute}"
    ]


def test_the_collector_sums_partitions_and_adds_the_stage_counters() -> None:
    from prometheus_client import CollectorRegistry, generate_latest

    from agents.downsample import DownsampleCollector
    from streams.downsample import WindowEngine
    from streams.downsample.processor import Downsampler

    engine = WindowEngine()
    sinks = {name: None for name in engine.plan.names}

    class NoSnapshots:
        def load(self, partition: int) -> None:
            return None

    stage: Downsampler[int] = Downsampler(engine, sinks, None, NoSnapshots())  # type: ignore[arg-type]
    now = time.time_ns() // 1_000_000
    for p in (0, 1):
        engine.add_points(p, [Point("cpu", {"p": str(p)}, {"a": 1.0, "b": 2.0}, now)])
    stage.assign([0, 1])
    stage.stats.late_sent = 3
    registry = CollectorRegistry()
    registry.register(DownsampleCollector(stage))
    text = generate_latest(registry).decode()
    assert "pulseline_downsample_samples_total 4.0" in text
    assert "pulseline_downsample_late_sent_total 3.0" in text
    assert "pulseline_downsample_series 4.0" in text
    assert "# HELP pulseline_downsample_late_total Samples that arrived after their window" in text
    assert "# HELP pulseline_downsample_restores_total Window states restored" in text


async def test_a_batch_the_stage_fails_on_goes_to_the_dlq_not_silently_acknowledged(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from agents.dlq import DeadLetterSender
    from streams.downsample.processor import Downsampler

    async def broken(self: Any, records: Any) -> list[Any]:
        raise ValueError("a bug")

    letters: list[tuple[str, str]] = []

    async def send(self: Any, dead: Any, records: Any) -> None:
        letters.extend((str(d.ref), d.reason) for d in dead)

    monkeypatch.setattr(Downsampler, "process", broken)
    monkeypatch.setattr(DeadLetterSender, "send", send)
    writers = {"1m": CollectingWriter(bucket="metrics_1m"), "1h": CollectingWriter()}
    app = create_app(settings, raw_writer=CollectingWriter(), tier_writers=writers)
    app.finalize()
    async with app.agents["downsample"].test_context() as ctx:
        await ctx.put(encode_batch([Point("cpu", {"host": "a"}, {"u": 1.0}, 1_000)]), key=b"a")
        for _ in range(100):
            if letters:
                break
            await ctx.sleep(0.05)
    assert [reason for _, reason in letters] == ["downsampling error: ValueError('a bug')"]
