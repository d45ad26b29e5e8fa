"""Three collectors share real targets over the real broker; one dies, the others take over."""

from __future__ import annotations

import json
import shutil
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import Pipeline, Tsdb, wait_for

from streams.stack.processes import ManagedProcess, free_port, http_ready

pytestmark = pytest.mark.integration

INTERVAL = 3.0


def _targets(url: str) -> dict[str, dict]:
    with urllib.request.urlopen(f"{url}/targets", timeout=5) as resp:
        doc = json.load(resp)
    return {t["scrapeUrl"]: t for t in doc["activeTargets"]}


@pytest.fixture
def node_exporter(workdir: Path) -> ManagedProcess:
    binary = shutil.which("prometheus-node-exporter")
    assert binary, "apt-get install prometheus-node-exporter (make test installs it)"
    port = free_port()
    process = ManagedProcess(
        "node-exporter",
        [binary, f"--web.listen-address=127.0.0.1:{port}"],
        log_path=workdir / f"node-exporter-{port}.log",
        ready=http_ready(f"http://127.0.0.1:{port}/metrics"),
    )
    process.start().wait_ready(30)
    yield process
    process.stop()


def test_each_target_has_one_scraper_and_moves_when_its_collector_dies(
    pipeline: Pipeline, tsdb: Tsdb, node_exporter: ManagedProcess, tmp_path: Path
) -> None:
    node = node_exporter.argv[-1].split("=", 1)[1]
    ports = [free_port() for _ in range(3)]
    config = tmp_path / "scrape.yml"
    config.write_text(
        f"global: {{scrape_interval: {INTERVAL:g}s, scrape_timeout: 2s}}\n"
        "scrape_configs:\n"
        f"  - job_name: node\n    static_configs: [{{targets: ['{node}']}}]\n"
        "  - job_name: collectors\n    file_sd_configs: [{files: ['collectors.json']}]\n"
    )
    (tmp_path / "collectors.json").write_text(
        json.dumps([{"targets": [f"127.0.0.1:{p}" for p in ports], "labels": {"role": "c"}}])
    )
    collectors = [
        pipeline.collector(
            name=f"collector-{i}",
            env={
                "PULSELINE_COLLECTOR__LISTEN": f"127.0.0.1:{port}",
                "PULSELINE_COLLECTOR__SCRAPE_CONFIG": str(config),
                "PULSELINE_COLLECTOR__MEMBER_ID": f"c{i}",
                "PULSELINE_COLLECTOR__HEARTBEAT_S": "0.5",
                "PULSELINE_COLLECTOR__MEMBER_TIMEOUT_S": "1.5",
            },
        )
        for i, port in enumerate(ports)
    ]
    pipeline.worker()
    urls = [f"http://127.0.0.1:{p}" for p in ports]
    everything = {f"http://{node}/metrics"} | {f"{u}/metrics" for u in urls}

    def owned() -> list[dict[str, dict]]:
        return [_targets(u) for u in urls]

    def settled(views: list[dict[str, dict]]) -> bool:
        keys = [k for view in views for k in view]
        return sorted(keys) == sorted(everything) and all(
            t["health"] != "unknown" for view in views for t in view.values()
        )

    wait_for(lambda: settled(owned()), 60, "the three collectors to share all four targets")
    views = owned()
    victim = max(range(3), key=lambda i: len(views[i]))
    moved = set(views[victim])
    assert moved, "the busiest collector owns something"
    collectors[victim].kill()
    killed_at = time.time()
    survivors = [u for i, u in enumerate(urls) if i != victim]

    def taken_over() -> bool:
        merged = {k: t for u in survivors for k, t in _targets(u).items()}
        return all(
            k in merged and (merged[k]["lastScrape"] or 0) > killed_at for k in moved
        ) and sorted(merged) == sorted(everything)

    wait_for(taken_over, 2 * INTERVAL + 1, "the survivors to scrape the dead collector's targets")

    wait_for(lambda: tsdb.count('{__name__="node_exporter_build_info"}') >= 2, 60, "build info")
    exported = tsdb.export('{__name__="node_exporter_build_info"}')
    values = {v for series in exported.values() for v in series.values()}
    assert values == {1.0}
    (series,) = exported
    assert '"job": "node"' in series and f'"instance": "{node}"' in series
