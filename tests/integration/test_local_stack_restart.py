"""A restart of the local stack (Ctrl-C, then ``make run`` again) keeps data and alert state.

``pulseline stack run`` runs on Apache Kafka, its default broker, with its own directory and
settings on free ports. A client pushes one numbered sample every 5 s (12 per 1-minute
window), and a rule fires on them. The stack is stopped with SIGINT and started again on
the same directory; the client pauses meanwhile, as a person's would. Afterwards:

- the firing alert was announced once: one ``firing`` event on ``alerts.events``, one
  notification at the webhook receiver, the same ``startsAt`` before and after;
- no 1-minute window is lost: every window's row counts exactly the samples the collector
  acknowledged in it (12 for the windows before and after the restart), their sum too;
- the raw store holds every acknowledged sample once.

The oracle is the client's own record of what the collector acknowledged with a 204.
"""

from __future__ import annotations

import json
import signal
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import read_topic, wait_for
from localstack import LocalStack, get, left_running

pytestmark = [pytest.mark.integration, pytest.mark.long(450)]

RULES = """
groups:
  - name: restart
    rules:
      - alert: StackProbeUp
        expr: stackprobe_seq > 0
        labels: {severity: critical}
        annotations:
          summary: "probe at {{ $value }}"
"""
EVERY_S = 5
MINUTE_MS = 60_000


class Client:
    """Pushes ``stackprobe,host=restart seq=N`` at each 5 s slot; remembers what was acked."""

    def __init__(self, url: str) -> None:
        self.url = f"{url}/api/v2/write?precision=ms"
        self.acked: dict[int, float] = {}  # timestamp ms -> value
        self.pushing = threading.Event()
        self.idle = threading.Event()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self.pushing.set()
        self._thread.start()

    def pause(self) -> None:
        """Stop pushing; returns once no push is in flight."""
        self.pushing.clear()
        self.idle.wait(60)

    def resume(self) -> None:
        self.pushing.set()

    def close(self) -> None:
        self._done.set()
        self.pushing.set()
        self._thread.join(60)

    def _run(self) -> None:
        slot = int(time.time()) // EVERY_S + 1
        while not self._done.is_set():
            if not self.pushing.is_set():
                self.idle.set()
                self.pushing.wait()
                slot = max(slot, int(time.time()) // EVERY_S + 1)
                continue
            self.idle.clear()
            delay = slot * EVERY_S - time.time()
            if delay > 0:
                time.sleep(delay)
            ts = slot * EVERY_S * 1000
            body = f"stackprobe,host=restart seq={slot} {ts}".encode()
            request = urllib.request.Request(self.url, data=body, method="POST")
            try:
                with urllib.request.urlopen(request, timeout=30) as resp:
                    if resp.status == 204:
                        self.acked[ts] = float(slot)
            except (urllib.error.URLError, OSError):
                pass  # not acknowledged: not expected anywhere
            slot += 1
        self.idle.set()

    def windows(self) -> dict[int, tuple[int, float]]:
        """Window start (ms) -> (count, sum) of the acknowledged samples."""
        out: dict[int, tuple[int, float]] = {}
        for ts, value in self.acked.items():
            start = ts - ts % MINUTE_MS
            count, total = out.get(start, (0, 0.0))
            out[start] = (count + 1, total + value)
        return out


def _export(base: str, name: str) -> dict[int, float]:
    """Every sample of ``name{host="restart"}``: timestamp ms -> value (copies summed up)."""
    text = get(f"{base}/api/v1/export?match[]={name}{{host=%22restart%22}}")[1]
    out: dict[int, float] = {}
    copies: Counter[int] = Counter()
    for line in text.splitlines():
        row = json.loads(line)
        for ts, value in zip(row["timestamps"], row["values"], strict=True):
            out[ts] = value
            copies[ts] += 1
    assert max(copies.values(), default=1) == 1, f"{name}: some sample stored twice: {copies}"
    return out


def _rows(stack: LocalStack) -> dict[int, tuple[int, float]]:
    """The 1-minute tier's rows of the probe: window start -> (count, sum)."""
    counts = _export(stack.url("1m"), "stackprobe_seq_count")
    sums = _export(stack.url("1m"), "stackprobe_seq_sum")
    return {ts: (int(counts[ts]), sums.get(ts, float("nan"))) for ts in counts}


def _notifications(stack: LocalStack) -> list[dict[str, object]]:
    path = stack.dir / "notifications.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _firing_alerts(stack: LocalStack) -> list[dict[str, object]]:
    """The alert as the worker's API shows it."""
    status, body = get(f"{stack.url('web')}/api/v2/alerts?filter=alertname%3D%22StackProbeUp%22")
    assert status == 200, body
    return list(json.loads(body))


def _complete_window_after(stack: LocalStack, after_ms: int) -> bool:
    return any(start >= after_ms and count == 12 for start, (count, _) in _rows(stack).items())


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[LocalStack]:
    s = LocalStack(tmp_path, broker="kafka", rules=RULES, scrape_interval="15s")
    yield s
    s.cleanup()


def test_a_restart_keeps_windows_and_does_not_announce_a_firing_alert_again(
    stack: LocalStack,
) -> None:
    stack.start(timeout=600)
    assert "Apache Kafka" in stack.output()
    client = Client(stack.url("collector"))
    client.start()
    try:
        wait_for(
            lambda: any(n.get("status") == "firing" for n in _notifications(stack)),
            180,
            "the firing notification at the webhook receiver",
        )
        # The receiver's words, echoed by the stack to its terminal.
        wait_for(lambda: "FIRING" in stack.output(), 30, "the notification in the stack's output")
        (before,) = _firing_alerts(stack)
        wait_for(
            lambda: _complete_window_after(stack, 0),
            240,
            "a complete 1-minute row before the restart",
        )

        client.pause()
        state = stack.state()
        assert stack.signal(signal.SIGINT) == 0
        assert left_running(state) == []

        stack.start(timeout=600)
        client.resume()
        resumed_ms = int(time.time() * 1000)
        wait_for(
            lambda: _complete_window_after(stack, resumed_ms),
            300,
            "a complete 1-minute row after the restart",
        )
        client.pause()
        last = max(client.windows())
        wait_for(
            lambda: _rows(stack).get(last, (0, 0.0))[0] == client.windows()[last][0],
            180,
            "the last window's row",
        )
    finally:
        client.close()

    # No 1-minute window lost: each row counts what the collector acknowledged in it.
    expected = client.windows()
    rows = _rows(stack)
    assert rows == expected, {
        start: (rows.get(start), want)
        for start, want in expected.items()
        if rows.get(start) != want
    }
    complete = [start for start, (count, _) in expected.items() if count == 12]
    assert min(complete) < resumed_ms < max(complete), "complete windows on both sides"
    assert _export(stack.url("raw"), "stackprobe_seq") == client.acked

    # The firing alert was announced once, before the restart, and still fires from then.
    broker = f"127.0.0.1:{stack.ports['kafka']}"
    events = [json.loads(value) for value, _ in read_topic(broker, "alerts.events", 10_000, 10)]
    states = [e["state"] for e in events if e.get("rule") == "StackProbeUp"]
    assert states.count("firing") == 1, states
    firing = [
        n
        for n in _notifications(stack)
        if n.get("status") == "firing" and "StackProbeUp" in json.dumps(n["alerts"])
    ]
    assert len(firing) == 1, firing
    (after,) = _firing_alerts(stack)
    assert after["startsAt"] == before["startsAt"]
    assert after["fingerprint"] == before["fingerprint"]
