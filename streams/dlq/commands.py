"""``pulseline dlq show`` and ``pulseline dlq replay``: look at dead letters, send them back.

Commands::

    pulseline dlq show   [--topic T] [--since TIME] [--reason TEXT] [-o json]
    pulseline dlq replay [--topic T] [--since TIME] [--reason TEXT] [--dry-run]

``--topic`` names the source topic (default ``topics.raw``); its dead letters are in
``T`` + ``topics.dlq_suffix``. A replay sends each selected dead letter's key and value back
to ``T`` as they are (the same key lands on the same partition), waits for Kafka to acknowledge
them all, and reports what it moved. Dead letters stay in their topic (Kafka deletes records
only by retention), so the report ends with the ``--since`` that replays only newer ones
next time. Replaying a record twice is harmless: the raw sink's writes are idempotent (the
same series and timestamp overwrite) and the downsampler and rules skip samples they have
already counted.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import time
from collections.abc import Callable
from typing import Any, TextIO

from streams.dlq.letters import Letter, Selection, Tally, describe, format_ms, parse_since
from streams.dlq.topic import Replayer, read_letters
from streams.settings import Settings

FLUSH_EVERY = 1000
"""Records replayed between two waits for Kafka's acknowledgements."""


def _topics(settings: Settings, args: argparse.Namespace) -> tuple[str, str]:
    source = args.topic or settings.topics.raw
    return source, settings.topics.dlq(source)


def _selection(args: argparse.Namespace, now: float) -> Selection:
    since = None if args.since is None else parse_since(args.since, now)
    return Selection(since_ms=since, reason=args.reason)


def letter_json(letter: Letter, topic: str) -> dict[str, Any]:
    """A dead letter as ``dlq show -o json`` prints it (the value is not included)."""
    return {
        "topic": topic,
        "partition": letter.partition,
        "offset": letter.offset,
        "time": format_ms(letter.timestamp_ms),
        "key": None if letter.key is None else letter.key.decode(errors="replace"),
        "bytes": letter.size,
        "stage": letter.stage,
        "source": letter.source,
        "reason": letter.reason,
    }


async def show(
    settings: Settings, source: str, selection: Selection, as_json: bool, out: TextIO
) -> Tally:
    """Print the selected dead letters of ``source``; returns their tally."""
    dlq = settings.topics.dlq(source)
    tally = Tally()
    rows = []
    async for letter in read_letters(settings.kafka, dlq, selection.since_ms):
        if not selection.wants(letter):
            continue
        tally.add(letter)
        if as_json:
            rows.append(letter_json(letter, dlq))
        else:
            print(describe(letter, dlq), file=out)
    if as_json:
        print(json.dumps(rows, indent=2), file=out)
    else:
        print(f"{dlq}: {tally.summary()}", file=out)
    return tally


async def replay(
    settings: Settings,
    source: str,
    selection: Selection,
    *,
    dry_run: bool,
    out: TextIO,
    clock: Callable[[], float] = time.time,
) -> Tally:
    """Send the selected dead letters of ``source`` back to it (or only list them, with
    ``dry_run``); returns the tally of what was (or would be) moved, once Kafka acknowledged
    every record."""
    dlq = settings.topics.dlq(source)
    started_ms = round(clock() * 1000)
    verb = "would move" if dry_run else "moving"
    tally = Tally()
    async with contextlib.AsyncExitStack() as stack:
        replayer = (
            None
            if dry_run
            else await stack.enter_async_context(Replayer(settings.kafka, source, dlq))
        )
        async for letter in read_letters(settings.kafka, dlq, selection.since_ms):
            if not selection.wants(letter):
                continue
            print(f"{verb} {describe(letter, dlq)}", file=out)
            tally.add(letter)
            if replayer is not None:
                await replayer.send(letter)
                if tally.records % FLUSH_EVERY == 0:
                    await replayer.flush()
        if replayer is not None:
            await replayer.flush()
    done = "would move" if dry_run else "moved"
    print(f"{done} {tally.summary()} from {dlq} to {source}", file=out)
    if not dry_run and tally.records:
        print(
            f"to replay only records dead-lettered after this one: --since {format_ms(started_ms)}",
            file=out,
        )
    return tally


def _show(settings: Settings, args: argparse.Namespace) -> int:
    source, _ = _topics(settings, args)
    selection = _selection(args, time.time())
    asyncio.run(show(settings, source, selection, args.output == "json", sys.stdout))
    return 0


def _replay(settings: Settings, args: argparse.Namespace) -> int:
    source, _ = _topics(settings, args)
    selection = _selection(args, time.time())
    asyncio.run(replay(settings, source, selection, dry_run=args.dry_run, out=sys.stdout))
    return 0


def add_dlq_commands(sub: Any) -> None:
    """Add ``dlq show`` and ``dlq replay`` to ``pulseline``'s subcommand parsers."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--topic", help="the source topic whose dead letters to handle (default: topics.raw)"
    )
    common.add_argument(
        "--since",
        metavar="TIME",
        help="only records dead-lettered since TIME: a duration ago (2h), a Unix time, "
        "or 2024-05-01T12:00:00Z",
    )
    common.add_argument(
        "--reason", default="", metavar="TEXT", help="only records whose reason contains TEXT"
    )
    dlq = sub.add_parser("dlq", help="dead-lettered records: list them, send them back")
    dlq_sub = dlq.add_subparsers(dest="action", required=True, metavar="ACTION")
    show_parser = dlq_sub.add_parser(
        "show", help="list dead letters with their reasons", parents=[common]
    )
    show_parser.add_argument("-o", "--output", choices=["text", "json"], default="text")
    show_parser.set_defaults(run=_show)
    replay_parser = dlq_sub.add_parser(
        "replay",
        help="send dead letters back to their source topic (after fixing the cause)",
        parents=[common],
    )
    replay_parser.add_argument(
        "--dry-run", action="store_true", help="list what would be moved, move nothing"
    )
    replay_parser.set_defaults(run=_replay)
