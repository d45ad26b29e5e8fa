"""Repeated Kafka client errors: once per period, with a count of those held back."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from streams.logs import KAFKA_CLIENT_LOGGERS, MAX_KEYS, RepeatFilter, quiet_repeats


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def record(msg: str, *args: object, name: str = "aiokafka.cluster") -> logging.LogRecord:
    return logging.LogRecord(name, logging.ERROR, __file__, 1, msg, args, None)


def test_one_message_passes_once_per_period_and_then_says_how_many_were_held() -> None:
    clock = Clock()
    repeats = RepeatFilter(every_s=10, clock=clock)
    passed = []
    for second in range(25):
        clock.now = float(second)
        for _ in range(100):  # a hundred retries a second
            line = record("Topic %s not found in cluster metadata", "raw")
            if repeats.filter(line):
                passed.append(line.getMessage())
    assert passed == [
        "Topic raw not found in cluster metadata",
        "Topic raw not found in cluster metadata (and 999 more like it in the last 10 s)",
        "Topic raw not found in cluster metadata (and 999 more like it in the last 10 s)",
    ]


def test_other_arguments_or_loggers_are_other_messages() -> None:
    repeats = RepeatFilter(every_s=10, clock=Clock())
    lines = [
        record("Topic %s not found", "raw"),
        record("Topic %s not found", "alerts"),
        record("Topic %s not found", "raw", name="aiokafka.conn"),
        record("Topic %s not found", "raw"),
    ]
    assert [repeats.filter(line) for line in lines] == [True, True, True, False]


def test_distinct_messages_beyond_the_bound_forget_the_old_ones() -> None:
    clock = Clock()
    repeats = RepeatFilter(every_s=10, clock=clock)
    for offset in range(MAX_KEYS):
        assert repeats.filter(record("commit of offset %s failed", offset))
    clock.now = 11.0
    assert repeats.filter(record("commit of offset %s failed", MAX_KEYS))
    assert len(repeats._seen) == 1


def clear_filters() -> None:
    for name in KAFKA_CLIENT_LOGGERS:
        logging.getLogger(name).filters.clear()


@pytest.fixture
def client_logger() -> Iterator[logging.Logger]:
    clear_filters()  # a command run by another test put them there
    yield logging.getLogger("aiokafka.cluster")
    clear_filters()


def test_the_kafka_clients_loggers_get_the_filter_once(
    client_logger: logging.Logger, caplog: pytest.LogCaptureFixture
) -> None:
    quiet_repeats()
    quiet_repeats()  # a second call adds no second filter
    assert [type(f) for f in client_logger.filters] == [RepeatFilter]
    with caplog.at_level(logging.ERROR, logger=client_logger.name):
        for _ in range(50):
            client_logger.error("Topic %s not found in cluster metadata", "raw")
    assert [r.getMessage() for r in caplog.records] == ["Topic raw not found in cluster metadata"]


def test_the_clients_progress_lines_all_pass() -> None:
    repeats = RepeatFilter(every_s=10, clock=Clock())
    joining = logging.LogRecord(
        "aiokafka.consumer.group_coordinator",
        logging.INFO,
        "",
        1,
        "(Re-)joining group %s",
        ("g",),
        None,
    )
    assert [repeats.filter(joining) for _ in range(3)] == [True, True, True]
