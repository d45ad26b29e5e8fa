"""``pulseline stack status`` and ``pulseline stack stop``: a stack seen from outside.

Both read the state file a running stack keeps in its directory (:mod:`streams.stack.state`).
``status`` lists the stack's processes with their PIDs and ports and whether each still
runs; its exit code is the LSB one of init scripts: 0 when everything runs, 1 when the
stack is gone but processes it started remain (or some of them died), 3 when no stack is
recorded. ``stop`` asks a live stack to stop (SIGTERM, which it handles like Ctrl-C) and
waits; then it stops whatever of the recorded processes still runs, each with SIGTERM and,
after a deadline, SIGKILL to its process group, and removes the state file. A PID now used
by another process is never signalled.

Example:
    >>> import tempfile
    >>> code, text = stack_status(Path(tempfile.mkdtemp()))
    >>> code, text.startswith("no stack recorded in")
    (3, True)
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

from streams.stack.state import (
    ProcessRecord,
    StackState,
    alive,
    read_state,
    remove_state,
    state_path,
)

RUNNING, LEFT_BEHIND, NOT_RUNNING = 0, 1, 3
"""Exit codes of ``status``, as an init script's (LSB)."""


def describe(state: StackState) -> list[str]:
    """One line for the stack and one per process: name, PID, ports, running or gone."""
    runner = state.runner()
    lines = [f"stack  pid {state.pid:<8} {'running' if alive(runner) else 'gone'}"]
    lines[0] += f"  broker: {state.broker}"
    for p in state.processes:
        ports = ",".join(str(port) for port in p.ports) or "-"
        lines.append(
            f"{p.name:<24} pid {p.pid:<8} ports {ports:<12} "
            f"{'running' if alive(p) else 'gone':<8} log {p.log}"
        )
    return lines


def stack_status(stack_dir: Path) -> tuple[int, str]:
    """The exit code and text of ``pulseline stack status``."""
    state = read_state(stack_dir)
    if state is None:
        return NOT_RUNNING, f"no stack recorded in {stack_dir} (no {state_path(stack_dir).name})"
    lines = describe(state)
    runner_alive = alive(state.runner())
    running = [p for p in state.processes if alive(p)]
    if runner_alive and len(running) == len(state.processes):
        return RUNNING, "\n".join(lines)
    if not runner_alive and not running:
        lines.append("nothing runs any more; the state file is stale")
        return NOT_RUNNING, "\n".join(lines)
    lines.append(f"not every process runs: pulseline stack stop --dir {stack_dir} ends the rest")
    return LEFT_BEHIND, "\n".join(lines)


def _signal_group(record: ProcessRecord, sig: signal.Signals) -> None:
    """Signal the process group a recorded process leads (or the process alone)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        if os.getpgid(record.pid) == record.pid:
            os.killpg(record.pid, sig)
        else:
            os.kill(record.pid, sig)


def _wait_gone(record: ProcessRecord, deadline: float) -> bool:
    """Poll until the recorded process is gone or ``deadline`` (monotonic) passes."""
    while alive(record):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def end_process(record: ProcessRecord, deadline_s: float, *, group: bool = True) -> str:
    """SIGTERM, then SIGKILL after ``deadline_s``; says how it ended. Not ours: untouched."""
    if not alive(record):
        return "not running"

    def send(sig: signal.Signals) -> None:
        if group:
            _signal_group(record, sig)
        else:
            with contextlib.suppress(ProcessLookupError):
                os.kill(record.pid, sig)

    send(signal.SIGTERM)
    if _wait_gone(record, time.monotonic() + deadline_s):
        return "stopped"
    send(signal.SIGKILL)
    _wait_gone(record, time.monotonic() + 5)
    return "killed after the deadline"


def stop_stack(
    stack_dir: Path, *, deadline_s: float = 10.0, say: Callable[[str], None] = print
) -> int:
    """``pulseline stack stop``: end the recorded stack and its processes; returns 0.

    Args:
        stack_dir: the stack directory.
        deadline_s: how long one process has to exit after SIGTERM before SIGKILL; a live
            stack gets this much per process it started, as it stops them one by one.
        say: receives one line per process.
    """
    state = read_state(stack_dir)
    if state is None:
        say(f"no stack recorded in {stack_dir}: nothing to stop")
        return 0
    runner = state.runner()
    if alive(runner):
        budget = deadline_s * (len(state.processes) + 1)
        say(f"stack (pid {state.pid}): {end_process(runner, budget, group=False)}")
    for record in reversed(state.processes):
        outcome = end_process(record, deadline_s)
        if outcome != "not running":
            say(f"{record.name} (pid {record.pid}): {outcome}")
    remove_state(stack_dir)
    return 0
