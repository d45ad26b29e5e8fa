"""``pulseline status --once``: the view's text and JSON, from observations a fake probe gives."""

import json

import pytest
from rich.console import Console

from streams import cli
from streams.settings import ROLES
from streams.status import commands
from streams.status.lag import GroupMember, PartitionOffsets
from streams.status.observation import Observation, Scrape, WorkerGroup
from streams.status.probe import Targets
from streams.status.report import build_status
from streams.status.view import render


def _look(problems: tuple[str, ...] = ()) -> Observation:
    return Observation(
        at=0.0,
        wall=0.0,
        group="pulseline",
        groups=(WorkerGroup("pulseline", ROLES, "Stable"),),
        offsets=(
            PartitionOffsets("pulseline", "metrics.raw", 0, 0, 120, 100),
            PartitionOffsets("pulseline", "metrics.raw", 1, 500, 900, 200),
        ),
        members=(
            GroupMember(
                "pulseline", "a", "faust", "/w", "http://w1:6066", frozenset({("metrics.raw", 0)})
            ),
        ),
        held={"metrics.raw.dlq": 2, "metrics.late": 0},
        problems=problems,
    )


STORE, ALERT = "pulseline-store", "pulseline-alert"
W1, W2 = "http://w1:6066", "http://w2:6066"


def _split_look() -> Observation:
    """Store worker W1 and alert worker W2, each in its role's group, both reading
    metrics.raw's two partitions; the store group is behind."""
    raw = frozenset({("metrics.raw", 0), ("metrics.raw", 1)})
    return Observation(
        at=0.0,
        wall=0.0,
        group="pulseline",
        groups=(
            WorkerGroup(ALERT, ("alert",), "Stable"),
            WorkerGroup(STORE, ("store",), "PreparingRebalance"),
        ),
        offsets=(
            PartitionOffsets(ALERT, "metrics.raw", 0, 0, 120, 120),
            PartitionOffsets(ALERT, "metrics.raw", 1, 0, 90, 90),
            PartitionOffsets(STORE, "metrics.raw", 0, 0, 120, 100),
            PartitionOffsets(STORE, "metrics.raw", 1, 0, 90, 50),
        ),
        members=(
            GroupMember(ALERT, "b", "faust", "/w2", W2, raw),
            GroupMember(STORE, "a", "faust", "/w1", W1, raw),
        ),
        scrapes=(Scrape("worker", W1, None, "refused"), Scrape("worker", W2, None, "refused")),
    )


def _text(observation: Observation) -> str:
    console = Console(width=200, color_system=None)
    status = build_status(None, observation, commands.layout_of(cli.Settings.load(None)))
    with console.capture() as captured:
        console.print(render(status, "metrics.raw"))
    return captured.get()


def _table(text: str, title: str) -> list[list[str]]:
    """The header and rows of the table titled ``title``, as lists of cells."""
    lines = text.splitlines()
    start = [line.rstrip() for line in lines].index(title)
    rows = []
    for line in lines[start + 1 :]:
        if line.startswith("└"):
            return rows
        if line.startswith(("┃", "│")):
            rows.append([cell.strip() for cell in line[1:-1].replace("┃", "│").split("│")])
    raise AssertionError(f"table {title!r} has no end")


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
    # One group: named once in the header, not in the rows.
    assert "  group pulseline (Stable, 1 member)  0 firing" in text.splitlines()[0]
    assert _table(text, "Consumer lag of metrics.raw")[0][0] == "partition"
    assert _table(text, "Lag by topic")[0] == [
        "topic", "partitions", "lag", "max", "unowned", "lost"
    ]  # fmt: skip
    assert _table(text, "Workers")[0][:2] == ["worker", "raw partitions"]


def test_with_two_groups_each_has_its_lag_table_and_rows_name_their_group() -> None:
    text = _text(_split_look())
    assert text.splitlines()[0].endswith(
        f"groups {ALERT} (Stable, 1 member), {STORE} (PreparingRebalance, 1 member)  0 firing"
    )
    assert _table(text, f"Consumer lag of metrics.raw, group {ALERT}")[1:] == [
        ["0", "120", "120", "0", W2, ""],
        ["1", "90", "90", "0", W2, ""],
    ]
    assert _table(text, f"Consumer lag of metrics.raw, group {STORE}")[1:] == [
        ["0", "120", "100", "20", W1, ""],
        ["1", "90", "50", "40", W1, ""],
    ]
    by_topic = _table(text, "Lag by topic")
    assert by_topic[0][:3] == ["group", "topic", "partitions"]
    assert [row[:4] for row in by_topic[1:]] == [
        [ALERT, "metrics.raw", "2", "0"],
        [STORE, "metrics.raw", "2", "60"],
    ]
    workers = _table(text, "Workers")
    assert [row[:3] for row in workers] == [
        ["worker", "group", "raw partitions"],
        [W1, STORE, "2"],
        [W2, ALERT, "2"],
    ]
    assert "records done/s (slowest group)" in text


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
    assert {p["group"] for p in document["partitions"]} == {"pulseline"}
    assert document["groups"] == [
        {
            "group": "pulseline",
            "roles": ["store", "alert"],
            "state": "Stable",
            "members": ["http://w1:6066"],
            "records_done_per_s": None,
        }
    ]
    assert (document["group"], document["group_state"], document["warnings"]) == (
        "pulseline",
        "Stable",
        [],
    )
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


def test_once_as_json_with_two_groups_lists_them_and_each_row_names_its_group(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    async def observe(settings: object, targets: Targets) -> Observation:
        return _split_look()

    monkeypatch.setattr(commands, "observe", observe)
    cli.main(["status", "--once", "--interval", "0", "-o", "json"])
    document = json.loads(capsys.readouterr().out)
    assert [(g["group"], g["roles"], g["state"], g["members"]) for g in document["groups"]] == [
        (ALERT, ["alert"], "Stable", [W2]),
        (STORE, ["store"], "PreparingRebalance", [W1]),
    ]
    assert [(p["group"], p["partition"], p["lag"], p["owner"]) for p in document["partitions"]] == [
        (ALERT, 0, 0, W2),
        (ALERT, 1, 0, W2),
        (STORE, 0, 20, W1),
        (STORE, 1, 40, W1),
    ]
    assert [(t["group"], t["topic"], t["lag"]) for t in document["topics"]] == [
        (ALERT, "metrics.raw", 0),
        (STORE, "metrics.raw", 60),
    ]
    assert [(w["url"], w["group"]) for w in document["workers"]] == [(W1, STORE), (W2, ALERT)]
