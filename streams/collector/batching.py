"""Split the points of one request into Kafka records keyed by source.

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

from collections.abc import Callable, Iterable, Sequence

from streams.records import Point


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
