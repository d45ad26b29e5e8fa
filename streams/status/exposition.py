"""The samples of one ``/metrics`` page, and sums over the labels an operator cares about.

A worker or collector serves Prometheus' text exposition format. :class:`Metrics` parses it
once (with prometheus-client's parser) and answers the two questions the status view asks:
the sum of a metric over every sample whose labels match, and that sum split by one label.

Example:
    >>> page = '''
    ... pulseline_sink_lines_written_total{tier="raw"} 120.0
    ... pulseline_sink_lines_written_total{tier="1m"} 4.0
    ... pulseline_downsample_series 37.0
    ... '''
    >>> m = Metrics.parse(page)
    >>> m.total("pulseline_sink_lines_written_total")
    124.0
    >>> m.total("pulseline_sink_lines_written_total", tier="1m")
    4.0
    >>> m.by("pulseline_sink_lines_written_total", "tier")
    {'raw': 120.0, '1m': 4.0}
    >>> m.total("pulseline_no_such_metric") is None
    True
"""

from __future__ import annotations

from collections.abc import Mapping

from prometheus_client.parser import text_string_to_metric_families

from streams.errors import PulselineError

Sample = tuple[Mapping[str, str], float]


class ExpositionError(PulselineError):
    """A ``/metrics`` page is not in Prometheus' text format."""


class Metrics:
    """The samples of one page, by sample name (``..._total`` included as served).

    Args:
        samples: sample name to ``(labels, value)`` pairs.
    """

    def __init__(self, samples: Mapping[str, list[Sample]]) -> None:
        self._samples = samples

    @classmethod
    def parse(cls, text: str, where: str = "metrics page") -> Metrics:
        """Parse a page of Prometheus' text format.

        Raises:
            ExpositionError: the text does not parse; the message names ``where``.
        """
        samples: dict[str, list[Sample]] = {}
        try:
            for family in text_string_to_metric_families(text):
                for sample in family.samples:
                    samples.setdefault(sample.name, []).append((sample.labels, sample.value))
        except ValueError as exc:
            raise ExpositionError(f"{where}: not Prometheus' text format: {exc}") from None
        return cls(samples)

    def total(self, name: str, **labels: str) -> float | None:
        """The sum of ``name`` over the samples whose labels include ``labels``; None if none."""
        values = [v for got, v in self._samples.get(name, ()) if _matches(got, labels)]
        return sum(values) if values else None

    def by(self, name: str, label: str, **labels: str) -> dict[str, float]:
        """The sums of ``name`` split by the value of ``label`` (samples without it left out)."""
        out: dict[str, float] = {}
        for got, value in self._samples.get(name, ()):
            if label in got and _matches(got, labels):
                out[got[label]] = out.get(got[label], 0.0) + value
        return out


def _matches(got: Mapping[str, str], wanted: Mapping[str, str]) -> bool:
    return all(got.get(name) == value for name, value in wanted.items())
