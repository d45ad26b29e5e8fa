"""``pulseline buckets ensure`` against VictoriaMetrics, which has no buckets: nothing to do."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from conftest import Tsdb

pytestmark = pytest.mark.integration


def test_a_store_without_buckets_is_reported_and_exits_0(tsdb: Tsdb) -> None:
    env = {**os.environ, "PULSELINE_INFLUX__URL": tsdb.url}
    env.pop("PULSELINE_CONFIG", None)
    done = subprocess.run(
        [sys.executable, "-m", "streams", "buckets", "ensure"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        f"{tsdb.url}: no InfluxDB 2 buckets API (VictoriaMetrics: one database for every bucket, "
        "its retention set by its -retentionPeriod flag); nothing to do for metrics, metrics_1m, "
        "metrics_1h"
    ]
    assert done.stderr == ""
