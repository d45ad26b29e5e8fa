"""`pulseline topics create` against the real broker."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import pytest

pytestmark = pytest.mark.integration


def _create(broker: str, raw: str, partitions: int) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PULSELINE_KAFKA__BROKER": f"kafka://{broker}",
        "PULSELINE_KAFKA__PARTITIONS": str(partitions),
        "PULSELINE_TOPICS__RAW": raw,
        "PULSELINE_TOPICS__MEMBERS": f"{raw}.members",
    }
    env.pop("PULSELINE_CONFIG", None)
    return subprocess.run(
        [sys.executable, "-m", "streams", "topics", "create"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_create_is_idempotent_and_refuses_another_partition_count(broker: str) -> None:
    raw = f"topics-{uuid.uuid4().hex[:8]}"
    first = _create(broker, raw, 3)
    assert first.returncode == 0, first.stderr
    assert f"{raw}: created, 3 partitions" in first.stdout
    assert f"{raw}.dlq: created, 3 partitions" in first.stdout

    again = _create(broker, raw, 3)
    assert again.returncode == 0, again.stderr
    assert f"{raw}: exists, 3 partitions" in again.stdout

    other = _create(broker, raw, 5)
    assert other.returncode == 1
    assert "partition count differs from the configuration" in other.stderr
    assert f"'{raw}' has 3, not 5" in other.stderr


def test_unreachable_broker_is_a_clear_error() -> None:
    from streams.stack.processes import free_port

    result = _create(f"127.0.0.1:{free_port()}", "x", 1)
    assert result.returncode == 1
    assert "cannot reach Kafka" in result.stderr
