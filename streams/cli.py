"""The ``pulseline`` command.

Commands::

    pulseline config show      print the effective settings, secrets masked
    pulseline topics create    create every pipeline topic with the configured partitions
    pulseline collect          run a collector (HTTP push endpoints, scrapes -> Kafka)
    pulseline worker           run a Faust worker (sinks, downsampler, rules, alert manager,
                               web pages)
    pulseline demo             push realistic host metrics to a collector
    pulseline buckets ensure   create every tier's InfluxDB 2 bucket with its retention
    pulseline rules check F..  validate Prometheus rule files (exit 1 with every problem)
    pulseline rules test F..   run promtool-style rule unit tests (exit 1 on any failure)
    pulseline alertmanager check F..  validate alertmanager.yml files
    pulseline alerts [MATCHER..]      list the cluster's active alerts (`why FP`: explain one)
    pulseline silence add|query|expire  manage silences, as amtool does
    pulseline status           live view of a cluster (`--once`: one snapshot)
    pulseline dlq show         list dead-lettered records with their reasons
    pulseline dlq replay       send dead-lettered records back to their topic
    pulseline webhook-receiver print the webhook notifications it receives
    pulseline stack run        run broker, TSDBs, topics, worker, collector and demo locally
    pulseline stack status     the local stack's processes, PIDs and ports
    pulseline stack stop       stop a local stack, or what one left behind

Every command takes ``--config FILE`` (default: ``$PULSELINE_CONFIG``, else none), before
or after the command's name, and reads ``PULSELINE_*`` environment variables over the file.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import yaml

from streams.alertmanager.api.commands import add_commands as add_alertmanager_commands
from streams.errors import PulselineError
from streams.logs import quiet_repeats
from streams.operators import add_commands as add_operator_commands
from streams.settings import CollectorSettings, Settings

log = logging.getLogger("pulseline")


def _config_show(settings: Settings, args: argparse.Namespace) -> int:
    from streams.settings_view import shown

    source = (
        f"# settings from {args.config}"
        if args.config
        else "# no --config (nor $PULSELINE_CONFIG): the embedded defaults"
    )
    variables = sorted(name for name in os.environ if name.startswith("PULSELINE_"))
    variables = [name for name in variables if name != "PULSELINE_CONFIG"]
    applied = f", with {', '.join(variables)} over them" if variables else ""
    sys.stdout.write(f"{source}{applied}\n")
    sys.stdout.write(yaml.safe_dump(shown(settings), sort_keys=False))
    return 0


def _topics_create(settings: Settings, args: argparse.Namespace) -> int:
    from streams.kafka import ensure_topics

    layout = settings.topics.pipeline(settings.kafka.partitions)
    created = asyncio.run(ensure_topics(settings.kafka, layout, settings.topics.compacted()))
    for name, partitions in layout.items():
        state = "created" if name in created else "exists"
        print(f"{name}: {state}, {partitions} partitions")
    return 0


def _collect(settings: Settings, args: argparse.Namespace) -> int:
    from streams.collector.service import run

    run(settings)
    return 0


def _worker(settings: Settings, args: argparse.Namespace) -> int:
    from agents.app import create_app, run_worker
    from streams.sinks.storecheck import check_store

    if "store" in settings.worker.roles:
        check_store(settings)  # the store named by influx.store, or no start
    run_worker(create_app(settings), settings)
    return 0


def _demo(settings: Settings, args: argparse.Namespace) -> int:
    from streams.demo import run_demo

    url = args.url or f"http://{settings.collector.listen}"
    asyncio.run(
        run_demo(
            url,
            hosts=args.hosts,
            interval_s=args.interval,
            duration_s=args.duration,
            prefix=args.prefix,
        )
    )
    return 0


def _buckets_ensure(settings: Settings, args: argparse.Namespace) -> int:
    from streams.sinks.buckets import ensure_buckets

    for line in ensure_buckets(settings):
        print(line)
    return 0


def _rules_check(settings: Settings, args: argparse.Namespace) -> int:
    from streams.rules import check_files

    errors = check_files(args.files)
    for error in errors:
        print(error, file=sys.stderr)
    if not errors:
        print(f"{len(args.files)} rule file(s) valid")
    return 1 if errors else 0


def _rules_test(settings: Settings, args: argparse.Namespace) -> int:
    from streams.rules.testing.unittest import run_test_files

    return run_test_files(args.files)


def _stack_run(settings: Settings, args: argparse.Namespace) -> int:
    from streams.stack.local import run_stack

    return run_stack(
        settings, Path(args.dir), config=args.config, demo=not args.no_demo, broker=args.broker
    )


def _stack_status(settings: Settings, args: argparse.Namespace) -> int:
    from streams.stack.control import stack_status

    code, text = stack_status(Path(args.dir))
    print(text)
    return code


def _stack_stop(settings: Settings, args: argparse.Namespace) -> int:
    from streams.stack.control import stop_stack

    return stop_stack(Path(args.dir), deadline_s=args.deadline)


def _webhook_receiver(settings: Settings, args: argparse.Namespace) -> int:
    from streams.stack.webhook import serve

    host, _, port = args.listen.rpartition(":")
    asyncio.run(serve(host, int(port), args.log))
    return 0


def _positive(kind: type[int] | type[float]) -> Callable[[str], float]:
    """An argparse type: a number of ``kind`` above 0."""

    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"{text} must be more than 0")
        return value

    return parse


def _version() -> str:
    try:
        return version("pulseline")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "unknown"


def _parsers(parser: argparse.ArgumentParser) -> Iterator[argparse.ArgumentParser]:
    """Every parser below ``parser``: each command's and subcommand's."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in dict.fromkeys(action.choices.values()):
                yield sub
                yield from _parsers(sub)


DESCRIPTION = """\
pulseline: a metrics monitoring and alerting pipeline. Collectors take metrics by push
(InfluxDB line protocol, Prometheus remote write) and by scraping, Kafka holds them, and
workers write them to InfluxDB buckets, downsample them and evaluate alert rules.

Every command takes --config FILE (default: $PULSELINE_CONFIG), before or after the
command's name; PULSELINE_<SECTION>__<KEY> variables win over the file. 'pulseline config
show' prints the effective settings."""


def commands_help() -> str:
    """The command list of this module's docstring, which ``pulseline --help`` ends with."""
    block = (__doc__ or "").partition("Commands::")[2].partition("\n\nEvery command")[0]
    return "commands:" + block.rstrip()


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``pulseline``."""
    parser = argparse.ArgumentParser(
        prog="pulseline",
        description=DESCRIPTION,
        epilog=commands_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--config",
        type=Path,
        default=os.environ.get("PULSELINE_CONFIG") or None,
        help="YAML settings file (default: $PULSELINE_CONFIG); PULSELINE_* variables win",
    )
    parser.add_argument("--version", action="version", version=f"pulseline {_version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    config = sub.add_parser("config", help="inspect settings")
    config_sub = config.add_subparsers(dest="action", required=True, metavar="ACTION")
    config_sub.add_parser("show", help="print the effective settings, secrets masked").set_defaults(
        run=_config_show
    )

    topics = sub.add_parser("topics", help="manage Kafka topics")
    topics_sub = topics.add_subparsers(dest="action", required=True, metavar="ACTION")
    topics_sub.add_parser(
        "create", help="create every pipeline topic with the configured partitions"
    ).set_defaults(run=_topics_create)

    sub.add_parser("collect", help="run a collector").set_defaults(run=_collect)
    sub.add_parser("worker", help="run a Faust worker").set_defaults(run=_worker)

    demo = sub.add_parser("demo", help="push realistic host metrics to a collector")
    demo.add_argument(
        "--url",
        help="collector base URL (default: http://COLLECTOR.LISTEN, "
        f"http://{CollectorSettings().listen} unless configured)",
    )
    demo.add_argument(
        "--hosts", type=_positive(int), default=20, help="simulated hosts (default: 20)"
    )
    demo.add_argument(
        "--interval",
        type=_positive(float),
        default=10.0,
        help="seconds between pushes (default: 10)",
    )
    demo.add_argument(
        "--duration",
        type=_positive(float),
        default=None,
        help="stop after this many seconds (default: run until Ctrl-C)",
    )
    demo.add_argument(
        "--prefix",
        default="host-",
        help="host names are PREFIX000, PREFIX001... (default: host-, as the local stack's "
        "demo; give another to run a second demo next to it)",
    )
    demo.set_defaults(run=_demo)

    buckets = sub.add_parser("buckets", help="InfluxDB 2 buckets")
    buckets_sub = buckets.add_subparsers(dest="action", required=True, metavar="ACTION")
    buckets_sub.add_parser(
        "ensure", help="create every tier's bucket with its retention, or set the retention"
    ).set_defaults(run=_buckets_ensure)

    rules = sub.add_parser("rules", help="Prometheus rule files")
    rules_sub = rules.add_subparsers(dest="action", required=True, metavar="ACTION")
    rules_check = rules_sub.add_parser("check", help="validate rule files")
    rules_check.add_argument("files", nargs="+", type=Path, metavar="FILE")
    rules_check.set_defaults(run=_rules_check)
    rules_test = rules_sub.add_parser(
        "test", help="run rule unit tests (promtool's test file format and output)"
    )
    rules_test.add_argument("files", nargs="+", type=Path, metavar="FILE")
    rules_test.set_defaults(run=_rules_test)

    add_alertmanager_commands(sub)
    add_operator_commands(sub)
    receiver = sub.add_parser("webhook-receiver", help="print the webhook notifications it gets")
    receiver.add_argument("--listen", default="127.0.0.1:9095", help="HOST:PORT (default 9095)")
    receiver.add_argument("--log", type=Path, help="also append each body as a JSON line here")
    receiver.set_defaults(run=_webhook_receiver)

    stack = sub.add_parser("stack", help="the local stack")
    stack_sub = stack.add_subparsers(dest="action", required=True, metavar="ACTION")
    stack_run = stack_sub.add_parser("run", help="run the whole pipeline locally until Ctrl-C")
    stack_run.add_argument("--dir", default=".stack", help="logs and data (default .stack)")
    stack_run.add_argument("--no-demo", action="store_true", help="do not start the demo load")
    stack_run.add_argument(
        "--broker",
        choices=["kafka", "tansu"],
        default="kafka",
        help="the local broker: kafka (default: Apache Kafka, its data kept in DIR across runs; "
        "seconds to start, about 200 MB) or tansu (ready at once, memory-only)",
    )
    stack_run.set_defaults(run=_stack_run)
    stack_status = stack_sub.add_parser(
        "status",
        help="the processes of the stack recorded in DIR, with PIDs and ports "
        "(exit 0: all run; 1: some are gone or left behind; 3: no stack)",
    )
    stack_status.add_argument("--dir", default=".stack", help="the stack's directory")
    stack_status.set_defaults(run=_stack_status)
    stack_stop = stack_sub.add_parser(
        "stop", help="stop the stack recorded in DIR, or the processes it left behind"
    )
    stack_stop.add_argument("--dir", default=".stack", help="the stack's directory")
    stack_stop.add_argument(
        "--deadline",
        type=_positive(float),
        default=10.0,
        help="seconds a process has after SIGTERM before SIGKILL (default 10)",
    )
    stack_stop.set_defaults(run=_stack_stop)
    for command in _parsers(parser):  # --config after a command's name too
        if "--config" not in command._option_string_actions:
            command.add_argument(
                "--config",
                type=Path,
                default=argparse.SUPPRESS,
                help="YAML settings file (default: $PULSELINE_CONFIG); PULSELINE_* variables win",
            )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``pulseline``; returns the exit code."""
    args = build_parser().parse_args(argv)
    try:
        settings = Settings.load(args.config)
        logging.basicConfig(
            level=settings.worker.log_level.upper(),
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        )
        quiet_repeats()
        command: Callable[[Settings, argparse.Namespace], int] = args.run
        return command(settings, args)
    except PulselineError as exc:
        print(f"pulseline: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
