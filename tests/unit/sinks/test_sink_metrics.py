"""The worker's sink counters: each family once, one sample per tier."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from streams.sinks.batch import SinkStats
from streams.sinks.metrics import SinkCollector
from streams.sinks.raw import RawStats


def test_every_tier_is_a_sample_of_one_family() -> None:
    registry = CollectorRegistry()
    sinks = SinkCollector()
    registry.register(sinks)
    sinks.add("raw", SinkStats(lines_written=5, blocked=True), RawStats(records=2))
    sinks.add("1m", SinkStats(lines_written=3, failures_by_status={"503": 1}))
    text = generate_latest(registry).decode()
    assert text.count("# TYPE pulseline_sink_lines_written_total counter") == 1
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }
    assert samples[("pulseline_sink_lines_written_total", (("tier", "raw"),))] == 5
    assert samples[("pulseline_sink_lines_written_total", (("tier", "1m"),))] == 3
    assert samples[("pulseline_sink_records_total", (("tier", "raw"),))] == 2
    assert ("pulseline_sink_records_total", (("tier", "1m"),)) not in samples
    assert (
        samples[("pulseline_sink_write_failures_total", (("status", "503"), ("tier", "1m")))] == 1
    )
    assert samples[("pulseline_sink_blocked", (("tier", "raw"),))] == 1


def test_write_failures_exist_at_zero_for_the_known_statuses() -> None:
    registry = CollectorRegistry()
    sinks = SinkCollector()
    registry.register(sinks)
    sinks.add("raw", SinkStats(failures_by_status={"503": 2, "418": 1}))
    text = generate_latest(registry).decode()
    failures = {
        s.labels["status"]: s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == "pulseline_sink_write_failures_total"
    }
    expected = dict.fromkeys(
        ["none", "400", "401", "403", "404", "413", "422", "429", "500", "502", "504"], 0.0
    )
    assert failures == expected | {"503": 2.0, "418": 1.0}
