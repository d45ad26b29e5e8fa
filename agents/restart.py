"""Starting the worker again in place: the same process, a fresh start.

Some events leave a worker's memory at odds with Kafka (a broker that came back empty: its
positions, committed offsets and table state belong to topics that no longer exist). Rather
than mending each piece of Faust's state, the worker stops as on SIGTERM (agents finish
their current take, the producer is flushed) and its process image is replaced by a new
one with the same command line (:func:`os.execv`): same process id, same log, nothing
carried over. What must happen between the stop and the new start (creating topics the
stopped worker must not commit to) is the request's ``prepare``. Whatever supervises the
worker sees no exit.

Example::

    restart = Restart()
    restart.request("the broker came back empty", prepare)  # inside the running worker
    ...
    restart.exec_if_requested()  # once the worker stopped: does not return if requested
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Sequence

log = logging.getLogger(__name__)

STOP_DEADLINE_S = 30.0
"""Longest wait for the worker to stop before its process starts again anyway."""


class Restart:
    """A request to start this worker process again, carried out once it stopped.

    Args:
        argv: the command line of the new image (default: this process's, interpreter
            options included).
        execv: replaces the process image (injected by tests).
        stop: asks the running worker to stop (default: SIGTERM to this process).
        deadline_s: after this long the new image starts even if the stop hangs.
    """

    def __init__(
        self,
        argv: Sequence[str] | None = None,
        *,
        execv: Callable[[str, list[str]], object] = os.execv,
        stop: Callable[[], object] | None = None,
        deadline_s: float = STOP_DEADLINE_S,
    ) -> None:
        self._argv = list(argv if argv is not None else sys.orig_argv)
        self._execv = execv
        self._stop = stop or (lambda: os.kill(os.getpid(), signal.SIGTERM))
        self._deadline_s = deadline_s
        self.reason: str | None = None
        self._prepare: Callable[[], object] | None = None
        self._lock = threading.Lock()

    def request(self, reason: str, prepare: Callable[[], object] | None = None) -> None:
        """Stop the worker, then start it again (a second request changes nothing).

        Args:
            reason: why, for the log.
            prepare: run once the worker stopped, before the new start (its failure is
                logged; the new start happens anyway).
        """
        if self.reason is not None:
            return
        self.reason = reason
        self._prepare = prepare
        log.warning("the worker starts again in place: %s", reason)
        timer = threading.Timer(self._deadline_s, self._exec)
        timer.daemon = True
        timer.start()
        self._stop()

    def exec_if_requested(self) -> None:
        """Start the new image if a restart was requested (then this does not return)."""
        if self.reason is not None:
            self._exec()

    def _exec(self) -> None:
        with self._lock:  # the deadline's thread and the stopped worker: one goes on
            prepare, self._prepare = self._prepare, None
            if prepare is not None:
                try:
                    prepare()
                except Exception:
                    log.exception("preparing the new start failed; starting anyway")
            for stream in (sys.stdout, sys.stderr):
                stream.flush()
            self._execv(sys.executable, self._argv)
