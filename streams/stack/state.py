"""The state file of a local stack: what a running ``pulseline stack run`` started, and where.

``pulseline stack run`` writes ``<stack dir>/stack.json`` before its first process starts
and again after each one: its own PID, and per process the name, PID, ports and log file.
A stack that stops removes the file. A stack killed with SIGKILL leaves it behind, with its
processes still running: ``pulseline stack status`` reads the file to show them and
``pulseline stack stop`` to end them (see :mod:`streams.stack.control`).

The system reuses PIDs, so every PID is recorded with the start time of its process (Linux'
``/proc/PID/stat``): a PID that now belongs to a process started at another time is someone
else's, and :func:`alive` says so.

Example:
    >>> import tempfile
    >>> stack_dir = Path(tempfile.mkdtemp())
    >>> me = ProcessRecord.of("vm", os.getpid(), ports=(8428,), log=stack_dir / "vm.log")
    >>> write_state(stack_dir, StackState(os.getpid(), start_ticks(os.getpid()), "kafka", (me,)))
    >>> state = read_state(stack_dir)
    >>> state.processes[0].name, state.processes[0].ports, alive(state.processes[0])
    ('vm', (8428,), True)
    >>> remove_state(stack_dir); read_state(stack_dir) is None
    True
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from streams.errors import PulselineError

STATE_FILE = "stack.json"


class StackStateError(PulselineError):
    """The state file of a stack directory cannot be read."""


def start_ticks(pid: int) -> int | None:
    """When process ``pid`` started, in clock ticks since boot; None if it is gone or a zombie.

    Where ``/proc`` is missing (not Linux), any live PID gives 0: PIDs are then trusted.
    """
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        if Path("/proc/self/stat").exists():
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            return 0
        return 0
    except OSError:
        return None
    # Fields after the command name (which may hold blanks and parentheses): state is the
    # 3rd field of the line, starttime the 22nd.
    fields = stat.rpartition(")")[2].split()
    if fields[0] in ("Z", "X"):
        return None
    return int(fields[19])


@dataclass(frozen=True, slots=True)
class ProcessRecord:
    """One process a stack started.

    Attributes:
        name: the stack's name for it (``kafka:9092``, ``worker``...).
        pid: its process id; it leads its own process group.
        started: its start time (:func:`start_ticks`) when recorded.
        ports: the TCP ports it listens on.
        log: its log file.
    """

    name: str
    pid: int
    started: int | None
    ports: tuple[int, ...]
    log: str

    @classmethod
    def of(cls, name: str, pid: int, *, ports: tuple[int, ...], log: Path) -> ProcessRecord:
        """The record of a process running now (its start time read at once)."""
        return cls(name, pid, start_ticks(pid), ports, str(log))


@dataclass(frozen=True, slots=True)
class StackState:
    """What a stack started.

    Attributes:
        pid: the ``pulseline stack run`` process.
        started: its start time (:func:`start_ticks`).
        broker: the local broker's engine (``kafka``, ``tansu``), or ``none``.
        processes: the processes it started, in order.
    """

    pid: int
    started: int | None
    broker: str
    processes: tuple[ProcessRecord, ...] = ()

    def runner(self) -> ProcessRecord:
        """The ``pulseline stack run`` process itself, as a record."""
        return ProcessRecord("stack", self.pid, self.started, (), "")

    def to_json(self) -> dict[str, Any]:
        """The JSON document of the state file."""
        return {
            "pid": self.pid,
            "started": self.started,
            "broker": self.broker,
            "processes": [
                {"name": p.name, "pid": p.pid, "started": p.started, "ports": list(p.ports)}
                | {"log": p.log}
                for p in self.processes
            ],
        }

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> StackState:
        """The state of a state file's document (KeyError, TypeError, ValueError if malformed)."""
        processes = tuple(
            ProcessRecord(
                str(p["name"]),
                int(p["pid"]),
                None if p["started"] is None else int(p["started"]),
                tuple(int(port) for port in p["ports"]),
                str(p["log"]),
            )
            for p in doc["processes"]
        )
        started = doc["started"]
        return cls(
            int(doc["pid"]),
            None if started is None else int(started),
            str(doc["broker"]),
            processes,
        )


def alive(record: ProcessRecord) -> bool:
    """Whether the recorded process still runs (the same process: PID and start time)."""
    now = start_ticks(record.pid)
    return now is not None and (record.started is None or now in (record.started, 0))


def state_path(stack_dir: Path) -> Path:
    """The state file of a stack directory."""
    return stack_dir / STATE_FILE


def write_state(stack_dir: Path, state: StackState) -> None:
    """Write the state file at once as a whole (a reader never sees half of it)."""
    path = state_path(stack_dir)
    partial = path.with_suffix(".json.partial")
    partial.write_text(json.dumps(state.to_json(), indent=2) + "\n")
    partial.replace(path)


def read_state(stack_dir: Path) -> StackState | None:
    """The recorded state, or None when the directory has no state file.

    Raises:
        StackStateError: the file exists but is not a state file; the message names it.
    """
    path = state_path(stack_dir)
    try:
        text = path.read_text()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StackStateError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        return StackState.from_json(json.loads(text))
    except (ValueError, KeyError, TypeError) as exc:
        raise StackStateError(f"{path}: not a stack state file ({exc!r}); remove it") from None


def remove_state(stack_dir: Path) -> None:
    """Remove the state file, if any."""
    with contextlib.suppress(FileNotFoundError):
        state_path(stack_dir).unlink()
