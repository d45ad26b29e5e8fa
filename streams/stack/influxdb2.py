"""A real InfluxDB 2 server (``influxd``) on this machine: start, set up, query, stop.

``deploy/local/install-influxdb2.sh`` builds ``influxd`` once per machine into a cache
directory; :func:`influxd_binary` finds it there (or on ``PATH``). :class:`InfluxDB2` runs it
on one 127.0.0.1 port with every file (bolt metadata, sqlite, TSM engine) under a work
directory, onboards it through ``POST /api/v2/setup`` (organization, user, token, first
bucket), and answers Flux queries through ``POST /api/v2/query``, the endpoint Grafana's
InfluxDB data source uses.

Example:
    >>> server = InfluxDB2(8086, Path(".stack")).start()  # doctest: +SKIP
    >>> server.query('buckets() |> keep(columns: ["name"])')  # doctest: +SKIP
    [{'result': '_result', 'table': '0', 'name': '_monitoring'}, ...]
    >>> server.stop()  # doctest: +SKIP
"""

from __future__ import annotations

import csv
import io
import json
import os
import secrets
import shutil
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from streams.stack.processes import ManagedProcess, ProcessError, http_ready

INFLUXD_VERSION = "2.7.12"
"""The release ``deploy/local/install-influxdb2.sh`` builds (its ``INFLUXDB_VERSION``)."""

INSTALL_SCRIPT = "deploy/local/install-influxdb2.sh"


def cache_dir() -> Path:
    """Where the install script caches builds: ``$PULSELINE_CACHE``, else the XDG cache.

    Example:
        >>> cache_dir() / f"influxd-{INFLUXD_VERSION}" / "influxd"  # doctest: +ELLIPSIS
        PosixPath('.../influxd-2.7.12/influxd')
    """
    if explicit := os.environ.get("PULSELINE_CACHE"):
        return Path(explicit)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "pulseline"


def influxd_binary(version: str = INFLUXD_VERSION) -> str:
    """Path of ``influxd`` ``version``: the cached build, else the one on ``PATH``.

    Raises:
        ProcessError: neither exists; says how to build it.
    """
    cached = cache_dir() / f"influxd-{version}" / "influxd"
    if os.access(cached, os.X_OK):
        return str(cached)
    on_path = shutil.which("influxd")
    if on_path is not None:
        return on_path
    raise ProcessError(
        f"influxd {version} is not built: run {INSTALL_SCRIPT} "
        f"(make test runs it; it caches the binary as {cached})"
    )


@dataclass(frozen=True)
class Onboarding:
    """What ``POST /api/v2/setup`` creates: the first user, organization, token and bucket.

    ``retention_s`` 0 keeps the first bucket's data forever.

    Example:
        >>> Onboarding(token="t").body()["org"]
        'pulseline'
    """

    org: str = "pulseline"
    user: str = "pulseline"
    password: str = field(default_factory=lambda: secrets.token_urlsafe(16), repr=False)
    token: str = field(default_factory=lambda: secrets.token_urlsafe(32), repr=False)
    bucket: str = "onboarding"
    retention_s: int = 0

    def body(self) -> dict[str, Any]:
        """The JSON body of the setup request."""
        return {
            "username": self.user,
            "password": self.password,
            "org": self.org,
            "bucket": self.bucket,
            "token": self.token,
            "retentionPeriodSeconds": self.retention_s,
        }


class InfluxDB2:
    """One ``influxd`` on 127.0.0.1:``port``, its data under ``workdir``, onboarded on start.

    Stopping keeps the data directory, so a later :meth:`start` is a restart of the same
    database (setup is then skipped: the server already has its owner).
    """

    def __init__(
        self,
        port: int,
        workdir: Path,
        *,
        onboarding: Onboarding | None = None,
        binary: str | None = None,
    ) -> None:
        self.port = port
        self.onboarding = onboarding or Onboarding()
        self.datadir = workdir / f"influxdb2-{port}"
        # influxd reads config.{toml,yaml,json} from its working directory and INFLUXD_*
        # variables from the environment: neither may change the server the caller asked for.
        env = {k: v for k, v in os.environ.items() if not k.startswith("INFLUXD_")}
        self.process = ManagedProcess(
            f"influxdb2:{port}",
            [
                binary or influxd_binary(),
                "run",
                f"--http-bind-address=127.0.0.1:{port}",
                f"--bolt-path={self.datadir / 'influxd.bolt'}",
                f"--sqlite-path={self.datadir / 'influxd.sqlite'}",
                f"--engine-path={self.datadir / 'engine'}",
                "--reporting-disabled",
                "--ui-disabled",
                "--log-level=warn",
            ],
            log_path=workdir / f"influxdb2-{port}.log",
            ready=http_ready(f"http://127.0.0.1:{port}/health"),
            env=env,
            cwd=self.datadir,
        )

    @property
    def url(self) -> str:
        """Base URL of the HTTP API."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def org(self) -> str:
        """The organization created at setup."""
        return self.onboarding.org

    @property
    def token(self) -> str:
        """The operator token created at setup (all permissions)."""
        return self.onboarding.token

    def start(self, timeout: float = 60) -> InfluxDB2:
        """Start ``influxd``, wait until ``/health`` passes, and onboard it the first time."""
        self.datadir.mkdir(parents=True, exist_ok=True)
        self.process.start().wait_ready(timeout)
        if self.api("GET", "/api/v2/setup", auth=False)["allowed"]:
            self.api("POST", "/api/v2/setup", self.onboarding.body(), auth=False)
        return self

    def stop(self, deadline: float = 10) -> int | None:
        """SIGTERM, then SIGKILL after ``deadline`` seconds; the data stays on disk."""
        return self.process.stop(deadline)

    def query(self, flux: str) -> list[dict[str, str]]:
        """Run a Flux query in the organization; every row of every table, as text.

        The rows carry the ``result`` and ``table`` columns of InfluxDB's CSV answer beside
        the query's own (``_time``, ``_value``, ``_field``, ``_measurement``, tags...).

        Raises:
            ProcessError: the server refused the query (the message holds its reason).
        """
        body = {"query": flux, "type": "flux", "dialect": {"header": True, "annotations": []}}
        text = self._send("POST", f"/api/v2/query?org={quote(self.org)}", body, accept="text/csv")
        return parse_flux_csv(text.decode())

    def buckets(self) -> dict[str, list[int]]:
        """Every bucket of the organization: name -> its expiry rules' ``everySeconds``."""
        answer = self.api("GET", f"/api/v2/buckets?org={quote(self.org)}&limit=100")
        return {
            bucket["name"]: [rule["everySeconds"] for rule in bucket.get("retentionRules", [])]
            for bucket in answer["buckets"]
        }

    def api(
        self, method: str, path: str, body: dict[str, Any] | None = None, *, auth: bool = True
    ) -> Any:
        """Call the JSON HTTP API (with the operator token unless ``auth`` is False).

        Raises:
            ProcessError: the server answered an error status (the message holds its reason).
        """
        answer = self._send(method, path, body, auth=auth)
        return json.loads(answer) if answer else None

    def _send(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        *,
        auth: bool = True,
        accept: str = "application/json",
    ) -> bytes:
        headers = {"Accept": accept, "Content-Type": "application/json"}
        if auth:
            headers["Authorization"] = f"Token {self.token}"
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + path, data, headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return bytes(response.read())
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode(errors="replace")[:500]
            raise ProcessError(
                f"{self.process.name}: {method} {path} answered {exc.code}: {detail}"
            ) from None
        except OSError as exc:
            raise ProcessError(f"{self.process.name}: {method} {path}: {exc}") from None


def parse_flux_csv(text: str) -> list[dict[str, str]]:
    """The rows of a Flux CSV answer without annotations, one dict per row.

    Tables of different shapes follow each other, separated by an empty line, each with its
    own header; the first column (annotations) is empty and dropped.

    Example:
        >>> first = ",result,table,_value\\r\\n,_result,0,1.5\\r\\n"
        >>> second = ",result,table,name\\r\\n,_result,1,metrics\\r\\n"
        >>> for row in parse_flux_csv(first + "\\r\\n" + second):
        ...     print(row)
        {'result': '_result', 'table': '0', '_value': '1.5'}
        {'result': '_result', 'table': '1', 'name': 'metrics'}
    """
    rows: list[dict[str, str]] = []
    header: list[str] | None = None
    for row in csv.reader(io.StringIO(text)):
        if not row:
            header = None
        elif header is None:
            header = row[1:]
        else:
            rows.append(dict(zip(header, row[1:], strict=True)))
    return rows
