from pathlib import Path

import pytest

from streams.errors import ConfigError
from streams.settings import Settings


def test_defaults_run_everything_on_this_machine() -> None:
    s = Settings.load(None)
    assert s.kafka.bootstrap_servers == ["127.0.0.1:9092"]
    assert s.influx.url == "http://127.0.0.1:8428"
    assert [(t.name, t.window_s, t.retention_s) for t in s.tiers] == [
        ("raw", None, 7 * 86400),
        ("1m", 60, 30 * 86400),
        ("1h", 3600, 365 * 86400),
    ]
    assert s.topics.pipeline(8) == {
        "metrics.raw": 8,
        "metrics.raw.dlq": 8,
        "metrics.late": 8,
        "rules.samples": 8,
        "alerts.events": 8,
        "alerts.groups": 8,
        "alerts.silences": 1,
        "alerts.notifications": 8,
        "collectors.members": 1,
    }


def test_environment_wins_over_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("kafka:\n  partitions: 3\ninflux:\n  org: fromfile\n")
    monkeypatch.setenv("PULSELINE_KAFKA__PARTITIONS", "6")
    s = Settings.load(path)
    assert s.kafka.partitions == 6
    assert s.influx.org == "fromfile"


def test_tier_durations_and_url_override(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(
        "tiers:\n"
        "  - {name: raw, retention_s: 2d, bucket: r}\n"
        "  - {name: 5m, window_s: 5m, retention_s: 90d, bucket: five, url: 'http://x:1'}\n"
    )
    s = Settings.load(path)
    assert s.tier("5m").window_s == 300
    assert s.tier_url(s.tier("5m")) == "http://x:1"
    assert s.tier_url(s.tier("raw")) == s.influx.url


def test_secret_is_masked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PULSELINE_INFLUX__TOKEN", "s3cret")
    s = Settings.load(None)
    assert s.influx.token.get_secret_value() == "s3cret"
    assert "s3cret" not in repr(s.masked())
    assert s.masked()["influx"]["token"] == "**********"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("kafka:\n  partitions: 0\n", "kafka.partitions"),
        ("kafka:\n  broker: nowhere\n", "HOST:PORT"),
        ("collector:\n  listen: ':x'\n", "collector.listen"),
        ("tiers:\n  - {name: 1m, window_s: 1m, retention_s: 1d, bucket: b}\n", "raw tier"),
        ("tiers:\n  - {name: raw, retention_s: 7 days, bucket: b}\n", "not a duration"),
        ("nosuchkey: 1\n", "nosuchkey"),
        ("- a list\n", "mapping"),
        ("kafka: [unclosed\n", ":2:1"),
    ],
)
def test_bad_settings_say_what_and_where(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        Settings.load(path)
    assert message in str(err.value)
    assert str(path) in str(err.value)


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read settings file"):
        Settings.load(tmp_path / "absent.yaml")


def test_bad_environment_value_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PULSELINE_WORKER__WEB_PORT", "many")
    with pytest.raises(ConfigError, match=r"worker\.web_port"):
        Settings.load(None)


def test_scrape_config_path_is_relative_to_the_settings_file(tmp_path: Path) -> None:
    (tmp_path / "conf").mkdir()
    path = tmp_path / "conf" / "p.yaml"
    path.write_text("collector:\n  scrape_config: scrape.yml\n")
    assert Settings.load(path).collector.scrape_config == tmp_path / "conf" / "scrape.yml"


def test_durations_from_the_environment_may_be_plain_seconds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PULSELINE_DOWNSAMPLE__LATENESS_S", "0")
    monkeypatch.setenv("PULSELINE_DOWNSAMPLE__CORRECTION_S", "2.5")
    monkeypatch.setenv("PULSELINE_DOWNSAMPLE__IDLE_S", "2h")
    ds = Settings.load(None).downsample
    assert (ds.lateness_s, ds.correction_s, ds.idle_s) == (0.0, 2.5, 7200.0)
