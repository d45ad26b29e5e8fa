"""The worker's Faust producer asks Kafka for idempotence when the settings say so."""

from __future__ import annotations

from pathlib import Path

import pytest

from agents.app import create_app
from streams.settings import Settings
from streams.testing import CollectingWriter


def _producer_options(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, idempotent: str | None
) -> dict:
    monkeypatch.setenv("PULSELINE_WORKER__DATA_DIR", str(tmp_path))
    if idempotent is None:
        monkeypatch.delenv("PULSELINE_KAFKA__ENABLE_IDEMPOTENCE", raising=False)
    else:
        monkeypatch.setenv("PULSELINE_KAFKA__ENABLE_IDEMPOTENCE", idempotent)
    app = create_app(Settings.load(None), raw_writer=CollectingWriter())
    producer = app.producer  # built, not connected
    return {**producer._settings_default(), **producer._settings_extra()}


async def test_idempotence_is_on_by_default_with_every_replica_acknowledging(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    options = _producer_options(tmp_path, monkeypatch, None)
    assert options["enable_idempotence"] is True
    assert options["acks"] == -1  # idempotence needs acks=all


async def test_idempotence_off_for_a_broker_without_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    options = _producer_options(tmp_path, monkeypatch, "false")
    assert "enable_idempotence" not in options
