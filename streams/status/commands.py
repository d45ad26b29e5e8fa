"""``pulseline status``: a live view of a running cluster, or one snapshot for scripts.

Commands::

    pulseline status [--interval S]             redraw every S seconds until Ctrl-C
    pulseline status --once [-o table|json]     one snapshot, rates over --interval

It needs only the settings: the broker (the offsets and members of every worker group of the
pipeline, :mod:`streams.status.groups`; the topics' sizes; the collectors' heartbeats) and
from there every process's ``/metrics``; see :mod:`streams.status.probe` for how the
processes are found. ``--worker URL`` and ``--collector URL`` add processes the cluster does
not name.

Exit status of ``--once``: 0, or 1 when something could not be read (Kafka, every worker's
alert API), listed under the header. A warning listed there (workers with both roles beside
split workers) does not change it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from typing import Any

from rich.console import Console
from rich.live import Live

from streams.settings import Settings
from streams.status.probe import Targets, observe
from streams.status.report import Layout, Status, build_status
from streams.status.view import render


def layout_of(settings: Settings) -> Layout:
    """The topic and tier names the view shows, from the settings."""
    topics = settings.topics
    return Layout(
        topics.raw,
        tuple(tier.name for tier in settings.tiers),
        (topics.dlq(topics.raw),),
        topics.late,
    )


async def snapshot(settings: Settings, targets: Targets, interval_s: float) -> Status:
    """One status: two observations ``interval_s`` apart (rates need two), or one if 0."""
    before = None
    if interval_s > 0:
        before = await observe(settings, targets)
        await asyncio.sleep(interval_s)
    return build_status(before, await observe(settings, targets), layout_of(settings))


async def live(settings: Settings, targets: Targets, interval_s: float, console: Console) -> None:
    """Redraw the view every ``interval_s`` seconds until cancelled (Ctrl-C)."""
    layout = layout_of(settings)
    before = None
    with Live(console=console, auto_refresh=False, screen=console.is_terminal) as view:
        while True:
            after = await observe(settings, targets)
            view.update(render(build_status(before, after, layout), layout.raw), refresh=True)
            before = after
            await asyncio.sleep(interval_s)


def _console() -> Console:
    # Not a terminal (a pipe, a file): wide enough that rows are not folded for scripts.
    return Console() if sys.stdout.isatty() else Console(width=200, color_system=None)


def _status(settings: Settings, args: argparse.Namespace) -> int:
    # What cannot be reached is listed in the view; the Kafka client's own logs would only
    # scroll it away.
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    targets = Targets.from_settings(settings, args.worker, args.collector)
    if not args.once and args.output == "table":
        asyncio.run(live(settings, targets, args.interval, _console()))
        return 0
    status = asyncio.run(snapshot(settings, targets, args.interval))
    if args.output == "json":
        print(json.dumps(status.to_json(), indent=2))
    else:
        _console().print(render(status, settings.topics.raw))
    return 1 if status.problems else 0


def _interval(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text} must be 0 or more")
    return value


def add_status_command(sub: Any) -> None:
    """Add ``status`` to ``pulseline``'s subcommand parsers."""
    status = sub.add_parser(
        "status",
        help="live view of a cluster: lag and owner per partition, rates per tier, "
        "collectors, workers, firing alerts, dead letters",
    )
    status.add_argument(
        "--once", action="store_true", help="print one snapshot and exit (for scripts)"
    )
    status.add_argument(
        "--interval",
        type=_interval,
        default=2.0,
        help="seconds between redraws; with --once, between the two looks the rates come "
        "from (0: no rates) (default 2)",
    )
    status.add_argument(
        "-o",
        "--output",
        choices=["table", "json"],
        default="table",
        help="json: one snapshot as JSON (implies --once)",
    )
    status.add_argument(
        "--worker", action="append", default=[], metavar="URL", help="also read this worker"
    )
    status.add_argument(
        "--collector", action="append", default=[], metavar="URL", help="also read this collector"
    )
    status.set_defaults(run=_status)
