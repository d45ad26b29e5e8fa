"""A sequence oracle: numbered samples per series, and what a store is missing of them.

Each host sends one series, ``seq_value{host=...}``, one sample a second: sample ``i`` has
timestamp ``start_ms + i*1000`` and value ``i``. Records carry one minute of one host (the
collector's keying: one source, one partition), produced minute by minute across hosts so
event time advances evenly. From the numbers alone a check knows which samples a store must
hold, which are missing, which were written twice, and every 1-minute row's count and sum.
"""

from __future__ import annotations

import asyncio
import json
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from streams.kafka import RecordProducer
from streams.names import VALUE_FIELD, metric_name, tier_field
from streams.records import Point, encode_batch
from streams.settings import KafkaSettings

MINUTE = 60_000


@dataclass(frozen=True)
class Sequences:
    """``hosts`` series of ``minutes`` minutes of 1 s samples from ``start_ms`` (minute-aligned)."""

    hosts: int
    minutes: int
    start_ms: int
    metric: str = "seq"

    @property
    def total(self) -> int:
        return self.hosts * self.minutes * 60

    def host(self, h: int) -> str:
        return f"h{h:04d}"

    def records(self, minutes: range | None = None) -> Iterator[tuple[bytes, bytes]]:
        """``(key, value)`` of every record (or of ``minutes``), minute by minute across hosts."""
        for m in minutes if minutes is not None else range(self.minutes):
            for h in range(self.hosts):
                points = [
                    Point(self.metric, {"host": self.host(h)}, {"value": float(i)}, self.ts(i))
                    for i in range(m * 60, m * 60 + 60)
                ]
                yield self.host(h).encode(), encode_batch(points)

    def ts(self, i: int) -> int:
        return self.start_ms + i * 1000

    def expected(self) -> set[tuple[str, int]]:
        """Every ``(host, timestamp)`` a complete raw tier holds."""
        return {
            (self.host(h), self.ts(i)) for h in range(self.hosts) for i in range(self.minutes * 60)
        }

    def minute_rows(self) -> dict[tuple[str, int], tuple[float, float]]:
        """``(host, window start) -> (count, sum)`` of every 1-minute row."""
        return {
            (self.host(h), self.start_ms + m * MINUTE): (
                60.0,
                float(sum(range(m * 60, m * 60 + 60))),
            )
            for h in range(self.hosts)
            for m in range(self.minutes)
        }


def produce(broker: str, topic: str, records: Iterable[tuple[bytes, bytes]]) -> int:
    """Produce records (acknowledged by Kafka) keyed as the collector keys them."""

    async def send() -> int:
        producer = RecordProducer(
            KafkaSettings(broker=f"kafka://{broker}", enable_idempotence=False)
        )
        await producer.start()
        sent = 0
        try:
            chunk: list[tuple[bytes, bytes]] = []
            for item in records:
                chunk.append(item)
                if len(chunk) == 500:
                    await producer.send_all(topic, chunk)
                    sent += len(chunk)
                    chunk = []
            if chunk:
                await producer.send_all(topic, chunk)
                sent += len(chunk)
        finally:
            await producer.stop()
        return sent

    return asyncio.run(send())


def export(url: str, match: str) -> dict[str, list[tuple[int, float]]]:
    """Every stored sample of the matching series, copies included: host -> [(ts, value)]."""
    query = urllib.parse.urlencode({"match[]": match})
    with urllib.request.urlopen(f"{url}/api/v1/export?{query}", timeout=120) as resp:
        text = resp.read().decode()
    out: dict[str, list[tuple[int, float]]] = {}
    for line in text.splitlines():
        row = json.loads(line)
        host = row["metric"].get("host", "")
        out.setdefault(host, []).extend(zip(row["timestamps"], row["values"], strict=True))
    return out


@dataclass(frozen=True)
class RawCheck:
    """How a raw tier compares with the sequences."""

    stored: int
    missing: list[tuple[str, int]]
    duplicated: int
    wrong: list[tuple[str, int, float]]


def check_raw(load: Sequences, url: str) -> RawCheck:
    """Missing, duplicated and wrong samples of ``load`` in the store at ``url``."""
    rows = export(url, f'{{__name__="{load.metric}"}}')
    seen: Counter[tuple[str, int]] = Counter()
    wrong = []
    for host, samples in rows.items():
        for ts, value in samples:
            seen[(host, ts)] += 1
            if value != (ts - load.start_ms) / 1000:
                wrong.append((host, ts, value))
    expected = load.expected()
    return RawCheck(
        stored=sum(seen.values()),
        missing=sorted(expected - set(seen)),
        duplicated=sum(n - 1 for n in seen.values()),
        wrong=wrong,
    )


def tier_name(metric: str, aggregate: str) -> str:
    """The stored name of a tier's ``aggregate`` of the series ``metric`` (field ``value``)."""
    return metric_name(metric, tier_field(VALUE_FIELD, aggregate))


def check_minutes(load: Sequences, url: str) -> list[str]:
    """What differs between the 1-minute rows at ``url`` and the exact ones."""
    got: dict[tuple[str, int], dict[str, float]] = {}
    for agg in ("count", "sum"):
        for host, samples in export(url, f'{{__name__="{tier_name(load.metric, agg)}"}}').items():
            for ts, value in samples:
                got.setdefault((host, ts), {})[agg] = value
    problems = []
    for key, (count, total) in sorted(load.minute_rows().items()):
        row = got.get(key)
        if row is None:
            problems.append(f"{key}: missing")
        elif row.get("count") != count or row.get("sum") != total:
            problems.append(f"{key}: count {row.get('count')} sum {row.get('sum')}")
    return problems
