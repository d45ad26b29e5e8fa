"""Consumer lag per partition, on a worker's ``GET /metrics``.

``pulseline_consumer_lag{topic, partition}``: for each partition this worker consumes and
commits, the partition's end offset as the consumer last saw it (the high watermark of its
latest fetch) minus the offset the consumer group committed there: the records a restart
would read again or that still wait. Workers hold disjoint partitions, so the series of all
workers together cover the group. Partitions without a committed offset yet (just assigned,
or a table's changelog read during recovery) have no series.

The collector reads Faust's consumer as it is at scrape time and never creates it: before the
worker's consumer has started, and between rebalances, the family is empty.

Example:
    >>> from prometheus_client import CollectorRegistry, generate_latest
    >>> registry = CollectorRegistry()
    >>> registry.register(LagCollector(lambda: None))  # a worker passes Faust's consumer
    >>> b"# TYPE pulseline_consumer_lag gauge" in generate_latest(registry)
    True
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

log = logging.getLogger(__name__)


class LagCollector(Collector):
    """Reads the assigned partitions' high watermarks and committed offsets.

    Args:
        consumer: returns Faust's consumer (or None while there is none).
    """

    def __init__(self, consumer: Callable[[], Any]) -> None:
        self._consumer = consumer

    def collect(self) -> Iterator[Metric]:
        family = GaugeMetricFamily(
            "pulseline_consumer_lag",
            "Records of the partition after the consumer group's committed offset (its end "
            "offset at the last fetch minus the committed offset).",
            labels=["topic", "partition"],
        )
        for (topic, partition), lag in sorted(self._lags().items()):
            family.add_metric([topic, str(partition)], lag)
        yield family

    def _lags(self) -> dict[tuple[str, int], int]:
        consumer = self._consumer()
        if consumer is None:
            return {}
        try:
            assigned = consumer.assignment()
            committed = consumer._committed_offset  # Faust keeps what it committed here
            lags = {}
            for tp in assigned:
                offset = committed.get(tp)
                end = consumer.highwater(tp)
                if offset is not None and end is not None:
                    lags[tp.topic, tp.partition] = max(0, end - offset)
            return lags
        except Exception as exc:  # not started, stopping, mid-rebalance: nothing to report
            log.debug("consumer lag unavailable: %s", exc)
            return {}
