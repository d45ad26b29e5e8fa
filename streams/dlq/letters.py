"""Dead letters as an operator sees them: what was refused, when, from where and why.

A stage that cannot handle a record produces a dead letter to the topic's dead-letter topic
(``metrics.raw.dlq``): the raw sink sends the points the database refused as bad data (a
batch record of just those points, with the record's key) or a record that is not a batch as
it came, with headers saying why:

=====================  ==============================================================
header                 value
=====================  ==============================================================
``pulseline-reason``   why, as the error said it (the database's answer, the decoder's)
``pulseline-stage``    the stage that refused it (``raw-sink``)
``pulseline-source``   where it was: ``topic[partition]@offset``
=====================  ==============================================================

Once the cause is fixed, ``pulseline dlq replay`` sends them back to the source topic.

Example:
    >>> letter = Letter(2, 17, 1_700_000_000_000, b"host-3", b"...",
    ...                 (("pulseline-reason", b"bucket 'metrics': answered 413"),
    ...                  ("pulseline-stage", b"raw-sink"),
    ...                  ("pulseline-source", b"metrics.raw[2]@1033")))
    >>> letter.reason, letter.stage, letter.source
    ("bucket 'metrics': answered 413", 'raw-sink', 'metrics.raw[2]@1033')
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from streams.durations import parse_duration
from streams.errors import PulselineError

REPLAY_HEADER = "pulseline-replay-of"
"""Header of a replayed record: the dead letter it came from (``dlq-topic[partition]@offset``)."""


class SinceError(PulselineError):
    """A ``--since`` value is neither a time nor a duration."""


@dataclass(frozen=True, slots=True)
class Letter:
    """One record of a dead-letter topic.

    Attributes:
        partition: its partition in the dead-letter topic.
        offset: its offset there.
        timestamp_ms: when it was dead-lettered (the record's timestamp, Unix ms).
        key: the original record's key.
        value: what was refused: the original record, or a batch of its refused points.
        headers: the record's headers.
    """

    partition: int
    offset: int
    timestamp_ms: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...] = ()

    def header(self, name: str) -> str:
        """A header's value as text (empty when absent)."""
        for key, value in self.headers:
            if key == name:
                return value.decode(errors="replace")
        return ""

    @property
    def reason(self) -> str:
        """Why it was refused."""
        return self.header("pulseline-reason")

    @property
    def stage(self) -> str:
        """The stage that refused it."""
        return self.header("pulseline-stage")

    @property
    def source(self) -> str:
        """Where it was: ``topic[partition]@offset``."""
        return self.header("pulseline-source")

    @property
    def size(self) -> int:
        """Bytes of its value."""
        return len(self.value or b"")


@dataclass(frozen=True, slots=True)
class Selection:
    """Which dead letters a command handles.

    Attributes:
        since_ms: only those dead-lettered at or after this Unix time in ms (None: all).
        reason: only those whose reason contains this text (empty: all).
    """

    since_ms: int | None = None
    reason: str = ""

    def wants(self, letter: Letter) -> bool:
        """Whether ``letter`` is selected.

        Example:
            >>> Selection(since_ms=1000, reason="413").wants(
            ...     Letter(0, 0, 999, None, b"", (("pulseline-reason", b"answered 413"),)))
            False
        """
        if self.since_ms is not None and letter.timestamp_ms < self.since_ms:
            return False
        return self.reason in letter.reason


def parse_since(text: str, now: float) -> int:
    """A ``--since`` value as Unix ms: a duration ago (``2h``), a Unix time in seconds, or an
    ISO 8601 / RFC 3339 time (without an offset: UTC).

    Example:
        >>> parse_since("2h", now=10_000.0)
        2800000
        >>> parse_since("2024-05-01T12:00:00Z", now=0.0)
        1714564800000
        >>> parse_since("1714564800", now=0.0)
        1714564800000

    Raises:
        SinceError: none of the three.
    """
    text = text.strip()
    try:
        return round((now - parse_duration(text)) * 1000)
    except ValueError:
        pass
    try:
        return round(float(text) * 1000)
    except ValueError:
        pass
    try:
        when = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise SinceError(
            f"--since {text!r}: not a duration ago (2h), a Unix time (1714564800) "
            "or a time (2024-05-01T12:00:00Z)"
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return round(when.timestamp() * 1000)


def format_ms(timestamp_ms: int) -> str:
    """A Unix time in ms as RFC 3339 UTC with milliseconds.

    Example:
        >>> format_ms(1714564800123)
        '2024-05-01T12:00:00.123Z'
    """
    when = dt.datetime.fromtimestamp(timestamp_ms / 1000, dt.UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{timestamp_ms % 1000:03d}Z"


def describe(letter: Letter, topic: str) -> str:
    """Two lines for ``dlq show``: where, when and what; then why.

    Example:
        >>> print(describe(Letter(1, 4, 1714564800000, b"h", b"xyz",
        ...     (("pulseline-reason", b"answered 413"), ("pulseline-stage", b"raw-sink"),
        ...      ("pulseline-source", b"raw[1]@88"))), "raw.dlq"))
        raw.dlq[1]@4  2024-05-01T12:00:00.000Z  from raw[1]@88  raw-sink  key=h  3 bytes
            reason: answered 413
    """
    key = "-" if letter.key is None else letter.key.decode(errors="replace")
    return (
        f"{topic}[{letter.partition}]@{letter.offset}  {format_ms(letter.timestamp_ms)}  "
        f"from {letter.source or '?'}  {letter.stage or '?'}  key={key}  {letter.size} bytes\n"
        f"    reason: {letter.reason or '(none given)'}"
    )


@dataclass
class Tally:
    """Counts of dead letters, by partition of the dead-letter topic and by stage.

    Example:
        >>> tally = Tally()
        >>> tally.add(Letter(0, 0, 0, None, b"ab", (("pulseline-stage", b"raw-sink"),)))
        >>> tally.add(Letter(3, 9, 0, None, b"cde", (("pulseline-stage", b"raw-sink"),)))
        >>> tally.summary()
        '2 records (5 bytes); by partition: 0: 1, 3: 1; by stage: raw-sink: 2'
    """

    records: int = 0
    bytes: int = 0
    partitions: Counter[int] = field(default_factory=Counter)
    stages: Counter[str] = field(default_factory=Counter)

    def add(self, letter: Letter) -> None:
        """Count ``letter``."""
        self.records += 1
        self.bytes += letter.size
        self.partitions[letter.partition] += 1
        self.stages[letter.stage or "?"] += 1

    def extend(self, letters: Iterable[Letter]) -> None:
        """Count every letter of ``letters``."""
        for letter in letters:
            self.add(letter)

    def summary(self) -> str:
        """One line: how many, how big, from which partitions and stages."""
        if not self.records:
            return "0 records"
        parts = ", ".join(f"{p}: {n}" for p, n in sorted(self.partitions.items()))
        stages = ", ".join(f"{s}: {n}" for s, n in sorted(self.stages.items()))
        return (
            f"{self.records} record{'s' if self.records != 1 else ''} ({self.bytes:,} bytes); "
            f"by partition: {parts}; by stage: {stages}"
        )
