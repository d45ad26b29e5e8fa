"""Scraped pages (Prometheus text format 0.0.4, OpenMetrics 1.0) into points.

The format is chosen from the response's Content-Type as Prometheus does: a media type of
``application/openmetrics-text`` is OpenMetrics, anything else (or none) is the text format.
Parsing is ``prometheus_client``'s own (``prometheus_client.parser`` and
``prometheus_client.openmetrics.parser``), which is pure Python and slow: on a 10,000-series
page of three-label series, measured here, about 15 µs per sample for the text format and
17 µs for OpenMetrics (12 and 15 of them in the parser), so one collector core turns some
60,000 scraped samples a second into points.

Mapping: the sample ``name{l1="a",...} v [t]`` becomes ``Point(measurement=name,
tags={labels sorted by name}, fields={"value": float(v)}, ts_ms=t or the scrape's time)``.
The sample's own timestamp wins (Prometheus' ``honor_timestamps: true``). A label with an
empty value is absent (Prometheus semantics; InfluxDB has no empty tags).

Target labels are attached as Prometheus attaches them: ``job`` and ``instance`` (unless the
target's labels set them), then the target's labels. A scraped label of the same name is
renamed ``exported_<name>`` (as many ``exported_`` as it takes to be unique), unless
``honor_labels`` is set, in which case the scraped label wins.

Metric types come back per measurement: each sample name maps to its family's type, one of
``counter gauge histogram gaugehistogram summary info stateset unknown`` (``untyped`` in the
text format is ``unknown``, as in Prometheus). So ``x_bucket``, ``x_sum``, ``x_count``,
``x_created`` of a histogram are all ``histogram``. One fix-up undoes a liberty of
``prometheus_client``: the text parser renames the samples of a counter whose name lacks
``_total`` to ``<name>_total``; they keep their exposed name here, as in Prometheus.

NaN and infinite values cannot be stored in InfluxDB: they are dropped and counted in
``dropped`` (``nan``, ``inf``; ``stale`` for the staleness marker; ``histograms`` for native
histogram samples), for the caller to expose. The limits fail the whole scrape, as in
Prometheus: ``sample_limit`` counts the page's samples, ``label_limit`` a series' labels after
the target's are attached, ``__name__`` included; 0 means no limit.

Example:
    >>> page = b'# TYPE req_total counter\\nreq_total{code="200"} 7\\n'
    >>> result = parse_scrape(page, "text/plain; version=0.0.4", job="api",
    ...     instance="h:80", target_labels={}, honor_labels=False, sample_limit=0,
    ...     label_limit=0, scrape_ts_ms=1000)
    >>> result.points
    [Point(measurement='req_total', tags={'code': '200', 'instance': 'h:80', 'job': 'api'}, \
fields={'value': 7.0}, ts_ms=1000)]
    >>> result.types
    {'req_total': 'counter'}
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, NamedTuple

from prometheus_client.openmetrics.parser import text_fd_to_metric_families as _openmetrics
from prometheus_client.parser import text_fd_to_metric_families as _text
from prometheus_client.samples import Timestamp

from streams.codecs.remotewrite import drop_reason
from streams.errors import PulselineError
from streams.records import Point

ACCEPT = (
    "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,"
    "text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
)
"""The Accept header Prometheus sends when scraping."""
REPORT_TYPES = {
    "up": "gauge",
    "scrape_duration_seconds": "gauge",
    "scrape_samples_scraped": "gauge",
}
"""Types of the series :func:`report_points` writes."""
_COUNTER_TYPE_LINE = re.compile(r"^[ \t]*#[ \t]+TYPE[ \t]+(\S+)[ \t]+counter[ \t]*\r?$", re.M)


class ScrapeError(PulselineError):
    """A scraped page was refused as a whole: unparseable, or over a limit."""


class ScrapeResult(NamedTuple):
    """What one scrape yielded.

    Attributes:
        points: one point per stored sample, in page order.
        types: measurement -> metric type.
        dropped: samples not stored, by reason: ``stale``, ``nan``, ``inf``, ``histograms``.
    """

    points: list[Point]
    types: dict[str, str]
    dropped: dict[str, int]

    @property
    def samples_scraped(self) -> int:
        """Samples the page held, stored or not (Prometheus' ``scrape_samples_scraped``)."""
        return len(self.points) + sum(self.dropped.values())


def parse_scrape(
    body: bytes,
    content_type: str | None,
    *,
    job: str,
    instance: str,
    target_labels: Mapping[str, str],
    honor_labels: bool,
    sample_limit: int,
    label_limit: int,
    scrape_ts_ms: int,
) -> ScrapeResult:
    """Parse one scraped page and attach the target's labels.

    Args:
        body: the response body.
        content_type: the response's Content-Type header, if any.
        job: the target's job name.
        instance: the target's instance (usually ``host:port``).
        target_labels: the target's other labels; they may override ``job`` and ``instance``.
        honor_labels: on a clash, keep the scraped label instead of renaming it.
        sample_limit: most samples the page may hold; 0 for no limit.
        label_limit: most labels a series may have, ``__name__`` included; 0 for no limit.
        scrape_ts_ms: the scrape's time, for samples without their own timestamp.

    Raises:
        ScrapeError: the page is not in the format, or a limit is exceeded.
    """
    openmetrics = _is_openmetrics(content_type)
    try:
        text = body.decode()
    except UnicodeDecodeError as exc:
        raise ScrapeError(f"body is not UTF-8 at byte {exc.start}") from None
    families = _parse(text, openmetrics)
    scraped = sum(len(family.samples) for family in families)
    if sample_limit and scraped > sample_limit:
        raise ScrapeError(f"sample limit exceeded: {scraped} > {sample_limit}")
    untotalled = set() if openmetrics else _counters_without_total(text)
    target = _target_labels(job, instance, target_labels)
    points: list[Point] = []
    types: dict[str, str] = {}
    dropped = {"stale": 0, "nan": 0, "inf": 0, "histograms": 0}
    for family in families:
        for sample in family.samples:
            name = sample.name
            if family.type == "counter" and family.name in untotalled:
                name = family.name if name == family.name + "_total" else name
            types[name] = family.type
            value = float(sample.value)
            if sample.native_histogram is not None:
                dropped["histograms"] += 1
                continue
            tags = _merge(sample.labels, target, honor_labels)
            if label_limit and len(tags) + 1 > label_limit:
                raise ScrapeError(
                    f"label limit exceeded: series {name!r} has {len(tags) + 1} labels"
                    f" > {label_limit}"
                )
            if value - value != 0.0:  # NaN or an infinity
                dropped[drop_reason(value)] += 1
                continue
            ts_ms = scrape_ts_ms if sample.timestamp is None else _ms(sample.timestamp, name)
            points.append(Point(name, tags, {"value": value}, ts_ms))
    return ScrapeResult(points, types, dropped)


def report_points(
    job: str,
    instance: str,
    target_labels: Mapping[str, str],
    up: bool,
    duration_s: float,
    samples_scraped: int,
    ts_ms: int,
) -> list[Point]:
    """The series Prometheus writes about each scrape of a target (all gauges).

    Example:
        >>> [p.measurement for p in report_points("api", "h:80", {}, True, 0.02, 7, 1000)]
        ['up', 'scrape_duration_seconds', 'scrape_samples_scraped']
    """
    tags = dict(sorted(_target_labels(job, instance, target_labels)))
    values = {"up": 1.0 if up else 0.0, "scrape_duration_seconds": float(duration_s),
              "scrape_samples_scraped": float(samples_scraped)}  # fmt: skip
    return [Point(name, dict(tags), {"value": value}, ts_ms) for name, value in values.items()]


def _is_openmetrics(content_type: str | None) -> bool:
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media == "application/vnd.google.protobuf":
        raise ScrapeError("the protobuf exposition format is not supported (it was not asked for)")
    return media == "application/openmetrics-text"


class _Lines(Iterator[str]):
    """The lines of a text, counted, for error messages."""

    def __init__(self, text: str) -> None:
        self._lines = io.StringIO(text)
        self.number = 0
        self.line = ""

    def __next__(self) -> str:
        self.line = next(self._lines)
        self.number += 1
        return self.line


def _parse(text: str, openmetrics: bool) -> list[Any]:
    parser: Callable[[Any], Iterable[Any]] = _openmetrics if openmetrics else _text
    lines = _Lines(text)
    try:
        return list(parser(lines))
    except Exception as exc:  # the parsers raise ValueError, and IndexError etc. on garbage
        name = "OpenMetrics" if openmetrics else "text format"
        reason = str(exc) or f"invalid line {lines.line.rstrip()!r:.120}"
        raise ScrapeError(f"{name} body, line {lines.number}: {reason:.300}") from None


def _counters_without_total(text: str) -> set[str]:
    if "counter" not in text:
        return set()
    names = _COUNTER_TYPE_LINE.findall(text)
    return {name for name in names if not name.endswith("_total")}


def _target_labels(job: str, instance: str, labels: Mapping[str, str]) -> list[tuple[str, str]]:
    merged = {"job": job, "instance": instance, **labels}
    return sorted((name, value) for name, value in merged.items() if value)


def _merge(scraped: dict[str, str], target: list[tuple[str, str]], honor: bool) -> dict[str, str]:
    tags = dict(scraped)
    if honor:
        for name, value in target:
            tags.setdefault(name, value)
    else:
        clashes = [(name, scraped[name]) for name, _ in target if scraped.get(name)]
        tags.update(target)
        if clashes:  # renamed shortest first, each to a name neither side nor a rename has
            clashes.sort(key=lambda clash: len(clash[0]))
            taken = {name for name, _ in target}
            for i, (name, value) in enumerate(clashes):
                new = "exported_" + name
                while new in scraped or new in taken:
                    new = "exported_" + new
                clashes[i] = (new, value)
                taken.add(new)
            tags.update(clashes)
    return dict(sorted((name, value) for name, value in tags.items() if value))


def _ms(ts: float | Timestamp, name: str) -> int:
    if isinstance(ts, Timestamp):
        ms = ts.sec * 1000 + ts.nsec // 1_000_000
    elif ts - ts == 0.0:
        ms = round(ts * 1000)
    else:
        ms = 1 << 63
    if not -(1 << 63) <= ms < 1 << 63:
        raise ScrapeError(f"series {name!r} has a timestamp out of range: {ts}")
    return ms
