"""The raw-sink agent in Faust's test context: no broker, a fake writer."""

from __future__ import annotations

from pathlib import Path

import pytest

from agents.app import create_app
from streams.records import Point, encode_batch
from streams.settings import Settings
from streams.testing import CollectingWriter


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("PULSELINE_WORKER__DATA_DIR", str(tmp_path))
    monkeypatch.setenv("PULSELINE_WORKER__TAKE_WITHIN_S", "0.05")
    return Settings.load(None)


async def test_agent_writes_records_through_the_injected_writer(settings: Settings) -> None:
    writer = CollectingWriter()
    app = create_app(settings, raw_writer=writer)
    app.finalize()
    agent = app.agents["raw-sink"]
    points = [
        Point("cpu", {"host": "a"}, {"user": 0.5}, 1_000),
        Point("cpu", {"host": "a"}, {"user": 0.75}, 2_000),
    ]
    async with agent.test_context() as ctx:
        await ctx.put(encode_batch(points[:1]), key=b"a")
        await ctx.put(encode_batch(points[1:]), key=b"a")
        for _ in range(100):
            if sum(b.count("\n") + 1 for b in writer.bodies) >= 2:
                break
            await ctx.sleep(0.05)
    lines = [line for body in writer.bodies for line in body.splitlines()]
    # Each field under its series' name (the default store, VictoriaMetrics: streams.names).
    assert lines == ["cpu,host=a cpu_user=0.5 1000", "cpu,host=a cpu_user=0.75 2000"]
