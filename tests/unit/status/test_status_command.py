"""``pulseline status --once``: the view's text and JSON, from observations a fake probe gives."""

import json

import pytest
from rich.console import Console

from streams import cli
from streams.status import commands
from streams.status.lag import GroupMember, PartitionOffsets
from streams.status.observation import Observation
from streams.status.probe import Targets
from streams.status.report import build_status
from streams.status.view import render


def _look(problems: tuple[str, ...] = ()) -> Observation:
    return Observation(
        at=0.0,
        wall=0.0,
        group="pulseline",
        group_state="Stable",
        offsets=(
            PartitionOffsets("metrics.raw", 0, 0, 120, 100),
            PartitionOffsets("metrics.raw", 1, 500, 900, 200),
        ),
        members=(
            GroupMember("a", "faust", "/w", "http://w1:6066", frozenset({("metrics.raw", 0)})),
        ),
        held={"metrics.raw.dlq": 2, "metrics.late": 0},
        problems=problems,
    )


def _text(observation: Observation) -> str:
    console = Console(width=200, color_system=None)
    status = build_status(None, observation, commands.layout_of(cli.Settings.load(None)))
    with console.capture() as captured:
        console.print(render(status, "metrics.raw"))
    return captured.get()


def test_the_view_shows_each_partition_its_lag_owner_and_what_went_wrong() -> None:
    text = _text(_look(("no worker's alert API answered",)))
    rows = [
        [cell.strip() for cell in line.split("│")[1:-1]]
        for line in text.splitlines()
        if line.startswith("│")
    ]
    assert rows[0] == ["0", "120", "100", "20", "http://w1:6066", ""]
    assert rows[1][:5] == ["1", "900", "200", "400", "unassigned"]
    assert rows[1][5] == "300 records deleted by retention before the workers finished them"
    assert "! no worker's alert API answered" in text
    assert "dead letters in metrics.raw.dlq" in text


@pytest.fixture
def fake_probe(monkeypatch: pytest.MonkeyPatch) -> list[Targets]:
    seen: list[Targets] = []

    async def observe(settings: object, targets: Targets) -> Observation:
        seen.append(targets)
        return _look()

    monkeypatch.setattr(commands, "observe", observe)
    return seen


def test_once_as_json_prints_the_rows(
    fake_probe: list[Targets], capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli.main(
        ["status", "--once", "--interval", "0", "-o", "json", "--worker", "http://x:1/"]
    )
    document = json.loads(capsys.readouterr().out)
    assert code == 0
    assert [(p["partition"], p["lag"], p["owner"]) for p in document["partitions"]] == [
        (0, 20, "http://w1:6066"),
        (1, 400, None),
    ]
    assert document["topics"][0]["lost"] == 300
    assert document["dead_letters"] == {"metrics.raw.dlq": 2}
    assert len(fake_probe) == 1  # --interval 0: one look
    assert fake_probe[0].workers == ("http://x:1",)
    assert fake_probe[0].default_worker == "http://127.0.0.1:6066"


def test_once_looks_twice_for_rates_and_exits_1_on_a_problem(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    looks = iter([_look(), _look(("cannot reach Kafka at kafka://127.0.0.1:9092: refused",))])
    calls = []

    async def observe(settings: object, targets: Targets) -> Observation:
        calls.append(1)
        return next(looks)

    monkeypatch.setattr(commands, "observe", observe)
    code = cli.main(["status", "--once", "--interval", "0.01"])
    out = capsys.readouterr().out
    assert (code, len(calls)) == (1, 2)
    assert "! cannot reach Kafka" in out
    assert "Consumer lag of metrics.raw" in out


def test_a_negative_interval_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["status", "--interval", "-1"])
    assert exit_info.value.code == 2
    assert "must be 0 or more" in capsys.readouterr().err
