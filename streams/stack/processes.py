"""A child process with a readiness check and a stop that always ends it.

Some workers hang in shutdown after SIGTERM, so :meth:`ManagedProcess.stop` waits a
deadline and then sends SIGKILL. Output goes to a log file, never to a pipe that could fill.

Example:
    >>> p = ManagedProcess("vm", ["victoria-metrics", "-httpListenAddr=127.0.0.1:8428"],
    ...                    log_path=Path("vm.log"), ready=http_ready("http://127.0.0.1:8428/health"))
    >>> p.start(); p.wait_ready(30); p.stop()  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from streams.errors import PulselineError


class ProcessError(PulselineError):
    """A child process did not start, became unready, or exited early."""


_HANDED_OUT: set[int] = set()
_HANDED_OUT_LOCK = threading.Lock()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now and never handed out before here.

    The kernel may give a port it just gave again once the probe socket is closed; two
    servers started at once in one process would then race for it, and the loser's
    readiness check would see the winner. So a port is handed out once per process.
    """
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        with _HANDED_OUT_LOCK:
            if port not in _HANDED_OUT:
                _HANDED_OUT.add(port)
                return port


def tcp_ready(port: int, host: str = "127.0.0.1") -> Callable[[], bool]:
    """A readiness check: something accepts connections on ``host:port``."""

    def check() -> bool:
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.5):
            return True
        return False

    return check


def http_ready(url: str) -> Callable[[], bool]:
    """A readiness check: ``GET url`` answers 2xx."""

    def check() -> bool:
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                return 200 <= int(response.status) < 300
        except (OSError, urllib.error.URLError):
            return False

    return check


def resident_bytes(pid: int) -> int | None:
    """The resident set size of process ``pid`` (``VmRSS`` in ``/proc/PID/status``), or None."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return None


class LogTail:
    r"""The lines a growing log file gains, read from where the last call stopped.

    Example:
        >>> import tempfile
        >>> log = Path(tempfile.mkdtemp()) / "receiver.log"
        >>> tail = LogTail(log)
        >>> _ = log.write_text("one\ntw")
        >>> tail.lines()
        ['one']
        >>> with log.open("a") as f:
        ...     _ = f.write("o\n")
        >>> tail.lines(), tail.lines()
        (['two'], [])
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._offset = path.stat().st_size if path.exists() else 0
        self._partial = b""

    def lines(self) -> list[str]:
        """The complete lines written since the last call (a line still being written waits)."""
        try:
            with self.path.open("rb") as log:
                log.seek(self._offset)
                data = log.read()
        except OSError:
            return []
        self._offset += len(data)
        *complete, self._partial = (self._partial + data).split(b"\n")
        return [line.decode(errors="replace") for line in complete]


class ManagedProcess:
    """One child process of a stack."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        *,
        log_path: Path,
        ready: Callable[[], bool] | None = None,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        ports: Sequence[int] = (),
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.log_path = log_path
        self.ports = tuple(ports)
        """The TCP ports it listens on (shown by ``pulseline stack status``)."""
        self._ready = ready
        self._env = dict(env) if env is not None else None
        self._cwd = cwd
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        """The process id while it runs."""
        return self._proc.pid if self._proc is not None else None

    def running(self) -> bool:
        """Whether the process is alive."""
        return self._proc is not None and self._proc.poll() is None

    def rss_bytes(self) -> int | None:
        """Its resident memory now (Linux' ``/proc``), None when not running or unknown."""
        if not self.running():
            return None
        return resident_bytes(self._proc.pid) if self._proc is not None else None

    def start(self) -> ManagedProcess:
        """Start the process (appending to its log)."""
        if self.running():
            raise ProcessError(f"{self.name} is already running")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self._proc = subprocess.Popen(
                self.argv,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=self._env,
                cwd=self._cwd,
                start_new_session=True,
            )
        return self

    def wait_ready(self, timeout: float) -> ManagedProcess:
        """Wait until the readiness check passes; raise if the process exits or time runs out."""
        deadline = time.monotonic() + timeout
        while True:
            if self._proc is None or self._proc.poll() is not None:
                raise ProcessError(f"{self.name} exited early; {self._tail()}")
            if self._ready is None or self._ready():
                return self
            if time.monotonic() > deadline:
                raise ProcessError(f"{self.name} not ready after {timeout:.0f}s; {self._tail()}")
            time.sleep(0.1)

    def stop(self, deadline: float = 10.0) -> int | None:
        """SIGTERM, wait up to ``deadline`` seconds, then SIGKILL. Returns the exit code."""
        proc = self._proc
        if proc is None:
            return None
        if proc.poll() is None:
            self._signal(signal.SIGTERM)
            try:
                proc.wait(deadline)
            except subprocess.TimeoutExpired:
                self._signal(signal.SIGKILL)
                proc.wait()
        self._proc = None
        return proc.returncode

    def kill(self) -> None:
        """SIGKILL the process (and its group) at once, as a crash would."""
        if self._proc is not None:
            self._signal(signal.SIGKILL)
            self._proc.wait()
            self._proc = None

    def _signal(self, sig: signal.Signals) -> None:
        assert self._proc is not None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self._proc.pid, sig)

    def _tail(self, lines: int = 15) -> str:
        try:
            text = self.log_path.read_text(errors="replace").splitlines()[-lines:]
        except OSError:
            return "no log"
        return f"last lines of {self.log_path}:\n" + "\n".join(text)
