"""A real Prometheus remote-writes its own metrics to a collector; they reach the TSDB."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import Pipeline, Tsdb, wait_for

from streams.stack.processes import ManagedProcess, free_port, http_ready

pytestmark = pytest.mark.integration


@pytest.fixture
def prometheus(pipeline: Pipeline, tmp_path: Path) -> Iterator[tuple[ManagedProcess, int]]:
    binary = shutil.which("prometheus")
    assert binary, "apt-get install prometheus (make test installs it)"
    port = free_port()
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
        "scrape_configs:\n"
        f"  - job_name: prometheus\n    static_configs: [{{targets: ['127.0.0.1:{port}']}}]\n"
        "remote_write:\n"
        f"  - url: {pipeline.collector_url}/api/v1/write\n"
        "    authorization: {credentials: rw-token}\n"
        "    queue_config: {batch_send_deadline: 1s, min_backoff: 100ms, max_backoff: 1s}\n"
        "    metadata_config: {send_interval: 1s}\n"
    )
    process = ManagedProcess(
        "prometheus",
        [
            binary,
            f"--config.file={config}",
            f"--storage.tsdb.path={tmp_path / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        log_path=tmp_path / "prometheus.log",
        ready=http_ready(f"http://127.0.0.1:{port}/-/ready"),
    )
    process.start().wait_ready(60)
    yield process, port
    process.stop()


def test_prometheus_remote_write_lands_in_the_tsdb(
    pipeline: Pipeline, tsdb: Tsdb, prometheus: tuple[ManagedProcess, int]
) -> None:
    pipeline.collector(env={"PULSELINE_COLLECTOR__TOKENS": '{"prometheus": "rw-token"}'})
    pipeline.worker()
    _, port = prometheus
    match = '{__name__="prometheus_build_info"}'
    wait_for(lambda: tsdb.count(match) >= 3, 90, "prometheus_build_info from remote write")
    (series,) = tsdb.export(match).items()
    name, samples = series
    assert set(samples.values()) == {1.0}
    assert '"job": "prometheus"' in name and f'"instance": "127.0.0.1:{port}"' in name
    up = tsdb.export('{__name__="up",job="prometheus"}')
    assert up and all(v == 1.0 for s in up.values() for v in s.values())
