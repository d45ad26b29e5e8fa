"""The worker's ``/health``: 503 until its partitions are assigned and its tables recovered."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from agents.health import worker_health


def fake_app(*, completed: bool, rebalancing: bool, in_recovery: bool) -> Any:
    return SimpleNamespace(
        rebalancing=rebalancing,
        in_recovery=in_recovery,
        tables=SimpleNamespace(
            recovery=SimpleNamespace(completed=SimpleNamespace(is_set=lambda: completed))
        ),
        consumer=SimpleNamespace(assignment=lambda: {("raw", 3), ("raw", 1), ("late", 0)}),
    )


@pytest.mark.parametrize(
    ("completed", "rebalancing", "in_recovery", "checks"),
    [
        (False, False, False, ("fail", "fail")),  # started, no assignment yet
        (True, True, False, ("fail", "pass")),  # a rebalance is going on
        (True, False, True, ("pass", "fail")),  # reading tables back from changelogs
    ],
)
def test_not_ready_answers_503_saying_which_check_fails(
    completed: bool, rebalancing: bool, in_recovery: bool, checks: tuple[str, str]
) -> None:
    status, body = worker_health(
        fake_app(completed=completed, rebalancing=rebalancing, in_recovery=in_recovery)
    )
    assert status == 503 and body["status"] == "fail"
    assert tuple(check["status"] for check in body["checks"]) == checks


def test_ready_answers_200_with_the_partitions_held() -> None:
    status, body = worker_health(fake_app(completed=True, rebalancing=False, in_recovery=False))
    assert status == 200 and body["status"] == "pass"
    assert body["partitions"] == {"late": [0], "raw": [1, 3]}
