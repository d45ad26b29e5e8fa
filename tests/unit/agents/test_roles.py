"""A worker registers the agents of its roles and joins the consumer group of its roles."""

from __future__ import annotations

import json
from pathlib import Path

import faust
import pytest

from agents.app import create_app
from streams.errors import ConfigError
from streams.settings import Settings
from streams.testing import CollectingWriter

STORE = {"raw-sink", "downsample"}
ALERT = {"rules-route", "rules-eval", "am-intake", "am-dispatch"}


def _app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, roles: list[str] | None) -> faust.App:
    monkeypatch.setenv("PULSELINE_WORKER__DATA_DIR", str(tmp_path))
    rules = tmp_path / "rules.yml"
    rules.write_text("groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up == 0\n")
    monkeypatch.setenv("PULSELINE_RULES__FILES", json.dumps([str(rules)]))
    if roles is None:
        monkeypatch.delenv("PULSELINE_WORKER__ROLES", raising=False)
    else:
        monkeypatch.setenv("PULSELINE_WORKER__ROLES", json.dumps(roles))
    return create_app(Settings.load(None), raw_writer=CollectingWriter())


def _agents(app: faust.App) -> set[str]:
    return {agent.name for agent in app.agents.values()}


@pytest.mark.parametrize(
    ("roles", "agents", "group"),
    [
        (None, STORE | ALERT, "pulseline"),
        (["alert", "store"], STORE | ALERT, "pulseline"),
        (["store"], STORE, "pulseline-store"),
        (["alert"], ALERT, "pulseline-alert"),
    ],
)
async def test_a_worker_runs_the_agents_of_its_roles_in_their_group(
    roles: list[str] | None,
    agents: set[str],
    group: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = _app(tmp_path, monkeypatch, roles)
    assert _agents(app) == agents
    assert app.conf.id == group
    assert (tmp_path / group).is_dir()


def test_a_worker_without_a_role_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PULSELINE_WORKER__ROLES", "[]")
    with pytest.raises(ConfigError, match=r"worker\.roles: .*at least one role"):
        Settings.load(None)
