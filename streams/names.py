"""Metric names: how a point's fields are named as series, for rules, stores and dashboards.

A point (measurement, tags, fields) holds one sample per numeric field, and each sample is
the Prometheus series :func:`metric_name` names:

- the field ``value`` is the series named after the measurement. A Prometheus sample
  ``up{job="node"} 1`` (scraped, remote-written) travels as the point ``up,job=node value=1``
  and is ``up`` wherever it is read again, as Telegraf's ``prometheus_client`` output names
  its ``value`` fields;
- any other field ``f`` is the series ``<measurement>_<f>``: the line
  ``cpu,host=a usage_idle=97`` is ``cpu_usage_idle{host="a"}`` (the convention of Telegraf
  and VictoriaMetrics).

The downsampled tiers' fields follow the same rule: the 1-minute maximum of ``up`` is the
field ``value_max`` (:func:`tier_field`), the series ``up_value_max``; that of
``cpu usage_idle`` is ``cpu_usage_idle_max``. Whatever reads a series back from a store asks
for the fields :func:`stored_fields` names: the inverse of :func:`metric_name`.

Where this holds:

- **Rules** select series by these names (:func:`streams.promql.series.point_samples`).
- **InfluxDB 2** stores a point as it is: ``up`` is the measurement ``up``, field ``value``
  (Flux: ``r._measurement == "up" and r._field == "value"``), which is how the Grafana
  dashboards (``deploy/grafana/generate.py``) read pulseline's own metrics.
- **VictoriaMetrics** names a line's fields ``<measurement>_<field>`` itself, which would make
  ``up`` the series ``up_value``. With ``influx.store: victoriametrics`` the sinks write each
  field under its series name (:func:`named_point`) and VictoriaMetrics, started with
  :data:`STORE_FLAGS` (``-influxSkipMeasurement``: the field's name is the series' name),
  stores ``up`` as ``up``. The local stack and the tests start it so.

``*_created`` samples: ``prometheus_client`` exposes the creation time of each counter,
histogram and summary as a series of its own (``requests_created`` next to
``requests_total``). They are not stored unless ``collector.keep_created`` is set
(:func:`without_created`).

Example:
    >>> metric_name("up", "value"), metric_name("cpu", "usage_idle")
    ('up', 'cpu_usage_idle')
    >>> named_point(Point("cpu", {"host": "a"}, {"value": 1.0, "idle": 97.0}, 5))
    Point(measurement='cpu', tags={'host': 'a'}, fields={'cpu': 1.0, 'cpu_idle': 97.0}, ts_ms=5)
    >>> render = RENDERERS["victoriametrics"]
    >>> render([Point("up", {"job": "node"}, {"value": 1.0}, 5)])
    'up,job=node up=1.0 5'
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Literal

from streams.codecs.lineprotocol import render_lines
from streams.records import FieldValue, Point

VALUE_FIELD = "value"
"""The field that carries a Prometheus sample's value; its series is the measurement."""

Store = Literal["influxdb", "victoriametrics"]
"""What serves the InfluxDB write API (``influx.store``)."""

STORE_FLAGS: dict[Store, tuple[str, ...]] = {
    "influxdb": (),
    "victoriametrics": ("-influxSkipMeasurement",),
}
"""The flags a store needs to keep :func:`metric_name` (VictoriaMetrics: a field's name is
its series' name, which :func:`named_point` makes so)."""

Render = Callable[[Iterable[Point]], str]
"""Renders points as line protocol, one line each (see
:func:`streams.codecs.lineprotocol.render_lines`)."""


def metric_name(measurement: str, field: str) -> str:
    """The series of a field: the measurement for ``value``, else ``<measurement>_<field>``."""
    return measurement if field == VALUE_FIELD else f"{measurement}_{field}"


def influx_names(metric: str) -> tuple[str, str]:
    """Where a Prometheus series is in InfluxDB: its ``(measurement, field)``.

    Example:
        >>> influx_names("pulseline_consumer_lag")
        ('pulseline_consumer_lag', 'value')
    """
    return metric, VALUE_FIELD


def field_sources(metric: str) -> tuple[tuple[str, str], ...]:
    """Every ``(measurement, field)`` whose series is ``metric``: :func:`metric_name` inverted.

    The name alone does not say where a measurement ends: ``cpu_usage_idle`` is the field
    ``value`` of ``cpu_usage_idle`` (a Prometheus sample), ``usage_idle`` of ``cpu`` (a
    Telegraf line) or ``idle`` of ``cpu_usage``. Rules take all of them for that one series,
    so whatever reads a series from a store asks for each.

    Example:
        >>> field_sources("cpu_usage_idle")
        (('cpu_usage_idle', 'value'), ('cpu', 'usage_idle'), ('cpu_usage', 'idle'))
        >>> field_sources("up")
        (('up', 'value'),)
    """
    found = [influx_names(metric)]
    for i, char in enumerate(metric):
        if char == "_" and 0 < i < len(metric) - 1 and metric[i + 1 :] != VALUE_FIELD:
            found.append((metric[:i], metric[i + 1 :]))
    return tuple(found)


def tier_field(field: str, aggregate: str) -> str:
    """The field of a windowed tier's row that holds the window's ``aggregate`` of ``field``.

    Example:
        >>> tier_field("value", "max"), metric_name("up", tier_field("value", "max"))
        ('value_max', 'up_value_max')
    """
    return f"{field}_{aggregate}"


def stored_fields(metric: str, aggregate: str | None) -> tuple[tuple[str, str], ...]:
    """The ``(measurement, field)`` of every stored field that holds the series ``metric``.

    Args:
        metric: the series' name (:func:`metric_name`).
        aggregate: the window aggregate a windowed tier is read for (``mean``...); None for
            the raw tier.

    Example:
        >>> stored_fields("cpu_usage_idle", "mean")[:2]
        (('cpu_usage_idle', 'value_mean'), ('cpu', 'usage_idle_mean'))
    """
    return tuple(
        (measurement, field if aggregate is None else tier_field(field, aggregate))
        for measurement, field in field_sources(metric)
    )


def named_point(point: Point) -> Point:
    """``point`` with each field keyed by its series' name (:func:`metric_name`)."""
    measurement = point.measurement
    fields: dict[str, FieldValue] = {
        metric_name(measurement, key): value for key, value in point.fields.items()
    }
    return Point(measurement, point.tags, fields, point.ts_ms)


def _render_named(points: Iterable[Point]) -> str:
    return render_lines(map(named_point, points))


RENDERERS: dict[Store, Render] = {"influxdb": render_lines, "victoriametrics": _render_named}
"""How the sinks render points for each store, so that it names them by :func:`metric_name`."""

CREATED_OF = frozenset({"counter", "histogram", "summary"})
"""The metric types whose ``prometheus_client`` exposition has a ``<name>_created`` series."""
_CREATED = "_created"
_SIBLINGS = ("", "_total", "_count", "_sum", "_bucket")


def created_names(types: Mapping[str, str]) -> set[str]:
    """The ``*_created`` series among the names of ``types`` (measurement -> metric type).

    A name ``x_created`` is one when its own type is a counter's, histogram's or summary's
    (OpenMetrics, remote-write metadata) or when ``x``, ``x_total``, ``x_count``, ``x_sum``
    or ``x_bucket`` is of such a type (the text format, where ``prometheus_client`` exposes
    ``x_created`` as a gauge of its own).

    Example:
        >>> sorted(created_names({"req_total": "counter", "req_created": "gauge",
        ...                       "jobs_created": "gauge", "lat_created": "histogram"}))
        ['lat_created', 'req_created']
    """
    found = set()
    for name, kind in types.items():
        if not name.endswith(_CREATED):
            continue
        base = name[: -len(_CREATED)]
        if kind in CREATED_OF or any(types.get(base + s) in CREATED_OF for s in _SIBLINGS):
            found.add(name)
    return found


def without_created(points: Sequence[Point], types: Mapping[str, str]) -> list[Point]:
    """``points`` without the ``*_created`` series of ``types`` (see :func:`created_names`).

    Example:
        >>> types = {"req_total": "counter", "req_created": "gauge"}
        >>> points = [Point(m, {}, {"value": 1.0}, 5) for m in ("req_total", "req_created")]
        >>> [p.measurement for p in without_created(points, types)]
        ['req_total']
    """
    created = created_names(types)
    if not created:
        return list(points)
    return [p for p in points if p.measurement not in created]
