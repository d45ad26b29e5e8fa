"""Which worker groups ``pulseline status`` looks at, and the warning about mixed roles."""

from streams.settings import Role, WorkerSettings
from streams.status.groups import GroupRow, mixed_roles, pipeline_groups, shown_groups

CANDIDATES = pipeline_groups(WorkerSettings(app_id="metrics"))


def test_the_candidates_are_the_groups_workers_of_each_roles_join() -> None:
    assert CANDIDATES == {
        "metrics": ("store", "alert"),
        "metrics-store": ("store",),
        "metrics-alert": ("alert",),
    }
    for roles in (["store", "alert"], ["store"], ["alert"]):
        assert WorkerSettings(app_id="metrics", roles=roles).group_id in CANDIDATES


def test_split_groups_the_broker_knows_are_shown_without_the_configured_one() -> None:
    known = {"metrics-store", "metrics-alert", "metrics-other", "someone-else"}
    shown = shown_groups(CANDIDATES, known, configured="metrics")
    assert shown == {"metrics-alert": ("alert",), "metrics-store": ("store",)}


def test_every_known_group_of_the_pipeline_is_shown_in_order_of_id() -> None:
    known = {"metrics-alert", "metrics", "metrics-store"}
    assert list(shown_groups(CANDIDATES, known, configured="metrics-store")) == [
        "metrics",
        "metrics-alert",
        "metrics-store",
    ]


def test_with_no_group_known_the_configured_one_is_shown() -> None:
    assert shown_groups(CANDIDATES, {"another-app"}, configured="metrics-alert") == {
        "metrics-alert": ("alert",)
    }


def _row(group: str, roles: tuple[Role, ...], *members: str) -> GroupRow:
    return GroupRow(group, roles, "Stable" if members else "Empty", list(members), None)


def test_workers_with_both_roles_beside_split_workers_are_warned_about() -> None:
    both = _row("metrics", ("store", "alert"), "http://w1:6066")
    store = _row("metrics-store", ("store",), "http://w2:6066")
    alert = _row("metrics-alert", ("alert",), "http://w3:6066")
    warnings = mixed_roles([both, alert, store])
    assert len(warnings) == 2
    assert "metrics (workers with both roles) and metrics-alert (alert workers)" in warnings[0]
    assert warnings[0].endswith("every rule is evaluated and notifies twice")
    assert warnings[1].endswith("every point is written and downsampled twice")


def test_groups_without_members_or_split_workers_alone_are_no_warning() -> None:
    both = _row("metrics", ("store", "alert"), "http://w1:6066")
    store = _row("metrics-store", ("store",), "http://w2:6066")
    alert = _row("metrics-alert", ("alert",), "http://w3:6066")
    assert mixed_roles([_row("metrics", ("store", "alert")), store, alert]) == []
    assert mixed_roles([both, _row("metrics-alert", ("alert",))]) == []
    assert mixed_roles([both]) == []
