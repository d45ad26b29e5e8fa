"""Prometheus samples keep their Prometheus names in VictoriaMetrics, as the rules read them.

The collector scrapes its own ``/metrics`` (a real ``prometheus_client`` page, which exposes
``*_created`` series next to its counters), and a line-protocol point is pushed. On the real
VictoriaMetrics the scraped samples are ``up`` and ``pulseline_collector_requests_total``
(not ``up_value``), the ``*_created`` series are not stored, the pushed field is
``measurement_field``; the query of each rule returns data from the store, and the same rules
fire in the worker, whose log has no "Timer ... is overlapping" warning.
"""

from __future__ import annotations

import json
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from conftest import Pipeline, Tsdb, read_topic, wait_for

from streams.stack.processes import free_port

pytestmark = pytest.mark.integration

UP = 'up{job="self"} == 1'
PUSHES = 'pulseline_collector_requests_total{job="self",endpoint="/api/v2/write",code="204"} >= 1'
LINE = 'pnames_usage_idle{host="a"} > 50'
RULES = f"""
groups:
  - name: names
    rules:
      - alert: SelfUp
        expr: '{UP}'
      - alert: PushesCounted
        expr: '{PUSHES}'
      - alert: LineBreach
        expr: '{LINE}'
"""


def _query(tsdb: Tsdb, expr: str) -> list[dict[str, object]]:
    query = urllib.parse.urlencode({"query": expr, "nocache": 1})
    with urllib.request.urlopen(f"{tsdb.url}/api/v1/query?{query}", timeout=30) as resp:
        result: list[dict[str, object]] = json.load(resp)["data"]["result"]
    return result


def test_scraped_samples_are_stored_and_queried_under_their_prometheus_names(
    pipeline: Pipeline, tsdb: Tsdb, broker: str, tmp_path: Path
) -> None:
    port = free_port()
    config = tmp_path / "scrape.yml"
    config.write_text(
        "global: {scrape_interval: 1s, scrape_timeout: 1s}\nscrape_configs:\n"
        f"  - job_name: self\n    static_configs: [{{targets: ['127.0.0.1:{port}']}}]\n"
    )
    rules = tmp_path / "rules.yml"
    rules.write_text(RULES)
    pipeline.env["PULSELINE_RULES__FILES"] = json.dumps([str(rules)])
    pipeline.collector(
        env={
            "PULSELINE_COLLECTOR__LISTEN": f"127.0.0.1:{port}",
            "PULSELINE_COLLECTOR__SCRAPE_CONFIG": str(config),
        }
    )
    worker = pipeline.worker()
    url = f"http://127.0.0.1:{port}/api/v2/write?precision=ms"

    def push() -> None:
        body = f"pnames,host=a usage_idle=97.5 {time.time_ns() // 1_000_000}".encode()
        with urllib.request.urlopen(urllib.request.Request(url, data=body), timeout=30) as r:
            assert r.status == 204

    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=30) as resp:
        page = resp.read().decode()
    assert "pulseline_collector_requests_created{" in page  # the page has them to drop

    def stored() -> bool:
        push()
        return all(_query(tsdb, expr) for expr in (UP, PUSHES, LINE))

    wait_for(stored, 90, "the rules' queries to return data from VictoriaMetrics")
    (up,) = _query(tsdb, UP)
    assert up["metric"] == {"__name__": "up", "job": "self", "instance": f"127.0.0.1:{port}"}
    assert tsdb.count('{__name__=~"up_value|pulseline_collector_requests_total_value"}') == 0
    assert tsdb.count('{__name__=~".+_created"}') == 0
    assert tsdb.count('{__name__="pulseline_collector_requests_total"}') > 0
    assert tsdb.count('{__name__="pnames_usage_idle",host="a"}') > 0

    def fired() -> set[str]:
        push()
        records = read_topic(broker, pipeline.env["PULSELINE_TOPICS__ALERTS"], 100, timeout=1)
        events = [json.loads(value) for value, _ in records]
        return {str(e["rule"]) for e in events if e["state"] == "firing"}

    wait_for(lambda: fired() == {"SelfUp", "PushesCounted", "LineBreach"}, 60, "the rules fire")
    # The timers never overlap their own runs (Faust warns "Timer ... is overlapping").
    overlapping = [
        line for line in worker.log_path.read_text().splitlines() if "is overlapping" in line
    ]
    assert overlapping == []
