"""``ensure_buckets`` without a server; the exchange with InfluxDB 2 itself is tested on a real
one in ``tests/integration/test_influxdb2_buckets.py``."""

from __future__ import annotations

import pytest
from influxdb_client.rest import ApiException

from streams.errors import SinkError
from streams.settings import Settings
from streams.sinks.buckets import ensure_buckets, without_buckets_api
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


@pytest.mark.parametrize(
    ("status", "body", "without"),
    [
        (400, b'unsupported path requested: "/api/v2/orgs"', True),  # VictoriaMetrics
        (404, b"404 page not found", True),
        (405, b"", True),
        (404, b'{"code":"not found","message":"organization name \\"x\\" not found"}', False),
        (401, b'{"code":"unauthorized","message":"unauthorized access"}', False),
        (400, b'{"code":"invalid","message":"bad request"}', False),
        (500, b"internal error", False),
    ],
)
def test_only_an_answer_without_influxdb_json_says_there_is_no_buckets_api(
    status: int, body: bytes, without: bool
) -> None:
    exc = ApiException(status=status, reason="x")
    exc.body = body
    assert without_buckets_api(exc) is without
