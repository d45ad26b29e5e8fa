"""The worker's start-up check of ``influx.store`` against a fake server; the answers are
those the real servers gave (VictoriaMetrics 1.x from Debian, InfluxDB 2.7.12), and the
integration tests ask the real ones again."""

from __future__ import annotations

import json
import logging

import pytest

from streams.errors import ConfigError
from streams.settings import Settings
from streams.sinks.storecheck import check_store, http_get, identify
from streams.stack.processes import free_port

INFLUXDB_HEALTH = (
    b'{"name":"influxdb", "message":"ready for queries and writes", "status":"pass", '
    b'"checks":[], "version": "v2.7.12", "commit": "v2.7.12"}\n'
)
VM_HEALTH = b"OK"
VM_FLAGS = b'-httpListenAddr="127.0.0.1:18555"\n-influxSkipMeasurement="true"\n'
VM_FLAGS_BARE = b'-httpListenAddr="127.0.0.1:18555"\n-storageDataPath="/var/lib/vm"\n'


class FakeServers:
    """Answers GET by URL; a URL it does not know is a refused connection."""

    def __init__(self, answers: dict[str, tuple[int, bytes]]) -> None:
        self.answers = answers
        self.asked: list[str] = []

    def __call__(self, url: str, timeout: float) -> tuple[int, bytes]:
        self.asked.append(url)
        if url not in self.answers:
            raise ConnectionRefusedError(111, "Connection refused")
        return self.answers[url]


def influxdb(base: str) -> dict[str, tuple[int, bytes]]:
    return {f"{base}/health": (200, INFLUXDB_HEALTH)}


def victoriametrics(base: str, flags: bytes = VM_FLAGS) -> dict[str, tuple[int, bytes]]:
    return {f"{base}/health": (200, VM_HEALTH), f"{base}/flags": (200, flags)}


@pytest.fixture
def settings(monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.delenv("PULSELINE_CONFIG", raising=False)
    monkeypatch.setenv("PULSELINE_INFLUX__URL", "http://tsdb:8086/")
    return Settings.load(None)


def with_store(settings: Settings, store: str) -> Settings:
    return settings.model_copy(
        update={"influx": settings.influx.model_copy(update={"store": store})}
    )


def test_the_configured_store_passes(settings: Settings) -> None:
    fake = FakeServers(influxdb("http://tsdb:8086"))
    check_store(with_store(settings, "influxdb"), fake)
    assert fake.asked == ["http://tsdb:8086/health"]  # three tiers, one server


def test_victoriametrics_with_its_flag_passes(settings: Settings) -> None:
    fake = FakeServers(victoriametrics("http://tsdb:8086"))
    check_store(settings, fake)  # the default store
    assert fake.asked == ["http://tsdb:8086/health", "http://tsdb:8086/flags"]


def test_influxdb_behind_the_default_setting_refuses_the_start(settings: Settings) -> None:
    with pytest.raises(ConfigError) as err:
        check_store(settings, FakeServers(influxdb("http://tsdb:8086")))
    message = str(err.value)
    assert message.startswith(
        "influx.store is 'victoriametrics', but http://tsdb:8086 (tier raw, 1m, 1h) is "
        "InfluxDB 2 (its GET /health says so): set influx.store: influxdb "
        "(PULSELINE_INFLUX__STORE=influxdb)"
    )


def test_victoriametrics_behind_influxdb_refuses_the_start(settings: Settings) -> None:
    with pytest.raises(ConfigError, match=r"is VictoriaMetrics .* set influx.store: victoria"):
        check_store(
            with_store(settings, "influxdb"), FakeServers(victoriametrics("http://tsdb:8086"))
        )


def test_victoriametrics_without_influx_skip_measurement_refuses_the_start(
    settings: Settings,
) -> None:
    fake = FakeServers(victoriametrics("http://tsdb:8086", VM_FLAGS_BARE))
    with pytest.raises(ConfigError, match="without -influxSkipMeasurement"):
        check_store(settings, fake)


def test_a_tier_on_a_server_of_its_own_is_checked_and_named(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    tiers = [
        {"name": "raw", "retention_s": 86400, "bucket": "metrics"},
        {"name": "1m", "window_s": 60, "retention_s": 86400, "bucket": "m1", "url": "http://m1:1"},
    ]
    monkeypatch.setenv("PULSELINE_TIERS", json.dumps(tiers))
    fake = FakeServers(influxdb("http://tsdb:8086") | victoriametrics("http://m1:1"))
    with pytest.raises(ConfigError, match=r"http://m1:1 \(tier 1m\) is VictoriaMetrics"):
        check_store(with_store(Settings.load(None), "influxdb"), fake)
    assert fake.asked == ["http://tsdb:8086/health", "http://m1:1/health"]


def test_an_unreachable_store_is_a_warning_and_the_start_goes_on(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="streams.sinks.storecheck"):
        check_store(settings, FakeServers({}))
    (warning,) = caplog.records
    assert warning.getMessage().startswith(
        "http://tsdb:8086 (tier raw, 1m, 1h) did not answer GET /health"
    )
    assert "influx.store: victoriametrics" in warning.getMessage()


@pytest.mark.parametrize(
    ("status", "body"),
    [(404, b"404 page not found"), (200, b"<html>a proxy</html>"), (503, b'{"status":"fail"}')],
)
def test_an_answer_of_neither_store_is_a_warning(
    settings: Settings, caplog: pytest.LogCaptureFixture, status: int, body: bytes
) -> None:
    assert identify(status, body) is None
    with caplog.at_level(logging.WARNING, logger="streams.sinks.storecheck"):
        check_store(settings, FakeServers({"http://tsdb:8086/health": (status, body)}))
    assert "neither InfluxDB 2's answer nor VictoriaMetrics'" in caplog.text


def test_http_get_gives_a_refused_connection_as_an_os_error() -> None:
    with pytest.raises(OSError):
        http_get(f"http://127.0.0.1:{free_port()}/health", 2.0)
