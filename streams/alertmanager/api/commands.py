"""``pulseline alertmanager``, ``pulseline alerts`` and ``pulseline silence``: the alert manager
from the command line, as amtool gives it for Alertmanager.

Commands::

    pulseline alertmanager check FILE...   validate alertmanager.yml files (exit 1 on a problem)
    pulseline alerts [MATCHER...]          list the active alerts of the cluster
    pulseline alerts why FINGERPRINT       route, silences, inhibitions and notifications of one
    pulseline silence add MATCHER... -c C  silence alerts; prints the new silence's id
    pulseline silence query [MATCHER...]   list silences (--expired for the expired ones)
    pulseline silence expire ID...         end silences now

Every command but ``check`` talks to a worker's API (``--url``; default the worker's web
address from the settings), so it works from any machine that reaches one worker.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from streams.alertmanager.api.client import AlertmanagerClient
from streams.alertmanager.wire import format_time
from streams.durations import parse_duration
from streams.errors import PulselineError
from streams.settings import Settings

Command = Callable[[Settings, argparse.Namespace], int]


def _client(settings: Settings, args: argparse.Namespace) -> AlertmanagerClient:
    worker = settings.worker
    return AlertmanagerClient(args.url or f"http://{worker.web_host}:{worker.web_port}")


def _table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in [header, *rows]
    )


def _labels(labels: dict[str, str]) -> str:
    return " ".join(f'{k}="{v}"' for k, v in sorted(labels.items()))


def _check(settings: Settings, args: argparse.Namespace) -> int:
    from streams.alertmanager.config.loader import check_file

    failed = 0
    for path in args.files:
        try:
            print(check_file(path))
        except PulselineError as exc:
            print(f"Checking '{path}'  FAILED: {exc}")
            failed += 1
    return 1 if failed else 0


def _alerts(settings: Settings, args: argparse.Namespace) -> int:
    if args.matchers[:1] == ["why"]:
        if len(args.matchers) != 2:
            raise PulselineError("usage: pulseline alerts why FINGERPRINT")
        why = asyncio.run(_client(settings, args).why(args.matchers[1]))
        print(json.dumps(why, indent=2))
        return 0
    flags = {"silenced": args.silenced, "inhibited": args.inhibited}
    alerts = asyncio.run(_client(settings, args).alerts(args.matchers, **flags))
    if args.output == "json":
        print(json.dumps(alerts, indent=2))
        return 0
    rows = [
        [
            a["labels"].get("alertname", ""),
            a["startsAt"],
            a["status"]["state"],
            _labels({k: v for k, v in a["labels"].items() if k != "alertname"}),
            a["annotations"].get("summary", ""),
        ]
        for a in alerts
    ]
    print(_table(rows, ["Alertname", "Starts At", "State", "Labels", "Summary"]))
    return 0


def _silence_add(settings: Settings, args: argparse.Namespace) -> int:
    from streams.alertmanager.config.matchers import parse_matchers

    matchers = [m for text in args.matchers for m in parse_matchers(text)]
    if not matchers:
        raise PulselineError("a silence needs at least one matcher, such as alertname=Down")
    now = time.time()
    body: dict[str, Any] = {
        "matchers": [
            {
                "name": m.name,
                "value": m.value,
                "isRegex": m.op in ("=~", "!~"),
                "isEqual": m.op in ("=", "=~"),
            }
            for m in matchers
        ],
        "startsAt": format_time(now),
        "endsAt": format_time(now + parse_duration(args.duration)),
        "createdBy": args.author,
        "comment": args.comment,
    }
    if args.expire_on_resolve:
        body["expireOnResolve"] = True
    print(asyncio.run(_client(settings, args).add_silence(body)))
    return 0


def _silence_query(settings: Settings, args: argparse.Namespace) -> int:
    silences = asyncio.run(_client(settings, args).silences(args.matchers))
    wanted = {"expired"} if args.expired else {"active", "pending"}
    rows = [
        [
            s["id"],
            " ".join(
                f"{m['name']}{'=' if m.get('isEqual', True) else '!'}{'~' if m['isRegex'] else ''}"
                f'"{m["value"]}"'
                for m in s["matchers"]
            ),
            s["endsAt"],
            s["createdBy"],
            s["comment"],
        ]
        for s in silences
        if s["status"]["state"] in wanted
    ]
    print(_table(rows, ["ID", "Matchers", "Ends At", "Created By", "Comment"]))
    return 0


def _silence_expire(settings: Settings, args: argparse.Namespace) -> int:
    client = _client(settings, args)
    for silence_id in args.ids:
        asyncio.run(client.expire_silence(silence_id))
    return 0


def add_commands(sub: Any) -> None:
    """Add the alert manager's commands to ``pulseline``'s subcommand parsers."""
    url = argparse.ArgumentParser(add_help=False)
    url.add_argument("--url", help="a worker's web address (default: from worker.web_*)")

    am = sub.add_parser("alertmanager", help="alertmanager.yml files")
    am_sub = am.add_subparsers(dest="action", required=True, metavar="ACTION")
    check = am_sub.add_parser("check", help="validate alertmanager.yml files")
    check.add_argument("files", nargs="+", type=Path, metavar="FILE")
    check.set_defaults(run=_check)

    alerts = sub.add_parser(
        "alerts",
        help="list active alerts; `alerts why FINGERPRINT` explains one",
        parents=[url],
    )
    alerts.add_argument("matchers", nargs="*", metavar="MATCHER", help='e.g. severity="page"')
    alerts.add_argument("--no-silenced", dest="silenced", action="store_false")
    alerts.add_argument("--no-inhibited", dest="inhibited", action="store_false")
    alerts.add_argument("-o", "--output", choices=["table", "json"], default="table")
    alerts.set_defaults(run=_alerts)

    silence = sub.add_parser("silence", help="add, list and expire silences")
    silence_sub = silence.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = silence_sub.add_parser("add", help="silence alerts; prints the id", parents=[url])
    add.add_argument("matchers", nargs="+", metavar="MATCHER")
    add.add_argument("-c", "--comment", required=True)
    add.add_argument("-a", "--author", default=getpass.getuser())
    add.add_argument("-d", "--duration", default="1h", help="how long (default 1h)")
    add.add_argument(
        "--expire-on-resolve",
        action="store_true",
        help="end the silence once every alert it mutes has resolved",
    )
    add.set_defaults(run=_silence_add)
    query = silence_sub.add_parser("query", help="list silences", parents=[url])
    query.add_argument("matchers", nargs="*", metavar="MATCHER")
    query.add_argument("--expired", action="store_true", help="the expired ones instead")
    query.set_defaults(run=_silence_query)
    expire = silence_sub.add_parser("expire", help="end silences now", parents=[url])
    expire.add_argument("ids", nargs="+", metavar="ID")
    expire.set_defaults(run=_silence_expire)
