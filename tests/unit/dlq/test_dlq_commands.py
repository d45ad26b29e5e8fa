"""``pulseline dlq show`` and ``dlq replay`` with the Kafka side replaced by fakes."""

import io
import json
from collections.abc import AsyncIterator

import pytest

from streams import cli
from streams.dlq import commands
from streams.dlq.letters import Letter, Selection
from streams.settings import Settings

LETTERS = [
    Letter(0, 4, 1_000, b"h1", b"one", (("pulseline-reason", b"answered 413"),)),
    Letter(0, 5, 2_000, b"h1", b"two", (("pulseline-reason", b"not JSON"),)),
    Letter(3, 0, 3_000, b"h9", b"three", (("pulseline-reason", b"answered 413"),)),
]


class FakeKafka:
    """Serves LETTERS as the dead-letter topic and records what a replay sends."""

    def __init__(self) -> None:
        self.read: list[tuple[str, int | None]] = []
        self.sent: list[tuple[str, str, Letter]] = []
        self.acknowledged: list[Letter] = []

    async def read_letters(
        self, kafka: object, topic: str, since_ms: int | None = None
    ) -> AsyncIterator[Letter]:
        self.read.append((topic, since_ms))
        for letter in LETTERS:
            if since_ms is None or letter.timestamp_ms >= since_ms:
                yield letter

    def replayer(self, kafka: object, topic: str, dlq: str) -> "FakeReplayer":
        return FakeReplayer(self, topic, dlq)


class FakeReplayer:
    def __init__(self, kafka: FakeKafka, topic: str, dlq: str) -> None:
        self.kafka, self.topic, self.dlq = kafka, topic, dlq
        self.pending: list[Letter] = []

    async def __aenter__(self) -> "FakeReplayer":
        return self

    async def __aexit__(self, *exc: object) -> None:
        pass

    async def send(self, letter: Letter) -> None:
        self.kafka.sent.append((self.topic, self.dlq, letter))
        self.pending.append(letter)

    async def flush(self) -> None:
        self.kafka.acknowledged += self.pending
        self.pending = []


@pytest.fixture
def kafka(monkeypatch: pytest.MonkeyPatch) -> FakeKafka:
    fake = FakeKafka()
    monkeypatch.setattr(commands, "read_letters", fake.read_letters)
    monkeypatch.setattr(commands, "Replayer", fake.replayer)
    return fake


async def test_replay_sends_the_selected_letters_to_the_source_and_waits_for_acks(
    kafka: FakeKafka,
) -> None:
    out = io.StringIO()
    tally = await commands.replay(
        Settings.load(None),
        "metrics.raw",
        Selection(reason="413"),
        dry_run=False,
        out=out,
        clock=lambda: 1_714_564_800.0,
    )
    assert [(t, d, x.offset) for t, d, x in kafka.sent] == [
        ("metrics.raw", "metrics.raw.dlq", 4),
        ("metrics.raw", "metrics.raw.dlq", 0),
    ]
    assert kafka.acknowledged == [LETTERS[0], LETTERS[2]]
    assert tally.records == 2
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("moving metrics.raw.dlq[0]@4  ")
    assert lines[-2] == (
        "moved 2 records (8 bytes); by partition: 0: 1, 3: 1; by stage: ?: 2 "
        "from metrics.raw.dlq to metrics.raw"
    )
    assert lines[-1].endswith("--since 2024-05-01T12:00:00.000Z")


async def test_a_dry_run_lists_and_sends_nothing(kafka: FakeKafka) -> None:
    out = io.StringIO()
    tally = await commands.replay(
        Settings.load(None), "metrics.raw", Selection(since_ms=2_000), dry_run=True, out=out
    )
    assert kafka.sent == [] and tally.records == 2
    assert kafka.read == [("metrics.raw.dlq", 2_000)]
    text = out.getvalue()
    assert text.count("would move metrics.raw.dlq[") == 2
    assert "would move 2 records (8 bytes)" in text
    assert "--since" not in text  # nothing moved: no hint for next time


def test_show_as_json_through_the_command_line(
    kafka: FakeKafka, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli.main(["dlq", "show", "--topic", "other", "--reason", "JSON", "-o", "json"])
    rows = json.loads(capsys.readouterr().out)
    assert code == 0
    assert kafka.read == [("other.dlq", None)]
    assert rows == [
        {
            "topic": "other.dlq",
            "partition": 0,
            "offset": 5,
            "time": "1970-01-01T00:00:02.000Z",
            "key": "h1",
            "bytes": 3,
            "stage": "",
            "source": "",
            "reason": "not JSON",
        }
    ]


def test_replay_since_a_bad_time_is_an_error_naming_the_value(
    kafka: FakeKafka, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["dlq", "replay", "--since", "last week"]) == 1
    assert "--since 'last week'" in capsys.readouterr().err
    assert kafka.read == []
