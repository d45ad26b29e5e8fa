"""``ensure_buckets`` without a server; the exchange with InfluxDB 2 itself is tested on a real
one in ``tests/integration/test_influxdb2_buckets.py``."""

from __future__ import annotations

import pytest

from streams.errors import SinkError
from streams.settings import Settings
from streams.sinks.buckets import ensure_buckets
from streams.stack.processes import free_port


def test_an_unreachable_server_is_an_error_without_status_naming_the_bucket(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("PULSELINE_CONFIG", raising=False)
    monkeypatch.setenv("PULSELINE_INFLUX__URL", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("PULSELINE_INFLUX__TIMEOUT_S", "2")
    with pytest.raises(SinkError) as err:
        ensure_buckets(Settings.load(None))
    assert err.value.status is None
    assert str(err.value).startswith("bucket 'metrics': http://127.0.0.1:")
