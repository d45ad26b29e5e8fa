"""What ``pulseline stack run`` prints once everything runs: where to push, look and stop.

Every address in it answers on a running stack (the local stack's integration test opens
each one, and runs its push example). VictoriaMetrics as packaged by Debian has no graph UI,
so the stores are shown with a Prometheus query-API URL that a browser or curl opens.

Example:
    >>> from streams.settings import Settings
    >>> text = banner(Settings(), Where(workdir=Path("/srv/stack"), command="pulseline"))
    >>> print(text.splitlines()[3])
      push a point     curl -XPOST 'http://127.0.0.1:9091/api/v2/write?precision=s' \\
    >>> [line.split()[0] for line in text.splitlines() if "/api/v1/query" in line]
    ['raw', '1-minute', '1-hour']
    >>> pages = next(line for line in text.splitlines() if line.strip().startswith("pages"))
    >>> pages.split()[1:]  # doctest: +NORMALIZE_WHITESPACE
    ['http://127.0.0.1:6066/alerts', 'http://127.0.0.1:6066/rules',
     'http://127.0.0.1:6066/silences', 'http://127.0.0.1:6066/graph']
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from streams.durations import format_duration
from streams.settings import Settings
from streams.web.graphpage import READY_VIEWS

PUSH_PATH = "/api/v2/write?precision=s"
PUSH_BODY = "room,host=lab temperature=21.5,humidity=40i"
"""The example push, the README's Quick start's too: stored as ``room_temperature`` and
``room_humidity`` (measurement_field), its 1-minute rows as ``room_temperature_max``..."""
RAW_QUERY = "room_temperature"
TIER_QUERY = "room_temperature_max"
BROKER_NAMES = {"kafka": "Apache Kafka", "tansu": "Tansu"}
PAGES = ("/alerts", "/rules", "/silences", "/graph")
"""The worker's web pages (:mod:`agents.web`)."""
DEMO_GRAPHS = (READY_VIEWS[0], READY_VIEWS[1], READY_VIEWS[6])
"""The ready graphs the banner links: two of the demo hosts, one of the pipeline."""


@dataclass(frozen=True)
class Where:
    """What the banner needs besides the settings.

    Attributes:
        workdir: the stack directory (logs, data, the state file).
        command: how the user runs ``pulseline`` (``.venv/bin/pulseline`` under ``make run``).
        broker: the local broker's engine, or None when the broker is elsewhere.
        broker_ready_s: how long the broker took from start to ready.
        broker_rss: the broker's resident memory once ready, in bytes.
        receivers: the webhook receivers the stack runs, as ``host:port``.
        notifications: the file the receivers append each notification to.
        demo: whether the demo load runs.
    """

    workdir: Path
    command: str
    broker: str | None = None
    broker_ready_s: float | None = None
    broker_rss: int | None = None
    receivers: tuple[str, ...] = ()
    notifications: Path | None = None
    demo: bool = False


def _broker_lines(settings: Settings, where: Where) -> list[str]:
    address = settings.kafka.bootstrap_servers[0]
    if where.broker is None:
        return [f"  broker           {address}, not started by the stack"]
    cost = []
    if where.broker_ready_s is not None:
        cost.append(f"ready in {where.broker_ready_s:.1f} s")
    if where.broker_rss is not None:
        cost.append(f"{where.broker_rss / 2**20:.0f} MB resident")
    measured = f": {', '.join(cost)}" if cost else ""
    lines = [
        f"  broker           {BROKER_NAMES.get(where.broker, where.broker)} on {address}{measured}"
    ]
    if where.broker == "kafka":
        home = where.workdir / f"kafka-{address.rpartition(':')[2]}"
        return [
            *lines,
            f"                   {home} keeps topics, records, offsets and alert state",
            "                   across runs (--broker tansu: ready at once, ~20 MB, keeps nothing)",
        ]
    return [
        *lines,
        "                   memory-only: a restart starts without data, offsets or alert state",
        "                   (the default, --broker kafka, keeps them across runs)",
    ]


def _tier_label(settings: Settings, index: int) -> str:
    tier = settings.tiers[index]
    if tier.window_s is None:
        return "raw samples"
    words = {60.0: "1-minute", 3600.0: "1-hour"}
    return f"{words.get(tier.window_s, format_duration(tier.window_s))} rows"


def banner(settings: Settings, where: Where) -> str:
    """The text printed when the stack is up (no trailing newline)."""
    collector = f"http://{settings.collector.listen}"
    web = f"http://{settings.worker.web_host}:{settings.worker.web_port}"
    lines = ["", "pulseline is running.", *_broker_lines(settings, where)]
    lines += [
        f"  push a point     curl -XPOST '{collector}{PUSH_PATH}' \\",
        f"                        --data-binary '{PUSH_BODY}'",
        "  stores           VictoriaMetrics, Prometheus query API (no graph UI in this build):",
    ]
    for index, tier in enumerate(settings.tiers):
        query = RAW_QUERY if tier.window_s is None else TIER_QUERY
        label = _tier_label(settings, index)
        url = f"{settings.tier_url(tier)}/api/v1/query?query={query}"
        lines.append(f"    {label:<14} {url}")
    lines += [
        f"  scrape targets   {collector}/targets",
        f"  alerts           {web}/api/v2/alerts   or: {where.command} alerts --url {web}",
        "  pages            " + "  ".join(f"{web}{page}" for page in PAGES),
    ]
    width = max(len(view.title) for view in DEMO_GRAPHS)
    for index, view in enumerate(DEMO_GRAPHS):
        label = "demo graphs" if index == 0 else ""
        lines.append(f"  {label:<16} {view.title:<{width}}  {web}{view.link}")
    if where.receivers:
        shown = ", ".join(where.receivers)
        lines.append(f"  notifications    printed below as they arrive (webhook receiver {shown})")
        if where.notifications is not None:
            lines.append(f"                   and appended to {where.notifications}")
    else:
        lines.append("  notifications    none: alertmanager.config sends none to this machine")
    lines += [
        f"  worker           {web}/metrics   {web}/health",
        f"  collector        {collector}/metrics",
    ]
    if where.demo:
        lines.append(
            "  demo load        20 hosts host-000... every 5 s (cpu, mem, disk, net, system)"
        )
    lines += [
        f"  logs and data    {where.workdir}",
        f"  stop             Ctrl-C, or: {where.command} stack stop --dir {where.workdir}",
    ]
    return "\n".join(lines)
