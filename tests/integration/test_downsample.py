"""Downsampling on real processes: 1-minute and 1-hour rows in their own TSDBs, through SIGKILL.

A gauge (line protocol) and a counter with a reset (remote write, typed by its metadata)
are pushed for ten minutes of event time around an hour boundary. The worker is killed
with SIGKILL after some minute rows were written and restarted later. The rows in the 1m
and 1h stores must equal a brute-force aggregation of the pushed samples, exactly, and the
last window must be closed by the timer, with no later sample.
"""

from __future__ import annotations

import json
import math
import random
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import Pipeline, Tsdb, read_topic, wait_for

from streams.codecs.remotewrite import encode_write_request
from streams.records import Point, decode_batch
from streams.stack import components
from streams.stack.processes import free_port

pytestmark = pytest.mark.integration

HOUR, MINUTE = 3_600_000, 60_000
H0 = (int(time.time() * 1000) // HOUR - 3) * HOUR  # an hour boundary, three hours back
FIRST = H0 + 55 * MINUTE  # ten minutes of samples, five each side of H0 + 1h
MINUTES = 10
AGGREGATES = ("min", "max", "sum", "count", "mean", "last")


@pytest.fixture(scope="module")
def tier_stores(workdir: Path) -> Iterator[dict[str, Tsdb]]:
    stores = {}
    for name in ("1m", "1h"):
        port = free_port()
        process = components.victoria_metrics(port, workdir).start().wait_ready(30)
        stores[name] = Tsdb(process, port)
    yield stores
    for store in stores.values():
        store.process.stop()


def _samples(seed: int) -> tuple[list[tuple[int, float]], list[tuple[int, float]]]:
    """A gauge and a counter, every 15 s, values exact in binary (multiples of 1/4)."""
    rng = random.Random(seed)
    gauge, counter, total = [], [], 0.0
    for i in range(MINUTES * 4):
        ts = FIRST + i * 15_000 + rng.randint(0, 3) * 1000
        gauge.append((ts, rng.randint(-400, 400) / 4))
        total = 3.0 if i == 17 else total + rng.randint(0, 40) / 4  # a reset at sample 17
        counter.append((ts, total))
    return gauge, counter


def _expected(
    samples: list[tuple[int, float]], counter: bool
) -> dict[str, dict[int, dict[str, float]]]:
    """Brute force: tier -> window start -> aggregate -> value."""
    rises: list[float] = []
    previous = None
    for _, value in samples:  # Prometheus' increase without extrapolation: a drop is a reset
        rises.append(0.0 if previous is None else value - previous if value >= previous else value)
        previous = value
    out: dict[str, dict[int, dict[str, float]]] = {}
    for tier, width in (("1m", MINUTE), ("1h", HOUR)):
        windows: dict[int, list[int]] = {}
        for index, (ts, _) in enumerate(samples):
            windows.setdefault(ts - ts % width, []).append(index)
        rows = out.setdefault(tier, {})
        for start, indexes in windows.items():
            values = [samples[i][1] for i in indexes]
            row = {
                "min": min(values),
                "max": max(values),
                "sum": sum(values),
                "count": float(len(values)),
                "mean": sum(values) / len(values),
                "last": values[-1],
            }
            if counter:
                row["increase"] = sum(rises[i] for i in indexes)
            rows[start] = row
    return out


def _stored(store: Tsdb, metric: str, aggregates: tuple[str, ...]) -> dict[int, dict[str, float]]:
    rows: dict[int, dict[str, float]] = {}
    for agg in aggregates:
        for series in store.export(f'{{__name__="{metric}_{agg}",host="h1"}}').values():
            for ts, value in series.items():
                rows.setdefault(ts, {})[agg] = value
    return rows


def _push(
    pipeline: Pipeline, gauge: list[tuple[int, float]], counter: list[tuple[int, float]]
) -> None:
    lines = [f"dstemp,host=h1 celsius={value!r} {ts}" for ts, value in gauge]
    random.Random(len(lines)).shuffle(lines)  # order inside a request does not matter
    status, text = pipeline.push("\n".join(lines).encode())
    assert status == 204, text
    body = encode_write_request(
        [({"__name__": "dsreq_total", "host": "h1"}, [(v, ts) for ts, v in counter])],
        {"dsreq_total": "counter"},
    )
    request = urllib.request.Request(
        pipeline.collector_url + "/api/v1/write",
        data=body,
        headers={"Content-Encoding": "snappy", "Content-Type": "application/x-protobuf"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as resp:
        assert resp.status == 204


def _mismatches(
    stored: dict[int, dict[str, float]], expected: dict[int, dict[str, float]]
) -> list[str]:
    """What differs between stored and expected rows (window start -> aggregate -> value)."""
    out = [f"window {ts}: missing" for ts in expected if ts not in stored]
    out += [f"window {ts}: not expected {stored[ts]}" for ts in stored if ts not in expected]
    for ts in set(stored) & set(expected):
        got, want = stored[ts], expected[ts]
        for agg in sorted(set(got) | set(want)):
            a, b = got.get(agg), want.get(agg)
            if a is None or b is None or not math.isclose(a, b, rel_tol=1e-11, abs_tol=1e-12):
                out.append(f"window {ts} {agg}: stored {a}, expected {b}")
    return out


def test_minute_and_hour_rows_are_exact_through_a_worker_kill(
    pipeline: Pipeline, tier_stores: dict[str, Tsdb], broker: str
) -> None:
    pipeline.env.update(
        {
            "PULSELINE_TIERS": json.dumps(
                [
                    {"name": "raw", "retention_s": "7d", "bucket": "metrics"},
                    {
                        "name": "1m",
                        "window_s": 60,
                        "retention_s": "30d",
                        "bucket": "metrics_1m",
                        "url": tier_stores["1m"].url,
                    },
                    {
                        "name": "1h",
                        "window_s": 3600,
                        "retention_s": "365d",
                        "bucket": "metrics_1h",
                        "url": tier_stores["1h"].url,
                    },
                ]
            ),
            "PULSELINE_DOWNSAMPLE__LATENESS_S": "5",
        }
    )
    gauge, counter = _samples(seed=11)
    want_gauge, want_counter = _expected(gauge, False), _expected(counter, True)
    pipeline.collector()
    worker = pipeline.worker()

    def half(k: int) -> tuple[list[tuple[int, float]], list[tuple[int, float]]]:
        """The samples of the k-th half minute."""
        start = FIRST + k * MINUTE // 2
        return (
            [s for s in gauge if start <= s[0] < start + MINUTE // 2],
            [s for s in counter if start <= s[0] < start + MINUTE // 2],
        )

    for k in range(9):
        _push(pipeline, *half(k))
    # Minutes 0-3 close once minute 4 began; their rows prove a snapshot was taken.
    wait_for(
        lambda: len(_stored(tier_stores["1m"], "dstemp_celsius", ("count",))) >= 4,
        60,
        "the first minute rows",
    )
    _push(pipeline, *half(9))  # closes no window: held, not acknowledged, until a snapshot
    time.sleep(4)  # past Faust's commit interval, so acknowledged offsets would be committed
    worker.kill()  # SIGKILL: records after the last snapshot are replayed after the restart
    for k in range(10, 2 * MINUTES):
        _push(pipeline, *half(k))
    pipeline.worker()
    marker = H0 + 2 * HOUR + 10 * MINUTE + 50_000  # moves event time past both hours
    status, text = pipeline.push(f"dsmark,host=h1 value=1 {marker}".encode())
    assert status == 204, text

    gauge_aggs, counter_aggs = AGGREGATES, (*AGGREGATES, "increase")

    def differences(tier: str) -> list[str]:
        store = tier_stores[tier]
        return [
            f"{tier} {metric} {problem}"
            for metric, aggs, want in (
                ("dstemp_celsius", gauge_aggs, want_gauge[tier]),
                ("dsreq_total_value", counter_aggs, want_counter[tier]),
            )
            for problem in _mismatches(_stored(store, metric, aggs), want)
        ]

    deadline = time.monotonic() + 90
    while (problems := differences("1m") + differences("1h")) and time.monotonic() < deadline:
        time.sleep(1)
    assert not problems, problems[:10]
    assert len(want_gauge["1m"]) == MINUTES and len(want_gauge["1h"]) == 2
    # No sample follows the marker: its minute is closed by the timer on the quiet partition.
    wait_for(
        lambda: (
            _stored(tier_stores["1m"], "dsmark_value", ("count",))
            == {marker - marker % MINUTE: {"count": 1.0}}
        ),
        60,
        "the marker's minute, closed by the timer",
    )
    # A sample for a window past the correction horizon changes no row: it goes to the
    # late-data topic with its reason.
    status, text = pipeline.push(f"dstemp,host=h1 celsius=1000.0 {FIRST}".encode())
    assert status == 204, text
    late = read_topic(broker, pipeline.env["PULSELINE_TOPICS__LATE"], expect=1)
    assert [(decode_batch(v), h["pulseline-reason"]) for v, h in late] == [
        ([Point("dstemp", {"host": "h1"}, {"celsius": 1000.0}, FIRST)], b"late")
    ]
    assert not differences("1m") + differences("1h")
