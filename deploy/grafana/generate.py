"""pulseline's Grafana dashboards as code: ``python deploy/grafana/generate.py`` writes them.

The JSON in ``deploy/grafana/dashboards/`` is what Grafana provisions; it is generated from the
panel tables below, and a test fails when it differs from what this module makes. Every panel
reads the data source ``pulseline-influxdb`` (Flux) and one measurement of pulseline's buckets:

- the demo and Telegraf-style host metrics as pushed (``cpu``, ``mem``, ``disk``, ``net``,
  ``system``: measurement, fields, tags ``host``...);
- pulseline's own metrics, scraped by the collector from the workers' and collectors'
  ``/metrics``: measurement = the Prometheus name, field ``value``, labels as tags (the one
  mapping of names, ``streams/names.py``: :func:`streams.names.influx_names`).

**The tier is chosen in Flux from the dashboard's range.** Each query starts with the same
prelude: ranges up to 6 hours that start within the raw bucket's retention read raw samples,
ranges up to 7 days within the 1-minute bucket's retention read 1-minute rows, longer ones
1-hour rows. A raw field ``f`` is ``f_mean`` (or ``_max``, ``_min``, ``_last``) in the tiers
(README "Downsampling"); counters are read as ``f`` raw and ``f_last`` in the tiers, and shown
as per-second rates (``derivative``), so a panel reads the same on every tier. The "Tier read"
panel of the host overview shows which bucket the range picked.

Grafana substitutes ``v.timeRangeStart``, ``v.timeRangeStop`` and ``v.windowPeriod`` (and any
``v.bucket``, ``v.defaultBucket``, ``v.organization``) textually, wherever a word is followed
by one of those names after a dot: queries here use no other ``x.bucket``-like names.

Example:
    >>> from generate import dashboards
    >>> sorted(dashboards())
    ['alerts.json', 'host-overview.json', 'pipeline-health.json']
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from streams.names import VALUE_FIELD  # noqa: E402
from streams.settings import DEFAULT_TIERS  # noqa: E402

DATASOURCE = {"type": "influxdb", "uid": "pulseline-influxdb"}
"""The provisioned data source (provisioning/datasources/influxdb.yml)."""
OUT = Path(__file__).resolve().parent / "dashboards"

HOUR, DAY = 3600, 86400
MAX_SPAN_S = {"raw": 6 * HOUR, "1m": 7 * DAY}
"""The longest range each tier serves; longer ranges read the next, the last serves all."""

Kind = Literal["gauge", "counter"]
Aggregate = Literal["mean", "max", "min", "last"]


def _duration(seconds: float) -> str:
    """A Flux duration literal: ``_duration(7 * 86400)`` is ``'7d'``."""
    for unit, size in (("d", DAY), ("h", HOUR), ("m", 60)):
        if seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{int(seconds)}s"


def prelude() -> str:
    """Flux that sets ``tier`` and ``bucket`` from the dashboard's range (see the module)."""
    conditions = " else ".join(
        f"if span <= int(v: {_duration(MAX_SPAN_S[tier.name])}) "
        f'and age <= int(v: {_duration(tier.retention_s)}) then "{tier.name}"'
        for tier in DEFAULT_TIERS[:-1]
    )
    buckets = " else ".join(
        f'if tier == "{tier.name}" then "{tier.bucket}"' for tier in DEFAULT_TIERS[:-1]
    )
    spans = ", ".join(
        f"{_duration(MAX_SPAN_S[t.name])} on {t.name}"
        for t in DEFAULT_TIERS
        if t.name in MAX_SPAN_S
    )
    return (
        f"// The tier from the range: up to {spans} (within its retention), else "
        f"{DEFAULT_TIERS[-1].name}.\n"
        "span = int(v: v.timeRangeStop) - int(v: v.timeRangeStart)\n"
        "age = int(v: now()) - int(v: v.timeRangeStart)\n"
        f'tier = {conditions} else "{DEFAULT_TIERS[-1].name}"\n'
        f'bucket = {buckets} else "{DEFAULT_TIERS[-1].bucket}"\n'
    )


@dataclass(frozen=True)
class Series:
    """What one panel shows: fields of one measurement, per group of tags.

    Attributes:
        measurement: the measurement (a Prometheus name for pulseline's own metrics).
        fields: raw field names (``value`` for scraped metrics).
        kind: ``gauge`` (aggregated with ``aggregate``) or ``counter`` (a per-second rate).
        by: tags kept as the series' labels; ``field`` names the field when there are several.
        where: a Flux predicate on ``r`` besides measurement and field (tags, ``${host}``).
        aggregate: how a gauge is aggregated in time, and which tier field it reads.
        combine: how series with the same ``by`` are merged (``sum`` over instances...).
        value: a Flux expression of ``r._value`` replacing the value (``100.0 - r._value``).
    """

    measurement: str
    fields: tuple[str, ...] = (VALUE_FIELD,)
    kind: Kind = "gauge"
    by: tuple[str, ...] = ()
    where: str = ""
    aggregate: Aggregate = "mean"
    combine: Literal["sum", "max", "mean"] | None = None
    value: str | None = None

    @property
    def suffix(self) -> str:
        """The tier field suffix: ``_last`` of a counter, else the aggregate's."""
        return "_last" if self.kind == "counter" else f"_{self.aggregate}"

    def flux(self) -> str:
        """The panel's Flux query, prelude included."""
        names = ", ".join(f'"{f}" + suffix' for f in self.fields)
        lines = [
            prelude().rstrip("\n"),
            f'suffix = if tier == "{DEFAULT_TIERS[0].name}" then "" else "{self.suffix}"',
            f"fields = [{names}]",
            "",
            "from(bucket: bucket)",
            "  |> range(start: v.timeRangeStart, stop: v.timeRangeStop)",
            f'  |> filter(fn: (r) => r._measurement == "{self.measurement}")',
            "  |> filter(fn: (r) => contains(value: r._field, set: fields))",
        ]
        if self.where:
            lines.append(f"  |> filter(fn: (r) => {self.where})")
        if self.kind == "counter":
            lines.append("  |> derivative(unit: 1s, nonNegative: true)")
        window_fn = "mean" if self.kind == "counter" else self.aggregate
        lines.append(
            f"  |> aggregateWindow(every: v.windowPeriod, fn: {window_fn}, createEmpty: false)"
        )
        keep = ["_time", "_value", *self.by]
        if "field" in self.by:
            lines.append(
                "  |> map(fn: (r) => "
                "({r with field: strings.trimSuffix(v: r._field, suffix: suffix)}))"
            )
        if self.value:
            lines.append(f"  |> map(fn: (r) => ({{r with _value: {self.value}}}))")
        columns = json.dumps(list(self.by))
        if self.combine:
            lines += [
                f"  |> group(columns: {json.dumps([*self.by, '_time'])})",
                f"  |> {self.combine}()",
            ]
        lines += [
            f"  |> group(columns: {columns})",
            f"  |> keep(columns: {json.dumps(keep)})",
            '  |> sort(columns: ["_time"])',
        ]
        imports = 'import "strings"\n\n' if "field" in self.by else ""
        return imports + "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Panel:
    """A time series panel of one :class:`Series` (or a raw Flux query)."""

    title: str
    series: Series | None
    unit: str = "short"
    description: str = ""
    width: int = 12
    stack: bool = False
    flux: str | None = None
    kind: str = "timeseries"

    def query(self) -> str:
        """The panel's Flux."""
        if self.flux is not None:
            return self.flux
        assert self.series is not None
        return self.series.flux()

    def legend(self) -> str:
        """The series' display name: their ``by`` labels."""
        by = self.series.by if self.series else ()
        return " ".join(f"${{__field.labels.{b}}}" for b in by) or self.title


TIER_FLUX = (
    'import "array"\n\n' + prelude() + "\narray.from(rows: [{tier: tier, bucket: bucket}])\n"
)
HOST = "r.host =~ /^${host:regex}$/"
CPU_TOTAL = f'r.cpu == "cpu-total" and {HOST}'

HOST_OVERVIEW = [
    Panel(
        "CPU busy",
        Series("cpu", ("usage_idle",), by=("host",), where=CPU_TOTAL, value="100.0 - r._value"),
        unit="percent",
        description="100 - usage_idle of cpu-total, per host.",
    ),
    Panel(
        "CPU by mode (mean of the hosts)",
        Series(
            "cpu", ("usage_user", "usage_system", "usage_iowait"), by=("field",),
            where=CPU_TOTAL, combine="mean",
        ),
        unit="percent",
        stack=True,
    ),
    Panel("Memory used", Series("mem", ("used_percent",), by=("host",), where=HOST),
          unit="percent"),
    Panel("Load (1 minute)", Series("system", ("load1",), by=("host",), where=HOST)),
    Panel("Disk used", Series("disk", ("used_percent",), by=("host", "path"), where=HOST),
          unit="percent"),
    Panel(
        "Network",
        Series("net", ("bytes_recv", "bytes_sent"), kind="counter", by=("host", "field"),
               where=HOST),
        unit="Bps",
        description="Bytes received and sent per second (the counters' rate).",
    ),
    Panel(
        "Tier read",
        None,
        flux=TIER_FLUX,
        kind="table",
        width=24,
        description="The bucket the panels read for this range: raw samples for short ranges, "
        "1-minute rows up to 7 days, 1-hour rows beyond.",
    ),
]  # fmt: skip

PIPELINE_HEALTH = [
    Panel(
        "Points received per collector",
        Series("pulseline_collector_points_total", kind="counter", by=("instance",),
               combine="sum"),
        unit="short",
        description="Points pushed to each collector, per second.",
    ),
    Panel(
        "Points written per tier",
        Series("pulseline_sink_lines_written_total", kind="counter", by=("tier",), combine="sum"),
        description="Lines the database acknowledged, per second, summed over the workers.",
    ),
    Panel(
        "Consumer lag per partition",
        Series("pulseline_consumer_lag", by=("topic", "partition"), aggregate="max",
               combine="max"),
        description="Records in Kafka not yet committed by the workers' consumer group.",
    ),
    Panel(
        "Dead letters",
        Series("pulseline_sink_dead_letters_total", kind="counter", by=("tier",), combine="sum"),
        description="Records (or rows) sent to the dead-letter topic, per second.",
    ),
    Panel(
        "Late and future samples",
        Series("pulseline_downsample_late_sent_total", kind="counter", by=("instance",)),
        description="Samples the downsampler sent to the late topic, per second.",
    ),
    Panel(
        "Sink retries",
        Series("pulseline_sink_write_retries_total", kind="counter", by=("tier",), combine="sum"),
        description="Writes sent again after a transient failure, per second.",
    ),
    Panel(
        "Sink blocked",
        Series("pulseline_sink_blocked", by=("tier",), aggregate="max", combine="sum"),
        description="Workers whose sink is retrying a write and holds its partitions "
        "(mean over each interval: the share of the time blocked).",
    ),
    Panel(
        "Scrape health (up)",
        Series("up", by=("job", "instance"), aggregate="min"),
        description="1 when the last scrape of a target succeeded, 0 when it failed.",
    ),
    Panel(
        "Rule evaluations",
        Series("pulseline_rules_evaluations_total", kind="counter", by=("instance",)),
        description="Rule group evaluations per second.",
    ),
    Panel(
        "Alerts",
        Series("pulseline_alertmanager_alerts", by=("state",), aggregate="max", combine="sum"),
        description="Alerts in the alert manager's aggregation groups, active or suppressed "
        "(silenced or inhibited).",
    ),
]  # fmt: skip

ALERTS = [
    Panel(
        "Firing alerts",
        Series("pulseline_alertmanager_alerts", by=("alertname", "state"),
               aggregate="max", combine="sum"),
        stack=True,
        description="Alerts held by the alert manager, by name, active or suppressed.",
    ),
    Panel(
        "Alert state changes",
        Series("pulseline_rules_events_total", kind="counter", by=("instance",)),
        description="Changes of alert state (pending, firing, resolved) per second.",
    ),
    Panel(
        "Notifications sent per receiver",
        Series("pulseline_notifications_sent_total", kind="counter", by=("receiver",),
               combine="sum"),
        description="Notifications the receivers accepted, per second.",
    ),
    Panel(
        "Notifications failed per receiver",
        Series("pulseline_alertmanager_send_failures_total", kind="counter", by=("receiver",),
               combine="sum"),
        description="Failed attempts to notify, per second (each is retried).",
    ),
    Panel(
        "Aggregation groups",
        Series("pulseline_alertmanager_groups", aggregate="max", by=(), combine="sum"),
        description="Aggregation groups held, summed over the workers.",
    ),
]  # fmt: skip


def _host_variable() -> dict[str, Any]:
    raw = DEFAULT_TIERS[0]
    return {
        "name": "host",
        "label": "host",
        "type": "query",
        "datasource": DATASOURCE,
        "query": (
            'import "influxdata/influxdb/schema"\n\n'
            f'schema.tagValues(bucket: "{raw.bucket}", tag: "host", '
            'predicate: (r) => r._measurement == "cpu", start: -1d)'
        ),
        "definition": "host tag of cpu in the raw bucket, last day",
        "refresh": 2,
        "multi": True,
        "includeAll": True,
        "allValue": ".*",
        "current": {"selected": True, "text": ["All"], "value": ["$__all"]},
        "sort": 1,
    }


def _panel(panel: Panel, index: int, y: int, x: int) -> dict[str, Any]:
    custom = {
        "drawStyle": "line",
        "lineWidth": 1,
        "fillOpacity": 10 if panel.stack else 0,
        "showPoints": "never",
        "spanNulls": True,
        "stacking": {"mode": "normal" if panel.stack else "none", "group": "A"},
    }
    defaults: dict[str, Any] = {"unit": panel.unit}
    if panel.kind == "timeseries":
        defaults |= {"custom": custom, "displayName": panel.legend()}
    return {
        "id": index,
        "type": panel.kind,
        "title": panel.title,
        "description": panel.description,
        "datasource": DATASOURCE,
        "gridPos": {"h": 8 if panel.kind == "timeseries" else 4, "w": panel.width, "x": x, "y": y},
        "fieldConfig": {"defaults": defaults, "overrides": []},
        "options": {
            "legend": {"displayMode": "list", "placement": "bottom", "showLegend": True},
            "tooltip": {"mode": "multi", "sort": "desc"},
        },
        "targets": [{"refId": "A", "datasource": DATASOURCE, "query": panel.query()}],
    }


def dashboard(uid: str, title: str, panels: list[Panel], *, host: bool = False) -> dict[str, Any]:
    """One dashboard's JSON model."""
    laid, x, y = [], 0, 0
    for index, panel in enumerate(panels, start=1):
        if x + panel.width > 24:
            x, y = 0, y + 8
        laid.append(_panel(panel, index, y, x))
        x += panel.width
    return {
        "uid": uid,
        "title": title,
        "tags": ["pulseline"],
        "timezone": "browser",
        "schemaVersion": 39,
        "version": 1,
        "editable": False,
        "graphTooltip": 1,
        "refresh": "30s",
        "time": {"from": "now-1h", "to": "now"},
        "templating": {"list": [_host_variable()] if host else []},
        "annotations": {"list": []},
        "links": [
            {"title": "pulseline", "type": "dashboards", "tags": ["pulseline"], "asDropdown": True}
        ],
        "panels": laid,
    }


def dashboards() -> dict[str, dict[str, Any]]:
    """File name -> dashboard JSON model, for every dashboard."""
    return {
        "host-overview.json": dashboard(
            "pulseline-hosts", "Host overview", HOST_OVERVIEW, host=True
        ),
        "pipeline-health.json": dashboard("pulseline-pipeline", "Pipeline health", PIPELINE_HEALTH),
        "alerts.json": dashboard("pulseline-alerts", "Alerts", ALERTS),
    }


def render(model: dict[str, Any]) -> str:
    """The file content of a dashboard."""
    return json.dumps(model, indent=2, sort_keys=True) + "\n"


def main() -> None:
    """Write every dashboard to ``deploy/grafana/dashboards``."""
    OUT.mkdir(exist_ok=True)
    for name, model in dashboards().items():
        (OUT / name).write_text(render(model))
        print(OUT / name)


if __name__ == "__main__":
    main()
