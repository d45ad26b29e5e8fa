"""Differential tests: the same scenarios, at the same moments, on a real Alertmanager and a target.

Every scenario of :mod:`oracle_scenarios` is played on two servers at once: the reference, a
real Alertmanager 0.25 (Debian's ``prometheus-alertmanager``), and the ``target``, both with
the same alertmanager.yml and their own webhook receivers. The target's notifications must
match the reference's per receiver: the same groups, the same number of notifications, the
same alerts with the same status in each, arriving within :class:`oracle_normal.Tolerance`.
The reference must also do what the scenario's hand-worked outline says, so that a scenario
that silently tests nothing (a config both servers ignore alike) fails.

``target`` is a parametrisation point: :data:`TARGETS` maps a name to a
:data:`oracle.Target` (built from the test's fixtures) and how many scenarios it may play at
once. "alertmanager" is a second real Alertmanager, which proves the harness: two instances
agree within the tolerance, and the checks below show that a different config, or a different
timing, is reported. "pulseline" is a ``pulseline worker`` on the session's broker
(:mod:`pulseline_target`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from oracle import Run, Scenario, Side, Target, alertmanager_target, play
from oracle_normal import Tolerance, compare, compare_outline
from oracle_scenarios import CONTINUE, GROUPING, SCENARIOS
from pulseline_target import pulseline_target

pytestmark = [pytest.mark.integration, pytest.mark.long(150)]

TOLERANCE = Tolerance()

TARGETS: dict[str, tuple[Callable[[pytest.FixtureRequest], Target], int]] = {
    "alertmanager": (lambda request: alertmanager_target, len(SCENARIOS)),
    "pulseline": (lambda request: pulseline_target(request.getfixturevalue("broker")), 1),
}
"""Name -> (how to start the server compared with the reference, given the test's fixtures;
scenarios played at once).

A target yields its API's base URL only once it accepts alerts and silences, and delivers
to the webhook URLs of the config text it is given; it stops everything on exit. pulseline
plays one scenario at a time: what is compared is timing, and a worker is a busy process
(the suite runs other test files beside this one on two cores).
"""


@dataclass
class Outcome:
    reference: Run
    target: Run


async def _play_all(
    target: Target, parallel: int, workdir: Path
) -> dict[str, Outcome | BaseException]:
    turns = asyncio.Semaphore(parallel)

    async def one(scenario: Scenario) -> Outcome:
        sides = [Side("reference", alertmanager_target), Side("target", target)]
        async with turns:
            reference, observed = await play(scenario, sides, workdir / scenario.name)
        return Outcome(reference, observed)

    results = await asyncio.gather(*(one(s) for s in SCENARIOS), return_exceptions=True)
    return {s.name: r for s, r in zip(SCENARIOS, results, strict=True)}


@pytest.fixture(scope="module", params=sorted(TARGETS))
def target(request: pytest.FixtureRequest) -> tuple[Target, int]:
    """The server compared with Alertmanager, and how many scenarios it plays at once."""
    build, parallel = TARGETS[request.param]
    return build(request), parallel


@pytest.fixture(scope="module")
def outcomes(
    target: tuple[Target, int], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Outcome | BaseException]:
    """Every scenario played once, concurrently, each on its own pair of servers."""
    start, parallel = target
    return asyncio.run(_play_all(start, parallel, tmp_path_factory.mktemp("differential")))


def _outcome(outcomes: dict[str, Outcome | BaseException], scenario: Scenario) -> Outcome:
    outcome = outcomes[scenario.name]
    if isinstance(outcome, BaseException):
        raise outcome
    return outcome


def _late(*runs: Run) -> str:
    late = ", ".join(
        f"{run.side}'s started up to {run.lateness * 1000:.0f} ms late and answered within "
        f"{run.answered * 1000:.0f} ms"
        for run in runs
    )
    return f"(steps: {late})"


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_reference_does_what_the_scenario_says(
    scenario: Scenario, outcomes: dict[str, Outcome | BaseException]
) -> None:
    reference = _outcome(outcomes, scenario).reference
    differences = compare_outline(scenario.expected, reference.normal(), TOLERANCE)
    assert not differences, (
        f"Alertmanager did not do what {scenario.name} says {_late(reference)}:\n"
        + "\n".join(differences)
    )


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_target_agrees_with_alertmanager(
    scenario: Scenario, outcomes: dict[str, Outcome | BaseException]
) -> None:
    outcome = _outcome(outcomes, scenario)
    differences = compare(outcome.reference.normal(), outcome.target.normal(), TOLERANCE)
    assert not differences, (
        f"{scenario.name}: the target differs from Alertmanager "
        f"{_late(outcome.reference, outcome.target)}:\n" + "\n".join(differences)
    )


def _variants(workdir: Path) -> dict[str, list[str]]:
    """Two real Alertmanagers whose configs differ: the differences the harness reports."""
    cases = {
        "group_by": (
            GROUPING,
            GROUPING.config.replace("group_by: [alertname]", "group_by: [alertname, i]"),
        ),
        "group_wait": (CONTINUE, CONTINUE.config.replace("group_wait: 1s", "group_wait: 300ms")),
    }

    async def one(scenario: Scenario, variant: str) -> list[str]:
        assert variant != scenario.config
        sides = [
            Side("reference", alertmanager_target),
            Side("variant", alertmanager_target, variant),
        ]
        reference, observed = await play(scenario, sides, workdir / scenario.name)
        return compare(reference.normal(), observed.normal(), TOLERANCE)

    async def all_cases() -> list[list[str]]:
        return await asyncio.gather(*(one(s, v) for s, v in cases.values()))

    return dict(zip(cases, asyncio.run(all_cases()), strict=True))


@pytest.fixture(scope="module")
def variant_differences(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[str]]:
    return _variants(tmp_path_factory.mktemp("variants"))


def test_another_group_by_is_reported(variant_differences: dict[str, list[str]]) -> None:
    differences = variant_differences["group_by"]
    # By alertname, A's alerts share one group; by alertname and i, each is a group of its own.
    assert any(d.startswith('/hook group {}:{alertname="A"}: missing') for d in differences), (
        differences
    )
    assert any(
        d.startswith('/hook group {}:{alertname="A", i="1"}: unexpected') for d in differences
    ), differences


def test_another_group_wait_is_reported_as_timing(
    variant_differences: dict[str, list[str]],
) -> None:
    differences = variant_differences["group_wait"]
    # Same groups, same alerts; only the arrivals (0.3 s instead of 1 s) differ: the first and
    # only notification of each of the six groups of the continue scenario.
    assert len(differences) == 6, differences
    assert all("notification 1: arrived at" in d for d in differences), differences
