"""The raw sink and the tiers on a real InfluxDB 2: token, buckets, overwrite, Flux.

Real ``pulseline collect`` and ``pulseline worker`` processes write through InfluxDB's v2
write API with the operator token; every row is read back with Flux through
``/api/v2/query`` and compared with values worked out here from the pushed samples.
"""

from __future__ import annotations

import math
import random
import time
import urllib.request
from datetime import datetime
from pathlib import Path

import pytest
from conftest import Pipeline, topic_size, wait_for
from influxdb2 import (
    ensure,
    flux_rows,
    influx_env,
    influxdb2_server,  # noqa: F401  (the fixture `influxdb2`)
    tier_buckets,
)
from prometheus_client.parser import text_string_to_metric_families

from streams.stack.influxdb2 import InfluxDB2

pytestmark = [pytest.mark.integration, pytest.mark.long(160)]

HOUR, MINUTE = 3_600_000, 60_000
H0 = (int(time.time() * 1000) // HOUR - 3) * HOUR  # an hour boundary, three hours back
FIRST = H0 + 55 * MINUTE  # ten minutes of samples, five each side of H0 + 1h
SENSORS, STEPS = 10, 40  # every 15 s for ten minutes
AGGREGATES = ("min", "max", "sum", "count", "mean", "last")


def ms(rfc3339: str) -> int:
    """Milliseconds since the epoch of a Flux ``_time``."""
    return round(datetime.fromisoformat(rfc3339).timestamp() * 1000)


def sink_counter(pipeline: Pipeline, name: str, **labels: str) -> float:
    """A worker's sink counter (summed over the series matching ``labels``); 0 if absent."""
    with urllib.request.urlopen(f"{pipeline.worker_web}/metrics", timeout=10) as response:
        text = response.read().decode()
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == f"{name}_total" and labels.items() <= sample.labels.items()
    )


def gauge_samples(seed: int) -> dict[tuple[str, int], float]:
    """(sensor, ts_ms) -> value; values are multiples of 1/4, exact in binary and in text."""
    rng = random.Random(seed)
    return {
        (f"s{s:02d}", FIRST + step * 15_000 + rng.randint(0, 3) * 1000): rng.randint(-400, 400) / 4
        for s in range(SENSORS)
        for step in range(STEPS)
    }


def expected_rows(
    samples: dict[tuple[str, int], float], width: int
) -> dict[tuple[str, int], dict[str, float]]:
    """Brute force: (sensor, window start) -> aggregate -> value, samples in time order."""
    windows: dict[tuple[str, int], list[tuple[int, float]]] = {}
    for (sensor, ts), value in samples.items():
        windows.setdefault((sensor, ts - ts % width), []).append((ts, value))
    rows = {}
    for key, points in windows.items():
        values = [value for _, value in sorted(points)]
        rows[key] = {
            "min": min(values),
            "max": max(values),
            "sum": sum(values),
            "count": float(len(values)),
            "mean": sum(values) / len(values),
            "last": values[-1],
        }
    return rows


def stored_rows(server: InfluxDB2, bucket: str) -> dict[tuple[str, int], dict[str, float]]:
    """The aggregate rows of ``itemp`` in a tier bucket, keyed like :func:`expected_rows`."""
    rows: dict[tuple[str, int], dict[str, float]] = {}
    for row in flux_rows(server, bucket, '|> filter(fn: (r) => r._measurement == "itemp")'):
        aggregate = row["_field"].removeprefix("celsius_")
        rows.setdefault((row["sensor"], ms(row["_time"])), {})[aggregate] = float(row["_value"])
    return rows


def mismatches(
    stored: dict[tuple[str, int], dict[str, float]],
    expected: dict[tuple[str, int], dict[str, float]],
) -> list[str]:
    out = [f"{key}: missing" for key in expected.keys() - stored.keys()]
    out += [f"{key}: not expected" for key in stored.keys() - expected.keys()]
    for key in stored.keys() & expected.keys():
        got, want = stored[key], expected[key]
        for agg in sorted(got.keys() | want.keys()):
            a, b = got.get(agg), want.get(agg)
            if a is None or b is None or not math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12):
                out.append(f"{key} {agg}: stored {a}, expected {b}")
    return out


def push_samples(pipeline: Pipeline, samples: dict[tuple[str, int], float], seed: int) -> None:
    """Push ``samples`` as one line-protocol body, in shuffled order."""
    lines = [f"itemp,host=h1,sensor={s} celsius={v!r} {ts}" for (s, ts), v in samples.items()]
    random.Random(seed).shuffle(lines)
    status, text = pipeline.push("\n".join(lines).encode())
    assert status == 204, text


def raw_rows(server: InfluxDB2, bucket: str) -> dict[tuple[str, int], list[float]]:
    """Every stored ``itemp celsius`` value: (sensor, ts_ms) -> the values InfluxDB holds."""
    rows: dict[tuple[str, int], list[float]] = {}
    for r in flux_rows(server, bucket, '|> filter(fn: (r) => r._measurement == "itemp")'):
        assert r["_field"] == "celsius", r
        rows.setdefault((r["sensor"], ms(r["_time"])), []).append(float(r["_value"]))
    return rows


def test_raw_and_tier_rows_reach_their_buckets_once_the_buckets_exist(
    pipeline: Pipeline, influxdb2: InfluxDB2, tmp_path: Path, broker: str
) -> None:
    buckets = tier_buckets()
    pipeline.env.update(influx_env(influxdb2, buckets) | {"PULSELINE_DOWNSAMPLE__LATENESS_S": "5"})
    samples = gauge_samples(seed=3)
    pipeline.collector()
    pipeline.worker()
    push_samples(pipeline, samples, seed=5)

    # The buckets do not exist yet: InfluxDB answers 404, the sink keeps the data and retries.
    wait_for(
        lambda: (
            sink_counter(pipeline, "pulseline_sink_write_failures", tier="raw", status="404") >= 2
        ),
        60,
        "404 answers to the raw sink",
    )
    done = ensure(pipeline.env, tmp_path)
    assert done.returncode == 0, done.stderr
    marker = H0 + 2 * HOUR + 10 * MINUTE + 50_000  # moves event time past both hours
    status, text = pipeline.push(f"imark,host=h1 value=1 {marker}".encode())
    assert status == 204, text

    wait_for(
        lambda: len(raw_rows(influxdb2, buckets["raw"])) >= len(samples), 90, "every raw sample"
    )
    assert raw_rows(influxdb2, buckets["raw"]) == {k: [v] for k, v in samples.items()}

    want = {"1m": expected_rows(samples, MINUTE), "1h": expected_rows(samples, HOUR)}
    assert len(want["1m"]) == SENSORS * 10 and len(want["1h"]) == SENSORS * 2

    def problems() -> list[str]:
        return [
            f"{tier} {problem}"
            for tier in ("1m", "1h")
            for problem in mismatches(stored_rows(influxdb2, buckets[tier]), want[tier])
        ]

    deadline = time.monotonic() + 90
    while (found := problems()) and time.monotonic() < deadline:
        time.sleep(1)
    assert not found, found[:10]
    assert topic_size(broker, pipeline.raw_topic + ".dlq") == 0


def test_a_replayed_topic_leaves_one_row_per_point_and_the_last_write_wins(
    pipeline: Pipeline, influxdb2: InfluxDB2, tmp_path: Path
) -> None:
    buckets = tier_buckets()
    pipeline.env.update(influx_env(influxdb2, buckets) | {"PULSELINE_DOWNSAMPLE__ENABLED": "false"})
    assert ensure(pipeline.env, tmp_path).returncode == 0
    samples = gauge_samples(seed=9)
    pipeline.collector()
    worker = pipeline.worker()
    push_samples(pipeline, samples, seed=1)
    # The same series and time again with another value: a second record, a second write.
    sensor, ts = next(iter(samples))  # its value is a multiple of 1/4 within +-100
    status, text = pipeline.push(f"itemp,host=h1,sensor={sensor} celsius=1234.5 {ts}".encode())
    assert status == 204, text
    written = len(samples) + 1
    want = {k: [1234.5 if k == (sensor, ts) else v] for k, v in samples.items()}

    wait_for(
        lambda: sink_counter(pipeline, "pulseline_sink_lines_written", tier="raw") >= written,
        60,
        "the first worker's writes",
    )
    assert raw_rows(influxdb2, buckets["raw"]) == want

    # A new consumer group reads the topic from the start: every record is written again.
    worker.stop()
    pipeline.env["PULSELINE_WORKER__APP_ID"] += "-replay"
    pipeline.worker(name="replay")
    wait_for(
        lambda: sink_counter(pipeline, "pulseline_sink_lines_written", tier="raw") >= written,
        60,
        "the replaying worker's writes",
    )
    assert sink_counter(pipeline, "pulseline_sink_lines_written", tier="raw") == written
    counted = influxdb2.query(
        f'from(bucket: "{buckets["raw"]}") |> range(start: 0) |> group() |> count()'
    )
    assert [int(r["_value"]) for r in counted] == [len(samples)]
    assert raw_rows(influxdb2, buckets["raw"]) == want


def test_rows_survive_an_influxdb_restart_and_the_backlog_lands_after_it(
    pipeline: Pipeline, influxdb2: InfluxDB2, tmp_path: Path, broker: str
) -> None:
    buckets = tier_buckets()
    pipeline.env.update(influx_env(influxdb2, buckets) | {"PULSELINE_DOWNSAMPLE__ENABLED": "false"})
    assert ensure(pipeline.env, tmp_path).returncode == 0
    samples = gauge_samples(seed=13)
    before = {k: v for k, v in samples.items() if k[1] < FIRST + 5 * MINUTE}
    pipeline.collector()
    pipeline.worker()
    push_samples(pipeline, before, seed=2)
    wait_for(lambda: len(raw_rows(influxdb2, buckets["raw"])) >= len(before), 60, "the first half")

    influxdb2.stop()  # SIGTERM; Kafka holds what arrives meanwhile
    push_samples(pipeline, {k: v for k, v in samples.items() if k not in before}, seed=4)
    wait_for(
        lambda: sink_counter(pipeline, "pulseline_sink_write_failures", tier="raw") >= 2,
        60,
        "failed writes while InfluxDB is down",
    )
    influxdb2.start()

    wait_for(lambda: len(raw_rows(influxdb2, buckets["raw"])) >= len(samples), 90, "every sample")
    assert raw_rows(influxdb2, buckets["raw"]) == {k: [v] for k, v in samples.items()}
    assert topic_size(broker, pipeline.raw_topic + ".dlq") == 0
