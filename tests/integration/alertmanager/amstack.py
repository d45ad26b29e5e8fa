"""The alert manager on real processes: a pipeline with a rule file, an alertmanager.yml and
receivers the tests control.

A breach is a line-protocol point pushed to the collector; the rule ``TooHot`` (no ``for``)
fires at once and resolves when the value drops, and the worker's alert manager notifies the
receivers of the test's alertmanager.yml: :class:`servers.Receiver`s, recording webhook
servers whose ``answer`` hook makes them fail for as long as a test wants.
"""

from __future__ import annotations

import json
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import Any

import pytest
from conftest import Pipeline, read_topic, wait_for
from servers import Receiver

from streams.stack import components
from streams.stack.capture import Delivery
from streams.stack.processes import ManagedProcess, http_ready

RULES = """
groups:
  - name: am-itest
    rules:
      - alert: TooHot
        expr: amhot_celsius > 50
        labels: {severity: critical}
        annotations:
          summary: "{{ $labels.host }} at {{ $value }} degrees"
"""
"""The rule of every test: fires on the first sample above 50, resolves on one below."""

GROUP_KEY = '{}:{alertname="TooHot"}'
"""Alertmanager's group key of the rule's alerts under a root route grouping by alertname:
the route's matchers (none: ``{}``), a colon, the group labels."""


def ops_config(url: str, group_wait: str = "1s") -> str:
    """An alertmanager.yml sending every alert to ``url``/ops, grouped by alertname, a group's
    next notification at most a second after its last."""
    return f"""
route:
  receiver: ops
  group_by: [alertname]
  group_wait: {group_wait}
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: ops
    webhook_configs:
      - url: {url}/ops
"""


@pytest.fixture
def receivers() -> Iterator[Callable[..., Receiver]]:
    """Start receivers with ``receivers(answer=...)``; all stop at the end of the test."""
    started: list[Receiver] = []

    def make(answer: Callable[[Delivery], int] | None = None) -> Receiver:
        started.append(Receiver(answer).start())
        return started[-1]

    yield make
    for receiver in started:
        receiver.stop()


def start(
    pipeline: Pipeline, alertmanager_yml: str, env: dict[str, str] | None = None
) -> ManagedProcess:
    """Write the rule file and ``alertmanager_yml``; start a collector and a worker side by
    side, and wait until the worker holds its partitions. Returns the worker."""
    rules = pipeline.workdir / "rules.yml"
    rules.write_text(RULES)
    config = pipeline.workdir / "alertmanager.yml"
    config.write_text(alertmanager_yml)
    pipeline.env.update(
        {
            "PULSELINE_RULES__FILES": json.dumps([str(rules)]),
            "PULSELINE_ALERTMANAGER__CONFIG": str(config),
            **(env or {}),
        }
    )
    collector_url = f"http://{pipeline.env['PULSELINE_COLLECTOR__LISTEN']}/health"
    web = pipeline.worker_web
    launched = (
        _launch(pipeline, "worker", pipeline.env, f"{web}/metrics"),
        _launch(pipeline, "collect", pipeline.env, collector_url),
    )
    launched[1].wait_ready(60)
    return _ready(launched[0], web)


def worker(
    pipeline: Pipeline, name: str, web: str | None = None, env: dict[str, str] | None = None
) -> ManagedProcess:
    """A worker of the pipeline, once it holds its partitions (``GET /health`` answers 200).

    ``web`` is the base URL of its web server (default: the pipeline's); two workers of one
    host need two. ``env`` goes on top of the pipeline's.
    """
    web = web or pipeline.worker_web
    env = {**pipeline.env, **(env or {}), "PULSELINE_WORKER__WEB_PORT": web.rsplit(":", 1)[1]}
    return _ready(_launch(pipeline, "worker", env, f"{web}/metrics", name), web)


def _launch(
    pipeline: Pipeline,
    command: str,
    env: dict[str, str],
    ready_url: str,
    name: str | None = None,
) -> ManagedProcess:
    process = components.pulseline(
        command, pipeline.workdir, env, name=name or command, ready_url=ready_url
    )
    pipeline.processes.append(process)
    return process.start()


def _ready(process: ManagedProcess, web: str) -> ManagedProcess:
    process.wait_ready(60)
    wait_for(http_ready(f"{web}/health"), 90, f"{process.name} to hold its partitions")
    return process


def holds(web: str, topic: str) -> set[int] | None:
    """The partitions of ``topic`` a worker holds; None while it is not ready."""
    try:
        with urllib.request.urlopen(f"{web}/health", timeout=5) as response:
            return set(json.loads(response.read())["partitions"].get(topic, []))
    except OSError:  # 503 (HTTPError) while rebalancing, or no answer at all
        return None


def push(pipeline: Pipeline, value: float, hosts: Sequence[str] = ("h1",)) -> None:
    """One sample of ``amhot_celsius`` per host, in one write request."""
    ts = time.time_ns() // 1_000_000
    body = "\n".join(f"amhot,host={h} celsius={value} {ts}" for h in hosts)
    status, text = pipeline.push(body.encode())
    assert status == 204, text


def rule_events(broker: str, pipeline: Pipeline, expect: int) -> list[dict[str, Any]]:
    """The rule agents' events on ``alerts.events`` (at least ``expect`` of them)."""
    records = read_topic(broker, pipeline.env["PULSELINE_TOPICS__ALERTS"], expect, timeout=30)
    return [json.loads(value) for value, _ in records]


def api(pipeline: Pipeline, path: str, **query: Any) -> Any:
    """``GET /api/v2/<path>`` on the worker (``filter`` may be a list)."""
    url = f"{pipeline.worker_web}/api/v2/{path}"
    if query:
        url += "?" + urllib.parse.urlencode(query, doseq=True)
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


def amtool(pipeline: Pipeline, *args: str) -> str:
    """Run Alertmanager's ``amtool`` against the worker; its standard output."""
    done = subprocess.run(
        ["amtool", f"--alertmanager.url={pipeline.worker_web}", *args],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, f"amtool {' '.join(args)}: {done.stderr}"
    return done.stdout


def hosts(delivery: Delivery) -> list[tuple[str, str]]:
    """The (host, status) of each alert of a webhook notification, in its order."""
    return [(a["labels"]["host"], a["status"]) for a in delivery.body["alerts"]]


def key(delivery: Delivery) -> str:
    """The notification's idempotency key."""
    return delivery.headers["Idempotency-Key"]


def instant(text: str) -> float:
    """An RFC 3339 time (Go's or JavaScript's spelling) as unix seconds."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
