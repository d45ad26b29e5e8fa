"""Downsampling engine benchmark: samples per second, and bytes of state per active series.

Throughput: hosts scrape every 15 s at their own phase; each scrape is one batch (one Kafka
record) of 100 points. Half the fields are counters. Six minutes of event time are fed to
one partition, so every 1-minute window closes (rows, folds into the 1-hour tier) inside the
timed loop. Two shapes, 100,000 series each: one field per point (Prometheus-like) and five
(Telegraf-like).
Reported: samples/s of ``add_points`` including window closes, and ns per sample.

Memory: series with one field per point, 15 s interval, fed until the first 1-minute window
has closed into the 1-hour block and the next 1-minute window holds its samples plus those of
the following window's first 30 s (the lateness): the most a series holds in steady state.
Measured with tracemalloc at 100,000 series (it slows allocation about tenfold) and, at
1,000,000 series, by summing sys.getsizeof over the state (the two agree at 100,000).
Reported: bytes per series, split into the window state (the series' array) and its
identity (the dict entry, key tuples and tag strings).

Storage: rows one series keeps in the configured tiers at a 10 s interval, against a year of
raw samples.

    python bench/downsample.py [--series 1000000] [--quick]
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
import tracemalloc
from collections.abc import Iterator

from streams.downsample import WindowEngine
from streams.downsample.config import points_per_series_year
from streams.records import Point
from streams.settings import Settings

INTERVAL = 15_000
POINTS_PER_SCRAPE = 100
T0 = 1_700_000_000_000 - 1_700_000_000_000 % 3_600_000


def scrapes(n_points: int, fields: int, step: int) -> Iterator[list[Point]]:
    """One step of every host's scrape: batches of points, tag values fresh per batch."""
    hosts = n_points // POINTS_PER_SCRAPE
    for h in range(hosts):
        ts = T0 + step * INTERVAL + h * INTERVAL // hosts
        host = f"host-{h:05d}:9100"
        yield [
            Point(
                f"metric_{i % 25}",
                {"instance": host, "job": "node", "series": f"s{i}"},
                {f"f{j}": float(step * 10 + i + j) for j in range(fields)},
                ts,
            )
            for i in range(POINTS_PER_SCRAPE)
        ]


def counters(m: str, tags: object, f: str) -> bool:
    return int(m[7:]) % 2 == 0


def throughput(n_series: int, fields: int, minutes: int) -> None:
    engine = WindowEngine(counters=counters, clock=lambda: T0 + 10**10)
    n_points = n_series // fields
    spent = 0.0
    samples = rows = 0
    for step in range(minutes * 60_000 // INTERVAL):
        batches = list(scrapes(n_points, fields, step))
        gc.collect()
        started = time.perf_counter()
        for batch in batches:
            rows += len(engine.add_points(0, batch))
        spent += time.perf_counter() - started
        samples += n_points * fields
    print(
        f"throughput {n_series:,} series ({fields} field/point): {samples / spent:,.0f} samples/s"
        f" ({spent / samples * 1e9:.0f} ns/sample, window closes included), {rows:,} rows"
    )


def fill(engine: WindowEngine, n_series: int) -> None:
    """Steps 0..9 (0-135 s at 15 s): the window [0, 60 s) closed into the 1-hour block at
    watermark 60 s; each series now buffers 60..135 s (6 samples), the most it holds."""
    for step in range(10):
        for batch in scrapes(n_series, 1, step):
            engine.add_points(0, batch)


def accounted(engine: WindowEngine) -> tuple[int, int]:
    """Bytes of the partition's state by sys.getsizeof: (everything, the arrays alone)."""
    series = engine._parts[0].series
    arrays = sum(sys.getsizeof(a) for a in series.values())
    total = arrays + sys.getsizeof(series)
    seen: set[int] = set()
    for pk, field in series:
        total += sys.getsizeof((pk, field))
        for obj in (pk, field, *pk):
            if id(obj) not in seen:
                seen.add(id(obj))
                total += sys.getsizeof(obj)
    return total, arrays


def memory(n_series: int, traced: bool) -> None:
    engine = WindowEngine(counters=counters, clock=lambda: T0 + 10**10)
    gc.collect()
    if traced:
        tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    fill(engine, n_series)
    gc.collect()
    used = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    n = engine.series_count(0)
    total, arrays = accounted(engine)
    how = f"tracemalloc {used / n:.0f}, " if traced else ""
    started = time.perf_counter()
    size = len(engine.snapshot(0))
    took = time.perf_counter() - started
    print(
        f"memory {n:,} series, 1m and 1h windows open, 6 samples buffered: bytes/series "
        f"{how}getsizeof {total / n:.0f} = window state (array) {arrays / n:.0f}"
        f" + identity (dict entry, key tuples, tag strings) {(total - arrays) / n:.0f};"
        f" snapshot {size / n:.0f} bytes/series in {took:.2f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--series", type=int, default=1_000_000, help="series for memory")
    parser.add_argument("--quick", action="store_true", help="smaller runs (smoke test)")
    args = parser.parse_args()
    scale = 10 if args.quick else 1
    throughput(100_000 // scale, 1, 6)
    throughput(100_000 // scale, 5, 6)
    memory(100_000 // scale, traced=True)  # tracemalloc slows allocation about tenfold
    memory(args.series // scale, traced=False)
    storage(10.0)


def storage(interval_s: float) -> None:
    """Rows kept per series by the configured tiers against a year of raw samples."""
    tiers = Settings.load(None).tiers
    kept = points_per_series_year(tiers, interval_s)
    raw_year = round(365 * 86400 / interval_s)
    shape = ", ".join(f"{t.name} {round(t.retention_s / 86400)}d" for t in tiers)
    print(
        f"storage: at a {interval_s:g} s interval one series keeps {kept:,} rows ({shape}) "
        f"against {raw_year:,} raw samples for a year: {raw_year / kept:.1f} times fewer"
    )


if __name__ == "__main__":
    main()
