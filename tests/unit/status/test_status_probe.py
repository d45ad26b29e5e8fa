"""What one look records: the worker groups looked at, their offsets and members, and the
workers they announce, from a fake broker's admin answers (no Kafka, no HTTP)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import pytest

from streams.errors import PulselineError
from streams.settings import ROLES, Settings
from streams.status import probe
from streams.status.lag import GroupMember
from streams.status.observation import Observation, ProcessKind, Scrape, WorkerGroup
from streams.status.probe import Targets

STORE, ALERT = "pulseline-store", "pulseline-alert"
W1, W2 = "http://w1:6066", "http://w2:6066"
RAW = "metrics.raw"


@dataclass
class FakeKafka:
    """A broker's admin answers: each group it knows, as (state, members, committed offsets);
    every topic has two partitions, offsets 0 to 100."""

    groups: dict[str, tuple[str, list[GroupMember], dict[tuple[str, int], int]]]
    reachable: bool = True
    described: list[str] = field(default_factory=list)

    async def __aenter__(self) -> FakeKafka:
        if not self.reachable:
            raise PulselineError("cannot reach Kafka at kafka://127.0.0.1:9092: refused")
        return self

    async def __aexit__(self, *exc: object) -> None:
        pass

    async def known_groups(self) -> set[str]:
        return {*self.groups, "another-app"}

    async def group(self, group_id: str) -> tuple[str, list[GroupMember]]:
        self.described.append(group_id)
        state, members, _ = self.groups.get(group_id, ("Dead", [], {}))
        return state, members

    async def committed(self, group_id: str) -> dict[tuple[str, int], int]:
        return self.groups.get(group_id, ("", [], {}))[2]

    async def bounds(self, topics: list[str]) -> dict[tuple[str, int], tuple[int, int]]:
        return {(t, p): (0, 100) for t in topics for p in (0, 1)}

    async def heartbeats(self, topic: str, timeout_s: float) -> tuple[str, ...]:
        return ()


def _look(monkeypatch: pytest.MonkeyPatch, kafka: FakeKafka, *workers: str) -> Observation:
    """``observe`` with ``kafka`` as the broker; every page read fails without a request, and
    the processes asked for are in the scrapes."""

    async def scrape(session: object, kind: ProcessKind, url: str, member: str = "") -> Scrape:
        return Scrape(kind, url, None, "not read", member=member)

    monkeypatch.setattr(probe, "KafkaLook", lambda settings: kafka)
    monkeypatch.setattr(probe, "scrape", scrape)
    settings = Settings.load(None)
    return asyncio.run(probe.observe(settings, Targets.from_settings(settings, workers)))


def _member(group: str, name: str, url: str, *assigned: tuple[str, int]) -> GroupMember:
    return GroupMember(group, name, "faust", "/h", url, frozenset(assigned))


def test_split_groups_are_looked_at_instead_of_the_settings_group(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    changelog = f"{STORE}-downsample-state-changelog"
    kafka = FakeKafka(
        {
            STORE: (
                "Stable",
                [_member(STORE, "a", W1, (RAW, 0), (RAW, 1), (changelog, 0))],
                {(RAW, 0): 40, (RAW, 1): 50},
            ),
            ALERT: (
                "Stable",
                [_member(ALERT, "b", W2, (RAW, 0), (RAW, 1), ("rules.samples", 0))],
                {(RAW, 0): 100, (RAW, 1): 100, ("rules.samples", 0): 100},
            ),
        }
    )
    look = _look(monkeypatch, kafka, W1)
    assert kafka.described == [ALERT, STORE]  # not "pulseline": the broker does not know it
    assert look.group == "pulseline"
    assert look.groups == (
        WorkerGroup(ALERT, ("alert",), "Stable"),
        WorkerGroup(STORE, ("store",), "Stable"),
    )
    assert [(o.group, o.topic, o.partition, o.committed) for o in look.offsets] == [
        (ALERT, RAW, 0, 100),
        (ALERT, RAW, 1, 100),
        (ALERT, "rules.samples", 0, 100),
        (ALERT, "rules.samples", 1, None),
        (STORE, RAW, 0, 40),
        (STORE, RAW, 1, 50),
    ]
    assert [(m.group, m.url) for m in look.members] == [(ALERT, W2), (STORE, W1)]
    # The workers both groups announce, each once (W1 is also given with --worker).
    assert [s.url for s in look.scrapes if s.kind == "worker"] == [W1, W2]


def test_with_no_group_of_the_pipeline_known_the_settings_group_is_looked_at(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    kafka = FakeKafka({})
    look = _look(monkeypatch, kafka)
    assert kafka.described == ["pulseline"]
    assert look.groups == (WorkerGroup("pulseline", ROLES, "Dead"),)
    assert [(o.group, o.topic, o.committed) for o in look.offsets] == [
        ("pulseline", RAW, None),
        ("pulseline", RAW, None),
    ]
    assert [s.url for s in look.scrapes if s.kind == "worker"] == ["http://127.0.0.1:6066"]


def test_kafka_out_of_reach_leaves_the_settings_group_with_its_state_unknown(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    look = _look(monkeypatch, FakeKafka({}, reachable=False))
    assert look.groups == (WorkerGroup("pulseline", ROLES, ""),)
    assert look.offsets == ()
    assert "cannot reach Kafka" in look.problems[0]
