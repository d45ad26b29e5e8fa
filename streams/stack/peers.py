"""Prometheus and Alertmanager as child processes: the tools pulseline is measured against.

Debian's ``prometheus`` and ``prometheus-alertmanager`` packages are the reference for rule
and notification semantics; tests and benchmarks run them next to pulseline, on free ports of
127.0.0.1, as :class:`~streams.stack.processes.ManagedProcess` objects that always stop.
Alertmanager runs alone: its cluster port is disabled, so it sends without waiting for peers.

Example:
    >>> am = alertmanager(9093, Path("work"), Path("alertmanager.yml"))
    >>> am.argv[1:3]
    ['--config.file=alertmanager.yml', '--storage.path=work/alertmanager-9093']
    >>> am.start().wait_ready(30); am.stop()  # doctest: +SKIP
"""

from __future__ import annotations

import shutil
from pathlib import Path

from streams.stack.processes import ManagedProcess, ProcessError, http_ready


def _binary(name: str, package: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise ProcessError(f"{name} is not installed: apt-get install -y {package}")
    return found


def alertmanager(
    port: int, workdir: Path, config: Path, *, name: str | None = None
) -> ManagedProcess:
    """An Alertmanager on 127.0.0.1:``port`` with ``config``, its state under ``workdir``.

    Ready when ``/-/ready`` answers, that is once the configuration is loaded.
    """
    binary = _binary("prometheus-alertmanager", "prometheus-alertmanager")
    label = name or f"alertmanager-{port}"
    return ManagedProcess(
        label,
        [
            binary,
            f"--config.file={config}",
            f"--storage.path={workdir / label}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",
            "--log.level=warn",
        ],
        log_path=workdir / f"{label}.log",
        ready=http_ready(f"http://127.0.0.1:{port}/-/ready"),
    )


def prometheus(
    port: int, workdir: Path, config: Path, *, name: str | None = None
) -> ManagedProcess:
    """A Prometheus on 127.0.0.1:``port`` with ``config``, its TSDB under ``workdir``."""
    binary = _binary("prometheus", "prometheus")
    label = name or f"prometheus-{port}"
    return ManagedProcess(
        label,
        [
            binary,
            f"--config.file={config}",
            f"--storage.tsdb.path={workdir / label}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--log.level=warn",
        ],
        log_path=workdir / f"{label}.log",
        ready=http_ready(f"http://127.0.0.1:{port}/-/ready"),
    )
