"""SIGINT, SIGTERM and SIGHUP all stop the local stack, and nothing it started is left behind.

Ctrl-C sends SIGINT, ``kill`` and service managers SIGTERM, and closing the terminal SIGHUP;
each means "stop everything". The stack's children run in sessions of their own (so a
Ctrl-C in the terminal reaches the stack alone, which stops them in order), so a signal
the stack ignored would leave them running and their ports taken.

:class:`StopSignals` turns each of these signals into :class:`StopRequested`, raised where
the stack is: waiting for a process to be ready, creating topics, or idling. While the stack
is between starting a process and recording it, the signal waits (:meth:`deferred`), so no
started process escapes the stop. A second signal while stopping does nothing: the stop
already under way ends every process, SIGKILL after a deadline.

Example:
    >>> import os, time
    >>> stops = StopSignals()
    >>> with stops.installed():
    ...     try:
    ...         os.kill(os.getpid(), signal.SIGHUP)
    ...         time.sleep(5)
    ...     except StopRequested as stop:
    ...         print("stopping on", stop.signal_name)
    stopping on SIGHUP
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator
from types import FrameType

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class StopRequested(BaseException):
    """A stop signal arrived.

    A BaseException, as KeyboardInterrupt is: no ``except Exception`` on the way swallows it.
    """

    def __init__(self, signum: int) -> None:
        self.signum = signum
        super().__init__(self.signal_name)

    @property
    def signal_name(self) -> str:
        """``SIGINT``, ``SIGTERM`` or ``SIGHUP``."""
        return signal.Signals(self.signum).name


class StopSignals:
    """The stack's handler of :data:`STOP_SIGNALS` (installed in the main thread)."""

    def __init__(self) -> None:
        self.received: int | None = None
        self._deferring = 0

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.received is not None:
            return  # already stopping
        self.received = signum
        if not self._deferring:
            raise StopRequested(signum)

    @contextlib.contextmanager
    def installed(self) -> Iterator[StopSignals]:
        """Handle the stop signals inside the block; the previous handlers come back after."""
        previous = {sig: signal.signal(sig, self._handle) for sig in STOP_SIGNALS}
        try:
            yield self
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    @contextlib.contextmanager
    def deferred(self) -> Iterator[None]:
        """A signal arriving inside the block is raised when the block ends."""
        self._deferring += 1
        try:
            yield
        finally:
            self._deferring -= 1
        if not self._deferring and self.received is not None:
            raise StopRequested(self.received)
