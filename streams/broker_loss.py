"""Whether the Kafka broker came back empty: its topics gone, or its logs shorter than consumed.

A broker whose storage was lost (a memory-only broker restarted, a wiped log directory)
answers again on the same address with no topics, or with topics that collectors recreated
by producing to them, starting at offset 0. A worker that goes on as before keeps its old
positions and committed offsets: on recreated topics it skips every record below them, and
its commits for topics that no longer exist fail for ever. :class:`LossDetector` tells that
apart from a broker that restarted with its data, from what the broker shows now:

- a topic the worker saw before is gone, or
- a partition ends below an offset the group committed there (Kafka's logs only grow;
  retention removes records from the start, never from the end).

A finding counts only when the next look confirms it, so a broker caught halfway through
its start-up (or a leader's high watermark catching up after a failover) is not taken for
an empty one.

Example:
    >>> detector = LossDetector({"metrics.raw"})
    >>> detector.look(BrokerState(frozenset({"metrics.raw"}), {}), {})
    >>> detector.look(BrokerState(frozenset(), {}), {})
    >>> detector.look(BrokerState(frozenset(), {}), {})
    'topic metrics.raw is gone'
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

Partition = tuple[str, int]


@dataclass(frozen=True)
class BrokerState:
    """What the broker shows now.

    Attributes:
        topics: the topics it has.
        ends: the end offset (the offset the next record gets) of the partitions looked at.
    """

    topics: frozenset[str]
    ends: Mapping[Partition, int]


def find_loss(
    known: Collection[str], state: BrokerState, committed: Mapping[Partition, int]
) -> str | None:
    """Why the broker lost its data, or None when nothing says so.

    Args:
        known: the topics the broker had before.
        state: what it shows now.
        committed: the offsets the worker's group committed, by partition.

    >>> find_loss({"a", "b"}, BrokerState(frozenset({"a"}), {}), {})
    'topic b is gone'
    >>> find_loss({"a"}, BrokerState(frozenset({"a"}), {("a", 0): 12}), {("a", 0): 5000})
    'a[0] ends at offset 12, below the offset 5000 the group committed there'
    >>> find_loss({"a"}, BrokerState(frozenset({"a"}), {("a", 0): 5000}), {("a", 0): 5000})
    """
    missing = sorted(set(known) - state.topics)
    if missing:
        return f"topic{'s' if len(missing) > 1 else ''} {', '.join(missing)} " + (
            "are gone" if len(missing) > 1 else "is gone"
        )
    shorter = [
        f"{topic}[{partition}] ends at offset {state.ends[topic, partition]}, below the "
        f"offset {offset} the group committed there"
        for (topic, partition), offset in sorted(committed.items())
        if (topic, partition) in state.ends and offset > state.ends[topic, partition]
    ]
    return "; ".join(shorter) if shorter else None


class LossDetector:
    """Looks at the broker again and again; reports a loss once, when confirmed.

    Args:
        watched: the topics whose disappearance means a loss once they were seen (those
            the pipeline uses; a topic never seen, before ``topics create``, is no loss).
        confirmations: consecutive looks that must find a loss before it is reported.
    """

    def __init__(self, watched: Collection[str], confirmations: int = 2) -> None:
        self.watched = frozenset(watched)
        self._confirmations = confirmations
        self._known: set[str] = set()
        self._streak = 0

    def look(self, state: BrokerState, committed: Mapping[Partition, int]) -> str | None:
        """The loss this look confirms (returned once per loss), else None."""
        finding = find_loss(self._known, state, committed)
        self._known |= self.watched & state.topics
        if finding is None:
            self._streak = 0
            return None
        self._streak += 1
        return finding if self._streak == self._confirmations else None
