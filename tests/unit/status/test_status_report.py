"""The rows of ``pulseline status`` from two observations, with hand-worked numbers."""

from streams.settings import ROLES
from streams.status.exposition import Metrics
from streams.status.lag import GroupMember, PartitionOffsets
from streams.status.observation import CollectorPage, Observation, Scrape, WorkerGroup
from streams.status.report import Layout, build_status

LAYOUT = Layout("metrics.raw", ("raw", "1m"), ("metrics.raw.dlq",), "metrics.late")


def _worker(url: str, raw_lines: float, m1_lines: float, series: float, blocked: int = 0) -> Scrape:
    page = f"""
# TYPE pulseline_sink_lines_written counter
pulseline_sink_lines_written_total{{tier="raw"}} {raw_lines}
pulseline_sink_lines_written_total{{tier="1m"}} {m1_lines}
pulseline_sink_dead_letters_total{{tier="raw"}} 2
pulseline_sink_dead_letters_total{{tier="1m"}} 0
pulseline_sink_write_retries_total{{tier="raw"}} 7
pulseline_sink_write_retries_total{{tier="1m"}} 1
pulseline_sink_samples_total{{tier="raw"}} {raw_lines * 3}
pulseline_sink_blocked{{tier="raw"}} {blocked}
pulseline_sink_blocked{{tier="1m"}} 0
pulseline_downsample_series {series}
pulseline_downsample_late_total 4
pulseline_downsample_future_total 1
pulseline_rules_series 12
"""
    return Scrape("worker", url, Metrics.parse(page))


def _collector(url: str, samples: float, member: str | None) -> Scrape:
    page = f"""
pulseline_collector_samples_total {samples}
pulseline_collector_records_total {samples / 100}
pulseline_collector_scrapes_total{{job="node",result="up"}} {samples / 1000}
pulseline_collector_scrapes_total{{job="node",result="down"}} 0
"""
    targets = None if member is None else CollectorPage(member, (member, "c2:9091"), 5, 1)
    return Scrape("collector", url, Metrics.parse(page), "", targets)


W1, W2 = "http://w1:6066", "http://w2:6066"
MEMBERS = (
    GroupMember(
        "pulseline", "a", "faust", "/w1", W1, frozenset({("metrics.raw", 0), ("metrics.raw", 1)})
    ),
    GroupMember(
        "pulseline", "b", "faust", "/w2", W2, frozenset({("metrics.raw", 2), ("rules.samples", 0)})
    ),
)


def _look(at: float, raw_w1: float, raw_w2: float, samples: float, ends: int) -> Observation:
    return Observation(
        at=at,
        wall=1_700_000_000 + at,
        group="pulseline",
        groups=(WorkerGroup("pulseline", ROLES, "Stable"),),
        offsets=(
            PartitionOffsets("pulseline", "metrics.raw", 0, 0, ends, ends - 10),
            PartitionOffsets("pulseline", "metrics.raw", 1, 0, ends, ends),
            PartitionOffsets("pulseline", "metrics.raw", 2, 0, ends, None),
        ),
        members=MEMBERS,
        held={"metrics.raw.dlq": 3, "metrics.late": 8},
        scrapes=(
            _worker(W1, raw_w1, 10, series=100, blocked=1),
            _worker(W2, raw_w2, 20, series=50),
            _collector("http://c1:9091", samples, "c1:9091"),
            _collector("http://127.0.0.1:9091", samples, None),
        ),
        collector_members=("c1:9091", "c2:9091"),
        alerts=(
            {
                "labels": {"alertname": "Quiet", "host": "a"},
                "status": {"state": "suppressed"},
                "startsAt": "2024-01-01T00:00:00Z",
            },
            {
                "labels": {"alertname": "Down", "job": "node"},
                "status": {"state": "active"},
                "startsAt": "2024-01-01T00:01:00Z",
            },
        ),
    )


def test_tier_rates_sum_the_workers_increase_over_the_seconds_between_looks() -> None:
    before = _look(0.0, raw_w1=1000, raw_w2=500, samples=10_000, ends=100)
    after = _look(10.0, raw_w1=3000, raw_w2=1500, samples=30_000, ends=160)
    status = build_status(before, after, LAYOUT)
    raw, m1 = status.tiers
    # raw: (3000 - 1000) + (1500 - 500) = 3000 lines in 10 s.
    assert (raw.tier, raw.lines_per_s, raw.lines_written) == ("raw", 300.0, 4500.0)
    assert (raw.dead_letters, raw.retries, raw.blocked) == (4.0, 14.0, 1)
    # 1m: counters unchanged (10 and 20) -> 0 per second, not unknown.
    assert (m1.lines_per_s, m1.lines_written, m1.blocked) == (0.0, 30.0, 0)
    # Samples stored: 3 per raw line -> 900 per second.
    assert status.samples_stored_per_s == 900.0
    # Ends went from 100 to 160 on three partitions: 180 records in 10 s.
    assert status.records_in_per_s == 18.0
    # Committed moved 90 -> 150 and 100 -> 160 (partition 2 never committed): 120 in 10 s.
    assert status.records_done_per_s == 12.0


def test_a_process_restart_counts_its_new_total_as_the_increase() -> None:
    before = _look(0.0, raw_w1=5000, raw_w2=0, samples=0, ends=0)
    after = _look(5.0, raw_w1=250, raw_w2=0, samples=0, ends=0)
    assert build_status(before, after, LAYOUT).tiers[0].lines_per_s == 50.0


def test_with_one_look_rates_are_unknown_and_totals_known() -> None:
    status = build_status(None, _look(0.0, 10, 20, 100, 50), LAYOUT)
    assert status.tiers[0].lines_per_s is None
    assert status.tiers[0].lines_written == 30.0
    assert status.records_in_per_s is None
    assert all(row.samples_per_s is None for row in status.collectors)


def test_lag_owners_workers_and_series() -> None:
    status = build_status(None, _look(0.0, 1, 1, 1, ends=40), LAYOUT)
    assert [(r.partition, r.lag, r.owner) for r in status.partitions] == [
        (0, 10, W1),
        (1, 0, W1),
        (2, 40, W2),
    ]
    assert [(w.url, w.partitions, w.series) for w in status.workers] == [
        (W1, 2, 100.0),
        (W2, 1, 50.0),
    ]
    assert (status.active_series, status.rule_series) == (150.0, 24.0)
    assert status.members == [W1, W2]


def test_collectors_scraped_and_heard_only_by_heartbeat() -> None:
    before = _look(0.0, 0, 0, samples=1000, ends=0)
    after = _look(2.0, 0, 0, samples=5000, ends=0)
    rows = build_status(before, after, LAYOUT).collectors
    c1, pushed_only, c2 = rows
    assert (c1.name, c1.url, c1.up, c1.targets, c1.targets_down) == (
        "c1:9091",
        "http://c1:9091",
        True,
        5,
        1,
    )
    # 4000 samples, 40 records, 4 scrapes in 2 s.
    assert (c1.samples_per_s, c1.records_per_s, c1.scrapes_per_s) == (2000.0, 20.0, 2.0)
    assert (pushed_only.name, pushed_only.targets) == ("", None)
    assert (c2.name, c2.url, c2.up) == ("c2:9091", "", False)


def test_firing_alerts_first_then_suppressed_and_set_asides() -> None:
    status = build_status(None, _look(0.0, 0, 0, 0, 0), LAYOUT)
    assert [(a.name, a.state, a.labels) for a in status.alerts] == [
        ("Down", "active", 'job="node"'),
        ("Quiet", "suppressed", 'host="a"'),
    ]
    assert status.firing == 1
    assert status.dead_letters == {"metrics.raw.dlq": 3}
    # late 4 + future 1 on each of two workers.
    assert (status.late_samples, status.late_topic_records) == (10.0, 8)


def test_a_worker_that_does_not_answer_is_down_and_left_out_of_sums() -> None:
    look = _look(0.0, 100, 200, 0, 0)
    down = Scrape("worker", W2, None, "connection refused")
    look = Observation(look.at, look.wall, look.group, scrapes=(look.scrapes[0], down))
    status = build_status(None, look, LAYOUT)
    assert status.tiers[0].lines_written == 100.0
    assert [(w.up, w.error) for w in status.workers] == [(True, ""), (False, "connection refused")]
    assert status.to_json()["workers"][1]["error"] == "connection refused"


def test_a_member_whose_address_does_not_answer_is_one_row_with_the_reason() -> None:
    look = _look(0.0, 0, 0, 0, 0)
    unreachable = Scrape("collector", "http://c2:9091", None, "Cannot connect", member="c2:9091")
    look = Observation(
        look.at, look.wall, look.group, scrapes=(*look.scrapes, unreachable),
        collector_members=("c1:9091", "c2:9091"),
    )  # fmt: skip
    rows = build_status(None, look, LAYOUT).collectors
    assert [(r.name, r.url, r.up, r.error) for r in rows] == [
        ("c1:9091", "http://c1:9091", True, ""),
        ("", "http://127.0.0.1:9091", True, ""),
        ("c2:9091", "http://c2:9091", False, "Cannot connect"),
    ]


STORE, ALERT = "pulseline-store", "pulseline-alert"


def _split(at: float, store_done: int, alert_done: int, both: bool = False) -> Observation:
    """Store worker W1 and alert worker W2, each its group's only member, both reading
    partitions 0 and 1 of metrics.raw (end 100); the alert group also reads rules.samples.
    With ``both``, a worker with both roles is in the group ``pulseline`` too."""
    raw = frozenset({("metrics.raw", 0), ("metrics.raw", 1)})
    groups = (
        WorkerGroup(ALERT, ("alert",), "Stable"),
        WorkerGroup(STORE, ("store",), "Stable"),
    )
    members = (
        GroupMember(ALERT, "b", "faust", "/w2", W2, raw | {("rules.samples", 0)}),
        GroupMember(STORE, "a", "faust", "/w1", W1, raw),
    )
    if both:
        groups = (WorkerGroup("pulseline", ROLES, "Stable"), *groups)
        members = (*members, GroupMember("pulseline", "c", "faust", "/w3", "http://w3:6066", raw))
    return Observation(
        at=at,
        wall=at,
        group="pulseline",
        groups=groups,
        offsets=(
            PartitionOffsets(ALERT, "metrics.raw", 0, 0, 100, alert_done),
            PartitionOffsets(ALERT, "metrics.raw", 1, 0, 100, alert_done),
            PartitionOffsets(ALERT, "rules.samples", 0, 0, 5, 5),
            PartitionOffsets(STORE, "metrics.raw", 0, 0, 100, store_done),
            PartitionOffsets(STORE, "metrics.raw", 1, 0, 100, store_done),
        ),
        members=members,
        scrapes=(_worker(W1, 0, 0, series=10), _worker(W2, 0, 0, series=0)),
    )


def test_with_two_groups_every_row_names_its_group_and_owner_in_it() -> None:
    status = build_status(None, _split(0.0, store_done=30, alert_done=100), LAYOUT)
    assert [(r.group, r.topic, r.partition, r.lag, r.owner) for r in status.partitions] == [
        (ALERT, "metrics.raw", 0, 0, W2),
        (ALERT, "metrics.raw", 1, 0, W2),
        (ALERT, "rules.samples", 0, 0, W2),
        (STORE, "metrics.raw", 0, 70, W1),
        (STORE, "metrics.raw", 1, 70, W1),
    ]
    assert [(t.group, t.topic, t.lag, t.unowned) for t in status.topics] == [
        (ALERT, "metrics.raw", 0, 0),
        (ALERT, "rules.samples", 0, 0),
        (STORE, "metrics.raw", 140, 0),
    ]
    assert [(g.group, g.roles, g.state, g.members) for g in status.groups] == [
        (ALERT, ("alert",), "Stable", [W2]),
        (STORE, ("store",), "Stable", [W1]),
    ]
    assert [(w.url, w.group, w.partitions) for w in status.workers] == [
        (W1, STORE, 2),
        (W2, ALERT, 2),
    ]
    assert status.members == [W1, W2]
    # The settings' group (both roles) is not among those seen: its state is unknown.
    assert (status.group, status.group_state) == ("pulseline", "")
    assert status.warnings == []


def test_with_two_groups_records_done_is_the_slowest_groups_and_each_has_its_own() -> None:
    # In 10 s the alert group finished 40 records on each raw partition; the store group,
    # held up by its database, none.
    before = _split(0.0, store_done=30, alert_done=60)
    after = _split(10.0, store_done=30, alert_done=100)
    status = build_status(before, after, LAYOUT)
    assert [(g.group, g.records_done_per_s) for g in status.groups] == [(ALERT, 8.0), (STORE, 0.0)]
    assert status.records_done_per_s == 0.0


def test_workers_with_both_roles_beside_split_workers_are_a_warning_not_a_problem() -> None:
    status = build_status(None, _split(0.0, 100, 100, both=True), LAYOUT)
    assert [g.group for g in status.groups] == ["pulseline", ALERT, STORE]
    assert status.group_state == "Stable"
    assert len(status.warnings) == 2
    assert "pulseline (workers with both roles) and pulseline-alert" in status.warnings[0]
    assert status.problems == []
