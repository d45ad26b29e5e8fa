"""Recording rules: an evaluation result renamed and relabelled into new samples.

As Prometheus 2.42 (``rules/recording.go``): each result sample gets the rule's name as
``__name__``, then the group's and the rule's labels (an empty value removes the label); two
samples with the same labels afterwards, or more samples than the group's ``limit``, fail the
rule. The samples go back into the store (later rules read them) and out to the pipeline.

Example:
    >>> from streams.promql.evaluate import Sample
    >>> from streams.rules.model import RecordingRule
    >>> from streams.promql.parse import parse_expr
    >>> rule = RecordingRule("job:up:sum", parse_expr("sum by (job) (up)"), "", {"team": "a"})
    >>> [sample] = record(rule, [Sample((("job", "node"),), 3.0, (("raw", 0, 9),))], 60_000)
    >>> sample.labels, sample.value, sample.sources
    ((('__name__', 'job:up:sum'), ('job', 'node'), ('team', 'a')), 3.0, (('raw', 0, 9),))
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from typing import NamedTuple

from streams.errors import PulselineError
from streams.promql.evaluate import Sample
from streams.promql.series import METRIC_NAME, Labels
from streams.rules.model import RecordingRule


class RecordError(PulselineError):
    """A recording rule's result cannot be recorded (Prometheus fails the rule the same way)."""


class OutputSample(NamedTuple):
    """A sample a rule produced: a recorded series, a staleness marker, or ``ALERTS``.

    Attributes:
        labels: the series' labels, ``__name__`` included.
        ts_ms: the evaluation's instant.
        value: the value, or :data:`streams.promql.series.STALE`.
        sources: the provenance of the inputs.
    """

    labels: Labels
    ts_ms: int
    value: float
    sources: tuple[Hashable, ...] = ()


def record_labels(
    rule: RecordingRule, labels: Labels, group_labels: Mapping[str, str] | None = None
) -> Labels:
    """The labels recording rule ``rule`` gives a result sample with ``labels``."""
    out = dict(labels)
    out[METRIC_NAME] = rule.name
    for name, value in {**(group_labels or {}), **rule.labels}.items():
        if value:
            out[name] = value
        else:
            out.pop(name, None)
    return tuple(sorted(out.items()))


def record(
    rule: RecordingRule,
    vector: Iterable[Sample],
    t_ms: int,
    *,
    group_labels: Mapping[str, str] | None = None,
    limit: int = 0,
) -> list[OutputSample]:
    """The samples recording rule ``rule`` makes of an evaluation result at ``t_ms``.

    Raises:
        RecordError: duplicate label sets after relabelling, or more samples than ``limit``.
    """
    out = [
        OutputSample(record_labels(rule, s.labels, group_labels), t_ms, s.value, s.sources)
        for s in vector
    ]
    if len({s.labels for s in out}) != len(out):
        raise RecordError(
            "vector contains metrics with the same labelset after applying rule labels"
        )
    if limit and len(out) > limit:
        raise RecordError(f"exceeded limit of {limit} with {len(out)} series")
    return out
