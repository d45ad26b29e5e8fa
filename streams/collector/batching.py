"""Split the points of one request into Kafka records keyed by source, and encode them.

The key of a point is the value of the first of ``source_tags`` it carries (``host`` then
``instance`` by default), else its measurement. Every series therefore always maps to the
same key, so to the same partition, and per-series state in the workers stays local.

Example:
    >>> from streams.records import Point
    >>> pts = [Point("cpu", {"host": "a"}, {"u": 1.0}, 0), Point("mem", {}, {"u": 2.0}, 0)]
    >>> [(k, len(p)) for k, p in split_by_source(pts, ("host",), per_record=100)]
    [(b'a', 1), (b'mem', 1)]
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence

from streams.errors import PulselineError
from streams.records import Point, encode_batch


class PointTooLargeError(PulselineError):
    """One point alone encodes to a record larger than the limit: Kafka cannot carry it.

    Attributes:
        point: the point.
        size: its record's size in bytes.
    """

    def __init__(self, point: Point, size: int, limit: int) -> None:
        super().__init__(
            f"the point of series {describe(point)} at {point.ts_ms} ms is {size} bytes as a "
            f"Kafka record, more than kafka.max_record_bytes ({limit})"
        )
        self.point = point
        self.size = size


def source_key(point: Point, source_tags: Sequence[str]) -> str:
    """The record key of ``point``: its first present source tag, else its measurement."""
    tags = point.tags
    for tag in source_tags:
        value = tags.get(tag)
        if value is not None:
            return value
    return point.measurement


def split_by_source(
    points: Iterable[Point],
    source_tags: Sequence[str],
    *,
    per_record: int,
    partition_of: Callable[[str], int] | None = None,
) -> list[tuple[bytes, list[Point]]]:
    """Group points by key, in first-seen order, into chunks of at most ``per_record``.

    With ``partition_of`` (a key's Kafka partition), the points of every key that goes to one
    partition share records: fewer, larger records, each keyed by the first of its keys, so
    the producer's partitioner sends it where each of its keys belongs.

    Example:
        >>> pts = [Point("cpu", {"host": h}, {"u": 1.0}, 0) for h in "abc"]
        >>> [(k, len(p)) for k, p in split_by_source(pts, ("host",), per_record=9,
        ...                                          partition_of=lambda key: key != "b")]
        [(b'a', 2), (b'b', 1)]
    """
    groups: dict[object, tuple[str, list[Point]]] = {}
    for point in points:
        key = source_key(point, source_tags)
        where = key if partition_of is None else partition_of(key)
        group = groups.get(where)
        if group is None:
            groups[where] = (key, [point])
        else:
            group[1].append(point)
    records: list[tuple[bytes, list[Point]]] = []
    for first, members in groups.values():
        encoded = first.encode()
        for start in range(0, len(members), per_record):
            records.append((encoded, members[start : start + per_record]))
    return records


def encode_records(
    records: list[tuple[bytes, list[Point]]],
    limit: int,
    types: Mapping[str, str] | None = None,
) -> list[tuple[bytes, bytes]]:
    """Encode each record, halving any whose value would exceed ``limit`` bytes.

    ``types`` (measurement to metric type) goes with each record that has such points.

    Raises:
        PointTooLargeError: a single point is over ``limit``.
    """
    out: list[tuple[bytes, bytes]] = []
    stack = list(reversed(records))
    while stack:
        key, points = stack.pop()
        known = (
            {p.measurement: types[p.measurement] for p in points if p.measurement in types}
            if types
            else None
        )
        value = encode_batch(points, known)
        if len(value) > limit:
            if len(points) == 1:
                raise PointTooLargeError(points[0], len(value), limit)
            half = len(points) // 2
            stack.append((key, points[half:]))
            stack.append((key, points[:half]))
            continue
        out.append((key, value))
    return out


def describe(point: Point) -> str:
    """A point's series in Prometheus notation, cut to a readable length.

    Example:
        >>> describe(Point("cpu", {"host": "a"}, {"user": 1.0, "idle": 2.0}, 0))
        'cpu{host="a"} (fields user, idle)'
    """
    labels = ",".join(f"{_bare(key)}={_quote(value)}" for key, value in point.tags.items())
    fields = ", ".join(_bare(key) for key in point.fields)
    text = f"{_bare(point.measurement)}{{{labels}}}"
    if len(text) > 200:
        text = text[:196] + "...}"
    return (
        f"{text} (fields {fields})" if len(fields) <= 100 else f"{text} (fields {fields[:96]}...)"
    )


def _quote(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"' if len(escaped) <= 60 else f'"{escaped[:56]}..."'


def _bare(name: str) -> str:
    """A name with its newlines shown as ``\\n``, so a message stays on one line."""
    return name.replace("\n", "\\n")
