"""Consumer lag per partition and who owns each partition, from what Kafka's admin API says.

A worker group's committed offset of a partition is the next record it will read; the end
offset is the next record a producer will write. Their difference is the lag: records in
Kafka that no worker has finished yet (while the database is down, it is the backlog Kafka
holds). Two cases need a word rather than a number:

- nothing committed yet: a worker would start from the oldest record (the workers'
  ``auto_offset_reset`` is ``earliest``), so the lag counts from the log's start;
- committed below the log's start: retention deleted records no worker had finished, which
  is data lost. The row says how many.

Example:
    >>> offsets = [PartitionOffsets("pulseline", "metrics.raw", 0, start=0, end=50, committed=20),
    ...            PartitionOffsets("pulseline", "metrics.raw", 1, start=0, end=7, committed=None)]
    >>> owner = GroupMember("pulseline", "m-1", "faust", "/10.0.0.5", "http://10.0.0.5:6066",
    ...                     frozenset({("metrics.raw", 0)}))
    >>> [(r.partition, r.lag, r.owner) for r in lag_rows(offsets, [owner])]
    [(0, 30, 'http://10.0.0.5:6066'), (1, 7, None)]
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import orjson
from aiokafka.coordinator.protocol import (
    ConsumerProtocolMemberAssignment,
    ConsumerProtocolMemberMetadata,
)

UNROUTABLE_HOSTS = frozenset({"", "0.0.0.0", "::", "[::]"})
"""Bind addresses that say "every interface": not an address another machine can reach."""


@dataclass(frozen=True, slots=True)
class PartitionOffsets:
    """What Kafka knows about one partition for one worker group.

    Attributes:
        group: the consumer group.
        topic: the topic.
        partition: the partition number.
        start: the log's first offset (older records were deleted by retention).
        end: the offset the next record will get.
        committed: the group's committed offset (the next record it reads); None if never.
    """

    group: str
    topic: str
    partition: int
    start: int
    end: int
    committed: int | None


@dataclass(frozen=True, slots=True)
class GroupMember:
    """One consumer of a worker group, as the group coordinator describes it.

    Attributes:
        group: the consumer group it is a member of.
        member_id: Kafka's member id.
        client_id: the client id the consumer gave.
        host: the address the broker sees the consumer at (Kafka writes ``/10.0.0.5``).
        url: the worker's web address, when its group metadata names one (Faust's does).
        assigned: the ``(topic, partition)`` pairs assigned to it.
    """

    group: str
    member_id: str
    client_id: str
    host: str
    url: str | None
    assigned: frozenset[tuple[str, int]]

    @property
    def name(self) -> str:
        """How a row names this member: its web address, else ``client_id@host``, else its
        member id (Tansu describes members with neither, nor their metadata).

        Example:
            >>> GroupMember("pulseline", "m-1", "", "", None, frozenset()).name
            'm-1'
        """
        if self.url:
            return self.url
        if self.client_id or self.host:
            return f"{self.client_id}@{self.host.lstrip('/')}"
        return self.member_id


@dataclass(frozen=True, slots=True)
class LagRow:
    """One partition's lag and owner in one group.

    Attributes:
        group: the consumer group.
        topic: the topic.
        partition: the partition number.
        end: the end offset.
        committed: the committed offset, None if never committed.
        lag: records not yet finished by the group.
        owner: the member the partition is assigned to (see :attr:`GroupMember.name`), or None.
        lost: records retention deleted before the group finished them.
        note: what is unusual about the partition, or empty.
    """

    group: str
    topic: str
    partition: int
    end: int
    committed: int | None
    lag: int
    owner: str | None
    lost: int
    note: str


@dataclass(frozen=True, slots=True)
class TopicLag:
    """A topic's lag over its partitions, in one group.

    Attributes:
        group: the consumer group.
        topic: the topic.
        partitions: how many partitions it has.
        lag: the sum of the partitions' lag.
        max_lag: the largest lag of one partition.
        unowned: partitions no member is assigned.
        lost: records retention deleted before the group finished them.
    """

    group: str
    topic: str
    partitions: int
    lag: int
    max_lag: int
    unowned: int
    lost: int


def lag_row(offsets: PartitionOffsets, owner: str | None) -> LagRow:
    """The lag of one partition (see the module's notes for the two special cases).

    Example:
        >>> lag_row(PartitionOffsets("g", "t", 0, start=100, end=150, committed=40), None).lost
        60
        >>> lag_row(PartitionOffsets("g", "t", 0, start=0, end=10, committed=25), None).lag
        0
    """
    o = offsets
    if o.committed is None:
        lag, lost, note = o.end - o.start, 0, "nothing committed yet"
    elif o.committed < o.start:
        lag, lost = o.end - o.start, o.start - o.committed
        note = f"{lost} records deleted by retention before the workers finished them"
    elif o.committed > o.end:
        lag, lost = 0, 0
        note = "committed offset is past the end: the topic lost records or was recreated"
    else:
        lag, lost, note = o.end - o.committed, 0, ""
    return LagRow(o.group, o.topic, o.partition, o.end, o.committed, lag, owner, lost, note)


def lag_rows(offsets: Iterable[PartitionOffsets], members: Iterable[GroupMember]) -> list[LagRow]:
    """One row per partition and group, sorted by group, topic and partition, with the owner
    of each: the member of that group the partition is assigned to."""
    owners = {(m.group, *tp): m.name for m in members for tp in m.assigned}
    rows = [lag_row(o, owners.get((o.group, o.topic, o.partition))) for o in offsets]
    return sorted(rows, key=lambda r: (r.group, r.topic, r.partition))


def topic_lags(rows: Sequence[LagRow]) -> list[TopicLag]:
    """The rows summed per group and topic, in the rows' order.

    Example:
        >>> rows = [LagRow("g", "t", 0, 9, 4, 5, "w1", 0, ""),
        ...         LagRow("g", "t", 1, 3, 0, 3, None, 0, "")]
        >>> topic_lags(rows)
        [TopicLag(group='g', topic='t', partitions=2, lag=8, max_lag=5, unowned=1, lost=0)]
    """
    by_topic: dict[tuple[str, str], list[LagRow]] = {}
    for row in rows:
        by_topic.setdefault((row.group, row.topic), []).append(row)
    return [
        TopicLag(
            group,
            topic,
            len(topic_rows),
            sum(r.lag for r in topic_rows),
            max(r.lag for r in topic_rows),
            sum(1 for r in topic_rows if r.owner is None),
            sum(r.lost for r in topic_rows),
        )
        for (group, topic), topic_rows in by_topic.items()
    ]


def shows_lag(topic: str, group: str) -> bool:
    """Whether the lag of ``topic`` in ``group`` means work waiting.

    Faust's own topics are named after the group: a table's changelog is read to restore
    state and never committed, and ``__assignor-__leader`` only elects a leader, so their
    "lag" means nothing. A ``-repartition`` topic (``group_by``) is a real queue of work.

    Example:
        >>> [shows_lag(t, "pulseline") for t in ("metrics.raw",
        ...     "pulseline-downsample-state-changelog", "pulseline-__assignor-__leader",
        ...     "pulseline-rules-by-group-repartition")]
        [True, False, False, True]
    """
    return not topic.startswith(f"{group}-") or topic.endswith("-repartition")


def worker_url(user_data: bytes, host: str) -> str | None:
    """The web address a Faust worker announces in its group metadata, made reachable.

    Faust puts the worker's ``canonical_url`` in the ``user_data`` of its subscription. A
    worker bound to every interface announces ``0.0.0.0``; the address the broker sees it at
    (``host``) replaces that.

    Example:
        >>> worker_url(b'{"url": "http://0.0.0.0:6066", "assignment": {}}', "/172.18.0.5")
        'http://172.18.0.5:6066'
        >>> worker_url(b"not faust", "/10.0.0.1") is None
        True
    """
    try:
        metadata = orjson.loads(user_data)
    except orjson.JSONDecodeError:
        return None
    url = metadata.get("url") if isinstance(metadata, dict) else None
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        return None
    parts = urlsplit(url)
    if (parts.hostname or "") in UNROUTABLE_HOSTS:
        address = host.lstrip("/")
        address = f"[{address}]" if ":" in address else address
        port = f":{parts.port}" if parts.port else ""
        parts = parts._replace(netloc=f"{address}{port}")
    return urlunsplit(parts).rstrip("/")


def group_member(
    group: str, member_id: str, client_id: str, host: str, metadata: bytes, assignment: bytes
) -> GroupMember:
    """A member of ``group`` from the fields of Kafka's DescribeGroups answer.

    ``metadata`` and ``assignment`` are in Kafka's consumer protocol; either is empty while
    the group rebalances, and then the member has no URL or no partitions yet.

    Example:
        >>> member = group_member("pulseline", "m-1", "faust-0.15", "/10.0.0.5", b"", b"")
        >>> member.name, member.assigned
        ('faust-0.15@10.0.0.5', frozenset())
    """
    url = None
    assigned: frozenset[tuple[str, int]] = frozenset()
    try:
        if metadata:
            user_data = ConsumerProtocolMemberMetadata.decode(metadata).user_data
            url = worker_url(user_data or b"", host)
        if assignment:
            decoded = ConsumerProtocolMemberAssignment.decode(assignment)
            assigned = frozenset((topic, p) for topic, parts in decoded.assignment for p in parts)
    except (struct.error, ValueError):  # not the consumer protocol: show what is known
        pass
    return GroupMember(group, member_id, client_id, host, url, assigned)
