"""free_port never hands out one port twice in a process, even when the kernel would."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from streams.stack import processes


class _Probe:
    """A socket whose bind(0) gets the next of a fixed series of ports."""

    ports: Iterator[int]

    def __init__(self, *args: object) -> None:
        self.port = 0

    def __enter__(self) -> _Probe:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def bind(self, address: tuple[str, int]) -> None:
        self.port = next(self.ports)

    def getsockname(self) -> tuple[str, int]:
        return ("127.0.0.1", self.port)


def test_a_port_the_kernel_gives_again_is_skipped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(processes, "_HANDED_OUT", set())
    _Probe.ports = iter([40001, 40001, 40001, 40002])
    monkeypatch.setattr(processes.socket, "socket", _Probe)
    assert [processes.free_port(), processes.free_port()] == [40001, 40002]


def test_a_port_handed_out_is_free_to_bind() -> None:
    port = processes.free_port()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", port))
