"""Which rule groups need which samples, and the records that carry samples to them.

Rules are evaluated in a second stage keyed by rule group, so a group sees every series its
selectors match, whichever ``metrics.raw`` partition (source) they came from, and a
``sum by (...)`` over many hosts is exact. The first stage, next to the raw data, keeps only
the samples some selector matches and forwards them, grouped by rule group, as
``rules.samples`` records on the group's partition. Most samples match no rule: the metric
name is looked up before any label set is built.

A forwarded record carries the samples one group needs from all the records of one take
(JSON, version 1); each sample names its source record by index into ``src``::

    {"v": 1, "group": "host", "src": [["metrics.raw", 3, 1200], ["metrics.raw", 3, 1201]],
     "samples": [[[["__name__", "cpu_usage_idle"], ["host", "a"]], 1700000000000, 97.5, 0], ...]}

Example:
    >>> from streams.rules import load_rule_files
    >>> router = Router(load_rule_files(["rules/pulseline.yml"]))
    >>> from streams.records import Point
    >>> point = Point("cpu", {"cpu": "cpu-total", "host": "a"}, {"usage_idle": 5.0}, 0)
    >>> sorted(router.route([point]))
    ['host', 'pulseline-pipeline']
"""

from __future__ import annotations

import zlib
from collections import defaultdict
from collections.abc import Hashable, Iterable, Sequence
from typing import Any, NamedTuple

import orjson

from streams.errors import RecordDecodeError
from streams.names import metric_name
from streams.promql.expr import Selector, selectors
from streams.promql.series import Labels, sample_value, series_labels
from streams.records import Point
from streams.rules.errors import RuleError, RuleProblem
from streams.rules.model import RuleFile, RuleGroup

SampleTuple = tuple[Labels, int, float]
"""One sample: its series' label set, timestamp (ms) and value."""


def unique_groups(files: Iterable[RuleFile]) -> dict[str, RuleGroup]:
    """Every group by name, in file order.

    Raises:
        RuleError: two files define a group of the same name (the stage keys groups by name).
    """
    groups: dict[str, RuleGroup] = {}
    where: dict[str, str] = {}
    problems = []
    for rule_file in files:
        for group in rule_file.groups:
            if group.name in groups:
                problems.append(
                    RuleProblem(
                        rule_file.path,
                        f"is also defined in {where[group.name]}; group names must be unique "
                        "across the loaded files",
                        group=group.name,
                    )
                )
                continue
            groups[group.name] = group
            where[group.name] = rule_file.path
    if problems:
        raise RuleError(problems)
    return groups


def partition_of(group: str, partitions: int) -> int:
    """The ``rules.samples`` partition of a group: stable across processes and restarts."""
    return zlib.crc32(group.encode()) % partitions


class Router:
    """Finds the groups whose selectors match each sample of a batch of points.

    Args:
        files: the loaded rule files.
    """

    def __init__(self, files: Iterable[RuleFile]) -> None:
        self.groups = unique_groups(files)
        self._by_name: dict[str, list[tuple[str, Selector]]] = defaultdict(list)
        self._nameless: list[tuple[str, Selector]] = []
        for name, group in self.groups.items():
            for rule in group.rules:
                for selector in selectors(rule.expr):
                    if selector.metric is not None:
                        self._by_name[selector.metric].append((name, selector))
                    else:
                        self._nameless.append((name, selector))

    def route(self, points: Iterable[Point]) -> dict[str, list[SampleTuple]]:
        """The samples of ``points`` that each group needs."""
        out: dict[str, list[SampleTuple]] = defaultdict(list)
        by_name, nameless = self._by_name, self._nameless
        for measurement, tags, fields, ts in points:
            for field, raw in fields.items():
                metric = metric_name(measurement, field)
                candidates = by_name.get(metric)
                if candidates is None and not nameless:
                    continue
                value = sample_value(raw)
                if value is None:
                    continue
                labels: Labels | None = None
                hit: set[str] = set()
                for group, selector in (*(candidates or ()), *nameless):
                    if group not in hit and selector.matches(metric, tags):
                        hit.add(group)
                        if labels is None:
                            labels = series_labels(metric, tags)
                        out[group].append((labels, ts, value))
        return out


class Forwarded(NamedTuple):
    """A decoded ``rules.samples`` record: a group's samples, each with its source."""

    group: str
    samples: list[tuple[Labels, int, float, Hashable]]


def encode_forward(
    group: str, sources: Sequence[Sequence[Any]], samples: Iterable[tuple[int, SampleTuple]]
) -> bytes:
    """A ``rules.samples`` record value.

    Args:
        group: the rule group.
        sources: the source records, e.g. ``(topic, partition, offset)``.
        samples: ``(index into sources, sample)`` pairs.
    """
    rows = [[labels, ts, value, index] for index, (labels, ts, value) in samples]
    return orjson.dumps({"v": 1, "group": group, "src": sources, "samples": rows})


def decode_forward(value: bytes) -> Forwarded:
    """Decode a ``rules.samples`` record value.

    Raises:
        RecordDecodeError: not a version-1 forwarded record.
    """
    try:
        doc = orjson.loads(value)
        if doc.get("v") != 1:
            raise RecordDecodeError("not a version-1 rules.samples record")
        sources = [tuple(s) for s in doc["src"]]
        samples = [
            (tuple(map(tuple, labels)), ts, value, sources[index])
            for labels, ts, value, index in doc["samples"]
        ]
        return Forwarded(str(doc["group"]), samples)
    except (
        orjson.JSONDecodeError,
        AttributeError,
        IndexError,
        KeyError,
        TypeError,
        ValueError,
    ) as exc:
        raise RecordDecodeError(f"undecodable rules.samples record: {exc!r:.200}") from None
