"""Alert rules on real processes: a breach pushed through the collector fires on alerts.events.

The rule has ``for: 2s``: the breach is pending, then firing. The worker is killed with
SIGKILL while the alert fires and restarted; the alert must neither be lost nor announced
again. When the value drops, the alert is resolved. Every event names the metrics.raw
records its value came from.
"""

from __future__ import annotations

import json
import os
import signal
import time
import urllib.request

import pytest
from conftest import Pipeline, read_topic

from streams.status.exposition import Metrics

pytestmark = pytest.mark.integration

RULES = """
groups:
  - name: itest
    rules:
      - alert: TooHot
        expr: ahot_celsius > 50
        for: 2s
        labels: {severity: critical}
        annotations:
          summary: "{{ $labels.host }} at {{ $value }} degrees"
"""


def _push(pipeline: Pipeline, value: float) -> None:
    ts = time.time_ns() // 1_000_000
    status, text = pipeline.push(f"ahot,host=h1 celsius={value} {ts}".encode())
    assert status == 204, text


def _events(
    broker: str, pipeline: Pipeline, expect: int, timeout: float = 2
) -> list[dict[str, object]]:
    records = read_topic(broker, pipeline.env["PULSELINE_TOPICS__ALERTS"], expect, timeout)
    return [json.loads(value) for value, _ in records]


def _changes(events: list[dict[str, object]]) -> list[dict[str, object]]:
    """``events`` without repeats of a change already announced.

    A worker killed between an event and the save of its alert state announces that change
    again after its restart (at least once, as documented; the alert manager merges the
    copy): a repeat is the same change of the same alert, with the same start.
    """
    seen: set[tuple[object, ...]] = set()
    changes = []
    for e in events:
        change = (e["fingerprint"], e["previous"], e["state"], e["startsAt"], e["endsAt"])
        if change not in seen:
            seen.add(change)
            changes.append(e)
    return changes


def _wait_events(
    broker: str, pipeline: Pipeline, states: list[str], keep: float
) -> list[dict[str, object]]:
    """Push ``keep`` meanwhile; wait until the events' states are ``states`` (or more)."""
    deadline = time.monotonic() + 60
    while True:
        events = _changes(_events(broker, pipeline, len(states) + 2))
        if [e["state"] for e in events][: len(states)] == states or time.monotonic() > deadline:
            return events
        _push(pipeline, keep)


def test_breach_fires_survives_a_worker_kill_and_resolves(pipeline: Pipeline, broker: str) -> None:
    rules = pipeline.workdir / "rules.yml"
    rules.write_text(RULES)
    pipeline.env["PULSELINE_RULES__FILES"] = json.dumps([str(rules)])
    pipeline.collector()
    worker = pipeline.worker()
    _push(pipeline, 20.0)
    _push(pipeline, 80.0)
    events = _wait_events(broker, pipeline, ["pending", "firing"], keep=80.0)
    assert [e["state"] for e in events] == ["pending", "firing"], events

    worker.kill()  # SIGKILL while firing
    for _ in range(6):
        _push(pipeline, 85.0)  # still breaching while the worker is away
        time.sleep(0.5)
    pipeline.worker()
    for _ in range(6):
        _push(pipeline, 90.0)
        time.sleep(0.5)
    _push(pipeline, 10.0)
    events = _wait_events(broker, pipeline, ["pending", "firing", "resolved"], keep=10.0)
    announced = _events(broker, pipeline, 8, timeout=4)  # anything announced after it shows now
    events = _changes(announced)
    assert [e["state"] for e in events] == ["pending", "firing", "resolved"], announced
    assert len(announced) <= len(events) + 1, announced  # one change repeated at most
    pending, firing, resolved = events
    assert len({e["fingerprint"] for e in events}) == 1
    assert pending["startsAt"] == firing["startsAt"] == resolved["startsAt"]
    assert resolved["endsAt"] is not None and firing["endsAt"] is None
    assert firing["labels"] == {"alertname": "TooHot", "host": "h1", "severity": "critical"}
    assert firing["annotations"] == {"summary": "h1 at 80 degrees"}
    assert firing["rule"] == "TooHot" and firing["group"] == "itest"
    for e in events:
        [source] = e["sources"]
        assert source["topic"] == pipeline.raw_topic and source["offset"] >= 0
    # After the first record it read back, the worker evaluated its own forwards at once.
    with urllib.request.urlopen(f"{pipeline.worker_web}/metrics", timeout=30) as response:
        scraped = Metrics.parse(response.read().decode())
    assert (scraped.total("pulseline_rules_evaluated_here_total") or 0) > 0


def _fires(broker: str, pipeline: Pipeline, rule: str, host: str) -> bool:
    """Push a breach for ``host`` until ``rule`` fires for it (True) or 30 s pass (False)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        status, text = pipeline.push(
            f"ahot,host={host} celsius=99 {time.time_ns() // 1_000_000}".encode()
        )
        assert status == 204, text
        events = _events(broker, pipeline, 100, timeout=1)
        if any(e["rule"] == rule and e["labels"]["host"] == host for e in events):  # type: ignore[index]
            return True
    return False


def test_rules_reload_on_change_and_on_sighup_and_a_bad_file_keeps_the_old_rules(
    pipeline: Pipeline, broker: str
) -> None:
    rules = pipeline.workdir / "rules.yml"
    rules.write_text(RULES.replace("for: 2s", "for: 0s"))
    pipeline.env["PULSELINE_RULES__FILES"] = json.dumps([str(rules)])
    pipeline.env["PULSELINE_RULES__RELOAD_S"] = "1"
    pipeline.collector()
    worker = pipeline.worker()
    assert _fires(broker, pipeline, "TooHot", "h1")

    broken = RULES.replace("ahot_celsius > 50", "ahot_celsius > ") + "#" * 40 + "\n"
    rules.write_text(broken)
    time.sleep(2.5)  # noticed by the change check, refused
    assert _fires(broker, pipeline, "TooHot", "h2")  # the previous rules are still in force

    # A valid file the change check cannot tell from the broken one (same size and mtime):
    # only SIGHUP loads it.
    stamp = rules.stat()
    valid = RULES.replace("TooHot", "TooHotNow").replace("for: 2s", "for: 0s")
    rules.write_text(valid + "#" * (len(broken) - len(valid) - 1) + "\n")
    os.utime(rules, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))
    assert rules.stat().st_size == stamp.st_size
    assert worker.pid is not None
    os.kill(worker.pid, signal.SIGHUP)
    assert _fires(broker, pipeline, "TooHotNow", "h3")
    log = worker.log_path.read_text()
    assert "rule files not reloaded (file changed)" in log
    assert "rule files reloaded (SIGHUP)" in log
