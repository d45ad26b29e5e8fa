"""VictoriaMetrics as the store: ``pulseline buckets ensure`` has nothing to do (no buckets),
and the worker's start-up check of ``influx.store`` tells it from InfluxDB 2 and sees its
flags."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import Tsdb

from streams.errors import ConfigError
from streams.settings import Settings
from streams.sinks.storecheck import check_store
from streams.stack.processes import ManagedProcess, free_port, http_ready

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


def test_a_worker_set_for_influxdb_refuses_to_start_on_victoriametrics(
    tsdb: Tsdb, tmp_path: Path
) -> None:
    env = {**os.environ, "PULSELINE_INFLUX__URL": tsdb.url, "PULSELINE_INFLUX__STORE": "influxdb"}
    env.pop("PULSELINE_CONFIG", None)
    done = subprocess.run(
        [sys.executable, "-m", "streams", "worker"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,  # a start not refused runs on: the timeout fails the test
    )
    assert done.returncode == 1, done.stderr
    assert done.stderr.startswith(
        f"pulseline: error: influx.store is 'influxdb', but {tsdb.url} (tier raw, 1m, 1h) is "
        "VictoriaMetrics (its GET /health says so): set influx.store: victoriametrics"
    ), done.stderr


def store_settings(monkeypatch: pytest.MonkeyPatch, url: str) -> Settings:
    monkeypatch.delenv("PULSELINE_CONFIG", raising=False)
    monkeypatch.delenv("PULSELINE_INFLUX__STORE", raising=False)
    monkeypatch.setenv("PULSELINE_INFLUX__URL", url)
    return Settings.load(None)


def test_the_store_check_passes_on_victoriametrics_as_the_stack_starts_it(
    tsdb: Tsdb, monkeypatch: pytest.MonkeyPatch
) -> None:
    check_store(store_settings(monkeypatch, tsdb.url))  # the default store, with its flag


def test_victoriametrics_without_influx_skip_measurement_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = free_port()
    binary = shutil.which("victoria-metrics") or "victoria-metrics"
    bare = ManagedProcess(
        f"victoria-metrics:{port}",
        [binary, f"-httpListenAddr=127.0.0.1:{port}", f"-storageDataPath={tmp_path / 'vm'}"],
        log_path=tmp_path / "vm.log",
        ready=http_ready(f"http://127.0.0.1:{port}/health"),
        ports=(port,),
    )
    bare.start().wait_ready(30)
    try:
        with pytest.raises(ConfigError, match="VictoriaMetrics without -influxSkipMeasurement"):
            check_store(store_settings(monkeypatch, f"http://127.0.0.1:{port}"))
    finally:
        bare.stop()
