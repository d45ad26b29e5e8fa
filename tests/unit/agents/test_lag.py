"""Consumer lag per partition from Faust's consumer, on a worker's ``/metrics``."""

from __future__ import annotations

from typing import Any

from faust.types import TP
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from agents.lag import LagCollector


class FakeConsumer:
    def __init__(self, ends: dict[TP, int | None], committed: dict[TP, int | None]) -> None:
        self.ends = ends
        self._committed_offset = committed

    def assignment(self) -> set[TP]:
        return set(self.ends)

    def highwater(self, tp: TP) -> int | None:
        return self.ends[tp]


class NotStarted:
    def assignment(self) -> set[TP]:
        raise RuntimeError("consumer not started")


def lags(consumer: Any) -> dict[tuple[str, str], float]:
    registry = CollectorRegistry()
    registry.register(LagCollector(lambda: consumer))
    text = generate_latest(registry).decode()
    return {
        (s.labels["topic"], s.labels["partition"]): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == "pulseline_consumer_lag"
    }


def test_lag_is_the_end_offset_minus_the_committed_offset() -> None:
    raw0, raw1, changelog = TP("metrics.raw", 0), TP("metrics.raw", 1), TP("x-changelog", 0)
    consumer = FakeConsumer(
        {raw0: 1500, raw1: 40, changelog: 9},
        {raw0: 1200, raw1: 40},  # the changelog is read, never committed
    )
    assert lags(consumer) == {("metrics.raw", "0"): 300, ("metrics.raw", "1"): 0}


def test_a_partition_not_fetched_yet_has_no_series() -> None:
    tp = TP("metrics.raw", 0)
    assert lags(FakeConsumer({tp: None}, {tp: 10})) == {}


def test_no_consumer_or_one_not_started_gives_an_empty_family() -> None:
    assert lags(None) == {}
    assert lags(NotStarted()) == {}
