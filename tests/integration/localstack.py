"""``pulseline stack run`` as a person runs it: a subprocess, its own directory, stopped by signal.

The stack's settings file puts every server on a free port of 127.0.0.1, next to the rules,
the scrape configuration and the alertmanager.yml the test gives; ``pulseline stack run``
is started with it as ``make run`` starts it, and everything it prints goes to a file the
test reads (the banner, the notifications the webhook receiver prints).
"""

from __future__ import annotations

import fcntl
import os
import re
import select
import signal
import subprocess
import sys
import termios
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from streams.stack.processes import free_port
from streams.stack.state import StackState, alive, read_state

BANNER_END = "  stop             "
"""The banner's last line begins so: once printed, everything is up."""

SCRAPE = """\
global: {{scrape_interval: {interval}, scrape_timeout: 1s}}
scrape_configs:
  - job_name: pulseline
    static_configs:
      - targets: ["127.0.0.1:{collector}"]
        labels: {{component: collector}}
      - targets: ["127.0.0.1:{web}"]
        labels: {{component: worker}}
"""

ALERTMANAGER = """\
route:
  receiver: local
  group_by: [alertname]
  group_wait: 0s
  group_interval: 5s
  repeat_interval: 24h
receivers:
  - name: local
    webhook_configs:
      - url: http://127.0.0.1:{webhook}/
        send_resolved: true
"""


@dataclass
class LocalStack:
    """One stack directory and the ``pulseline stack run`` processes started on it."""

    base: Path
    broker: str = "tansu"
    rules: str | None = None
    settings: str = ""
    scrape_interval: str = "2s"
    ports: dict[str, int] = field(default_factory=dict)
    proc: subprocess.Popen[bytes] | None = None
    output_path: Path = field(init=False)
    _offset: int = 0
    _close_terminal: Callable[[], None] | None = None

    def __post_init__(self) -> None:
        self.base.mkdir(parents=True, exist_ok=True)
        self.ports = {
            name: free_port()
            for name in ("kafka", "raw", "1m", "1h", "collector", "web", "webhook")
        }
        self.output_path = self.base / "stack-output.txt"
        self._write_settings()

    @property
    def dir(self) -> Path:
        return self.base / "stack"

    @property
    def config(self) -> Path:
        return self.base / "pulseline.yaml"

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}"

    def _write_settings(self) -> None:
        p = self.ports
        (self.base / "scrape.yml").write_text(SCRAPE.format(interval=self.scrape_interval, **p))
        (self.base / "alertmanager.yml").write_text(ALERTMANAGER.format(**p))
        rules = ""
        if self.rules is not None:
            (self.base / "rules.yml").write_text(self.rules)
            rules = "rules: {files: [rules.yml]}\n"
        self.config.write_text(
            f"kafka: {{broker: 'kafka://127.0.0.1:{p['kafka']}', partitions: 2}}\n"
            "tiers:\n"
            f"  - {{name: raw, retention_s: 7d, bucket: metrics, url: '{self.url('raw')}'}}\n"
            "  - {name: 1m, window_s: 1m, retention_s: 30d, bucket: metrics_1m, "
            f"url: '{self.url('1m')}'}}\n"
            "  - {name: 1h, window_s: 1h, retention_s: 365d, bucket: metrics_1h, "
            f"url: '{self.url('1h')}'}}\n"
            "influx: {gzip: false}\n"
            f"collector: {{listen: '127.0.0.1:{p['collector']}', scrape_config: scrape.yml}}\n"
            f"worker: {{web_port: {p['web']}}}\n"
            "alertmanager: {config: alertmanager.yml}\n" + rules + self.settings
        )

    def start(self, timeout: float = 300, *, demo: bool = False, terminal: bool = False) -> str:
        """Start ``pulseline stack run`` and wait for its banner; returns what it printed.

        With ``terminal``, it runs in a terminal of its own (a pseudo-terminal it leads, as a
        shell in a terminal window runs it), which :meth:`close_terminal` closes.
        """
        assert self.proc is None or self.proc.poll() is not None, "already running"
        env = {k: v for k, v in os.environ.items() if not k.startswith("PULSELINE_")}
        argv = [sys.executable, "-m", "streams", "--config", str(self.config), "stack", "run"]
        argv += ["--dir", str(self.dir), "--broker", self.broker]
        if not demo:
            argv.append("--no-demo")
        self.output_path.touch()
        self._offset = self.output_path.stat().st_size
        if terminal:
            self.proc = self._in_terminal(argv, env)
        else:
            with self.output_path.open("ab") as out:
                self.proc = subprocess.Popen(
                    argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env
                )
        deadline = time.monotonic() + timeout
        while BANNER_END not in self.output():
            if self.proc.poll() is not None:
                pytest.fail(f"stack run exited {self.proc.returncode}:\n{self.output()}")
            if time.monotonic() > deadline:
                pytest.fail(f"no banner after {timeout:.0f}s:\n{self.output()}")
            time.sleep(0.5)
        return self.output()

    def _in_terminal(self, argv: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        master, slave = os.openpty()

        def lead_the_terminal() -> None:  # in the child: a session whose terminal it is
            os.setsid()
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)

        proc = subprocess.Popen(
            argv, stdin=slave, stdout=slave, stderr=slave, env=env, preexec_fn=lead_the_terminal
        )
        os.close(slave)

        closing = threading.Event()

        def copy() -> None:  # what the terminal shows, into the output file
            with self.output_path.open("ab") as out:
                while not closing.is_set():
                    if not select.select([master], [], [], 0.2)[0]:
                        continue
                    try:
                        data = os.read(master, 4096)
                    except OSError:
                        return
                    if not data:
                        return
                    out.write(data)
                    out.flush()

        reader = threading.Thread(target=copy, daemon=True)
        reader.start()

        def close() -> None:
            closing.set()
            reader.join()
            os.close(master)

        self._close_terminal = close
        return proc

    def close_terminal(self, timeout: float = 120) -> int:
        """Close the stack's terminal, as closing its window does; wait for it to exit."""
        assert self.proc is not None and self._close_terminal is not None
        self._close_terminal()
        self._close_terminal = None
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            pytest.fail(f"stack run still running {timeout:.0f}s after its terminal closed")

    def output(self) -> str:
        """What the current run printed so far."""
        with self.output_path.open("rb") as out:
            out.seek(self._offset)
            return out.read().decode(errors="replace")

    def state(self) -> StackState:
        state = read_state(self.dir)
        assert state is not None, f"no state file in {self.dir}"
        return state

    def signal(self, sig: signal.Signals, timeout: float = 120) -> int:
        """Send ``sig`` to ``pulseline stack run`` and wait for it to exit; its exit code."""
        assert self.proc is not None
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            pytest.fail(f"stack run still running {timeout:.0f}s after {sig.name}")

    def cli(self, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
        """``pulseline ARGS`` with this stack's settings."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("PULSELINE_")}
        argv = [sys.executable, "-m", "streams", "--config", str(self.config), *args]
        return subprocess.run(
            argv, env=env, capture_output=True, text=True, timeout=timeout, check=False
        )

    def cleanup(self) -> None:
        """Stop whatever is left: the run (SIGINT), then anything recorded, with the CLI."""
        if self._close_terminal is not None:
            self._close_terminal()
            self._close_terminal = None
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(120)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.dir.exists():
            self.cli("stack", "stop", "--dir", str(self.dir))


def get(url: str, timeout: float = 30) -> tuple[int, str]:
    """``GET url``: status and body (an HTTP error's too)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def port_open(port: int) -> bool:
    import socket

    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def left_running(state: StackState) -> list[str]:
    """The recorded processes still alive and the recorded ports still open (none: empty)."""
    left = [f"{p.name} pid {p.pid}" for p in (state.runner(), *state.processes) if alive(p)]
    left += [f"port {port}" for p in state.processes for port in p.ports if port_open(port)]
    return left


URL = re.compile(r"http://127\.0\.0\.1:\d+[^\s'\"]*")
