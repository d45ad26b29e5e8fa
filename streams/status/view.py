"""The terminal rendering of a :class:`~streams.status.report.Status`, with rich.

One function per section, each a rich table; :func:`render` stacks them. Unknown numbers
show as ``-`` (a process that did not answer, a rate with one observation), never as 0.
With one worker group the view does not name the group in its rows; with several (store and
alert workers), the partitions of each group are a table of their own and the lag and
worker rows have a ``group`` column.

Example:
    >>> from rich.console import Console
    >>> from streams.status.report import TierRow
    >>> console = Console(width=100, color_system=None)
    >>> with console.capture() as captured:
    ...     console.print(tiers_table([TierRow("raw", 1500.0, 90000.0, 0.0, 2.0, 0)]))
    >>> "1,500.0" in captured.get()
    True
"""

from __future__ import annotations

import time

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from streams.status.report import Status, TierRow

MAX_ALERTS = 20
"""Alerts listed at most; the rest are counted."""
MAX_ERROR = 60
"""Longest reason a process is down shown in a table (``-o json`` has it whole)."""


def number(value: float | None, digits: int = 0) -> str:
    """A number with thousands separators, ``-`` when unknown.

    Example:
        >>> number(1234567), number(2.5, 1), number(None)
        ('1,234,567', '2.5', '-')
    """
    return "-" if value is None else f"{value:,.{digits}f}"


def _table(title: str, *columns: str) -> Table:
    """A table titled ``title``; a column name ending in ``>`` is a right-aligned number."""
    table = Table(title=title, title_justify="left", title_style="bold")
    for column in columns:
        numeric = column.endswith(">")
        table.add_column(column.rstrip(">"), justify="right" if numeric else "left")
    return table


def _state(up: bool, error: str) -> Text:
    """``up``, or why not, cut to :data:`MAX_ERROR` characters."""
    if up:
        return Text("up", style="green")
    error = error or "down"
    cut = error if len(error) <= MAX_ERROR else error[: MAX_ERROR - 3] + "..."
    return Text(cut, style="red")


def several_groups(status: Status) -> bool:
    """Whether the status has more than one worker group (its rows then name theirs)."""
    return len(status.groups) > 1


def _group(name: str, state: str, members: int) -> str:
    return f"{name} ({state or 'unknown'}, {members} member{'s' if members != 1 else ''})"


def header(status: Status) -> Text:
    """The first line: each group, its state and members, the time; then any problem and
    warning."""
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(status.wall))
    groups = [_group(g.group, g.state, len(g.members)) for g in status.groups] or [
        _group(status.group, status.group_state, len(status.members))
    ]
    text = Text.assemble(
        ("pulseline status", "bold"),
        f"  {when}  group{'s' if len(groups) > 1 else ''} {', '.join(groups)}  ",
        (f"{status.firing} firing", "bold red" if status.firing else "green"),
    )
    for problem in [*status.problems, *status.warnings]:
        text.append(f"\n! {problem}", style="yellow")
    return text


def partitions_tables(status: Status, topic: str) -> list[Table]:
    """Each partition of ``topic``: offsets, lag and owner; a table per group if several."""
    if not several_groups(status):
        return [partitions_table(status, topic)]
    return [partitions_table(status, topic, g.group) for g in status.groups]


def partitions_table(status: Status, topic: str, group: str | None = None) -> Table:
    """Each partition of ``topic`` in ``group``, named in the title (None: every group's)."""
    title = f"Consumer lag of {topic}" + (f", group {group}" if group else "")
    table = _table(title, "partition>", "end>", "committed>", "lag>", "owner", "")
    for row in status.partitions:
        if row.topic == topic and group in (None, row.group):
            table.add_row(
                str(row.partition),
                number(row.end),
                number(row.committed),
                Text(number(row.lag), style="bold" if row.lag else ""),
                row.owner or Text("unassigned", style="yellow"),
                Text(row.note, style="red" if row.lost else "yellow"),
            )
    return table


def topics_table(status: Status) -> Table:
    """Every topic a worker group consumes, its lag summed; by group and topic if several."""
    grouped = several_groups(status)
    columns = ("topic", "partitions>", "lag>", "max>", "unowned>", "lost>")
    table = _table("Lag by topic", *(("group", *columns) if grouped else columns))
    for t in status.topics:
        table.add_row(
            *((t.group,) if grouped else ()),
            t.topic,
            str(t.partitions),
            number(t.lag),
            number(t.max_lag),
            str(t.unowned),
            Text(number(t.lost), style="red" if t.lost else ""),
        )
    return table


def flow_table(status: Status) -> Table:
    """Records in and out of the raw topic (out: the slowest group's), samples stored, series
    held."""
    table = _table(
        "Flow",
        "records in/s>",
        "records done/s (slowest group)>" if several_groups(status) else "records done/s>",
        "samples stored/s>",
        "active series>",
        "rule series>",
    )
    table.add_row(
        number(status.records_in_per_s, 1),
        number(status.records_done_per_s, 1),
        number(status.samples_stored_per_s, 1),
        number(status.active_series),
        number(status.rule_series),
    )
    return table


def tiers_table(rows: list[TierRow]) -> Table:
    """Writes per tier."""
    table = _table(
        "Writes by tier",
        "tier",
        "lines/s>",
        "lines written>",
        "dead letters>",
        "retries>",
        "blocked>",
    )
    for row in rows:
        table.add_row(
            row.tier,
            number(row.lines_per_s, 1),
            number(row.lines_written),
            number(row.dead_letters),
            number(row.retries),
            Text(str(row.blocked), style="red" if row.blocked else ""),
        )
    return table


def collectors_table(status: Status) -> Table:
    """Every collector, its ingest rates and targets."""
    table = _table(
        "Collectors",
        "collector",
        "url",
        "samples/s>",
        "records/s>",
        "scrapes/s>",
        "targets",
        "state",
    )
    for row in status.collectors:
        targets = "-" if row.targets is None else f"{row.targets} ({row.targets_down} down)"
        table.add_row(
            row.name or "-",
            row.url or "-",
            number(row.samples_per_s, 1),
            number(row.records_per_s, 1),
            number(row.scrapes_per_s, 2),
            targets,
            _state(row.up, row.error),
        )
    return table


def workers_table(status: Status) -> Table:
    """Every worker, the partitions of the raw topic it holds, and whether it answers; with
    several groups, the group of each."""
    grouped = several_groups(status)
    columns = ("raw partitions>", "series>", "state")
    table = _table("Workers", *(("worker", "group", *columns) if grouped else ("worker", *columns)))
    for row in status.workers:
        table.add_row(
            row.url,
            *((row.group or "-",) if grouped else ()),
            str(row.partitions),
            number(row.series),
            _state(row.up, row.error),
        )
    return table


def alerts_table(status: Status) -> Table:
    """The alert manager's alerts, firing first."""
    table = _table(f"Alerts ({status.firing} firing)", "alertname", "state", "since", "labels")
    for row in status.alerts[:MAX_ALERTS]:
        style = "bold red" if row.state == "active" else "dim"
        table.add_row(Text(row.name, style=style), row.state, row.since, row.labels)
    if len(status.alerts) > MAX_ALERTS:
        table.add_row(f"... and {len(status.alerts) - MAX_ALERTS} more", "", "", "")
    return table


def leftovers_table(status: Status) -> Table:
    """What was set aside: dead letters held by Kafka, samples refused as late."""
    table = _table("Set aside", "where", "count>")
    for topic, held in status.dead_letters.items():
        table.add_row(f"dead letters in {topic}", Text(number(held), style="red" if held else ""))
    table.add_row("late or future samples (workers' counters)", number(status.late_samples))
    table.add_row("records in the late topic", number(status.late_topic_records))
    return table


def render(status: Status, raw: str) -> RenderableType:
    """The whole view: header, lag, flow, tiers, collectors, workers, alerts, set-asides."""
    return Group(
        header(status),
        *partitions_tables(status, raw),
        topics_table(status),
        flow_table(status),
        tiers_table(status.tiers),
        collectors_table(status),
        workers_table(status),
        alerts_table(status),
        leftovers_table(status),
    )
