"""A real worker's ``/health``: 200 once it holds its partitions, listing them."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest
from conftest import Pipeline, wait_for

pytestmark = pytest.mark.integration


def _health(url: str) -> tuple[int, dict[str, object]]:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_a_lone_worker_is_healthy_with_every_partition_of_the_raw_topic(
    pipeline: Pipeline,
) -> None:
    pipeline.worker()
    wait_for(lambda: _health(pipeline.worker_web)[0] == 200, 90, "the worker's /health to pass")
    status, body = _health(pipeline.worker_web)
    assert status == 200 and body["status"] == "pass"
    partitions = body["partitions"]
    assert isinstance(partitions, dict)
    assert partitions[pipeline.raw_topic] == [0, 1, 2, 3]
