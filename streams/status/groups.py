"""The worker groups of one pipeline: which ``pulseline status`` looks at, and a row for each.

Workers with both roles join the consumer group ``worker.app_id``; store and alert workers
join ``APP_ID-store`` and ``APP_ID-alert`` (:attr:`~streams.settings.WorkerSettings.group_id`).
Status looks at each of the three the broker knows (it has members or committed offsets), so
one command shows split workers as well as workers with both roles. When the broker knows
none of them (nothing has run yet), it looks at the settings' group, as a worker started with
these settings would join it.

Running workers with both roles beside split workers does the work of a role twice; the rows
say so (:func:`mixed_roles`).

Example:
    >>> from streams.settings import WorkerSettings
    >>> candidates = pipeline_groups(WorkerSettings())
    >>> candidates
    {'pulseline': ('store', 'alert'), 'pulseline-store': ('store',), 'pulseline-alert': ('alert',)}
    >>> list(shown_groups(candidates, {"pulseline-store", "pulseline-alert", "other"}, "pulseline"))
    ['pulseline-alert', 'pulseline-store']
    >>> list(shown_groups(candidates, {"other"}, "pulseline"))
    ['pulseline']
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from streams.settings import ROLES, Role, WorkerSettings
from streams.status.observation import Observation
from streams.status.rates import records_done_rate

DOUBLED: dict[Role, str] = {
    "store": "every point is written and downsampled twice",
    "alert": "every rule is evaluated and notifies twice",
}
"""What a role's work done by two groups at once does, for :func:`mixed_roles`."""


def pipeline_groups(worker: WorkerSettings) -> dict[str, tuple[Role, ...]]:
    """The groups the pipeline's workers may join, with the roles of the workers in each:
    both roles first, then one group per role."""
    return {
        worker.model_copy(update={"roles": roles}).group_id: roles
        for roles in (ROLES, *((role,) for role in ROLES))
    }


def shown_groups(
    candidates: Mapping[str, tuple[Role, ...]], known: Collection[str], configured: str
) -> dict[str, tuple[Role, ...]]:
    """The groups of ``candidates`` the broker knows (``known``), by id; the ``configured``
    one alone when it knows none."""
    shown = {g: roles for g, roles in candidates.items() if g in known}
    if not shown:
        shown = {g: roles for g, roles in candidates.items() if g == configured}
    return dict(sorted(shown.items()))


@dataclass(frozen=True, slots=True)
class GroupRow:
    """One worker group.

    Attributes:
        group: its id.
        roles: the roles of its workers (``store``, ``alert``; both for ``worker.app_id``).
        state: the coordinator's word for it (``Stable``, ``Empty``, ...); empty if unknown.
        members: its members' names (a worker's web address), sorted.
        records_done_per_s: records of the raw topic it finished per second (None: unknown).
    """

    group: str
    roles: tuple[Role, ...]
    state: str
    members: list[str]
    records_done_per_s: float | None


def group_rows(before: Observation | None, after: Observation, raw: str) -> list[GroupRow]:
    """One row per group of ``after``, with its members and how fast it finishes ``raw``."""
    return [
        GroupRow(
            g.group,
            g.roles,
            g.state,
            sorted(m.name for m in after.members if m.group == g.group),
            records_done_rate(before, after, raw, g.group),
        )
        for g in after.groups
    ]


def mixed_roles(rows: Sequence[GroupRow]) -> list[str]:
    """A warning for each split group that has members while the group of workers with both
    roles has members too: the split group's role is done twice.

    Example:
        >>> both = GroupRow("pulseline", ("store", "alert"), "Stable", ["http://w1:6066"], None)
        >>> alert = GroupRow("pulseline-alert", ("alert",), "Stable", ["http://w2:6066"], None)
        >>> mixed_roles([both, alert])  # doctest: +NORMALIZE_WHITESPACE
        ['groups pulseline (workers with both roles) and pulseline-alert (alert workers) both
          have members: every rule is evaluated and notifies twice']
        >>> mixed_roles([both]), mixed_roles([both, GroupRow("pulseline-store", ("store",),
        ...     "Empty", [], None)])
        ([], [])
    """
    running = [row for row in rows if row.members]
    return [
        f"groups {both.group} (workers with both roles) and {split.group} "
        f"({split.roles[0]} workers) both have members: {DOUBLED[split.roles[0]]}"
        for both in running
        if len(both.roles) > 1
        for split in running
        if len(split.roles) == 1
    ]
