"""What pulseline stores in InfluxDB, from the code that stores it: buckets, measurements,
fields and tags, for checking the Grafana dashboards against.

- Host metrics: the lines :class:`streams.demo.DemoHost` pushes, parsed by the collector's
  line-protocol parser.
- pulseline's own metrics: the ``/metrics`` pages of a collector and a worker (their real
  registries and collectors, with small fakes where a collector reads a running engine),
  parsed by the collector's scrape parser as a scrape stores them, plus the ``up`` series
  every scrape writes.
- The tiers: every numeric field ``f`` of a raw point becomes ``f_<aggregate>`` in the tiers'
  rows (:data:`streams.downsample.rows.SUFFIXES`).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from faust.types import TP
from prometheus_client import CollectorRegistry, generate_latest

from agents.alertmanager_metrics import AlertmanagerCollector
from agents.downsample import DownsampleCollector
from agents.lag import LagCollector
from agents.rules import RuleCollector, RuleStats
from streams.alertmanager.engine.runtime import AlertManager, load
from streams.alertmanager.model import Alert
from streams.alertmanager.notify import NotifyCollector, NotifyStats
from streams.codecs.lineprotocol import parse_lines
from streams.collector.exposition import parse_scrape, report_points
from streams.collector.metrics import CollectorMetrics
from streams.demo import DemoHost
from streams.downsample import DownsampleStats
from streams.downsample.processor import StageStats
from streams.downsample.rows import SUFFIXES
from streams.records import Point
from streams.settings import DEFAULT_TIERS
from streams.sinks.batch import SinkStats
from streams.sinks.metrics import SinkCollector
from streams.sinks.raw import RawStats

ROOT = Path(__file__).resolve().parents[3]
GRAFANA = ROOT / "deploy" / "grafana"
if str(GRAFANA) not in sys.path:
    sys.path.insert(0, str(GRAFANA))

TS = 1_700_000_000_000


@dataclass
class Measurement:
    """The fields and tag keys a measurement is stored with."""

    fields: set[str] = field(default_factory=set)
    tags: set[str] = field(default_factory=set)

    def tier_fields(self) -> set[str]:
        """The fields of the measurement's rows in the 1m and 1h tiers."""
        return {f + suffix for f in self.fields for suffix in SUFFIXES}


def catalog(points: list[Point]) -> dict[str, Measurement]:
    """Measurement -> its fields and tag keys, over ``points``."""
    out: dict[str, Measurement] = {}
    for point in points:
        entry = out.setdefault(point.measurement, Measurement())
        entry.fields.update(point.fields)
        entry.tags.update(point.tags)
    return out


def demo_points() -> list[Point]:
    """One report of two demo hosts, as the collector parses it."""
    lines = [line for i in range(2) for line in DemoHost(f"host-{i:03d}", seed=i).lines(TS)]
    return parse_lines("\n".join(lines), precision="ms", now_ms=TS)


class _Stage:
    """The parts of a downsampling stage its collector reads."""

    def __init__(self) -> None:
        self.partitions = [0]
        self.stats = StageStats()
        self.engine = SimpleNamespace(stats=lambda p: DownsampleStats(), series_count=lambda p: 0)

    def held(self, partition: int) -> int:
        return 0


def worker_registry() -> CollectorRegistry:
    """A worker's metrics, every labelled family with one series at least."""
    registry = CollectorRegistry()
    sinks = SinkCollector()
    for tier in DEFAULT_TIERS:
        sinks.add(tier.name, SinkStats(), RawStats() if tier.window_s is None else None)
    registry.register(sinks)
    registry.register(DownsampleCollector(_Stage()))  # type: ignore[arg-type]
    runtime: Any = SimpleNamespace(series_count=lambda: 0, router=SimpleNamespace(groups=[]))
    registry.register(RuleCollector(RuleStats(), runtime))
    notify = NotifyStats()
    notify.sent[("ops", "webhook")] += 1
    notify.failed[("ops", "webhook", True)] += 1
    registry.register(NotifyCollector(notify))
    am = AlertManager(load(None))
    am.dispatcher(0, list)
    firing = Alert.create({"alertname": "HostDown"}, starts_at=TS / 1000, updated_at=TS / 1000)
    for grouped in am.route(firing):
        am.insert(0, grouped, TS / 1000)
    registry.register(AlertmanagerCollector(am, {}, clock=lambda: TS / 1000))
    tp = TP("metrics.raw", 0)
    consumer = SimpleNamespace(
        assignment=lambda: {tp}, highwater=lambda tp: 10, _committed_offset={tp: 7}
    )
    registry.register(LagCollector(lambda: consumer))
    return registry


def scraped(registry: CollectorRegistry, component: str) -> list[Point]:
    """The points a scrape of ``registry`` stores, and the scrape's own series."""
    result = parse_scrape(
        generate_latest(registry),
        "text/plain; version=0.0.4",
        job="pulseline",
        instance=f"{component}:9091",
        target_labels={"component": component},
        honor_labels=False,
        sample_limit=0,
        label_limit=0,
        scrape_ts_ms=TS,
    )
    report = report_points("pulseline", f"{component}:9091", {"component": component}, True,
                           0.01, len(result.points), TS)  # fmt: skip
    return [*result.points, *report]


def stored() -> dict[str, Measurement]:
    """Every measurement the dashboards may read, with its fields and tags."""
    return catalog(
        demo_points()
        + scraped(CollectorMetrics().registry, "collector")
        + scraped(worker_registry(), "worker")
    )
