"""A line chart as inline SVG, drawn on the server: no script, no charting library.

:func:`line_chart` draws series of ``(ts_ms, value)`` points over a time range: a time axis
with ticks at round UTC times, a value axis with ticks at round numbers, one coloured line
per series (broken where a step has no value, a dot for a lone point) with its name as a
tooltip, and returns the legend entries for the page to list under the chart.

Example:
    >>> chart = line_chart([("{host=\\"a\\"}", [(0, 1.0), (60_000, 3.0)])], 0, 60_000,
    ...                    step_ms=60_000)
    >>> chart.svg.startswith("<svg") and "<polyline" in chart.svg
    True
    >>> [(entry.name, entry.color, entry.last) for entry in chart.legend]
    [('{host="a"}', '#1f77b4', '3')]
    >>> [tick.label for tick in chart.y_ticks]
    ['1', '1.5', '2', '2.5', '3']
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from xml.sax.saxutils import escape, quoteattr

PALETTE = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
)
"""Series colours, in order; they repeat after ten series."""

SECOND, MINUTE, HOUR, DAY = 1000, 60_000, 3_600_000, 86_400_000
TIME_STEPS_MS = (
    *(n * SECOND for n in (1, 2, 5, 10, 15, 30)),
    *(n * MINUTE for n in (1, 2, 5, 10, 15, 30)),
    *(n * HOUR for n in (1, 2, 3, 6, 12)),
    *(n * DAY for n in (1, 2, 7, 14, 30, 90, 180, 365)),
)
"""The intervals time ticks may fall at: the first that gives at most ``max_ticks``."""

Points = Sequence[tuple[int, float]]


@dataclass(frozen=True)
class Tick:
    """An axis tick: where (in pixels along its axis) and its label."""

    at: float
    label: str


@dataclass(frozen=True)
class LegendEntry:
    """One series of the chart: its name, colour and latest value (formatted)."""

    name: str
    color: str
    last: str


@dataclass(frozen=True)
class Chart:
    """A drawn chart.

    Attributes:
        svg: the ``<svg>`` element, escaped, ready to be put in a page as it is.
        legend: one entry per series, in the order given.
        x_ticks: the time ticks drawn.
        y_ticks: the value ticks drawn.
    """

    svg: str
    legend: list[LegendEntry] = field(default_factory=list)
    x_ticks: list[Tick] = field(default_factory=list)
    y_ticks: list[Tick] = field(default_factory=list)


def format_value(value: float) -> str:
    """A value in at most 4 significant digits, with k, M, G, T for large magnitudes.

    Example:
        >>> [format_value(v) for v in (0, 0.5, 12.34567, 1500, 2_500_000, -3e9, 1e-5)]
        ['0', '0.5', '12.35', '1.5k', '2.5M', '-3G', '1e-05']
    """
    if not math.isfinite(value):
        return str(value)
    for size, suffix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= size:
            return f"{value / size:.4g}{suffix}"
    return f"{value:.4g}"


def nice_step(raw: float) -> float:
    """The round step (1, 2, 2.5 or 5 times a power of ten) at or above ``raw``.

    Example:
        >>> nice_step(0.3), nice_step(7.0), nice_step(1200.0)
        (0.5, 10.0, 2000.0)
    """
    if raw <= 0 or not math.isfinite(raw):
        return 1.0
    power = 10.0 ** math.floor(math.log10(raw))
    for factor in (1.0, 2.0, 2.5, 5.0, 10.0):
        if factor * power >= raw * (1 - 1e-9):
            return factor * power
    return 10.0 * power


def value_ticks(low: float, high: float, max_ticks: int = 6) -> list[float]:
    """Round values covering ``[low, high]``, at most about ``max_ticks`` of them.

    Example:
        >>> value_ticks(3.0, 97.0)
        [0.0, 20.0, 40.0, 60.0, 80.0, 100.0]
        >>> value_ticks(5.0, 5.0)
        [4.4, 4.6, 4.8, 5.0, 5.2, 5.4, 5.6]
    """
    if high == low:
        pad = abs(low) * 0.1 or 1.0
        low, high = low - pad, high + pad
    step = nice_step((high - low) / max(1, max_ticks - 1))
    first = math.floor(low / step + 1e-9) * step
    ticks = []
    value = first
    while value < high + step * (1 - 1e-9):
        ticks.append(round(value, 12))
        value = first + len(ticks) * step
    return ticks


def time_step_ms(span_ms: int, max_ticks: int = 8) -> int:
    """The interval of time ticks for a range ``span_ms`` long.

    Example:
        >>> time_step_ms(3_600_000), time_step_ms(7 * 86_400_000)
        (600000, 86400000)
    """
    for step in TIME_STEPS_MS:
        if span_ms / step <= max_ticks:
            return step
    return TIME_STEPS_MS[-1]


def time_label(ts_ms: int, step_ms: int) -> str:
    """A tick's time in UTC, as precise as the tick interval needs.

    Example:
        >>> time_label(90_000, 30_000), time_label(3_600_000, 600_000), time_label(0, 86_400_000)
        ('00:01:30', '01:00', '01-01')
    """
    at = datetime.fromtimestamp(ts_ms / 1000, UTC)
    if step_ms < MINUTE:
        return at.strftime("%H:%M:%S")
    if step_ms < DAY:
        return at.strftime("%H:%M") if at.hour or at.minute else at.strftime("%m-%d %H:%M")
    return at.strftime("%m-%d")


def _segments(points: Points, gap_ms: int) -> list[list[tuple[int, float]]]:
    """The runs of finite points with no gap longer than ``gap_ms`` between neighbours."""
    runs: list[list[tuple[int, float]]] = []
    previous: int | None = None
    for ts, value in points:
        if not math.isfinite(value):
            previous = None
            continue
        if previous is None or ts - previous > gap_ms:
            runs.append([])
        runs[-1].append((ts, value))
        previous = ts
    return runs


def line_chart(
    series: Sequence[tuple[str, Points]],
    start_ms: int,
    end_ms: int,
    *,
    step_ms: int,
    width: int = 960,
    height: int = 360,
) -> Chart:
    """Draw ``series`` (name and points each) over ``[start_ms, end_ms]``.

    Args:
        series: the series' names and their ``(ts_ms, value)`` points in time order.
        start_ms: the left end of the time axis.
        end_ms: the right end.
        step_ms: the points' step: a line breaks where neighbours are further apart than
            1.5 steps.
        width: the chart's width in pixels.
        height: its height.
    """
    left, right, top, bottom = 64, 16, 12, 28
    plot_w, plot_h = width - left - right, height - top - bottom
    span = max(1, end_ms - start_ms)
    values = [v for _, points in series for _, v in points if math.isfinite(v)]
    low, high = (min(values), max(values)) if values else (0.0, 1.0)
    y_values = value_ticks(low, high)
    y_low, y_high = y_values[0], y_values[-1]

    def x(ts: int) -> float:
        return left + (ts - start_ms) / span * plot_w

    def y(value: float) -> float:
        return top + (y_high - value) / (y_high - y_low) * plot_h

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" role="img">',
        f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" class="plot" '
        'fill="#fff" stroke="#ccc"/>',
    ]
    y_ticks = [Tick(round(y(v), 1), format_value(v)) for v in y_values]
    for tick in y_ticks:
        out.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{tick.at}" y2="{tick.at}" '
            'stroke="#eee"/>'
            f'<text x="{left - 6}" y="{tick.at + 4}" text-anchor="end" class="y-tick" '
            f'font-size="11">{escape(tick.label)}</text>'
        )
    every = time_step_ms(span)
    x_ticks = [
        Tick(round(x(ts), 1), time_label(ts, every))
        for ts in range(-(-start_ms // every) * every, end_ms + 1, every)
    ]
    for tick in x_ticks:
        out.append(
            f'<line x1="{tick.at}" x2="{tick.at}" y1="{top}" y2="{top + plot_h}" stroke="#eee"/>'
            f'<text x="{tick.at}" y="{height - 8}" text-anchor="middle" class="x-tick" '
            f'font-size="11">{escape(tick.label)}</text>'
        )
    legend = []
    gap = max(step_ms * 3 // 2, 1)
    for index, (name, points) in enumerate(series):
        color = PALETTE[index % len(PALETTE)]
        finite = [v for _, v in points if math.isfinite(v)]
        legend.append(LegendEntry(name, color, format_value(finite[-1]) if finite else "none"))
        out.append(f'<g class="series" stroke={quoteattr(color)} fill="none"><title>')
        out.append(escape(name) + "</title>")
        for run in _segments(points, gap):
            if len(run) == 1:
                ts, value = run[0]
                out.append(
                    f'<circle cx="{x(ts):.1f}" cy="{y(value):.1f}" r="2" fill={quoteattr(color)}/>'
                )
            else:
                drawn = " ".join(f"{x(ts):.1f},{y(value):.1f}" for ts, value in run)
                out.append(f'<polyline points="{drawn}" stroke-width="1.5"/>')
        out.append("</g>")
    if not values:
        out.append(
            f'<text x="{left + plot_w / 2}" y="{top + plot_h / 2}" text-anchor="middle" '
            'class="empty" fill="#888">no data in this range</text>'
        )
    out.append("</svg>")
    return Chart("".join(out), legend, x_ticks, y_ticks)
