"""The chart as SVG: axes, ticks, lines and legend, checked on the parsed document."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from streams.web.svg import PALETTE, line_chart, time_label, value_ticks

NS = {"s": "http://www.w3.org/2000/svg"}
MIN = 60_000


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def points_of(polyline: ET.Element) -> list[tuple[float, float]]:
    return [tuple(map(float, p.split(","))) for p in polyline.attrib["points"].split()]  # type: ignore[misc]


def test_values_map_to_the_plot_area_between_the_round_ticks() -> None:
    # values 0..100 get ticks 0, 20... 100; the plot is 360 - 12 - 28 = 320 px high from y=12
    chart = line_chart([("a", [(0, 0.0), (MIN, 100.0)])], 0, MIN, step_ms=MIN)
    assert [t.label for t in chart.y_ticks] == ["0", "20", "40", "60", "80", "100"]
    (line,) = parse(chart.svg).findall(".//s:polyline", NS)
    (x0, y0), (x1, y1) = points_of(line)
    assert (x0, y0) == (64.0, 332.0)  # left edge, bottom: value 0 at the start
    assert (x1, y1) == (960 - 16, 12.0)  # right edge, top: value 100 at the end


def test_a_missing_step_breaks_the_line_and_a_lone_point_is_a_dot() -> None:
    points = [(0, 1.0), (MIN, 2.0), (3 * MIN, 3.0), (5 * MIN, 1.0), (6 * MIN, 2.0)]
    chart = line_chart([("a", points)], 0, 6 * MIN, step_ms=MIN)
    doc = parse(chart.svg)
    assert [len(points_of(p)) for p in doc.findall(".//s:polyline", NS)] == [2, 2]
    assert len(doc.findall(".//s:circle", NS)) == 1  # the point at 3 min stands alone


def test_every_series_has_a_colour_a_tooltip_and_a_legend_entry() -> None:
    series = [(f'{{host="h{i}"}}', [(0, float(i)), (MIN, float(i))]) for i in range(12)]
    chart = line_chart(series, 0, MIN, step_ms=MIN)
    groups = parse(chart.svg).findall(".//s:g", NS)
    assert [g.find("s:title", NS).text for g in groups] == [name for name, _ in series]  # type: ignore[union-attr]
    assert [e.color for e in chart.legend] == [*PALETTE, *PALETTE[:2]]
    assert [e.last for e in chart.legend][:3] == ["0", "1", "2"]


def test_names_are_escaped() -> None:
    chart = line_chart([('{a="<script>"}', [(0, 1.0)])], 0, MIN, step_ms=MIN)
    assert "<script>" not in chart.svg
    assert parse(chart.svg).find(".//s:title", NS).text == '{a="<script>"}'  # type: ignore[union-attr]


def test_time_ticks_fall_on_round_utc_times() -> None:
    start = 1_700_000_123_000  # 2023-11-14 22:15:23 UTC
    chart = line_chart([("a", [(start, 1.0)])], start, start + 3_600_000, step_ms=MIN)
    # an hour: ticks every 10 minutes, from 22:20 to 23:10
    assert [t.label for t in chart.x_ticks] == [
        "22:20",
        "22:30",
        "22:40",
        "22:50",
        "23:00",
        "23:10",
    ]
    assert all(64 <= t.at <= 944 for t in chart.x_ticks)
    assert time_label(1_700_006_400_000, 3_600_000) == "11-15 00:00"  # midnight names the day


def test_no_data_says_so() -> None:
    chart = line_chart([], 0, MIN, step_ms=MIN)
    assert parse(chart.svg).find(".//s:text[@class='empty']", NS) is not None
    assert chart.legend == []


def test_value_ticks_cover_the_values() -> None:
    for low, high in [(0.001, 0.0042), (-5.0, 7.0), (1e9, 3.3e9), (99.5, 99.7)]:
        ticks = value_ticks(low, high)
        assert ticks[0] <= low and ticks[-1] >= high
        assert 2 <= len(ticks) <= 8
