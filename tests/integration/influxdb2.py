"""A real InfluxDB 2 server for integration tests, and the settings that point pulseline at it.

One ``influxd`` per test module (built by ``deploy/local/install-influxdb2.sh``), onboarded
with an organization and an operator token: a test module imports :func:`influxdb2_server`
and its tests ask for the fixture ``influxdb2``. Each test gets its own buckets, named by
:func:`tier_buckets`, so tests never read each other's rows.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from streams.stack.influxdb2 import InfluxDB2
from streams.stack.processes import free_port

DAY = 86_400
RETENTION = {"raw": 7 * DAY, "1m": 30 * DAY, "1h": 365 * DAY}


@pytest.fixture(scope="module", name="influxdb2")
def influxdb2_server(workdir: Path) -> Iterator[InfluxDB2]:
    """An onboarded InfluxDB 2 on a free port of 127.0.0.1, stopped after the module."""
    server = InfluxDB2(free_port(), workdir).start(timeout=60)
    yield server
    server.stop()


def tier_buckets() -> dict[str, str]:
    """Fresh bucket names of the three default tiers: tier -> bucket."""
    run = uuid.uuid4().hex[:8]
    return {"raw": f"raw_{run}", "1m": f"m1_{run}", "1h": f"h1_{run}"}


def influx_env(server: InfluxDB2, buckets: dict[str, str]) -> dict[str, str]:
    """The ``PULSELINE_*`` variables that write the tiers to ``buckets`` on ``server``."""
    tiers = [
        {"name": tier, "retention_s": RETENTION[tier], "bucket": bucket}
        | ({"window_s": {"1m": 60, "1h": 3600}[tier]} if tier != "raw" else {})
        for tier, bucket in buckets.items()
    ]
    return {
        "PULSELINE_INFLUX__URL": server.url,
        "PULSELINE_INFLUX__STORE": "influxdb",
        "PULSELINE_INFLUX__ORG": server.org,
        "PULSELINE_INFLUX__TOKEN": server.token,
        "PULSELINE_TIERS": json.dumps(tiers),
    }


def flux_rows(server: InfluxDB2, bucket: str, pipeline: str) -> list[dict[str, str]]:
    """Every row of ``bucket`` over all time, after the Flux ``pipeline`` (``|> ...``)."""
    return server.query(f'from(bucket: "{bucket}") |> range(start: 0) {pipeline}')


def ensure(env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run ``pulseline buckets ensure`` with ``env`` on top of this environment."""
    return pulseline(["buckets", "ensure"], env, cwd)


def worker_start(env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run ``pulseline worker`` with ``env``, for a start that is refused (else it runs on, and
    the timeout fails the test)."""
    return pulseline(["worker"], env, cwd, timeout=60)


def pulseline(
    args: list[str], env: dict[str, str], cwd: Path, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run ``pulseline ARGS`` with ``env`` on top of this environment (no settings file)."""
    environment = {**os.environ, **env}
    environment.pop("PULSELINE_CONFIG", None)
    return subprocess.run(
        [sys.executable, "-m", "streams", *args],
        env=environment,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
