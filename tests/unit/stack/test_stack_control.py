"""``pulseline stack status`` and ``stop`` on a state file whose processes are real ``sleep``s."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from streams.stack.control import LEFT_BEHIND, NOT_RUNNING, RUNNING, stack_status, stop_stack
from streams.stack.state import (
    ProcessRecord,
    StackState,
    StackStateError,
    alive,
    read_state,
    start_ticks,
    state_path,
    write_state,
)


@pytest.fixture
def spawned() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Processes a test starts; whatever is left is killed at the end."""
    procs: list[subprocess.Popen[bytes]] = []
    yield procs
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def _sleep(procs: list[subprocess.Popen[bytes]], *, session: bool = True) -> int:
    """A ``sleep`` as the stack starts its children (its own session), or as the stack runs."""
    proc = subprocess.Popen(["sleep", "120"], start_new_session=session)
    procs.append(proc)
    return proc.pid


def _record(name: str, pid: int, *ports: int) -> ProcessRecord:
    return ProcessRecord.of(name, pid, ports=ports, log=Path(f"{name}.log"))


def test_no_state_file_is_not_running(tmp_path: Path) -> None:
    code, text = stack_status(tmp_path)
    assert code == NOT_RUNNING == 3
    assert str(tmp_path) in text


def test_status_lists_every_process_with_its_pid_and_ports(
    tmp_path: Path, spawned: list[subprocess.Popen[bytes]]
) -> None:
    runner = _sleep(spawned, session=False)
    vm, worker = _sleep(spawned), _sleep(spawned)
    records = (_record("victoria-metrics:8428", vm, 8428), _record("worker", worker, 6066))
    write_state(tmp_path, StackState(runner, start_ticks(runner), "kafka", records))

    code, text = stack_status(tmp_path)

    assert code == RUNNING == 0
    lines = text.splitlines()
    assert f"pid {runner}" in lines[0] and "running" in lines[0] and "kafka" in lines[0]
    assert lines[1].split()[:5] == ["victoria-metrics:8428", "pid", str(vm), "ports", "8428"]
    assert lines[2].split()[:6] == ["worker", "pid", str(worker), "ports", "6066", "running"]


def test_a_stack_killed_hard_shows_what_it_left_and_stop_ends_it(
    tmp_path: Path, spawned: list[subprocess.Popen[bytes]]
) -> None:
    runner = _sleep(spawned, session=False)
    vm, worker = _sleep(spawned), _sleep(spawned)
    records = (_record("victoria-metrics:8428", vm, 8428), _record("worker", worker, 6066))
    write_state(tmp_path, StackState(runner, start_ticks(runner), "tansu", records))
    spawned[0].kill()
    spawned[0].wait()

    code, text = stack_status(tmp_path)
    assert code == LEFT_BEHIND == 1
    assert "gone" in text.splitlines()[0]
    assert text.count("running") == 2
    assert f"pulseline stack stop --dir {tmp_path}" in text

    said: list[str] = []
    assert stop_stack(tmp_path, deadline_s=5, say=said.append) == 0
    assert not alive(records[0]) and not alive(records[1])
    assert [line.split(" (")[0] for line in said] == ["worker", "victoria-metrics:8428"]
    assert not state_path(tmp_path).exists()
    assert stack_status(tmp_path)[0] == NOT_RUNNING


def test_stop_asks_a_live_stack_first(
    tmp_path: Path, spawned: list[subprocess.Popen[bytes]]
) -> None:
    runner = _sleep(spawned, session=False)
    write_state(tmp_path, StackState(runner, start_ticks(runner), "kafka", ()))
    said: list[str] = []
    stop_stack(tmp_path, deadline_s=5, say=said.append)
    assert spawned[0].wait(5) == -15  # SIGTERM, which a stack handles like Ctrl-C
    assert said == [f"stack (pid {runner}): stopped"]


def test_a_pid_now_used_by_another_process_is_never_signalled(
    tmp_path: Path, spawned: list[subprocess.Popen[bytes]]
) -> None:
    other = _sleep(spawned)
    ticks = start_ticks(other)
    assert ticks is not None
    reused = ProcessRecord("worker", other, ticks - 1, (6066,), "worker.log")  # started earlier
    write_state(tmp_path, StackState(other, ticks - 1, "kafka", (reused,)))
    assert not alive(reused)
    assert stack_status(tmp_path)[0] == NOT_RUNNING

    stop_stack(tmp_path, deadline_s=1, say=lambda _: None)
    assert spawned[0].poll() is None


def test_a_zombie_is_not_alive(spawned: list[subprocess.Popen[bytes]]) -> None:
    proc = subprocess.Popen(["sleep", "0.3"])
    spawned.append(proc)
    record = _record("quick", proc.pid)
    assert alive(record)
    stat = Path(f"/proc/{proc.pid}/stat")
    for _ in range(200):  # exited but not reaped yet: a zombie
        if stat.read_text().rpartition(")")[2].split()[0] == "Z":
            break
        time.sleep(0.05)
    assert stat.exists()
    assert not alive(record)


def test_a_damaged_state_file_is_an_error_naming_it(tmp_path: Path) -> None:
    state_path(tmp_path).write_text(json.dumps({"pid": 1}))
    with pytest.raises(StackStateError, match=r"stack\.json: not a stack state file"):
        read_state(tmp_path)
