"""Configuration files read again on change and on SIGHUP, for every part of a worker at once.

A process has one SIGHUP handler, so the parts that reload files (rule files, the
alertmanager.yml) register with one :class:`Reloads`, whose task polls their files and, on
SIGHUP, reloads them all. A reload that fails keeps what is in force: that is each part's
``reload`` callback's business.

Example:
    >>> reloads = Reloads()
    >>> reloads.add(WatchedFiles([Path("rules/pulseline.yml")]), reload_rules)  # doctest: +SKIP
    >>> app.task(reloads.run)  # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

Reload = Callable[[str], Awaitable[None]]
"""Reads the files again; called with the reason (``SIGHUP``, ``file changed``)."""


class WatchedFiles:
    """Files, and whether they changed (or appeared, or went) since :meth:`mark`."""

    def __init__(self, paths: Sequence[Path]) -> None:
        self.paths = list(paths)
        self._stamps = self._read_stamps()

    def _read_stamps(self) -> list[tuple[int, int] | None]:
        stamps: list[tuple[int, int] | None] = []
        for path in self.paths:
            try:
                st = os.stat(path)
                stamps.append((st.st_mtime_ns, st.st_size))
            except OSError:
                stamps.append(None)
        return stamps

    def changed(self) -> bool:
        """Whether a file changed since the last :meth:`mark`."""
        return self._read_stamps() != self._stamps

    def mark(self) -> None:
        """Remember the files as they are now (call before reading them)."""
        self._stamps = self._read_stamps()


class Reloads:
    """The reloadable parts of a worker and the task that reloads them."""

    def __init__(self) -> None:
        self._parts: list[tuple[WatchedFiles, Reload]] = []
        self.interval_s = 5.0

    def add(self, files: WatchedFiles, reload: Reload, interval_s: float = 5.0) -> None:
        """Reload ``files`` through ``reload`` on change (checked every ``interval_s``)."""
        self._parts.append((files, reload))
        self.interval_s = min(self.interval_s, interval_s)

    async def _all(self, reason: str) -> None:
        for files, reload in self._parts:
            files.mark()
            await reload(reason)

    async def run(self) -> None:
        """Watch until cancelled (a Faust app task)."""
        if not self._parts:
            return
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGHUP, lambda: asyncio.ensure_future(self._all("SIGHUP")))
        while True:
            await asyncio.sleep(self.interval_s)
            for files, reload in self._parts:
                if files.changed():
                    files.mark()
                    await reload("file changed")
