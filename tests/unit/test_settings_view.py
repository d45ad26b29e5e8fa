"""``config show``'s view of settings: durations and paths as people write them, and it loads back."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from streams.settings import Settings
from streams.settings_view import as_written, shown


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (604800.0, "7d"),
        (31536000.0, "365d"),
        (600.0, "10m"),
        (5400.0, "1h30m"),
        (1.5, "1s500ms"),
        (0.01, "10ms"),
        (0.0, "0s"),
        (90061.001, "1d1h1m1s1ms"),
    ],
)
def test_durations_are_written_with_days_as_the_largest_unit(seconds: float, text: str) -> None:
    assert as_written(seconds) == text


def test_what_notation_cannot_hold_stays_a_number() -> None:
    assert as_written(0.0005) == 0.0005
    assert as_written(-1.0) == -1.0


def test_the_view_of_the_defaults_loads_back_to_the_defaults(tmp_path: Path) -> None:
    # Every duration key is printed in notation, so each must accept it when read back.
    defaults = Settings.load(None)
    path = tmp_path / "shown.yaml"
    path.write_text(yaml.safe_dump(shown(defaults)))
    assert Settings.load(path) == defaults


def test_a_settings_file_is_shown_as_written_and_loads_back(tmp_path: Path) -> None:
    config = tmp_path / "deploy" / "local" / "pulseline.yaml"
    config.parent.mkdir(parents=True)
    config.write_text(
        "tiers:\n"
        "  - {name: raw, retention_s: 14d, bucket: raw}\n"
        "  - {name: 5m, window_s: 5m, retention_s: 90d, bucket: five}\n"
        "kafka: {session_timeout_s: 6s}\n"
        "worker: {take_within_s: 50ms}\n"
        "rules: {files: [../../rules/pulseline.yml]}\n"
    )
    settings = Settings.load(config)
    view = shown(settings)
    assert [(t["window_s"], t["retention_s"]) for t in view["tiers"]] == [
        (None, "14d"),
        ("5m", "90d"),
    ]
    assert view["kafka"]["session_timeout_s"] == "6s"
    assert view["worker"]["take_within_s"] == "50ms"
    assert view["rules"]["files"] == [str(tmp_path / "rules" / "pulseline.yml")]
    again = tmp_path / "again.yaml"
    again.write_text(yaml.safe_dump(view))
    assert shown(Settings.load(again)) == view  # the same settings, ".." resolved


def test_secrets_stay_masked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PULSELINE_INFLUX__TOKEN", "hunter2")
    monkeypatch.setenv("PULSELINE_COLLECTOR__TOKENS", '{"prom": "s3cret"}')
    view = shown(Settings.load(None))
    assert view["influx"]["token"] == "**********"
    assert view["collector"]["tokens"] == {"prom": "**********"}
    assert "hunter2" not in str(view) and "s3cret" not in str(view)
